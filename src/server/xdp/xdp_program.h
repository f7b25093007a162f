// The XDP program on one interface: loaded from the object embedded in the binary, attached
// through libxdp (its dispatcher lets other programs share the interface), told which
// destinations are ours, and detached when this object dies. Control thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "server/listen_config.h"

struct xdp_program;

namespace geodns::server::xdp {

// How the program is attached: in the driver (native), or generic (skb) mode, which every
// interface offers at a cost; `native_or_generic` tries native first.
enum class AttachMode : uint8_t { native, generic, native_or_generic };

class XdpProgram {
 public:
  // The name the program is loaded under (the function's name in geodns_xdp.bpf.c): how a
  // stale copy left by a killed geodns is recognised and replaced.
  static constexpr const char* kName = "geodns_xdp";

  // Replaces a stale geodns program on `interface`, attaches ours, and fills its destination
  // map from `endpoints` (UDP: every endpoint's address and port; 0.0.0.0 / :: serve all).
  // A stale program is known by its name, which the kernel shows only to CAP_SYS_ADMIN; with
  // `state_dir` (may be ""), also by the id recorded there when it was attached, so that an
  // unprivileged geodns (the systemd drop-in) replaces what its killed predecessor left.
  static Result<std::unique_ptr<XdpProgram>> attach(const std::string& interface, AttachMode mode,
                                                    const std::vector<Endpoint>& endpoints,
                                                    const std::string& state_dir);
  XdpProgram(const XdpProgram&) = delete;
  XdpProgram& operator=(const XdpProgram&) = delete;
  ~XdpProgram();  // detaches

  // Puts the AF_XDP socket `xsk_fd` at `queue` in the socket map.
  Status add_socket(uint32_t queue, int xsk_fd);
  int ifindex() const noexcept { return ifindex_; }
  // "native" or "generic": how it ended up attached.
  const char* mode_name() const noexcept { return native_ ? "native" : "generic"; }

 private:
  XdpProgram() = default;

  std::string interface_;
  std::string record_path_;  // state_dir/xdp-IFACE, "" without a state_dir
  int ifindex_ = 0;
  bool native_ = true;
  ::xdp_program* program_ = nullptr;
  int sockets_map_fd_ = -1;
};

// The interface's receive queues (sysfs queues/rx-*), at least 1.
uint32_t queue_count(const std::string& interface);
// The interface's MTU, or an error naming the interface.
Result<uint32_t> interface_mtu(const std::string& interface);

}  // namespace geodns::server::xdp
