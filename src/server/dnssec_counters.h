// The DNSSEC side of a worker's counters (worker_counters.h): how often an online signature
// came from the worker's signature cache and how often it had to be made. Written by one
// worker with relaxed atomics, summed by the control thread for /metrics.
#pragma once

#include <atomic>
#include <cstdint>

namespace geodns::server {

struct DnssecCounters {
  std::atomic<uint64_t> cache_hits{0};     // an online RRSIG served from the cache
  std::atomic<uint64_t> cache_misses{0};   // not cached (or near expiry): signed now
  std::atomic<uint64_t> signed_online{0};  // signatures made on the packet path
  std::atomic<uint64_t> sign_failed{0};    // the signer failed: the answer went out unsigned
  void bump(std::atomic<uint64_t>& c) noexcept { c.fetch_add(1, std::memory_order_relaxed); }
};

}  // namespace geodns::server
