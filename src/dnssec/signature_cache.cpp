#include "dnssec/signature_cache.h"

#include <cstring>
#include <new>

#include "dns/wire.h"
#include "dnssec/canonical.h"
#include "dnssec/signer.h"

namespace geodns::dnssec {
namespace {

constexpr size_t kWays = 4;
// The largest canonical content we cache: a steered answer is a few addresses or a CNAME.
// Anything larger is signed per query (and counted as a miss).
constexpr size_t kMaxKeyBytes = 8192;
constexpr size_t kMaxRdatas = 256;
constexpr size_t kEntryHeader = 12;  // u32 key length, u16 signature length, u16 0, u32 expiry

uint64_t hash_bytes(const uint8_t* p, size_t n) noexcept {
  // Eight bytes per step (multiply, fold): a hit hashes every lookup's key, so this is on the
  // packet path. A weak hash only costs an extra memcmp, never a false hit.
  constexpr uint64_t kMul = 0x9e3779b97f4a7c15ULL;
  uint64_t h = n * kMul;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 32;
  }
  uint64_t tail = 0;
  if (i < n) std::memcpy(&tail, p + i, n - i);
  h = (h ^ tail) * kMul;
  return h ^ (h >> 29);
}

}  // namespace

void SignatureCache::FreeSlots::operator()(Slot* p) const noexcept {
  std::free(p);
}

SignatureCache::SignatureCache(size_t entries, size_t arena_bytes) {
  size_t sets = 1;
  while (sets * kWays < entries) sets *= 2;
  slots_.reset(static_cast<Slot*>(std::calloc(sets * kWays, sizeof(Slot))));
  if (!slots_) throw std::bad_alloc();
  set_mask_ = sets - 1;
  arena_bytes_ = std::max<size_t>(arena_bytes, 2 * (kEntryHeader + kMaxKeyBytes + kMaxRrsigBytes));
  arena_ = std::make_unique_for_overwrite<uint8_t[]>(arena_bytes_);
  key_ = std::make_unique<uint8_t[]>(kMaxKeyBytes);
  scratch_ = std::make_unique<uint8_t[]>(kMaxKeyBytes + kMaxRdatas * sizeof(std::string_view));
  spare_ = std::make_unique<uint8_t[]>(kMaxRrsigBytes);
}

size_t SignatureCache::memory_bytes() const noexcept {
  return (set_mask_ + 1) * kWays * sizeof(Slot) + arena_bytes_ + 2 * kMaxKeyBytes +
         kMaxRdatas * sizeof(std::string_view) + kMaxRrsigBytes;
}

bool SignatureCache::make_key(const SignatureRequest& r) noexcept {
  key_len_ = 0;
  if (r.key == nullptr || r.owner_len > dns::kMaxNameLength || r.rdatas.size() > kMaxRdatas) {
    return false;
  }
  size_t rdata_bytes = 0;
  for (const auto& rd : r.rdatas) rdata_bytes += rd.size();
  const std::string& dnskey = r.key->dnskey_rdata;
  const size_t fixed = 2 + dnskey.size() + 1 + r.owner_len + 2 + 4 + 1 + 4 + 4 + 2;
  if (fixed + rdata_bytes + 2 * r.rdatas.size() > kMaxKeyBytes) return false;
  // Canonical RDATAs go into the front of scratch_, their sorted views after them.
  auto* views = reinterpret_cast<std::string_view*>(scratch_.get() + kMaxKeyBytes);
  const size_t n =
      canonical_rdata_set(r.type, r.rdatas, scratch_.get(), kMaxKeyBytes, views, kMaxRdatas);
  if (n == kCanonicalFailed) return false;
  uint8_t* k = key_.get();
  size_t pos = 0;
  // The key's full DNSKEY RDATA, not its tag: two keys with one tag must never share entries.
  dns::write_u16(k + pos, static_cast<uint16_t>(dnskey.size()));
  std::memcpy(k + pos + 2, dnskey.data(), dnskey.size());
  pos += 2 + dnskey.size();
  k[pos++] = static_cast<uint8_t>(r.owner_len);
  std::memcpy(k + pos, r.owner, r.owner_len);
  pos += r.owner_len;
  dns::write_u16(k + pos, r.type);
  dns::write_u32(k + pos + 2, r.ttl);
  k[pos + 6] = r.labels;
  dns::write_u32(k + pos + 7, r.inception);
  dns::write_u32(k + pos + 11, r.expiration);
  dns::write_u16(k + pos + 15, static_cast<uint16_t>(n));
  pos += 17;
  for (size_t i = 0; i < n; ++i) {
    // Length-prefixed, so that {"ab","c"} and {"a","bc"} differ.
    dns::write_u16(k + pos, static_cast<uint16_t>(views[i].size()));
    std::memcpy(k + pos + 2, views[i].data(), views[i].size());
    pos += 2 + views[i].size();
  }
  key_len_ = pos;
  key_hash_ = hash_bytes(k, pos);
  return true;
}

