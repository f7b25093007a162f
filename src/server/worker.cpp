#include "server/worker.h"

#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <exception>
#include <string>

#include "common/log.h"
#include "dns/oversized.h"
#include "server/socket_setup.h"
#include "server/tcp_connection.h"

namespace geodns::server {

namespace {

constexpr size_t kTcpReadBytes = 64 * 1024;
constexpr int kSocketBufferBytes = 4 * 1024 * 1024;
// Idle candidates checked for unread bytes per accept at the cap (accept_connection).
constexpr int kMaxIdleProbes = 8;

std::string uv_message(const char* what, int err) {
  return std::string(what) + ": " + uv_strerror(err);
}

uint16_t port_of(const sockaddr* addr) noexcept {
  if (addr->sa_family == AF_INET)
    return ntohs(reinterpret_cast<const sockaddr_in*>(addr)->sin_port);
  if (addr->sa_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(addr)->sin6_port);
  }
  return 0;
}

}  // namespace

Worker::Worker(size_t index, const ListenConfig& config, ResponderFactory factory)
    : index_(index),
      config_(config),
      factory_(std::move(factory)),
      admission_(config_.tcp_max_connections, config_.tcp_max_per_client) {}

Worker::~Worker() {
  // Sockets never handed to libuv (setup failed before) are still ours to close.
  for (auto& socket : udp_) {
    if (!socket->is_open && socket->fd >= 0) ::close(socket->fd);
  }
  for (auto& listener : tcp_) {
    if (!listener->is_open && listener->fd >= 0) ::close(listener->fd);
  }
  if (loop_ready_) {
    if (!thread_started_) {
      // init() succeeded but the thread never ran (a later worker failed): close the stop
      // signal here so that the loop can be closed.
      close_all();
      uv_run(&loop_, UV_RUN_DEFAULT);
    }
    uv_loop_close(&loop_);
  }
}

Status Worker::init() {
  if (const int err = uv_loop_init(&loop_); err != 0) {
    return make_error(uv_message("uv_loop_init", err));
  }
  if (const int err = uv_async_init(&loop_, &stop_async_, on_stop); err != 0) {
    uv_loop_close(&loop_);
    return make_error(uv_message("uv_async_init", err));
  }
  stop_async_.data = this;
  loop_ready_ = true;
  udp_slots_ = std::clamp<size_t>(config_.udp_batch, 1, kMaxUdpBatch);
  // Mapped, not allocated: only the pages the kernel and the responder write become resident
  // (page_buffer.h), about one per slot in use instead of the whole 4.5 MiB of a UDP worker
  // at the default batch. A TCP-only worker has no UDP buffers at all.
  auto map = [](PageBuffer* buffer, size_t bytes) -> Status {
    auto mapped = PageBuffer::map(bytes);
    if (!mapped) return mapped.error();
    *buffer = std::move(mapped.value());
    return {};
  };
  if (!udp_.empty()) {
    if (Status st = map(&udp_recv_, udp_slots_ * kUdpChunkBytes); !st) return st;
    if (Status st = map(&udp_send_, udp_slots_ * kUdpSendStride); !st) return st;
  }
  if (Status st = map(&tcp_read_, kTcpReadBytes); !st) return st;
  return map(&tcp_response_, kMaxResponseBytes);
}

void Worker::adopt_sockets(std::vector<int> udp_fds, std::vector<int> tcp_fds) {
  for (const int fd : udp_fds) {
    auto socket = std::make_unique<UdpSocket>();
    socket->worker = this;
    socket->fd = fd;
    udp_.push_back(std::move(socket));
  }
  for (const int fd : tcp_fds) {
    auto listener = std::make_unique<TcpListener>();
    listener->worker = this;
    listener->fd = fd;
    tcp_.push_back(std::move(listener));
  }
}

void Worker::start(std::promise<Status> ready) {
  // Workers take no asynchronous signals: the control thread waits for them.
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &previous);
  thread_ = std::thread([this, promise = std::move(ready)]() mutable { run(std::move(promise)); });
  thread_started_ = true;
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

