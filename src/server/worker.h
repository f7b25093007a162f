// One serving thread: a libuv loop with a UDP socket and a TCP listener per endpoint, the
// TCP connections accepted on them, and the thread's Responder. Internal to the transport
// (WorkerPool is the public face). Everything but request_stop() runs on the worker thread
// once the thread has started.
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <future>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include "common/result.h"
#include "server/listen_config.h"
#include "server/page_buffer.h"
#include "server/responder.h"
#include "server/tcp_admission.h"
#include "server/transport_stats.h"

namespace geodns::server {

class TcpConnection;

class Worker {
 public:
  // libuv 1.44 reads at most 20 datagrams per recvmmsg call (its peers[20] array); the
  // receive buffer is cut into 64 KiB chunks, one per datagram.
  static constexpr size_t kMaxUdpBatch = 64;
  // A query datagram larger than this is answered FORMERR: DNS queries are small (a
  // question and an OPT record), and a smaller stride keeps the batch's buffers cache-friendly.
  static constexpr size_t kUdpChunkBytes = 8 * 1024;
  // recvmmsg batches handled per readiness event (or per idle round while draining) before
  // yielding to the loop (TCP, timers, stop).
  static constexpr int kMaxUdpRounds = 16;
  static constexpr size_t kMaxResponseBytes = 65535;
  // Distance between two UDP send slots: whole pages, so that an answer shorter than a page
  // (nearly all of them) makes one page of its slot resident, not two (page_buffer.h).
  static constexpr size_t kUdpSendStride = 64 * 1024;
  static_assert(kUdpSendStride >= kMaxResponseBytes);

  Worker(size_t index, const ListenConfig& config, ResponderFactory factory);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  // The thread must have been joined.
  ~Worker();

  // Calling thread, after adopt_sockets() and before start(): the loop, the stop signal and
  // the buffers (the UDP batch buffers only when there is a UDP socket).
  Status init();
  // Before init(): takes ownership of one bound UDP socket and one listening TCP socket per
  // endpoint; either vector is empty in a worker dedicated to the other transport.
  void adopt_sockets(std::vector<int> udp_fds, std::vector<int> tcp_fds);
  // Starts the thread; `ready` gets the outcome of creating the Responder and the handles.
  void start(std::promise<Status> ready);
  // Any thread: asks the loop to close everything and return.
  void request_stop() noexcept;
  void join();

  // For TcpConnection, on the worker thread.
  uv_loop_t* loop() noexcept { return &loop_; }
  Responder& responder() noexcept { return *responder_; }
  const ListenConfig& config() const noexcept { return config_; }
  // Room for one response (kMaxResponseBytes); valid until the next call that responds.
  std::span<uint8_t> response_buffer() noexcept {
    return {tcp_response_.data(), kMaxResponseBytes};
  }
  // A read buffer for TCP: the bytes are copied into the connection's framer at once.
  uv_buf_t tcp_read_buffer() noexcept;
  void connection_closed(TcpConnection* connection) noexcept;
  // A connection turned idle (nothing to read or write) or busy (tcp_admission.h).
  void connection_idle(TcpConnection* connection, bool is_idle) noexcept;
  // A connection got its first answer: it may now be closed for a newcomer whenever idle.
  void connection_served(TcpConnection* connection) noexcept;
  // The idle timeout a connection gets now: shorter while the worker is under pressure.
  std::chrono::milliseconds tcp_idle_timeout_now() const noexcept {
    return admission_.is_under_pressure()
               ? std::min(config_.tcp_busy_idle_timeout, config_.tcp_idle_timeout)
               : config_.tcp_idle_timeout;
  }
  TransportCounters& counters() noexcept { return *counters_; }
  TransportStats stats() const noexcept { return counters_->snapshot(); }