const uint8_t* SignatureCache::entry_at(uint64_t position) const noexcept {
  // The ring has overwritten an entry once writing went more than a full arena past it.
  if (position == 0 || head_ > position - 1 + arena_bytes_) return nullptr;
  return arena_.get() + (position - 1) % arena_bytes_;
}

std::span<const uint8_t> SignatureCache::find(const SignatureRequest& r, int64_t now_unix,
                                              uint32_t min_remaining_s) noexcept {
  if (!make_key(r)) {
    ++stats_.misses;
    return {};
  }
  Slot* set = slots_.get() + (key_hash_ & set_mask_) * kWays;
  for (size_t w = 0; w < kWays; ++w) {
    if (set[w].hash != key_hash_) continue;
    const uint8_t* e = entry_at(set[w].position);
    if (e == nullptr || dns::read_u32(e) != key_len_ ||
        std::memcmp(e + kEntryHeader, key_.get(), key_len_) != 0) {
      continue;
    }
    // RFC 4034 3.1.5 serial arithmetic: the time left before the expiration.
    const auto left = static_cast<int32_t>(dns::read_u32(e + 8) - static_cast<uint32_t>(now_unix));
    if (left < 0 || static_cast<uint32_t>(left) < min_remaining_s) {
      ++stats_.expired;
      ++stats_.misses;
      return {};
    }
    ++stats_.hits;
    return {e + kEntryHeader + key_len_, dns::read_u16(e + 4)};
  }
  ++stats_.misses;
  return {};
}

std::span<const uint8_t> SignatureCache::insert(const SignatureRequest& r,
                                                std::span<const uint8_t> rrsig) noexcept {
  if (rrsig.size() > kMaxRrsigBytes) return {};
  if (!make_key(r)) {
    std::memcpy(spare_.get(), rrsig.data(), rrsig.size());
    return {spare_.get(), rrsig.size()};
  }
  const size_t size = kEntryHeader + key_len_ + rrsig.size();
  // Entries never wrap: skip the arena's tail when the entry does not fit before its end.
  const size_t offset = head_ % arena_bytes_;
  if (offset + size > arena_bytes_) head_ += arena_bytes_ - offset;
  const uint64_t position = head_ + 1;
  uint8_t* e = arena_.get() + head_ % arena_bytes_;
  head_ += size;
  dns::write_u32(e, static_cast<uint32_t>(key_len_));
  dns::write_u16(e + 4, static_cast<uint16_t>(rrsig.size()));
  dns::write_u16(e + 6, 0);
  dns::write_u32(e + 8, r.expiration);
  std::memcpy(e + kEntryHeader, key_.get(), key_len_);
  std::memcpy(e + kEntryHeader + key_len_, rrsig.data(), rrsig.size());

  // The slot: the same content's (an expired entry being replaced), else a free or stale
  // one, else the oldest of the set.
  Slot* set = slots_.get() + (key_hash_ & set_mask_) * kWays;
  Slot* target = nullptr;
  for (size_t w = 0; w < kWays && target == nullptr; ++w) {
    const uint8_t* old = set[w].hash == key_hash_ ? entry_at(set[w].position) : nullptr;
    if (old != nullptr && old != e && dns::read_u32(old) == key_len_ &&
        std::memcmp(old + kEntryHeader, key_.get(), key_len_) == 0) {
      target = &set[w];
    }
  }
  for (size_t w = 0; w < kWays && target == nullptr; ++w) {
    if (entry_at(set[w].position) == nullptr) target = &set[w];
  }
  if (target == nullptr) {
    target = &set[0];
    for (size_t w = 1; w < kWays; ++w) {
      if (set[w].position < target->position) target = &set[w];
    }
  }
  target->hash = key_hash_;
  target->position = position;
  ++stats_.inserts;
  return {e + kEntryHeader + key_len_, rrsig.size()};
}

}  // namespace geodns::dnssec
