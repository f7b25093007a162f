// The UDP/TCP serving layer: worker threads, each with its own libuv loop, its own
// SO_REUSEPORT sockets per endpoint, and its own Responder (created by the factory on that
// thread). With ListenConfig::tcp_threads > 0, `threads` workers have only a UDP socket per
// endpoint and `tcp_threads` more only a TCP listener; with 0, every worker has both. The kernel
// spreads packets and connections over the workers; workers share nothing, so the packet path takes
// no lock.
//
// UDP: recvmmsg batches (UV_UDP_RECVMMSG), responses collected in preallocated per-worker
// slots and flushed with one sendmmsg per batch; no heap allocation per packet.
// TCP (RFC 7766): pipelined length-prefixed messages answered in order, idle and stall
// timeouts, a per-worker connection cap, and backpressure on clients that do not read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/result.h"
#include "server/listen_config.h"
#include "server/responder.h"
#include "server/transport_stats.h"

namespace geodns::server {

class Worker;

class WorkerPool {
 public:
  // Binds every socket on the calling thread, so that a bad address or a port in use comes
  // back here as an Error ("listen 127.0.0.1:53: Address already in use"); then starts the
  // threads and waits until each has its Responder. `factory` is called once on each worker
  // thread (so possibly concurrently) and only during start(): it may capture locals of the
  // caller. A null Responder or an exception from it fails start(). The worker threads block
  // all signals: the caller's thread (or another) handles them.
  static Result<std::unique_ptr<WorkerPool>> start(const ListenConfig& config,
                                                   ResponderFactory factory);

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  ~WorkerPool();

  // Closes every socket and connection and joins the threads. Idempotent; returns promptly
  // even with open TCP connections (pending responses are dropped). Not from a worker thread.
  void stop();

  // The port endpoint `endpoint_index` is bound to (differs from the config for port 0).
  uint16_t bound_port(size_t endpoint_index) const;
  size_t worker_count() const noexcept { return workers_.size(); }
  // Workers serving UDP, and TCP (the same workers when TCP has no threads of its own).
  size_t udp_worker_count() const noexcept { return udp_workers_; }
  size_t tcp_worker_count() const noexcept { return tcp_workers_; }
  // The workers' counters summed; any thread, also after stop().
  TransportStats stats() const noexcept;

 private:
  WorkerPool() = default;

  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<uint16_t> ports_;
  size_t udp_workers_ = 0;
  size_t tcp_workers_ = 0;
  bool stopped_ = false;
};

}  // namespace geodns::server
