#include "geo/prefix_map.h"

#include <algorithm>

namespace geodns::geo {

namespace {

constexpr unsigned kMappedPrefixBits = 96;

template <typename T>
constexpr unsigned kBits = sizeof(T) * 8;

// Host bits of a prefix of `len` bits (all ones for /0, none for a host prefix).
template <typename T>
T host_mask(unsigned len) noexcept {
  if (len == 0) return ~T(0);
  if (len >= kBits<T>) return T(0);
  return (T(1) << (kBits<T> - len)) - 1;
}

// The bit that tells a prefix of `len` bits from its sibling (len >= 1).
template <typename T>
T last_bit(unsigned len) noexcept {
  return T(1) << (kBits<T> - len);
}

template <typename T>
using Piece = PrefixMap::Piece<T>;

// Appends `p` to an ordered partition under construction, first merging it with its left
// sibling while both carry the same value (and the parent with its own sibling, and so on).
// Every piece is pushed once and popped at most once: O(n) over the whole partition.
template <typename T>
void push_merged(std::vector<Piece<T>>* out, Piece<T> p) {
  while (p.length > 0 && !out->empty()) {
    const Piece<T>& top = out->back();
    const T bit = last_bit<T>(p.length);
    if (top.length != p.length || top.value != p.value || (top.start & bit) != 0 ||
        (top.start | bit) != p.start) {
      break;
    }
    p = Piece<T>{top.start, static_cast<uint8_t>(p.length - 1), p.value};
    out->pop_back();
  }
  out->push_back(p);
}

template <typename T>
std::vector<Piece<T>> merged(const std::vector<Piece<T>>& in) {
  std::vector<Piece<T>> out;
  out.reserve(in.size());
  for (const Piece<T>& p : in) push_merged(&out, p);
  return out;
}

// Lays `o` over the partition. Pieces inside `o` give way to it; a piece that holds `o`
// splits into `o` and the siblings along the path down to it (at most one per bit).
template <typename T>
void paint(std::vector<Piece<T>>* parts, Piece<T> o) {
  const T end = o.start | host_mask<T>(o.length);
  auto first = std::upper_bound(parts->begin(), parts->end(), o.start,
                                [](T v, const Piece<T>& p) { return v < p.start; });
  --first;  // the piece holding o.start (the partition is complete, so one exists)
  if (first->length < o.length) {
    const Piece<T> outer = *first;
    std::vector<Piece<T>> split;
    split.reserve(o.length - outer.length + 1U);
    for (unsigned d = outer.length + 1U; d <= o.length; ++d) {
      const T ancestor = o.start & ~host_mask<T>(d);
      split.push_back(Piece<T>{ancestor ^ last_bit<T>(d), static_cast<uint8_t>(d), outer.value});
    }
    split.push_back(o);
    std::sort(split.begin(), split.end(),
              [](const Piece<T>& a, const Piece<T>& b) { return a.start < b.start; });
    const auto at = parts->erase(first);
    parts->insert(at, split.begin(), split.end());
    return;
  }
  auto last = std::upper_bound(first, parts->end(), end,
                               [](T v, const Piece<T>& p) { return v < p.start; });
  const auto at = parts->erase(first, last);
  parts->insert(at, o);
}

template <typename T>
void apply_overlays(std::vector<Piece<T>>* parts, std::vector<Piece<T>> overlays) {
  if (overlays.empty()) return;
  // Shortest first, so that a longer (more specific) entry painted later wins.
  std::sort(overlays.begin(), overlays.end(),
            [](const Piece<T>& a, const Piece<T>& b) { return a.length < b.length; });
  for (const Piece<T>& o : overlays) paint(parts, o);
  *parts = merged(*parts);
}

template <typename T>
void store(const std::vector<Piece<T>>& parts, std::vector<T>* starts,
           std::vector<uint8_t>* lengths, std::vector<uint32_t>* values,
           std::vector<uint32_t>* index) {
  starts->reserve(parts.size());
  lengths->reserve(parts.size());
  values->reserve(parts.size());
  for (const Piece<T>& p : parts) {
    starts->push_back(p.start);
    lengths->push_back(p.length);
    values->push_back(p.value);
  }
  constexpr unsigned kIndexBits = 16;
  constexpr unsigned kShift = kBits<T> - kIndexBits;
  index->resize((size_t{1} << kIndexBits) + 1);
  size_t i = 0;
  for (size_t h = 0; h < (size_t{1} << kIndexBits); ++h) {
    const T at = static_cast<T>(h) << kShift;
    while (i + 1 < starts->size() && (*starts)[i + 1] <= at) ++i;
    (*index)[h] = static_cast<uint32_t>(i);
  }
  (*index)[size_t{1} << kIndexBits] = static_cast<uint32_t>(starts->size() - 1);
}

template <typename T>
size_t find_entry(const std::vector<T>& starts, const std::vector<uint32_t>& index,
                  T key) noexcept {
  constexpr unsigned kShift = kBits<T> - 16;
  const auto h = static_cast<size_t>(key >> kShift);
  // The answer lies in [index[h], index[h + 1]]: the entry holding the /16's first address up
  // to the one holding the next /16's first address.
  const T* lo = starts.data() + index[h];
  const T* hi = starts.data() + index[h + 1] + 1;
  const T* it = std::upper_bound(lo, hi, key);
  return static_cast<size_t>(it - starts.data()) - 1;
}

}  // namespace

uint32_t v4_bits(const IpAddress& a) noexcept {
  return (uint32_t{a.bytes[0]} << 24) | (uint32_t{a.bytes[1]} << 16) | (uint32_t{a.bytes[2]} << 8) |
         uint32_t{a.bytes[3]};
}

Uint128 v6_bits(const IpAddress& a) noexcept {
  Uint128 v = 0;
  for (uint8_t b : a.bytes) v = (v << 8) | b;
  return v;
}

IpAddress v4_address(uint32_t bits) noexcept {
  return IpAddress::v4(static_cast<uint8_t>(bits >> 24), static_cast<uint8_t>(bits >> 16),
                       static_cast<uint8_t>(bits >> 8), static_cast<uint8_t>(bits));
}

IpAddress v6_address(Uint128 bits) noexcept {
  IpAddress a;
  a.family = 6;
  for (size_t i = 16; i-- > 0;) {
    a.bytes[i] = static_cast<uint8_t>(bits);
    bits >>= 8;
  }
  return a;
}

PrefixMap PrefixMap::build(const NetworkIndex& index, std::span<const uint32_t> class_values,
                           uint32_t not_found, std::span<const Overlay> overlays) {
  auto value_of = [&](uint32_t cls) { return cls == kNoClass ? not_found : class_values[cls]; };
  // Merging while converting keeps the intermediate partition as small as the answer allows.
  std::vector<Piece<uint32_t>> v4;
  for (const Leaf4& l : index.v4())
    push_merged(&v4, Piece<uint32_t>{l.start, l.length, value_of(l.cls)});
  std::vector<Piece<Uint128>> v6;
  for (const Leaf6& l : index.v6())
    push_merged(&v6, Piece<Uint128>{l.start, l.length, value_of(l.cls)});
  return from_pieces(std::move(v4), std::move(v6), overlays);
}

PrefixMap PrefixMap::from_pieces(std::vector<Piece<uint32_t>> v4, std::vector<Piece<Uint128>> v6,
                                 std::span<const Overlay> overlays) {
  std::vector<Piece<uint32_t>> o4;
  std::vector<Piece<Uint128>> o6;
  for (const Overlay& o : overlays) {
    const IpPrefix& p = o.prefix;
    if (p.address.is_v4()) {
      o4.push_back({v4_bits(p.address), p.length, o.value});
    } else if (p.address.is_v4_mapped() && p.length >= kMappedPrefixBits) {
      o4.push_back({v4_bits(p.address.unmapped()),
                    static_cast<uint8_t>(p.length - kMappedPrefixBits), o.value});
    } else if (p.address.is_v6()) {
      o6.push_back({v6_bits(p.address), p.length, o.value});
    }
  }
  v4 = merged(v4);
  v6 = merged(v6);
  apply_overlays(&v4, std::move(o4));
  apply_overlays(&v6, std::move(o6));
  PrefixMap m;
  store(v4, &m.starts4_, &m.lengths4_, &m.values4_, &m.index4_);
  store(v6, &m.starts6_, &m.lengths6_, &m.values6_, &m.index6_);
  return m;
}

bool PrefixMap::lookup(const IpAddress& query, Match* out) const noexcept {
  const IpAddress addr = query.unmapped();
  if (addr.is_v4()) {
    const size_t i = find_entry(starts4_, index4_, v4_bits(addr));
    *out = Match{values4_[i], lengths4_[i]};
    return true;
  }
  if (addr.is_v6()) {
    const size_t i = find_entry(starts6_, index6_, v6_bits(addr));
    *out = Match{values6_[i], lengths6_[i]};
    return true;
  }
  return false;
}

size_t PrefixMap::bytes() const noexcept {
  return starts4_.capacity() * sizeof(uint32_t) + lengths4_.capacity() +
         values4_.capacity() * sizeof(uint32_t) + index4_.capacity() * sizeof(uint32_t) +
         starts6_.capacity() * sizeof(Uint128) + lengths6_.capacity() +
         values6_.capacity() * sizeof(uint32_t) + index6_.capacity() * sizeof(uint32_t);
}

}  // namespace geodns::geo
