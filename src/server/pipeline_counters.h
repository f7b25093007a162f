// The query pipeline's counters, part of a worker's counter block (worker_counters.h).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace geodns::server {

// Per-worker counters: written by one worker with relaxed atomics (no lock, no contention),
// read by the control thread for metrics.
struct Counters {
  static constexpr size_t kRcodes = 24;
  std::atomic<uint64_t> queries_udp{0};
  std::atomic<uint64_t> queries_tcp{0};
  std::atomic<uint64_t> dropped{0};
  std::atomic<uint64_t> truncated{0};
  std::atomic<uint64_t> steered{0};
  std::atomic<uint64_t> failed_open{0};
  std::atomic<uint64_t> cookies_valid{0};  // a server cookie of ours came back (kept or renewed)
  std::atomic<uint64_t> cookies_new{0};    // a client cookie without a valid server cookie
  std::array<std::atomic<uint64_t>, kRcodes> rcodes{};
  std::array<std::atomic<uint64_t>, 256> qtypes{};  // types >= 256 counted in slot 0
  // One writer: a relaxed load and store, not fetch_add, whose locked instruction costs
  // tens of cycles, several times per query.
  void bump(std::atomic<uint64_t>& c) noexcept {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
};

}  // namespace geodns::server