void Worker::request_stop() noexcept {
  if (loop_ready_) uv_async_send(&stop_async_);
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::run(std::promise<Status> ready) noexcept {
  Status status;
  try {
    status = setup();
  } catch (const std::exception& e) {
    status = make_error(std::string("worker setup: ") + e.what());
  }
  ready.set_value(status);
  // Even after a failed setup the loop runs until stop: WorkerPool::start() stops every
  // worker it started, and the stop signal must find a live loop.
  uv_run(&loop_, UV_RUN_DEFAULT);
  responder_.reset();
}

Status Worker::setup() {
  responder_ = factory_ ? factory_() : nullptr;
  if (!responder_) return make_error("worker " + std::to_string(index_) + ": no responder");
  if (TransportCounters* block = responder_->transport_counters()) counters_ = block;
  if (const int err = uv_idle_init(&loop_, &udp_idle_); err != 0) {
    return make_error(uv_message("uv_idle_init", err));
  }
  udp_idle_.data = this;
  udp_idle_open_ = true;
  for (size_t i = 0; i < udp_.size(); ++i) {
    UdpSocket& socket = *udp_[i];
    const std::string& name = config_.endpoints[i].text;
    // libuv 1.44 reads at most 20 datagrams per recvmmsg and has no sendmmsg: libuv only
    // tells us the socket is readable, and the worker does the batched I/O itself.
    if (const int err = uv_poll_init(&loop_, &socket.handle, socket.fd); err != 0) {
      ::close(socket.fd);
      return make_error("listen " + name + ": " + uv_message("uv_poll_init", err));
    }
    socket.handle.data = &socket;
    socket.is_open = true;
    set_socket_buffers(socket.fd, kSocketBufferBytes);
    if (const int err = uv_poll_start(&socket.handle, UV_READABLE, on_udp_readable); err != 0) {
      return make_error("listen " + name + ": " + uv_message("uv_poll_start", err));
    }
    if (index_ == 0) {
      log::debug("udp_listen", {{"endpoint", name}, {"batch", std::to_string(udp_slots_)}});
    }
  }
  if (const int err = uv_timer_init(&loop_, &unpark_timer_); err != 0) {
    return make_error(uv_message("uv_timer_init", err));
  }
  unpark_timer_.data = this;
  unpark_timer_open_ = true;
  for (size_t i = 0; i < tcp_.size(); ++i) {
    TcpListener& listener = *tcp_[i];
    const std::string& name = config_.endpoints[i].text;
    if (const int err = uv_tcp_init(&loop_, &listener.handle); err != 0) {
      return make_error("listen " + name + ": " + uv_message("uv_tcp_init", err));
    }
    listener.handle.data = &listener;
    listener.is_open = true;
    if (const int err = uv_tcp_open(&listener.handle, listener.fd); err != 0) {
      ::close(listener.fd);
      return make_error("listen " + name + ": " + uv_message("uv_tcp_open", err));
    }
    if (const int err = uv_listen(reinterpret_cast<uv_stream_t*>(&listener.handle),
                                  kTcpListenBacklog, on_tcp_connection);
        err != 0) {
      return make_error("listen " + name + ": " + uv_message("uv_listen", err));
    }
  }
  return {};
}

void Worker::on_stop(uv_async_t* async) {
  static_cast<Worker*>(async->data)->close_all();
}

void Worker::close_all() noexcept {
  stopping_ = true;
  flush_udp();
  for (auto& socket : udp_) {
    if (socket->is_open && !uv_is_closing(reinterpret_cast<uv_handle_t*>(&socket->handle))) {
      // A poll handle does not own its fd: close it once libuv has let go of the handle.
      uv_close(reinterpret_cast<uv_handle_t*>(&socket->handle), [](uv_handle_t* h) {
        auto* s = static_cast<UdpSocket*>(h->data);
        if (s->fd >= 0) ::close(s->fd);
        s->fd = -1;
      });
    }
  }
  if (udp_idle_open_ && !uv_is_closing(reinterpret_cast<uv_handle_t*>(&udp_idle_))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&udp_idle_), nullptr);
  }
  for (auto& listener : tcp_) {
    if (listener->is_open && !uv_is_closing(reinterpret_cast<uv_handle_t*>(&listener->handle))) {
      uv_close(reinterpret_cast<uv_handle_t*>(&listener->handle), nullptr);
    }
  }
  // close() unlinks the connection, so the head advances.
  while (connections_ != nullptr) connections_->close();
  uv_close(reinterpret_cast<uv_handle_t*>(&stop_async_), nullptr);
  // Nothing else should be open; a handle that is would keep uv_run (and join) waiting.
  uv_walk(
      &loop_,
      [](uv_handle_t* handle, void*) {
        if (!uv_is_closing(handle)) uv_close(handle, nullptr);
      },
      nullptr);
}

