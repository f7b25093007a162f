// One DNS-over-TCP connection (RFC 7766) on a worker loop: reads length-prefixed messages,
// answers them in order through the worker's Responder, and writes the answers back.
//
// Limits, so that no client can hold a connection or memory for free:
// - idle timeout: no complete message and no completed write for tcp_idle_timeout;
// - stall timeout: a message started and not completed within tcp_stall_timeout (the timer
//   restarts only when a complete message arrives, so dribbling bytes does not help);
// - backpressure: with kMaxPendingWriteBytes of answers not yet taken by the client, the
//   connection stops reading and answering until the client reads.
// It tells the worker's TcpAdmission whenever it turns idle or busy (tcp_admission.h), so that
// a full worker closes the connection idle longest, never one with an answer in progress.
// Owned by its Worker; deletes itself once both its libuv handles are closed.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "server/responder.h"
#include "server/tcp_admission.h"
#include "server/tcp_framer.h"
#include "server/transfer.h"

namespace geodns::server {

class Worker;

class TcpConnection : public TcpSlot {
 public:
  static constexpr size_t kMaxPendingWriteBytes = 256 * 1024;

  explicit TcpConnection(Worker& worker) noexcept;
  TcpConnection(const TcpConnection&) = delete;
  TcpConnection& operator=(const TcpConnection&) = delete;

  uv_stream_t* stream() noexcept { return reinterpret_cast<uv_stream_t*>(&tcp_); }
  // After a successful uv_accept into stream(): learns the peer's address (for admission).
  void identify() noexcept;
  const IpAddress& peer() const noexcept { return client_.address; }
  // Bytes the kernel holds that the loop has not read yet: the client has sent a query we
  // have not seen, so the connection is not idle whatever the admission tables say.
  bool has_unread_bytes() const noexcept;
  // Once admitted: starts reading and the timers.
  void start() noexcept;
  // Closes both handles; the object is deleted by the last close callback. Idempotent.
  void close() noexcept;

  // The worker's list of open connections (for the cap and for stop).
  TcpConnection* list_prev = nullptr;
  TcpConnection* list_next = nullptr;
  bool is_listed = false;

 private:
  ~TcpConnection() = default;

  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* request, int status);
  static void on_timer(uv_timer_t* timer);
  static void on_close(uv_handle_t* handle);

  // Answers the complete messages buffered, as far as backpressure allows, then writes,
  // adjusts reading and the timer, and closes after EOF once everything is answered.
  void process() noexcept;
  void queue(std::span<const uint8_t> out, size_t length) noexcept;
  void flush() noexcept;
  void update_reading() noexcept;
  void arm_timer() noexcept;
  // Takes the worker's current idle timeout for the next idle period (and for the keepalive
  // option of the answers written meanwhile).
  void refresh_idle_timeout() noexcept;
  // Idle: nothing of a query buffered, nothing to write; tells the worker when that changes.
  void update_idle() noexcept;
  uint64_t deadline_ms() const noexcept;
  size_t pending_write_bytes() const noexcept { return queued_.size() + writing_buffer_.size(); }

  Worker& worker_;
  uv_tcp_t tcp_;
  uv_timer_t timer_;
  uv_write_t write_request_;
  ClientInfo client_;
  TcpFramer framer_;
  std::vector<uint8_t> queued_;               // answers waiting for the write in flight
  std::vector<uint8_t> writing_buffer_;       // the write in flight (one at a time)
  std::unique_ptr<TransferStream> transfer_;  // a zone transfer being sent (server/transfer.h)
  uint64_t last_activity_ms_ = 0;             // last complete message or completed write
  uint64_t partial_since_ms_ = 0;             // when the incomplete message now buffered began
  uint64_t idle_timeout_ms_ = 0;              // applied to this connection (and advertised)
  int open_handles_ = 2;
  bool is_closing_ = false;
  bool is_reading_ = false;
  bool is_writing_ = false;
  bool saw_eof_ = false;
};

}  // namespace geodns::server