 private:
  struct UdpSocket {
    uv_poll_t handle;  // readiness only: we recvmmsg/sendmmsg the fd ourselves
    Worker* worker = nullptr;
    int fd = -1;
    bool is_open = false;   // handle initialised: closed through uv_close, not ::close
    bool draining = false;  // out of epoll, drained by on_udp_idle until found empty
  };
  struct TcpListener {
    uv_tcp_t handle;
    Worker* worker = nullptr;
    int fd = -1;
    bool is_open = false;
    bool is_parked = false;  // a connection waits in libuv for a slot (accept_connection)
  };

  void run(std::promise<Status> ready) noexcept;
  Status setup();
  void close_all() noexcept;

  static void on_stop(uv_async_t* async);
  static void on_udp_readable(uv_poll_t* handle, int status, int events);
  static void on_udp_idle(uv_idle_t* idle);
  static void on_tcp_connection(uv_stream_t* server, int status);
  static void on_unpark(uv_timer_t* timer);

  enum class Drained : uint8_t {
    empty,    // recvmmsg found nothing (or failed): the socket is empty for now
    partial,  // the last batch was not full
    full,     // kMaxUdpRounds full batches: more is probably waiting
  };
  // Up to kMaxUdpRounds recvmmsg batches, each answered with one sendmmsg.
  Drained drain_udp(UdpSocket& socket) noexcept;
  void start_draining(UdpSocket& socket) noexcept;
  void stop_draining(UdpSocket& socket) noexcept;
  // `oversized`: the kernel cut the datagram to `query` (MSG_TRUNC); it gets FORMERR.
  void handle_datagram(UdpSocket& socket, std::span<const uint8_t> query, const sockaddr* peer,
                       bool oversized) noexcept;
  void flush_udp() noexcept;
  void accept_connection(uv_stream_t* server) noexcept;
  // A slot may have come free: retry the parked listeners soon.
  void wake_parked() noexcept;

  const size_t index_;
  const ListenConfig config_;
  ResponderFactory factory_;
  uv_loop_t loop_;
  uv_async_t stop_async_;
  bool loop_ready_ = false;
  bool thread_started_ = false;
  bool stopping_ = false;
  std::thread thread_;
  std::unique_ptr<Responder> responder_;
  std::vector<std::unique_ptr<UdpSocket>> udp_;
  std::vector<std::unique_ptr<TcpListener>> tcp_;

  // UDP batch state: one recvmmsg batch in flight at a time on this thread.
  size_t udp_slots_ = 1;
  PageBuffer udp_recv_;  // udp_slots_ * kUdpChunkBytes
  PageBuffer udp_send_;  // udp_slots_ * kUdpSendStride
  std::array<mmsghdr, kMaxUdpBatch> udp_msgs_{};
  std::array<iovec, kMaxUdpBatch> udp_iov_{};
  std::array<sockaddr_storage, kMaxUdpBatch> udp_peers_{};
  std::array<mmsghdr, kMaxUdpBatch> recv_msgs_{};
  std::array<iovec, kMaxUdpBatch> recv_iov_{};
  std::array<sockaddr_storage, kMaxUdpBatch> recv_peers_{};
  size_t udp_pending_ = 0;
  int udp_pending_fd_ = -1;
  // Active while some UDP socket is draining: the loop then polls with a zero timeout and
  // calls on_udp_idle once per iteration.
  uv_idle_t udp_idle_;
  bool udp_idle_open_ = false;
  size_t udp_draining_ = 0;  // sockets with draining set

  // TCP.
  PageBuffer tcp_read_;                   // kTcpReadBytes
  PageBuffer tcp_response_;               // kMaxResponseBytes
  TcpConnection* connections_ = nullptr;  // intrusive list of open connections
  TcpAdmission admission_;                // the cap, per-client limits, the idle order
  uv_timer_t unpark_timer_;               // retries parked listeners while any is parked
  bool unpark_timer_open_ = false;
  size_t parked_count_ = 0;

  TransportCounters own_counters_;
  TransportCounters* counters_ = &own_counters_;  // the responder's block, or own_counters_
};

}  // namespace geodns::server
