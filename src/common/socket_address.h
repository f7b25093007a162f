// IpAddress + port <-> the kernel's sockaddr, in one place: binding, connecting and reading a
// peer's address all go through these instead of filling sockaddr_in/sockaddr_in6 by hand.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>

#include "common/ip.h"

namespace geodns {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;  // sizeof(sockaddr_in) or sizeof(sockaddr_in6); 0 = none

  const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
  int family() const noexcept { return storage.ss_family; }
};

// An address that is neither v4 nor v6 gives length 0 (callers reject it before).
SocketAddress to_socket_address(const IpAddress& address, uint16_t port) noexcept;
// The port of an AF_INET/AF_INET6 sockaddr; 0 for any other family. (The address itself:
// IpAddress::from_sockaddr.)
uint16_t port_of(const sockaddr* sa) noexcept;

}  // namespace geodns
