#include "geo/prefix_map.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace geodns::geo {

namespace {

constexpr unsigned kMappedPrefixBits = 96;
constexpr unsigned kIndexBits = 16;

template <typename T>
constexpr unsigned kBits = sizeof(T) * 8;

template <typename T>
constexpr T kMax = ~T(0);

template <typename T>
T host_mask(unsigned len) noexcept {
  if (len == 0) return kMax<T>;
  if (len >= kBits<T>) return T(0);
  return (T(1) << (kBits<T> - len)) - 1;
}

// Index of the highest set bit of a non-zero value.
unsigned msb(uint32_t x) noexcept {
  return 31U - static_cast<unsigned>(__builtin_clz(x));
}
unsigned msb(Uint128 x) noexcept {
  const auto hi = static_cast<uint64_t>(x >> 64);
  if (hi != 0) return 127U - static_cast<unsigned>(__builtin_clzll(hi));
  return 63U - static_cast<unsigned>(__builtin_clzll(static_cast<uint64_t>(x)));
}

// The length of the widest aligned prefix that holds `key` and stays inside [lo, hi]. A block
// of 2^k addresses around key starts at or after lo iff key and lo - 1 differ above bit k - 1,
// and ends at or before hi iff key and hi + 1 do.
template <typename T>
uint8_t scope_length(T key, T lo, T hi) noexcept {
  unsigned k = kBits<T>;
  if (lo != 0) k = std::min(k, msb(static_cast<T>(key ^ (lo - 1))));
  if (hi != kMax<T>) k = std::min(k, msb(static_cast<T>(key ^ (hi + 1))));
  return static_cast<uint8_t>(kBits<T> - k);
}

template <typename T>
void append_run(PrefixMap::Runs<T>* r, T start, uint32_t value) {
  if (!r->runs.empty() && r->runs.back().value == value) return;  // the run goes on
  r->runs.push_back({start, value});
}

// A slice entry (Runs::slices): kUniform | length << 32 | value, or first | (last - first) << 32.
constexpr uint64_t kUniform = uint64_t{1} << 63;

template <typename T>
T run_end(const PrefixMap::Runs<T>& r, size_t i) noexcept {
  return i + 1 < r.runs.size() ? static_cast<T>(r.runs[i + 1].start - 1) : kMax<T>;
}

template <typename T>
void build_index(PrefixMap::Runs<T>* r) {
  constexpr unsigned kShift = kBits<T> - kIndexBits;
  r->runs.shrink_to_fit();
  r->slices.resize(size_t{1} << kIndexBits);
  size_t first = 0;
  for (size_t h = 0; h < (size_t{1} << kIndexBits); ++h) {
    const T at = static_cast<T>(static_cast<T>(h) << kShift);
    const T last_address = at | host_mask<T>(kIndexBits);
    while (first + 1 < r->runs.size() && r->runs[first + 1].start <= at) ++first;
    size_t last = first;
    while (last + 1 < r->runs.size() && r->runs[last + 1].start <= last_address) ++last;
    if (first == last) {
      const uint8_t len = scope_length(at, r->runs[first].start, run_end(*r, first));
      r->slices[h] = kUniform | (uint64_t{len} << 32) | r->runs[first].value;
    } else {
      r->slices[h] = static_cast<uint64_t>(first) | (static_cast<uint64_t>(last - first) << 32);
    }
  }
}

// Load time only (patches): the run holding `key`, searched over every run.
template <typename T>
size_t find_run(const PrefixMap::Runs<T>& r, T key) noexcept {
  const auto it = std::upper_bound(r.runs.begin(), r.runs.end(), key,
                                   [](T k, const PrefixMap::Run<T>& run) { return k < run.start; });
  return static_cast<size_t>(it - r.runs.begin()) - 1;
}

template <typename T>
struct Interval {
  T start;
  T end;
  uint32_t value;
};

// Lays [o.start, o.end] = value over an ordered, gap-free list of intervals.
template <typename T>
void paint(std::vector<Interval<T>>* list, const Interval<T>& o) {
  std::vector<Interval<T>> out;
  out.reserve(list->size() + 2);
  bool placed = false;
  for (const Interval<T>& iv : *list) {
    if (iv.end < o.start || iv.start > o.end) {
      if (iv.start > o.end && !placed) {
        out.push_back(o);
        placed = true;
      }
      out.push_back(iv);
      continue;
    }
    if (iv.start < o.start) out.push_back({iv.start, static_cast<T>(o.start - 1), iv.value});
    if (!placed) {
      out.push_back(o);
      placed = true;
    }
    if (iv.end > o.end) out.push_back({static_cast<T>(o.end + 1), iv.end, iv.value});
  }
  if (!placed) out.push_back(o);
  *list = std::move(out);
}

// Only the base runs that an overlay touches, and one on either side (which may merge with
// the overlay's value), are recomputed; each group of them becomes runs of the patch. Beyond a
// group's edge run lies an untouched run of another value, so the patch runs are whole runs of
// the patched map and a lookup outside the patch can take the base run as it is.
template <typename T>
PrefixMap::Patch<T> make_patch(const PrefixMap::Runs<T>& base, std::vector<Interval<T>> overlays,
                               const std::vector<uint8_t>& lengths) {
  PrefixMap::Patch<T> patch;
  if (overlays.empty()) return patch;
  // Shortest first, so a longer (more specific) entry painted later wins.
  std::vector<size_t> order(overlays.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return lengths[a] < lengths[b]; });
  std::vector<std::pair<size_t, size_t>> groups;  // run index ranges, inclusive
  for (const Interval<T>& o : overlays) {
    size_t a = find_run(base, o.start);
    size_t b = find_run(base, o.end);
    if (a > 0) --a;
    if (b + 1 < base.runs.size()) ++b;
    groups.emplace_back(a, b);
  }
  std::sort(groups.begin(), groups.end());
  std::vector<std::pair<size_t, size_t>> merged;
  for (const auto& g : groups) {
    if (!merged.empty() && g.first <= merged.back().second + 1) {
      merged.back().second = std::max(merged.back().second, g.second);
    } else {
      merged.push_back(g);
    }
  }
  for (const auto& [a, b] : merged) {
    std::vector<Interval<T>> local;
    for (size_t i = a; i <= b; ++i)
      local.push_back({base.runs[i].start, run_end(base, i), base.runs[i].value});
    const T lo = local.front().start;
    const T hi = local.back().end;
    for (size_t k : order) {
      if (overlays[k].start >= lo && overlays[k].end <= hi) paint(&local, overlays[k]);
    }
    for (const Interval<T>& iv : local) {
      if (!patch.values.empty() && patch.values.back() == iv.value &&
          patch.ends.back() + 1 == iv.start) {
        patch.ends.back() = iv.end;
        continue;
      }
      patch.starts.push_back(iv.start);
      patch.ends.push_back(iv.end);
      patch.values.push_back(iv.value);
    }
  }
  return patch;
}

