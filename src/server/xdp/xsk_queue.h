// One AF_XDP socket on one receive queue, with its own UMEM (frame memory shared with the
// kernel), and the loop that answers what arrives on it. Owned by one thread once running.
//
// Frames: kFrames of kFrameBytes. Half start in the fill ring (the kernel receives into
// them) and come back to it as soon as their query is answered; the other half are the
// free list for answers, back on it when the completion ring returns them. Since a TX frame
// is taken from the free list before its descriptor goes into the TX ring (as large as the
// list), neither ring can overflow.
#pragma once

#include <xdp/xsk.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"
#include "server/responder.h"
#include "server/transport_stats.h"

namespace geodns::server::xdp {

class XskQueue {
 public:
  static constexpr uint32_t kFrameBytes = XSK_UMEM__DEFAULT_FRAME_SIZE;
  static constexpr uint32_t kRingSize = 2048;
  static constexpr uint32_t kFrames = 2 * kRingSize;
  // Frames taken from the RX ring per round (one begin_batch() each).
  static constexpr uint32_t kBatch = 64;

  // Binds a socket to `queue` of `interface` (zero-copy when the driver offers it, else copy
  // mode). `mtu` caps the answers (TC beyond it).
  static Result<std::unique_ptr<XskQueue>> open(const std::string& interface, uint32_t queue,
                                                uint32_t mtu);
  XskQueue(const XskQueue&) = delete;
  XskQueue& operator=(const XskQueue&) = delete;
  ~XskQueue();

  int fd() const noexcept { return xsk_socket__fd(socket_); }
  bool is_zero_copy() const noexcept { return zero_copy_; }
  uint32_t queue() const noexcept { return queue_; }

  // Answers until `stop` is set (checked at least every 100 ms). `counters`: where the XDP
  // counters go (the responder's block); the worker thread is their only writer.
  void run(Responder& responder, TransportCounters& counters,
           const std::atomic<bool>& stop) noexcept;

 private:
  XskQueue() = default;
  // One RX batch: parse, answer into free frames, queue them for TX; false: nothing came.
  bool serve_batch(Responder& responder, TransportCounters& counters) noexcept;
  // Puts queued answers into the TX ring and kicks the kernel until it took them.
  void transmit(TransportCounters& counters) noexcept;
  // Frames the kernel has sent, back to the free list.
  void reap_completions() noexcept;

  uint32_t queue_ = 0;
  uint32_t mtu_ = 1500;
  bool zero_copy_ = false;
  uint8_t* area_ = nullptr;  // kFrames * kFrameBytes, mmap'd
  xsk_umem* umem_ = nullptr;
  xsk_socket* socket_ = nullptr;
  xsk_ring_prod fill_{};
  xsk_ring_cons completion_{};
  xsk_ring_cons rx_{};
  xsk_ring_prod tx_{};
  std::array<uint64_t, kRingSize> free_{};  // free frame addresses (a stack)
  uint32_t free_count_ = 0;
  uint32_t in_flight_ = 0;  // answers in the TX ring or sent but not yet completed
  struct Pending {
    uint64_t addr;
    uint32_t len;
  };
  std::array<Pending, kBatch> pending_{};  // this batch's answers, before the TX ring
  uint32_t pending_count_ = 0;
  std::array<uint64_t, kBatch> refill_{};  // this batch's RX frames, back to the fill ring
};

}  // namespace geodns::server::xdp
