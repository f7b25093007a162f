// Counters of the transport, for metrics and status. Each worker owns one TransportCounters
// and is its only writer (a relaxed load+store, no locked instruction on the packet path);
// any thread may read them. WorkerPool::stats() sums the workers.
#pragma once

#include <atomic>
#include <cstdint>

namespace geodns::server {

struct TransportStats {
  uint64_t udp_received = 0;        // datagrams handed to the responder
  uint64_t udp_sent = 0;            // responses the kernel took
  uint64_t udp_send_dropped = 0;    // responses dropped (send buffer full, send error)
  uint64_t udp_truncated = 0;       // datagrams too large for a chunk, answered FORMERR
  uint64_t tcp_accepted = 0;        // connections served
  uint64_t tcp_rejected = 0;        // closed at once: at the cap (or client limit), none idle
  uint64_t tcp_evicted = 0;         // idle connections closed to admit a new one at the cap
  uint64_t tcp_client_evicted = 0;  // idle ones closed for a new one of the same client
  uint64_t tcp_parked = 0;          // times a new connection waited in the accept queue for a slot
  uint64_t tcp_open = 0;            // connections open now
  uint64_t tcp_received = 0;        // messages handed to the responder
  uint64_t tcp_sent = 0;            // responses queued for writing
  uint64_t tcp_idle_closed = 0;     // closed by the idle timeout
  uint64_t tcp_stall_closed = 0;    // closed by the stall timeout (partial message)
  uint64_t tcp_backpressure = 0;    // times a connection stopped reading for its client
  // The AF_XDP path (server/xdp/): frames handed to the responder, answers the TX ring took,
  // frames dropped as malformed (bad checksum, lengths), answers dropped for want of a frame.
  uint64_t xdp_received = 0;
  uint64_t xdp_sent = 0;
  uint64_t xdp_malformed = 0;
  uint64_t xdp_send_dropped = 0;

  TransportStats& operator+=(const TransportStats& other) noexcept;
};

class TransportCounters {
 public:
  enum Id : uint8_t {
    udp_received,
    udp_sent,
    udp_send_dropped,
    udp_truncated,
    tcp_accepted,
    tcp_rejected,
    tcp_evicted,
    tcp_client_evicted,
    tcp_parked,
    tcp_open,
    tcp_received,
    tcp_sent,
    tcp_idle_closed,
    tcp_stall_closed,
    tcp_backpressure,
    xdp_received,
    xdp_sent,
    xdp_malformed,
    xdp_send_dropped,
    kCount
  };

  // Single writer (the owning worker thread).
  void add(Id id, uint64_t n = 1) noexcept {
    values_[id].store(values_[id].load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void subtract(Id id, uint64_t n = 1) noexcept {
    values_[id].store(values_[id].load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
  }
  // Any thread.
  TransportStats snapshot() const noexcept;

 private:
  std::atomic<uint64_t> values_[kCount] = {};
};

}  // namespace geodns::server