// UDP --------------------------------------------------------------------------------------

// Readiness on a UDP socket: drain it in recvmmsg batches, answering each batch with one
// sendmmsg, for at most kMaxUdpRounds batches before letting the loop serve TCP and the stop
// signal (epoll is level-triggered here, so what is left wakes us again at once).
//
// A socket found busy (every batch full) leaves epoll and is drained from the idle handle
// instead, until recvmmsg finds it empty. While a socket is watched by epoll, its wait queue
// holds the epoll entry, so every datagram queued on it and every datagram sent from it (the
// write-space wakeup when the kernel frees the sent skb) runs the epoll callback under the
// wait-queue lock: a per-packet cost that a blocking-recvmmsg server does not pay while busy.
// Draining keeps batching per socket and begin_batch() between batches, and the loop still
// runs TCP, timers and the stop signal between rounds (it polls with a zero timeout).
void Worker::on_udp_readable(uv_poll_t* handle, int status, int events) {
  auto& socket = *static_cast<UdpSocket*>(handle->data);
  Worker& self = *socket.worker;
  if (status < 0 || (events & UV_READABLE) == 0 || self.stopping_) return;
  if (self.drain_udp(socket) == Drained::full) self.start_draining(socket);
}

void Worker::on_udp_idle(uv_idle_t* idle) {
  Worker& self = *static_cast<Worker*>(idle->data);
  if (self.stopping_) return;
  for (auto& socket : self.udp_) {
    if (socket->draining && self.drain_udp(*socket) == Drained::empty) self.stop_draining(*socket);
  }
}

void Worker::start_draining(UdpSocket& socket) noexcept {
  if (socket.draining || uv_poll_stop(&socket.handle) != 0) return;
  socket.draining = true;
  if (udp_draining_++ == 0) uv_idle_start(&udp_idle_, on_udp_idle);
}

void Worker::stop_draining(UdpSocket& socket) noexcept {
  // If the socket cannot go back to epoll it stays draining: served, at the cost of polling.
  if (!socket.draining || uv_poll_start(&socket.handle, UV_READABLE, on_udp_readable) != 0) {
    return;
  }
  socket.draining = false;
  if (--udp_draining_ == 0) uv_idle_stop(&udp_idle_);
}

Worker::Drained Worker::drain_udp(UdpSocket& socket) noexcept {
  const auto slots = static_cast<unsigned>(udp_slots_);
  for (int round = 0; round < kMaxUdpRounds; ++round) {
    // The place to pick up newly published snapshots: between batches, never mid-batch.
    responder_->begin_batch();
    for (unsigned i = 0; i < slots; ++i) {
      recv_iov_[i].iov_base = udp_recv_.data() + i * kUdpChunkBytes;
      recv_iov_[i].iov_len = kUdpChunkBytes;
      msghdr& h = recv_msgs_[i].msg_hdr;
      h = msghdr{};
      h.msg_name = &recv_peers_[i];
      h.msg_namelen = sizeof(sockaddr_storage);
      h.msg_iov = &recv_iov_[i];
      h.msg_iovlen = 1;
    }
    const int n = ::recvmmsg(socket.fd, recv_msgs_.data(), slots, MSG_DONTWAIT, nullptr);
    // EAGAIN: drained. Other errors (ICMP feedback for an earlier answer) are per-socket
    // and cleared by being reported; epoll tells us if anything is left.
    if (n <= 0) return Drained::empty;
    for (int i = 0; i < n; ++i) {
      const mmsghdr& m = recv_msgs_[static_cast<size_t>(i)];
      // Larger than a chunk: msg_len is the datagram's full length, the chunk holds its head.
      const bool oversized = (m.msg_hdr.msg_flags & MSG_TRUNC) != 0;
      if (oversized) counters_->add(TransportCounters::udp_truncated);
      handle_datagram(socket,
                      {udp_recv_.data() + static_cast<size_t>(i) * kUdpChunkBytes,
                       oversized ? kUdpChunkBytes : m.msg_len},
                      reinterpret_cast<const sockaddr*>(&recv_peers_[static_cast<size_t>(i)]),
                      oversized);
    }
    flush_udp();
    if (static_cast<unsigned>(n) < slots) return Drained::partial;
  }
  return Drained::full;
}

