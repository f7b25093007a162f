// The AF_XDP transport: on each configured interface, our XDP program, one AF_XDP socket per
// receive queue and one worker thread per socket, each with its own Responder from the same
// factory as the socket workers (so the same pipeline, snapshots, counters and query log).
// UDP queries to our endpoints go through here, untagged or with one 802.1Q tag; TCP and
// whatever the program passes (other traffic, fragments, IP options, QinQ and S-tags) reach
// the kernel's sockets of the WorkerPool.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "server/listen_config.h"
#include "server/responder.h"
#include "server/xdp/xdp_program.h"

namespace geodns::server::xdp {

class XskQueue;

struct XdpConfig {
  std::vector<std::string> interfaces;
  AttachMode mode = AttachMode::native;
  // Where the attached program's id is recorded (state_dir/xdp-IFACE), so that one left by
  // a killed geodns is recognised without CAP_SYS_ADMIN (xdp_program.h); "" = not recorded.
  std::string state_dir;
};

// "native", "generic", "native_or_generic".
Result<AttachMode> parse_attach_mode(const std::string& text);

class XdpPool {
 public:
  // `endpoints`: the UDP destinations served (their bound ports). Attaches, opens every
  // socket and starts the threads; returns once each thread has its Responder. Errors name
  // the interface and what was refused.
  static Result<std::unique_ptr<XdpPool>> start(const XdpConfig& config,
                                                const std::vector<Endpoint>& endpoints,
                                                ResponderFactory factory);
  XdpPool(const XdpPool&) = delete;
  XdpPool& operator=(const XdpPool&) = delete;
  ~XdpPool();
  // Joins the threads, closes the sockets, detaches the programs. Idempotent.
  void stop();

  struct QueueInfo {
    std::string interface;
    uint32_t queue;
    bool zero_copy;
    const char* mode;  // the program's attach mode
    // The queue's worker's counters (its Responder's; null if it has none), for /status.
    // Set before start() returns, never after.
    const TransportCounters* counters = nullptr;
  };
  const std::vector<QueueInfo>& queues() const noexcept { return info_; }

 private:
  XdpPool() = default;
  std::vector<std::unique_ptr<XdpProgram>> programs_;
  std::vector<std::unique_ptr<XskQueue>> sockets_;
  std::vector<std::thread> threads_;
  std::vector<QueueInfo> info_;
  std::atomic<bool> stop_{false};
  bool stopped_ = false;
};

}  // namespace geodns::server::xdp