template <typename T>
void lookup_in(const PrefixMap::Runs<T>& base, const PrefixMap::Patch<T>& patch, T key,
               PrefixMap::Match* out) noexcept {
  // Most addresses lie outside the few networks a rule's `nets` patch: two compares skip the
  // patch's binary search for them.
  if (!patch.starts.empty() && key >= patch.starts.front() && key <= patch.ends.back()) {
    const auto it = std::upper_bound(patch.starts.begin(), patch.starts.end(), key);
    if (it != patch.starts.begin()) {
      const auto k = static_cast<size_t>(it - patch.starts.begin()) - 1;
      if (key <= patch.ends[k]) {
        *out = PrefixMap::Match{patch.values[k], scope_length(key, patch.starts[k], patch.ends[k])};
        return;
      }
    }
  }
  constexpr unsigned kShift = kBits<T> - kIndexBits;
  const uint64_t slice = base.slices[static_cast<size_t>(key >> kShift)];
  if ((slice & kUniform) != 0) {
    *out = PrefixMap::Match{static_cast<uint32_t>(slice), static_cast<uint8_t>(slice >> 32)};
    return;
  }
  const PrefixMap::Run<T>* lo = base.runs.data() + static_cast<uint32_t>(slice);
  const PrefixMap::Run<T>* hi = lo + (slice >> 32) + 1;
  const auto* it = std::upper_bound(
      lo, hi, key, [](T k, const PrefixMap::Run<T>& run) { return k < run.start; });
  const auto i = static_cast<size_t>(it - base.runs.data()) - 1;
  const PrefixMap::Run<T>& run = base.runs[i];
  *out = PrefixMap::Match{run.value, scope_length(key, run.start, run_end(base, i))};
}

