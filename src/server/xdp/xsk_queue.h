// One AF_XDP socket on one receive queue, with its own UMEM (frame memory shared with the
// kernel), and the loop that answers what arrives on it. Owned by one thread once running.
//
// Answers go out in the frame their query came in (as the XDP floor echoes): the query's DNS
// payload is copied to a small scratch buffer (hot in L1), the answer is written into the
// frame after its headers, the headers are rewritten in place, and the frame is transmitted;
// the completion ring hands it back and it goes straight to the fill ring. A separate answer
// frame would touch a second, cold page per query (perf: cache and TLB misses), and the
// kernel's copy-mode TX would then read one more frame. Frames: kFrames of kFrameBytes; the
// fill and completion rings hold kFrames entries each, so whatever the split between frames
// the kernel holds, frames in flight and frames we hold, neither ring can overflow.
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
  // The RX and TX rings.
  static constexpr uint32_t kRingSize = 2048;
  // The UMEM, and the size of the fill and completion rings.
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
  // One RX batch: parse, answer in place, queue the frames for TX; false: nothing came.
  bool serve_batch(Responder& responder, TransportCounters& counters) noexcept;
  // Puts this batch's answers into the TX ring and kicks the kernel until it took them.
  // Returns the answers the TX ring took.
  uint32_t transmit() noexcept;
  // Frames the kernel has sent, back to the fill ring (no syscall: the completion ring is
  // shared memory). Returns how many.
  uint32_t reap_completions() noexcept;
  // Frames back to the fill ring (always room: it holds kFrames entries).
  void refill(const uint64_t* frames, uint32_t count) noexcept;
  // Descriptors in the TX ring the kernel has not taken yet.
  uint32_t tx_queued() const noexcept {
    return tx_.cached_prod - __atomic_load_n(tx_.consumer, __ATOMIC_ACQUIRE);
  }

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
  uint32_t in_flight_ = 0;  // frames in the TX ring or sent but not yet completed
  struct Pending {
    uint64_t addr;
    uint32_t len;
  };
  std::array<Pending, kBatch> pending_{};  // this batch's answers, before the TX ring
  uint32_t pending_count_ = 0;
  std::array<uint64_t, kBatch> unanswered_{};  // this batch's frames not answered
  uint32_t unanswered_count_ = 0;
  // The query being answered, copied out of its frame: the answer overwrites it there.
  alignas(64) std::array<uint8_t, kFrameBytes> query_{};
};

}  // namespace geodns::server::xdp
