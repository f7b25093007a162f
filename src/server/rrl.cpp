#include "server/rrl.h"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <new>

#include "dns/wire.h"

namespace geodns::server {

namespace {

// Credit is kept in token-nanoseconds: one response costs kScale, and each nanosecond adds
// `rate` units. Integer arithmetic, exact, and with the clamps below it cannot overflow:
// capacity <= 1e6 responses/s * 3600 s * 1e9 = 3.6e18 < 2^63.
constexpr int64_t kScale = 1'000'000'000;
constexpr uint32_t kMaxRate = 1'000'000;
constexpr uint32_t kMaxWindowS = 3600;
constexpr uint32_t kMaxEntries = 1U << 24;

// What the bucket is for: BIND's response classes, simplified.
enum Kind : uint8_t {
  kAnswer = 1,    // NOERROR (answer, NODATA, referral): per query name and type
  kNxdomain = 2,  // per parent of the query name, so random-subdomain floods share a bucket
  kError = 3,     // REFUSED, FORMERR, NOTIMP...: per client network only
};

const SystemClock kSystemClock;

uint64_t mix(uint64_t h) noexcept {
  // The murmur3 finalizer: every input bit affects every output bit.
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

uint64_t add_bytes(uint64_t h, const uint8_t* p, size_t n) noexcept {
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;  // FNV-1a step
  return h;
}

}  // namespace

Rrl::Rrl(const RrlConfig& config, uint64_t seed, RrlCounters* counters)
    : seed_(mix(seed ^ 0x5252'4c5f'7365'6564ULL)),
      counters_(counters != nullptr ? counters : &own_counters_) {
  configure(config);
}

void Rrl::configure(const RrlConfig& config) {
  enabled_ = config.enabled && config.responses_per_second > 0;
  v4_prefix_ = std::min<uint8_t>(config.ipv4_prefix_length, 32);
  v6_prefix_ = std::min<uint8_t>(config.ipv6_prefix_length, 128);
  clock_ = config.clock != nullptr ? config.clock : &kSystemClock;
  // A fresh table: buckets charged under other rates would carry the wrong credit.
  table_.reset();
  set_mask_ = 0;
  if (!enabled_) return;
  rate_ = std::min(config.responses_per_second, kMaxRate);
  capacity_ = rate_ * std::clamp<int64_t>(config.window.count(), 1, kMaxWindowS) * kScale;
  slip_ = config.slip;
  const size_t entries =
      std::bit_ceil(std::clamp<size_t>(config.table_entries, kWays, kMaxEntries));
  set_mask_ = entries / kWays - 1;
  table_.reset(static_cast<Bucket*>(std::calloc(entries, sizeof(Bucket))));
  if (!table_) throw std::bad_alloc();
}

void Rrl::FreeTable::operator()(Bucket* p) const noexcept {
  std::free(p);
}

uint64_t Rrl::key_of(const IpAddress& client, const dns::Query& query,
                     std::span<const uint8_t> response) const noexcept {
  const IpAddress a = client.unmapped();  // a v4 client over a dual-stack socket is still v4
  const IpAddress net = a.masked(a.is_v4() ? v4_prefix_ : v6_prefix_);
  uint64_t h = add_bytes(seed_, &net.family, 1);
  h = add_bytes(h, net.bytes.data(), net.bytes.size());

  uint8_t kind = kError;
  if (response.size() >= dns::kHeaderSize && query.question_ok) {
    const uint8_t rcode = response[3] & 0x0F;
    if (rcode == dns::rcode::NOERROR) kind = kAnswer;
    if (rcode == dns::rcode::NXDOMAIN) kind = kNxdomain;
  }
  h = add_bytes(h, &kind, 1);
  if (kind == kAnswer) {
    const uint8_t type[2] = {static_cast<uint8_t>(query.qtype >> 8),
                             static_cast<uint8_t>(query.qtype)};
    h = add_bytes(h, type, 2);
    h = add_bytes(h, query.qname_lower, query.qname_len);
  } else if (kind == kNxdomain) {
    // Skip the first label: "<random>.example.com" all land on "example.com".
    size_t skip = 0;
    if (query.qname_len > 1) skip = std::min<size_t>(1U + query.qname_lower[0], query.qname_len);
    h = add_bytes(h, query.qname_lower + skip, query.qname_len - skip);
  }
  h = mix(h);
  return h == 0 ? 1 : h;  // 0 marks a free bucket
}

Rrl::Bucket& Rrl::bucket_for(uint64_t key, int64_t now_ns) noexcept {
  Bucket* set = &table_[(key & set_mask_) * kWays];
  Bucket* victim = &set[0];
  for (size_t i = 0; i < kWays; ++i) {
    if (set[i].key == key) return set[i];
    // Prefer a free bucket, else the least recently used one.
    if (victim->key != 0 && (set[i].key == 0 || set[i].last_ns < victim->last_ns)) {
      victim = &set[i];
    }
  }
  // Reusing a bucket whose key has been quiet long enough to refill completely loses
  // nothing; anything else forgets a client's history, so count it.
  if (victim->key != 0 && (now_ns - victim->last_ns) * rate_ < capacity_) {
    counters_->evicted.fetch_add(1, std::memory_order_relaxed);
  }
  *victim = Bucket{key, now_ns, capacity_, 0};
  return *victim;
}

RrlAction Rrl::account(const IpAddress& client, const dns::Query& query,
                       std::span<const uint8_t> response) noexcept {
  if (!enabled_) return RrlAction::send;
  const int64_t now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock_->now().time_since_epoch())
          .count();
  Bucket& b = bucket_for(key_of(client, query, response), now_ns);
  // Refill for the time since the last response, capped so the product cannot overflow
  // (a full bucket needs at most capacity_ / rate_ ns anyway). A clock that went backwards
  // refills nothing.
  const int64_t elapsed = std::clamp<int64_t>(now_ns - b.last_ns, 0, capacity_ / rate_);
  b.credit = std::min(capacity_, b.credit + elapsed * rate_);
  b.last_ns = now_ns;
  if (b.credit >= kScale) {
    b.credit -= kScale;
    return RrlAction::send;
  }
  ++b.limited;
  if (slip_ != 0 && b.limited % slip_ == 0) {
    counters_->slipped.fetch_add(1, std::memory_order_relaxed);
    return RrlAction::slip;
  }
  counters_->dropped.fetch_add(1, std::memory_order_relaxed);
  return RrlAction::drop;
}

}  // namespace geodns::server