// The minimal aligned prefixes covering [lo, hi]: the greedy split, widest block first.
template <typename T>
void split_range(T lo, T hi, uint32_t value, std::vector<PrefixMap::Piece<T>>* out) {
  while (true) {
    const uint8_t len = scope_length(lo, lo, hi);
    out->push_back({lo, len, value});
    const T last = lo | host_mask<T>(len);
    if (last == hi) return;
    lo = static_cast<T>(last + 1);
  }
}

template <typename T>
std::vector<PrefixMap::Piece<T>> prefixes(const PrefixMap::Runs<T>& base,
                                          const PrefixMap::Patch<T>& patch) {
  std::vector<Interval<T>> all;
  for (size_t i = 0; i < base.runs.size(); ++i) {
    all.push_back({base.runs[i].start, run_end(base, i), base.runs[i].value});
  }
  for (size_t k = 0; k < patch.starts.size(); ++k) {
    paint(&all, Interval<T>{patch.starts[k], patch.ends[k], patch.values[k]});
  }
  std::vector<PrefixMap::Piece<T>> out;
  for (size_t i = 0; i < all.size(); ++i) {
    // A patch run may continue a base run of the same value: one run.
    const T start = all[i].start;
    while (i + 1 < all.size() && all[i + 1].value == all[i].value) ++i;
    split_range(start, all[i].end, all[i].value, &out);
  }
  return out;
}

template <typename T>
size_t vector_bytes(const std::vector<T>& v) {
  return v.capacity() * sizeof(T);
}

}  // namespace

