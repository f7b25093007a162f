#include "server/xdp/xsk_queue.h"

#include <linux/if_xdp.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "server/xdp/frame.h"

namespace geodns::server::xdp {

namespace {

// Kicks per batch at most: enough for a batch at the kernel's default budget of 32 frames per
// sendto() and a few more while the driver is busy (EAGAIN); past that, the rest goes with
// the next batch or the idle poll (which also drives copy-mode TX).
constexpr int kMaxKicks = static_cast<int>(XskQueue::kBatch) / 32 + 4;
constexpr int kIdlePollMs = 100;
// linux/if_xdp.h of kernels before 6.17 (Debian 12's headers) does not define it.
constexpr int kSockoptMaxTxBudget = 9;  // XDP_MAX_TX_SKB_BUDGET

}  // namespace

Result<std::unique_ptr<XskQueue>> XskQueue::open(const std::string& interface, uint32_t queue,
                                                 uint32_t mtu) {
  std::unique_ptr<XskQueue> self(new XskQueue());
  self->queue_ = queue;
  self->mtu_ = mtu;
  const size_t bytes = static_cast<size_t>(kFrames) * kFrameBytes;
  void* area = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (area == MAP_FAILED) {
    return make_error("xdp " + interface +
                      ": cannot map the frame memory: " + std::strerror(errno));
  }
  self->area_ = static_cast<uint8_t*>(area);
  xsk_umem_config umem_config{};
  umem_config.fill_size = kFrames;
  umem_config.comp_size = kFrames;
  umem_config.frame_size = kFrameBytes;
  umem_config.frame_headroom = 0;
  umem_config.flags = 0;
  if (const int err = xsk_umem__create(&self->umem_, area, bytes, &self->fill_, &self->completion_,
                                       &umem_config);
      err != 0) {
    self->umem_ = nullptr;
    std::string message =
        "xdp " + interface + ": cannot register the frame memory: " + std::strerror(-err);
    if (err == -EPERM) message += " (needs root, or CAP_NET_RAW)";
    return make_error(message);
  }
  xsk_socket_config config{};
  config.rx_size = kRingSize;
  config.tx_size = kRingSize;
  // Our program (xdp_program.h) is attached already: libxdp must not load its default one.
  config.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
  config.xdp_flags = 0;
  // Zero-copy where the driver supports it; copy mode everywhere else (veth, generic XDP).
  config.bind_flags = XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP;
  int err = xsk_socket__create(&self->socket_, interface.c_str(), queue, self->umem_, &self->rx_,
                               &self->tx_, &config);
  self->zero_copy_ = err == 0;
  if (err != 0) {
    config.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP;
    err = xsk_socket__create(&self->socket_, interface.c_str(), queue, self->umem_, &self->rx_,
                             &self->tx_, &config);
  }
  if (err != 0) {
    self->socket_ = nullptr;
    return make_error("xdp " + interface + ": cannot open an AF_XDP socket on queue " +
                      std::to_string(queue) + ": " + std::strerror(-err));
  }
  // One sendto() sends a whole batch where the kernel lets us raise its budget; else (an
  // older kernel: ENOPROTOOPT) the kick loop sends 32 per call.
  const uint32_t budget = kBatch;
  (void)::setsockopt(self->fd(), SOL_XDP, kSockoptMaxTxBudget, &budget, sizeof budget);
  // Every frame into the fill ring: answers go out in the frame of their query.
  uint32_t index = 0;
  if (xsk_ring_prod__reserve(&self->fill_, kFrames, &index) != kFrames) {
    return make_error("xdp " + interface + ": the fill ring is smaller than configured");
  }
  for (uint32_t i = 0; i < kFrames; ++i) {
    *xsk_ring_prod__fill_addr(&self->fill_, index + i) = static_cast<uint64_t>(i) * kFrameBytes;
  }
  xsk_ring_prod__submit(&self->fill_, kFrames);
  return self;
}

XskQueue::~XskQueue() {
  if (socket_ != nullptr) xsk_socket__delete(socket_);
  if (umem_ != nullptr) xsk_umem__delete(umem_);
  if (area_ != nullptr) ::munmap(area_, static_cast<size_t>(kFrames) * kFrameBytes);
}

void XskQueue::run(Responder& responder, TransportCounters& counters,
                   const std::atomic<bool>& stop) noexcept {
  pollfd pfd{fd(), POLLIN, 0};
  while (!stop.load(std::memory_order_relaxed)) {
    if (serve_batch(responder, counters)) continue;
    // Idle: sleep in poll (which also wakes the kernel up to refill when it asked to).
    if (in_flight_ > 0) reap_completions();
    ::poll(&pfd, 1, kIdlePollMs);
  }
}

bool XskQueue::serve_batch(Responder& responder, TransportCounters& counters) noexcept {
  uint32_t rx_index = 0;
  const uint32_t received = xsk_ring_cons__peek(&rx_, kBatch, &rx_index);
  if (received == 0) return false;
  responder.begin_batch();
  pending_count_ = 0;
  unanswered_count_ = 0;
  uint32_t malformed = 0;
  for (uint32_t i = 0; i < received; ++i) {
    const xdp_desc* desc = xsk_ring_cons__rx_desc(&rx_, rx_index + i);
    // Aligned mode: the frame is the chunk the descriptor points into; the packet starts
    // after the kernel's headroom in it.
    const uint64_t chunk = desc->addr - desc->addr % kFrameBytes;
    const size_t space = kFrameBytes - (desc->addr - chunk);  // packet start to chunk end
    uint8_t* frame = static_cast<uint8_t*>(xsk_umem__get_data(area_, desc->addr));
    QueryFrame query;
    if (desc->len > space || !parse_frame({frame, desc->len}, &query)) {
      ++malformed;
      unanswered_[unanswered_count_++] = chunk;
      continue;
    }
    const size_t header = reply_header_bytes(query);
    // The pipeline truncates (TC) to what fits: the client's and our payload limit, and
    // here also the link's MTU, since we never fragment.
    const size_t room =
        header < space ? std::min<size_t>(space - header, reply_payload_limit(query, mtu_)) : 0;
    // The answer is written where the query is: answer from a copy.
    std::memcpy(query_.data(), frame + query.payload_offset, query.payload_bytes);
    ClientInfo client;
    client.address = query.source;
    client.port = query.source_port;
    client.transport = Transport::udp;
    const size_t n = room == 0 ? 0
                               : responder.respond({query_.data(), query.payload_bytes}, client,
                                                   {frame + header, room});
    const size_t length = n == 0 || n > room ? 0 : write_reply(frame, query, frame, n);
    if (length == 0) {
      unanswered_[unanswered_count_++] = chunk;
      continue;
    }
    pending_[pending_count_++] = {desc->addr, static_cast<uint32_t>(length)};
  }
  xsk_ring_cons__release(&rx_, received);
  // Counted once per batch: the counters are atomics other threads read.
  counters.add(TransportCounters::xdp_received, received - malformed);
  if (malformed > 0) counters.add(TransportCounters::xdp_malformed, malformed);
  const uint32_t answers = pending_count_;
  const uint32_t sent = transmit();
  if (sent > 0) counters.add(TransportCounters::xdp_sent, sent);
  if (sent < answers) counters.add(TransportCounters::xdp_send_dropped, answers - sent);
  refill(unanswered_.data(), unanswered_count_);
  reap_completions();
  if (xsk_ring_prod__needs_wakeup(&fill_)) {
    ::recvfrom(fd(), nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
  }
  return true;
}

uint32_t XskQueue::transmit() noexcept {
  const uint32_t count = pending_count_;
  pending_count_ = 0;
  uint32_t tx_index = 0;
  if (count > 0 && xsk_ring_prod__reserve(&tx_, count, &tx_index) != count) {
    // The kernel has not taken kRingSize earlier answers yet: drop these, keep the frames.
    for (uint32_t i = 0; i < count; ++i) {
      unanswered_[unanswered_count_++] = pending_[i].addr - pending_[i].addr % kFrameBytes;
    }
    return 0;
  }
  if (count > 0) {
    for (uint32_t i = 0; i < count; ++i) {
      xdp_desc* desc = xsk_ring_prod__tx_desc(&tx_, tx_index + i);
      desc->addr = pending_[i].addr;
      desc->len = pending_[i].len;
      desc->options = 0;
    }
    xsk_ring_prod__submit(&tx_, count);
    in_flight_ += count;
  }
  if (zero_copy_) {
    // The driver sends on its own once woken, and completes later.
    if (in_flight_ > 0 && xsk_ring_prod__needs_wakeup(&tx_)) {
      ::sendto(fd(), nullptr, 0, MSG_DONTWAIT, nullptr, 0);
    }
    return count;
  }
  // Copy mode: each sendto() turns up to tx_budget_ descriptors into packets; one left in the
  // ring would wait for the next query. Kick while the ring holds some, not until they
  // complete: completions come back on their own, read without a syscall.
  for (int kick = 0; kick < kMaxKicks && tx_queued() > 0; ++kick) {
    if (::sendto(fd(), nullptr, 0, MSG_DONTWAIT, nullptr, 0) < 0 && errno != EAGAIN &&
        errno != EBUSY && errno != ENOBUFS && errno != EINTR) {
      break;  // e.g. ENETDOWN: the frames come back through the completion ring later
    }
  }
  return count;
}

uint32_t XskQueue::reap_completions() noexcept {
  uint32_t index = 0;
  const uint32_t done = xsk_ring_cons__peek(&completion_, kFrames, &index);
  if (done == 0) return 0;
  uint32_t fill_index = 0;
  // Always room: the fill ring holds every frame.
  if (xsk_ring_prod__reserve(&fill_, done, &fill_index) == done) {
    for (uint32_t i = 0; i < done; ++i) {
      const uint64_t addr = *xsk_ring_cons__comp_addr(&completion_, index + i);
      *xsk_ring_prod__fill_addr(&fill_, fill_index + i) = addr - addr % kFrameBytes;
    }
    xsk_ring_prod__submit(&fill_, done);
  }
  xsk_ring_cons__release(&completion_, done);
  in_flight_ -= std::min(in_flight_, done);
  return done;
}

void XskQueue::refill(const uint64_t* frames, uint32_t count) noexcept {
  if (count == 0) return;
  uint32_t index = 0;
  if (xsk_ring_prod__reserve(&fill_, count, &index) != count) return;  // cannot happen
  for (uint32_t i = 0; i < count; ++i) *xsk_ring_prod__fill_addr(&fill_, index + i) = frames[i];
  xsk_ring_prod__submit(&fill_, count);
}

}  // namespace geodns::server::xdp