void Worker::handle_datagram(UdpSocket& socket, std::span<const uint8_t> query,
                             const sockaddr* peer, bool oversized) noexcept {
  // The batch is per socket: answers leave through the socket the query came in on.
  if (udp_pending_ > 0 && (udp_pending_fd_ != socket.fd || udp_pending_ == udp_slots_)) {
    flush_udp();
  }
  counters_->add(TransportCounters::udp_received);
  const size_t slot = udp_pending_;
  uint8_t* out = udp_send_.data() + slot * kUdpSendStride;
  ClientInfo client;
  client.address = IpAddress::from_sockaddr(peer);
  client.port = port_of(peer);
  client.transport = Transport::udp;
  // A cut-off query cannot be answered, only refused: FORMERR, as Knot does (dns/oversized.h).
  const size_t length = oversized ? dns::answer_oversized(query, {out, kMaxResponseBytes})
                                  : responder_->respond(query, client, {out, kMaxResponseBytes});
  if (length == 0 || length > kMaxResponseBytes) return;
  const socklen_t peer_length =
      peer->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  std::memcpy(&udp_peers_[slot], peer, peer_length);
  udp_iov_[slot].iov_base = out;
  udp_iov_[slot].iov_len = length;
  msghdr& header = udp_msgs_[slot].msg_hdr;
  header = msghdr{};
  header.msg_name = &udp_peers_[slot];
  header.msg_namelen = peer_length;
  header.msg_iov = &udp_iov_[slot];
  header.msg_iovlen = 1;
  udp_pending_fd_ = socket.fd;
  ++udp_pending_;
}

void Worker::flush_udp() noexcept {
  if (udp_pending_ == 0) return;
  size_t sent = 0;  // datagrams done with, sent or skipped
  size_t failed = 0;
  // Each round sends at least one datagram or gives up, so the loop is bounded.
  for (size_t round = 0; sent < udp_pending_ && round <= udp_pending_ + 4; ++round) {
    const int n = ::sendmmsg(udp_pending_fd_, udp_msgs_.data() + sent,
                             static_cast<unsigned>(udp_pending_ - sent), MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;  // send buffer full: UDP answers are dropped rather than queued
    } else {
      ++sent;  // this datagram cannot go (e.g. EMSGSIZE, unreachable): skip it
      ++failed;
    }
  }
  counters_->add(TransportCounters::udp_sent, sent - failed);
  counters_->add(TransportCounters::udp_send_dropped, udp_pending_ - (sent - failed));
  udp_pending_ = 0;
}

// TCP --------------------------------------------------------------------------------------

uv_buf_t Worker::tcp_read_buffer() noexcept {
  return uv_buf_init(reinterpret_cast<char*>(tcp_read_.data()),
                     static_cast<unsigned>(kTcpReadBytes));
}

void Worker::on_tcp_connection(uv_stream_t* server, int status) {
  if (status < 0) return;
  static_cast<TcpListener*>(server->data)->worker->accept_connection(server);
}