uint32_t v4_bits(const IpAddress& a) noexcept {
  uint32_t v;
  std::memcpy(&v, a.bytes.data(), 4);
  // Network order: the first byte is the most significant.
  if constexpr (std::endian::native == std::endian::little) return __builtin_bswap32(v);
  return v;
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

size_t PrefixMap::Base::bytes() const noexcept {
  return vector_bytes(v4.runs) + vector_bytes(v4.slices) + vector_bytes(v6.runs) +
         vector_bytes(v6.slices);
}

std::shared_ptr<const PrefixMap::Base> PrefixMap::make_base(const NetworkIndex& index,
                                                            std::span<const uint32_t> class_values,
                                                            uint32_t not_found) {
  auto base = std::make_shared<Base>();
  auto value_of = [&](uint32_t cls) { return cls == kNoClass ? not_found : class_values[cls]; };
  for (const Leaf4& l : index.v4()) append_run(&base->v4, l.start, value_of(l.cls));
  for (const Leaf6& l : index.v6()) append_run(&base->v6, l.start, value_of(l.cls));
  build_index(&base->v4);
  build_index(&base->v6);
  return base;
}

namespace {

// Two complete, ordered partitions of one family's addresses, swept together: each piece of
// their intersection gets `over`'s value where it has one, else `under`'s.
template <typename T, typename Leaf, typename UnderValue, typename OverValue>
void sweep(std::span<const Leaf> under, std::span<const Leaf> over, UnderValue under_value,
           OverValue over_value, PrefixMap::Runs<T>* out) {
  size_t i = 0;
  size_t j = 0;
  T at = 0;
  while (i < under.size() && j < over.size()) {
    const T under_end = static_cast<T>(under[i].start | host_mask<T>(under[i].length));
    const T over_end = static_cast<T>(over[j].start | host_mask<T>(over[j].length));
    const uint32_t v = over_value(over[j].cls);
    append_run(out, at, v != PrefixMap::kUnder ? v : under_value(under[i].cls));
    const T end = std::min(under_end, over_end);
    if (end == kMax<T>) break;
    at = static_cast<T>(end + 1);
    if (under_end == end) ++i;
    if (over_end == end) ++j;
  }
}

}  // namespace

std::shared_ptr<const PrefixMap::Base> PrefixMap::make_base(const NetworkIndex& index,
                                                            std::span<const uint32_t> class_values,
                                                            uint32_t not_found,
                                                            const NetworkIndex& over,
                                                            std::span<const uint32_t> over_values) {
  auto base = std::make_shared<Base>();
  auto under_value = [&](uint32_t cls) { return cls == kNoClass ? not_found : class_values[cls]; };
  auto over_value = [&](uint32_t cls) { return cls == kNoClass ? kUnder : over_values[cls]; };
  sweep<uint32_t, Leaf4>(index.v4(), over.v4(), under_value, over_value, &base->v4);
  sweep<Uint128, Leaf6>(index.v6(), over.v6(), under_value, over_value, &base->v6);
  build_index(&base->v4);
  build_index(&base->v6);
  return base;
}

PrefixMap PrefixMap::with_overlays(std::shared_ptr<const Base> base,
                                   std::span<const Overlay> overlays) {
  std::vector<Interval<uint32_t>> o4;
  std::vector<uint8_t> l4;
  std::vector<Interval<Uint128>> o6;
  std::vector<uint8_t> l6;
  for (const Overlay& o : overlays) {
    const IpPrefix& p = o.prefix;
    if (p.address.is_v4() || (p.address.is_v4_mapped() && p.length >= kMappedPrefixBits)) {
      const unsigned len = p.address.is_v4() ? p.length : p.length - kMappedPrefixBits;
      const uint32_t start = v4_bits(p.address.unmapped());
      o4.push_back({start, start | host_mask<uint32_t>(len), o.value});
      l4.push_back(static_cast<uint8_t>(len));
    } else if (p.address.is_v6()) {
      const Uint128 start = v6_bits(p.address);
      o6.push_back({start, start | host_mask<Uint128>(p.length), o.value});
      l6.push_back(p.length);
    }
  }
  PrefixMap m;
  m.patch4_ = make_patch(base->v4, std::move(o4), l4);
  m.patch6_ = make_patch(base->v6, std::move(o6), l6);
  m.base_ = std::move(base);
  return m;
}

PrefixMap PrefixMap::from_pieces(const std::vector<Piece<uint32_t>>& v4,
                                 const std::vector<Piece<Uint128>>& v6,
                                 std::span<const Overlay> overlays) {
  auto base = std::make_shared<Base>();
  for (const auto& p : v4) append_run(&base->v4, p.start, p.value);
  for (const auto& p : v6) append_run(&base->v6, p.start, p.value);
  build_index(&base->v4);
  build_index(&base->v6);
  return with_overlays(std::move(base), overlays);
}

bool PrefixMap::lookup(const IpAddress& query, Match* out) const noexcept {
  const IpAddress addr = query.unmapped();
  if (addr.is_v4()) {
    lookup_in(base_->v4, patch4_, v4_bits(addr), out);
    return true;
  }
  if (addr.is_v6()) {
    lookup_in(base_->v6, patch6_, v6_bits(addr), out);
    return true;
  }
  return false;
}

std::vector<PrefixMap::Piece<uint32_t>> PrefixMap::prefixes4() const {
  return prefixes(base_->v4, patch4_);
}

std::vector<PrefixMap::Piece<Uint128>> PrefixMap::prefixes6() const {
  return prefixes(base_->v6, patch6_);
}

size_t PrefixMap::runs() const noexcept {
  return base_->v4.runs.size() + base_->v6.runs.size() + patch4_.starts.size() +
         patch6_.starts.size();
}

size_t PrefixMap::patch_bytes() const noexcept {
  return vector_bytes(patch4_.starts) + vector_bytes(patch4_.ends) + vector_bytes(patch4_.values) +
         vector_bytes(patch6_.starts) + vector_bytes(patch6_.ends) + vector_bytes(patch6_.values);
}

}  // namespace geodns::geo
