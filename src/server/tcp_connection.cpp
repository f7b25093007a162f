#include "server/tcp_connection.h"

#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>

#include "common/socket_address.h"
#include "server/worker.h"

namespace geodns::server {

TcpConnection::TcpConnection(Worker& worker) noexcept : worker_(worker) {
  // Neither init can fail for a valid loop (no socket is created before accept).
  uv_tcp_init(worker_.loop(), &tcp_);
  uv_timer_init(worker_.loop(), &timer_);
  tcp_.data = this;
  timer_.data = this;
  write_request_.data = this;
  client_.transport = Transport::tcp;
}

void TcpConnection::identify() noexcept {
  sockaddr_storage peer{};
  int length = sizeof(peer);
  if (uv_tcp_getpeername(&tcp_, reinterpret_cast<sockaddr*>(&peer), &length) == 0) {
    client_.address = IpAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&peer));
    client_.port = port_of(reinterpret_cast<const sockaddr*>(&peer));
  }
}

bool TcpConnection::has_unread_bytes() const noexcept {
  uv_os_fd_t fd = -1;
  if (uv_fileno(reinterpret_cast<const uv_handle_t*>(&tcp_), &fd) != 0) return false;
  int unread = 0;
  return ::ioctl(fd, FIONREAD, &unread) == 0 && unread > 0;
}

void TcpConnection::start() noexcept {
  // Answers are written whole; Nagle would only delay them.
  uv_tcp_nodelay(&tcp_, 1);
  last_activity_ms_ = uv_now(worker_.loop());
  refresh_idle_timeout();
  update_reading();
  arm_timer();
}

void TcpConnection::refresh_idle_timeout() noexcept {
  const auto timeout = worker_.tcp_idle_timeout_now();
  idle_timeout_ms_ = static_cast<uint64_t>(timeout.count());
  // RFC 7828 3.1: TIMEOUT in units of 100 ms; rounded down so that the client gives up on
  // the connection before we do.
  client_.tcp_keepalive_100ms =
      static_cast<uint16_t>(std::min<uint64_t>(idle_timeout_ms_ / 100, 0xFFFF));
}

void TcpConnection::update_idle() noexcept {
  const bool is_idle_now = !is_closing_ && framer_.buffered_bytes() == 0 && !is_writing_ &&
                           pending_write_bytes() == 0 &&
                           transfer_ == nullptr;  // a zone transfer between two writes is not idle
  worker_.connection_idle(this, is_idle_now);
}

void TcpConnection::close() noexcept {
  if (is_closing_) return;
  is_closing_ = true;
  worker_.connection_closed(this);
  // A write in flight gets its callback with UV_ECANCELED before the close callbacks.
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_close);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), on_close);
}

void TcpConnection::on_close(uv_handle_t* handle) {
  auto* self = static_cast<TcpConnection*>(handle->data);
  if (--self->open_handles_ == 0) delete self;
}

void TcpConnection::on_alloc(uv_handle_t* handle, size_t /*suggested*/, uv_buf_t* buf) {
  auto* self = static_cast<TcpConnection*>(handle->data);
  *buf = self->worker_.tcp_read_buffer();
}

void TcpConnection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<TcpConnection*>(stream->data);
  if (self->is_closing_) return;
  if (nread > 0) {
    self->worker_.responder().begin_batch();
    const bool had_bytes = self->framer_.buffered_bytes() > 0;
    self->framer_.append({reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(nread)});
    // A query has begun: this connection is not to be closed for a newcomer until answered.
    if (!had_bytes) self->worker_.connection_idle(self, false);
    // The stall clock starts with the first byte of a message, not with each byte.
    if (!had_bytes) self->partial_since_ms_ = uv_now(self->worker_.loop());
    self->process();
  } else if (nread == UV_EOF) {
    // Half-close: answer what is complete, write it, then close (RFC 7766 6.2.4).
    self->saw_eof_ = true;
    self->process();
  } else if (nread < 0) {
    self->close();
  }
}