void Worker::accept_connection(uv_stream_t* server) noexcept {
  auto* listener = static_cast<TcpListener*>(server->data);
  // Full, and no connection may go (all busy, or fresh within their grace): leave the new
  // connection with libuv, which stops watching this listener until uv_accept. Its client
  // waits in the accept queue, its query kept by the kernel, instead of being reset; a slot
  // coming free (wake_parked) accepts it. Refusing instead made refused clients reconnect at
  // once and the worker spend itself on accepting and closing them.
  if (!stopping_ && admission_.size() >= admission_.max_connections() &&
      admission_.idle_longest(uv_now(&loop_)) == nullptr) {
    if (!listener->is_parked) {
      listener->is_parked = true;
      ++parked_count_;
      counters_->add(TransportCounters::tcp_parked);
    }
    // A fresh connection's grace ends without any event: look again then at the latest.
    uv_timer_start(&unpark_timer_, on_unpark, kFreshGraceMs / 4, kFreshGraceMs / 4);
    return;
  }
  auto* connection = new (std::nothrow) TcpConnection(*this);
  if (connection == nullptr) return;
  if (uv_accept(server, connection->stream()) != 0) {
    connection->close();
    return;
  }
  connection->identify();
  // RFC 7766 6.2.3: at the cap, the connection idle longest makes room; a new client is
  // refused only when every connection has a query or an answer in progress.
  TcpAdmission::Decision decision = admission_.decide(connection->peer(), uv_now(&loop_));
  // A victim whose query is still in the kernel is not idle: closing it would reset the
  // client (unread data makes close send RST) and lose that query. Mark it busy (its read
  // callback makes it idle again once answered) and look further, a bounded number of times.
  for (int probe = 0; probe < kMaxIdleProbes && decision.victim != nullptr; ++probe) {
    auto* victim = static_cast<TcpConnection*>(decision.victim);
    if (!victim->has_unread_bytes()) break;
    admission_.set_idle(*victim, false, uv_now(&loop_));
    decision = admission_.decide(connection->peer(), uv_now(&loop_));
  }
  if (stopping_ || !decision.admit) {
    counters_->add(TransportCounters::tcp_rejected);
    connection->close();
    return;
  }
  if (decision.victim != nullptr) {
    counters_->add(decision.by_client_limit ? TransportCounters::tcp_client_evicted
                                            : TransportCounters::tcp_evicted);
    // close() unlinks it from the admission tables at once, making the room.
    static_cast<TcpConnection*>(decision.victim)->close();
  }
  connection->list_next = connections_;
  if (connections_ != nullptr) connections_->list_prev = connection;
  connections_ = connection;
  connection->is_listed = true;
  admission_.add(*connection, connection->peer(), uv_now(&loop_));
  counters_->add(TransportCounters::tcp_accepted);
  counters_->add(TransportCounters::tcp_open);
  connection->start();
}

void Worker::connection_idle(TcpConnection* connection, bool is_idle) noexcept {
  admission_.set_idle(*connection, is_idle, uv_now(&loop_));
  if (is_idle) wake_parked();
}

void Worker::wake_parked() noexcept {
  // Not from here: this runs inside a connection's callbacks (and accept_connection itself
  // closes victims); the timer accepts on the next loop iteration.
  if (parked_count_ > 0 && !stopping_)
    uv_timer_start(&unpark_timer_, on_unpark, 0, kFreshGraceMs / 4);
}

void Worker::on_unpark(uv_timer_t* timer) {
  Worker& self = *static_cast<Worker*>(timer->data);
  for (auto& listener : self.tcp_) {
    if (self.stopping_) break;
    if (!listener->is_parked) continue;
    listener->is_parked = false;
    --self.parked_count_;
    // Parks it again if there is still no room.
    self.accept_connection(reinterpret_cast<uv_stream_t*>(&listener->handle));
  }
  if (self.parked_count_ == 0) uv_timer_stop(timer);
}

void Worker::connection_served(TcpConnection* connection) noexcept {
  admission_.set_served(*connection, uv_now(&loop_));
}

void Worker::connection_closed(TcpConnection* connection) noexcept {
  if (!connection->is_listed) return;
  if (connection->list_prev != nullptr) {
    connection->list_prev->list_next = connection->list_next;
  } else {
    connections_ = connection->list_next;
  }
  if (connection->list_next != nullptr) connection->list_next->list_prev = connection->list_prev;
  connection->list_prev = nullptr;
  connection->list_next = nullptr;
  connection->is_listed = false;
  admission_.remove(*connection);
  wake_parked();
  counters_->subtract(TransportCounters::tcp_open);
}

}  // namespace geodns::server
