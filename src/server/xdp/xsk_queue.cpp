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

// Copy-mode TX hands the driver at most 32 frames per sendto() (the kernel's TX_BATCH_SIZE):
// a batch of kBatch answers needs a few kicks, and a bounded number more while the
// completion ring catches up.
constexpr int kMaxKicks = 2 * static_cast<int>(XskQueue::kBatch) / 32 + 8;
constexpr int kIdlePollMs = 100;

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
  umem_config.fill_size = kRingSize;
  umem_config.comp_size = kRingSize;
  umem_config.frame_size = kFrameBytes;
  umem_config.frame_headroom = 0;
  umem_config.flags = 0;
  if (const int err = xsk_umem__create(&self->umem_, area, bytes, &self->fill_, &self->completion_,
                                       &umem_config);
      err != 0) {
    self->umem_ = nullptr;
    std::string message =
        "xdp " + interface + ": cannot register the frame memory: " + std::strerror(-err);
    if (err == -EPERM) message += " (needs root, or CAP_NET_ADMIN and CAP_IPC_LOCK)";
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
  // The first half of the frames into the fill ring, the second half free for answers.
  uint32_t index = 0;
  if (xsk_ring_prod__reserve(&self->fill_, kRingSize, &index) != kRingSize) {
    return make_error("xdp " + interface + ": the fill ring is smaller than configured");
  }
  for (uint32_t i = 0; i < kRingSize; ++i) {
    *xsk_ring_prod__fill_addr(&self->fill_, index + i) = static_cast<uint64_t>(i) * kFrameBytes;
  }
  xsk_ring_prod__submit(&self->fill_, kRingSize);
  for (uint32_t i = 0; i < kRingSize; ++i) {
    self->free_[i] = static_cast<uint64_t>(kRingSize + i) * kFrameBytes;
  }
  self->free_count_ = kRingSize;
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
  if (free_count_ < received) reap_completions();
  pending_count_ = 0;
  for (uint32_t i = 0; i < received; ++i) {
    const xdp_desc* desc = xsk_ring_cons__rx_desc(&rx_, rx_index + i);
    // Aligned mode: the frame is the chunk the descriptor points into.
    refill_[i] = desc->addr - desc->addr % kFrameBytes;
    const uint8_t* frame = static_cast<const uint8_t*>(xsk_umem__get_data(area_, desc->addr));
    QueryFrame query;
    if (desc->len > kFrameBytes || !parse_frame({frame, desc->len}, &query)) {
      counters.add(TransportCounters::xdp_malformed);
      continue;
    }
    counters.add(TransportCounters::xdp_received);
    if (free_count_ == 0) {
      counters.add(TransportCounters::xdp_send_dropped);
      continue;
    }
    const uint64_t tx_addr = free_[--free_count_];
    uint8_t* reply = area_ + tx_addr;
    const size_t header = reply_header_bytes(query);
    // The pipeline truncates (TC) to what fits: the client's and our payload limit, and
    // here also the link's MTU, since we never fragment.
    const size_t room = std::min<size_t>(kFrameBytes - header, reply_payload_limit(query, mtu_));
    ClientInfo client;
    client.address = query.source;
    client.port = query.source_port;
    client.transport = Transport::udp;
    const size_t n = responder.respond({frame + query.payload_offset, query.payload_bytes}, client,
                                       {reply + header, room});
    const size_t length = n == 0 || n > room ? 0 : write_reply(frame, query, reply, n);
    if (length == 0) {
      free_[free_count_++] = tx_addr;
      continue;
    }
    pending_[pending_count_++] = {tx_addr, static_cast<uint32_t>(length)};
  }
  xsk_ring_cons__release(&rx_, received);
  // Every RX frame goes back to the kernel: the fill ring has room for all it handed us.
  uint32_t fill_index = 0;
  if (xsk_ring_prod__reserve(&fill_, received, &fill_index) == received) {
    for (uint32_t i = 0; i < received; ++i) {
      *xsk_ring_prod__fill_addr(&fill_, fill_index + i) = refill_[i];
    }
    xsk_ring_prod__submit(&fill_, received);
  }
  if (xsk_ring_prod__needs_wakeup(&fill_)) {
    ::recvfrom(fd(), nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
  }
  transmit(counters);
  return true;
}

void XskQueue::transmit(TransportCounters& counters) noexcept {
  if (pending_count_ > 0) {
    uint32_t tx_index = 0;
    // Cannot fail: the TX ring is as large as the free list the frames came from.
    if (xsk_ring_prod__reserve(&tx_, pending_count_, &tx_index) != pending_count_) {
      for (uint32_t i = 0; i < pending_count_; ++i) free_[free_count_++] = pending_[i].addr;
      counters.add(TransportCounters::xdp_send_dropped, pending_count_);
      pending_count_ = 0;
      return;
    }
    for (uint32_t i = 0; i < pending_count_; ++i) {
      xdp_desc* desc = xsk_ring_prod__tx_desc(&tx_, tx_index + i);
      desc->addr = pending_[i].addr;
      desc->len = pending_[i].len;
      desc->options = 0;
    }
    xsk_ring_prod__submit(&tx_, pending_count_);
    counters.add(TransportCounters::xdp_sent, pending_count_);
    in_flight_ += pending_count_;
    pending_count_ = 0;
  }
  // Kick until the kernel has taken everything: in copy mode each sendto() sends at most 32
  // frames, and an answer left in the ring would wait for the next query. Zero-copy drivers
  // send on their own once woken, and complete later.
  for (int kick = 0; in_flight_ > 0 && kick < kMaxKicks; ++kick) {
    if (zero_copy_ && !xsk_ring_prod__needs_wakeup(&tx_)) break;
    if (::sendto(fd(), nullptr, 0, MSG_DONTWAIT, nullptr, 0) < 0 && errno != EAGAIN &&
        errno != EBUSY && errno != ENOBUFS && errno != EINTR) {
      break;  // e.g. ENETDOWN: the frames come back through the completion ring later
    }
    reap_completions();
    if (zero_copy_) break;
  }
}

void XskQueue::reap_completions() noexcept {
  uint32_t index = 0;
  const uint32_t done = xsk_ring_cons__peek(&completion_, kRingSize, &index);
  if (done == 0) return;
  for (uint32_t i = 0; i < done; ++i) {
    const uint64_t addr = *xsk_ring_cons__comp_addr(&completion_, index + i);
    free_[free_count_++] = addr - addr % kFrameBytes;
  }
  xsk_ring_cons__release(&completion_, done);
  in_flight_ -= std::min(in_flight_, done);
}

}  // namespace geodns::server::xdp
