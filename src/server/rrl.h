// Response rate limiting (RRL) for UDP, in the spirit of BIND's and Knot's: a DNS server
// answering spoofed queries is a reflection amplifier, so the responses one client network
// gets for one kind of answer are capped. Over the cap, responses are dropped, except every
// `slip`-th one, which goes out truncated (TC=1, no records): a real client behind that address
// retries over TCP, which cannot be spoofed, while the victim of a reflection attack receives
// a packet no larger than the query.
//
// One Rrl per worker (owned by its Pipeline): the table is allocated once, in the constructor,
// and account() is noexcept, lock-free and allocation-free. Workers do not share buckets, so
// with N workers a client spread over them by SO_REUSEPORT can get up to N times the rate.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "common/clock.h"
#include "common/ip.h"
#include "dns/query.h"
#include "zone/config.h"

namespace geodns::server {

// The file's [server.rrl] settings (zone::RrlSettings: enabled, responses_per_second, window,
// slip, table_entries, with their defaults), plus what only the server and tests set.
// responses_per_second refills each bucket; a bucket holds responses_per_second * window
// tokens, so a client that was quiet may spend up to `window` seconds' worth at once (1 s..1 h).
// Every slip-th limited response is sent truncated instead of dropped (0: drop all,
// 1: truncate all): 2 halves what a reflection target receives while a real client still gets
// a TC within two retries. table_entries is per worker, rounded up to a power of two (>= 4).
struct RrlConfig : zone::RrlSettings {
  uint8_t ipv4_prefix_length = 24;  // clients in one /24 (one /56 for IPv6) share buckets
  uint8_t ipv6_prefix_length = 56;
  const Clock* clock = nullptr;  // nullptr: the system's steady clock (tests inject one)

  friend bool operator==(const RrlConfig&, const RrlConfig&) = default;
};

enum class RrlAction : uint8_t {
  send,  // within the rate: send the response as built
  drop,  // over the rate: send nothing
  slip,  // over the rate: send header + question with TC=1 instead
};

// Counters of one worker's limiter, read by the control thread (relaxed atomics).
struct RrlCounters {
  std::atomic<uint64_t> dropped{0};
  std::atomic<uint64_t> slipped{0};
  std::atomic<uint64_t> evicted{0};  // a bucket reused for another key while the table is full
};

class Rrl {
 public:
  // Allocates the table when enabled (start-up only); `seed` keys the bucket hash so that
  // colliding keys cannot be precomputed from outside.
  // `counters`: where to count (the worker's block, outliving this); null = its own.
  Rrl(const RrlConfig& config, uint64_t seed, RrlCounters* counters = nullptr);

  bool enabled() const noexcept { return enabled_; }

  // A reload changed the settings: the table is allocated again (or freed), the counters stay.
  // Between batches only, on the owning worker's thread.
  void configure(const RrlConfig& config);

  // Charges one response to its bucket and says whether to send it. `response` is the
  // complete response built for `query` (its RCODE and ANCOUNT decide the bucket).
  RrlAction account(const IpAddress& client, const dns::Query& query,
                    std::span<const uint8_t> response) noexcept;

  const RrlCounters& counters() const noexcept { return *counters_; }

 private:
  struct Bucket {
    uint64_t key = 0;  // 0 = free
    int64_t last_ns = 0;
    int64_t credit = 0;    // tokens in units of 1/kScale of a response (see rrl.cpp)
    uint64_t limited = 0;  // responses limited since the bucket was created (for slip)
  };
  static constexpr size_t kWays = 4;  // a key may live in any of 4 adjacent buckets
  struct FreeTable {
    void operator()(Bucket* p) const noexcept;
  };

  uint64_t key_of(const IpAddress& client, const dns::Query& query,
                  std::span<const uint8_t> response) const noexcept;
  Bucket& bucket_for(uint64_t key, int64_t now_ns) noexcept;

  bool enabled_ = false;
  int64_t rate_ = 0;
  int64_t capacity_ = 0;
  uint64_t slip_ = 0;
  uint8_t v4_prefix_ = 24;
  uint8_t v6_prefix_ = 56;
  uint64_t seed_ = 0;
  const Clock* clock_ = nullptr;
  size_t set_mask_ = 0;  // number of sets - 1
  // calloc'd: a fresh mapping is already zero, so only the buckets clients reach take memory
  // (make_unique would write all 512 KiB per worker at the default size).
  std::unique_ptr<Bucket[], FreeTable> table_;
  RrlCounters own_counters_;
  RrlCounters* counters_;
};

}  // namespace geodns::server
