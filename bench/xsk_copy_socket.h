// What the two AF_XDP bench tools (geodns-xdp-floor, geodns-xdp-gun) share: a UMEM over the
// caller's frame area and one copy-mode AF_XDP socket on queue 0, registered in geodns's XDP
// program, with the kernel's TX budget raised so that one sendto() may send a whole batch.
// Header-only; fatal errors exit through bench::die.
#pragma once

#include <linux/if_xdp.h>
#include <sys/socket.h>
#include <xdp/xsk.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "server/xdp/xdp_program.h"
#include "tool_cli.h"

namespace geodns::bench {

// The rings stay where xsk_umem__create / xsk_socket__create wrote them (libxdp keeps
// pointers to the fill and completion rings): open in place, never copy.
struct CopyModeXsk {
  xsk_ring_prod fill{};
  xsk_ring_prod tx{};
  xsk_ring_cons comp{};
  xsk_ring_cons rx{};
  xsk_umem* umem = nullptr;
  xsk_socket* socket = nullptr;
  int fd = -1;
};

inline void open_copy_mode_xsk(CopyModeXsk* x, const std::string& interface, void* area,
                               size_t bytes, uint32_t ring, uint32_t chunk, uint32_t tx_budget,
                               server::xdp::XdpProgram& program) {
  xsk_umem_config uc{ring, ring, chunk, 0, 0};
  if (int err = xsk_umem__create(&x->umem, area, bytes, &x->fill, &x->comp, &uc); err != 0) {
    die(std::string("xsk_umem__create: ") + std::strerror(-err));
  }
  xsk_socket_config sc{};
  sc.rx_size = ring;
  sc.tx_size = ring;
  sc.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
  sc.bind_flags = XDP_COPY;
  if (int err = xsk_socket__create(&x->socket, interface.c_str(), 0, x->umem, &x->rx, &x->tx, &sc);
      err != 0) {
    die(std::string("xsk_socket__create: ") + std::strerror(-err));
  }
  x->fd = xsk_socket__fd(x->socket);
  // XDP_MAX_TX_SKB_BUDGET (9, kernel 6.17+; Debian 12's headers lack it): on older kernels the
  // call fails and each sendto() sends 32 frames, which the tools' kick loops allow for.
  constexpr int kSockoptMaxTxBudget = 9;
  (void)setsockopt(x->fd, SOL_XDP, kSockoptMaxTxBudget, &tx_budget, sizeof tx_budget);
  if (auto st = program.add_socket(0, x->fd); !st) die(st.error().to_string());
}

inline void close_copy_mode_xsk(CopyModeXsk* x) {
  if (x->socket != nullptr) xsk_socket__delete(x->socket);
  if (x->umem != nullptr) xsk_umem__delete(x->umem);
  x->socket = nullptr;
  x->umem = nullptr;
  x->fd = -1;
}

}  // namespace geodns::bench