void TcpConnection::process() noexcept {
  const uint64_t now = uv_now(worker_.loop());
  Responder& responder = worker_.responder();
  while (!is_closing_ && pending_write_bytes() < kMaxPendingWriteBytes) {
    // A zone transfer's messages go out, as backpressure allows, before the next answer.
    if (transfer_ != nullptr) {
      queue(worker_.response_buffer(), transfer_->next(worker_.response_buffer()));
      if (transfer_->done()) transfer_.reset();
      continue;
    }
    const auto message = framer_.next();
    if (!message) break;
    last_activity_ms_ = now;
    refresh_idle_timeout();
    worker_.counters().add(TransportCounters::tcp_received);
    if (framer_.buffered_bytes() > 0) partial_since_ms_ = now;
    if ((transfer_ = responder.start_transfer(*message, client_)) != nullptr) continue;
    const std::span<uint8_t> out = worker_.response_buffer();
    queue(out, responder.respond(*message, client_, out));
  }
  flush();
  if (is_closing_) return;
  if (saw_eof_ && !framer_.has_message() && transfer_ == nullptr && !is_writing_ &&
      queued_.empty()) {
    close();
    return;
  }
  update_reading();
  arm_timer();
  update_idle();
}

void TcpConnection::queue(std::span<const uint8_t> out, size_t length) noexcept {
  if (length == 0 || length > out.size()) return;
  uint8_t prefix[2];
  write_tcp_length(prefix, length);
  worker_.counters().add(TransportCounters::tcp_sent);
  worker_.connection_served(this);
  queued_.insert(queued_.end(), prefix, prefix + 2);
  queued_.insert(queued_.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(length));
}

void TcpConnection::flush() noexcept {
  if (is_writing_ || queued_.empty() || is_closing_) return;
  // Double buffering: the bytes of a write stay untouched until its callback, new answers
  // queue in the other vector; both keep their capacity, so steady state allocates nothing.
  writing_buffer_.swap(queued_);
  queued_.clear();
  uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(writing_buffer_.data()),
                             static_cast<unsigned>(writing_buffer_.size()));
  if (uv_write(&write_request_, stream(), &buf, 1, on_write) != 0) {
    writing_buffer_.clear();
    close();
    return;
  }
  is_writing_ = true;
}

void TcpConnection::on_write(uv_write_t* request, int status) {
  auto* self = static_cast<TcpConnection*>(request->data);
  self->is_writing_ = false;
  self->writing_buffer_.clear();
  if (self->is_closing_) return;
  if (status < 0) {
    self->close();
    return;
  }
  self->last_activity_ms_ = uv_now(self->worker_.loop());
  // Room again: answer what backpressure held back, and resume reading.
  self->process();
}

void TcpConnection::update_reading() noexcept {
  const bool want_read = !saw_eof_ && !is_closing_ &&
                         pending_write_bytes() < kMaxPendingWriteBytes && !framer_.has_message();
  if (want_read && !is_reading_) {
    if (uv_read_start(stream(), on_alloc, on_read) != 0) {
      close();
      return;
    }
    is_reading_ = true;
  } else if (!want_read && is_reading_) {
    if (!saw_eof_ && pending_write_bytes() >= kMaxPendingWriteBytes) {
      worker_.counters().add(TransportCounters::tcp_backpressure);
    }
    uv_read_stop(stream());
    is_reading_ = false;
  }
}

uint64_t TcpConnection::deadline_ms() const noexcept {
  const ListenConfig& config = worker_.config();
  uint64_t deadline = last_activity_ms_ + idle_timeout_ms_;
  if (framer_.has_partial()) {
    deadline = std::min(
        deadline, partial_since_ms_ + static_cast<uint64_t>(config.tcp_stall_timeout.count()));
  }
  return deadline;
}

void TcpConnection::arm_timer() noexcept {
  const uint64_t now = uv_now(worker_.loop());
  const uint64_t deadline = deadline_ms();
  uv_timer_start(&timer_, on_timer, deadline > now ? deadline - now : 0, 0);
}

void TcpConnection::on_timer(uv_timer_t* timer) {
  auto* self = static_cast<TcpConnection*>(timer->data);
  if (self->is_closing_) return;
  const uint64_t now = uv_now(self->worker_.loop());
  if (now >= self->deadline_ms()) {
    const ListenConfig& config = self->worker_.config();
    const bool is_stall =
        self->framer_.has_partial() &&
        now >= self->partial_since_ms_ + static_cast<uint64_t>(config.tcp_stall_timeout.count());
    self->worker_.counters().add(is_stall ? TransportCounters::tcp_stall_closed
                                          : TransportCounters::tcp_idle_closed);
    self->close();
  } else {
    self->arm_timer();
  }
}

}  // namespace geodns::server
