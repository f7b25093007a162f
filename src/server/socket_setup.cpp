#include "server/socket_setup.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/socket_address.h"
#include "common/unique_fd.h"
#include "server/listen_config.h"

namespace geodns::server {

namespace {

Error socket_error(const IpAddress& address, uint16_t port, const char* what, int err) {
  std::string message = "listen " + format_endpoint(address, port) + ": ";
  if (what != nullptr) message += std::string(what) + ": ";
  message += std::strerror(err);
  return make_error(std::move(message));
}

}  // namespace

Result<int> open_bound_socket(SocketKind kind, const IpAddress& address, uint16_t port) {
  if (!address.is_v4() && !address.is_v6()) {
    return make_error("listen " + format_endpoint(address, port) + ": no address");
  }
  const int family = address.is_v4() ? AF_INET : AF_INET6;
  const int type =
      (kind == SocketKind::udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC;
  UniqueFd fd(::socket(family, type, 0));
  if (!fd.is_open()) return socket_error(address, port, "socket", errno);
  const int one = 1;
  // SO_REUSEPORT: one socket per worker on the same address, the kernel spreads the load.
  // SO_REUSEADDR: restart while old TCP connections linger in TIME_WAIT.
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
      ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    return socket_error(address, port, "setsockopt", errno);
  }
  // A v6 socket serves v6 only: v4 is its own endpoint, and mapped addresses would confuse
  // geolocation and ECS.
  if (family == AF_INET6 &&
      ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) {
    return socket_error(address, port, "IPV6_V6ONLY", errno);
  }
  const SocketAddress sa = to_socket_address(address, port);
  if (::bind(fd.get(), sa.get(), sa.length) != 0)
    return socket_error(address, port, nullptr, errno);
  if (kind == SocketKind::tcp && ::listen(fd.get(), kTcpListenBacklog) != 0) {
    return socket_error(address, port, "listen", errno);
  }
  return fd.release();
}

Status check_port_unused(const IpAddress& address, uint16_t port) {
  if (!address.is_v4() && !address.is_v6()) {
    return make_error("listen " + format_endpoint(address, port) + ": no address");
  }
  const int family = address.is_v4() ? AF_INET : AF_INET6;
  const SocketAddress sa = to_socket_address(address, port);
  for (const int type : {SOCK_DGRAM, SOCK_STREAM}) {
    UniqueFd fd(::socket(family, type | SOCK_CLOEXEC, 0));
    if (!fd.is_open()) return socket_error(address, port, "socket", errno);
    const int one = 1;
    // TCP: SO_REUSEADDR so that our own connections left in TIME_WAIT by a previous run do
    // not count; a listening socket still does. UDP: no option at all, so any socket counts.
    if (type == SOCK_STREAM) ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (family == AF_INET6) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    const int rc = ::bind(fd.get(), sa.get(), sa.length);
    const int err = errno;
    fd.reset();
    if (rc != 0 && err == EADDRINUSE) {
      return make_error("listen " + format_endpoint(address, port) + ": Address already in use (" +
                        (type == SOCK_DGRAM ? "UDP" : "TCP") +
                        "; is another geodns or DNS server running?)");
    }
    // Other errors (EADDRNOTAVAIL, EACCES) are reported by the real bind, in its words.
  }
  return {};
}

Result<uint16_t> local_port(int fd) {
  sockaddr_storage storage;
  socklen_t length = sizeof(storage);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
    return make_error(std::string("getsockname: ") + std::strerror(errno));
  }
  return port_of(reinterpret_cast<const sockaddr*>(&storage));
}

void set_socket_buffers(int fd, int bytes) noexcept {
  // SO_*BUFFORCE passes rmem_max/wmem_max when privileged; otherwise the plain option is
  // capped by the kernel, which is fine.
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) != 0) {
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
  }
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof(bytes)) != 0) {
    (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
  }
}

}  // namespace geodns::server
