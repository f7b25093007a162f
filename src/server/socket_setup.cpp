#include "server/socket_setup.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "server/listen_config.h"

namespace geodns::server {

namespace {

constexpr int kListenBacklog = 1024;

Error socket_error(const IpAddress& address, uint16_t port, const char* what, int err) {
  std::string message = "listen " + format_endpoint(address, port) + ": ";
  if (what != nullptr) message += std::string(what) + ": ";
  message += std::strerror(err);
  return make_error(std::move(message));
}

socklen_t to_sockaddr(const IpAddress& address, uint16_t port, sockaddr_storage* out) {
  std::memset(out, 0, sizeof(*out));
  if (address.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(out);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    std::memcpy(&sin->sin_addr, address.bytes.data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(out);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  std::memcpy(&sin6->sin6_addr, address.bytes.data(), 16);
  return sizeof(sockaddr_in6);
}

}  // namespace

Result<int> open_bound_socket(SocketKind kind, const IpAddress& address, uint16_t port) {
  if (!address.is_v4() && !address.is_v6()) {
    return make_error("listen " + format_endpoint(address, port) + ": no address");
  }
  const int family = address.is_v4() ? AF_INET : AF_INET6;
  const int type =
      (kind == SocketKind::udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC;
  const int fd = ::socket(family, type, 0);
  if (fd < 0) return socket_error(address, port, "socket", errno);
  const int one = 1;
  // SO_REUSEPORT: one socket per worker on the same address, the kernel spreads the load.
  // SO_REUSEADDR: restart while old TCP connections linger in TIME_WAIT.
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    const int err = errno;
    ::close(fd);
    return socket_error(address, port, "setsockopt", err);
  }
  // A v6 socket serves v6 only: v4 is its own endpoint, and mapped addresses would confuse
  // geolocation and ECS.
  if (family == AF_INET6 && ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) {
    const int err = errno;
    ::close(fd);
    return socket_error(address, port, "IPV6_V6ONLY", err);
  }
  sockaddr_storage storage;
  const socklen_t length = to_sockaddr(address, port, &storage);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&storage), length) != 0) {
    const int err = errno;
    ::close(fd);
    return socket_error(address, port, nullptr, err);
  }
  if (kind == SocketKind::tcp && ::listen(fd, kListenBacklog) != 0) {
    const int err = errno;
    ::close(fd);
    return socket_error(address, port, "listen", err);
  }
  return fd;
}

Status check_port_unused(const IpAddress& address, uint16_t port) {
  if (!address.is_v4() && !address.is_v6()) {
    return make_error("listen " + format_endpoint(address, port) + ": no address");
  }
  const int family = address.is_v4() ? AF_INET : AF_INET6;
  sockaddr_storage storage;
  const socklen_t length = to_sockaddr(address, port, &storage);
  for (const int type : {SOCK_DGRAM, SOCK_STREAM}) {
    const int fd = ::socket(family, type | SOCK_CLOEXEC, 0);
    if (fd < 0) return socket_error(address, port, "socket", errno);
    const int one = 1;
    // TCP: SO_REUSEADDR so that our own connections left in TIME_WAIT by a previous run do
    // not count; a listening socket still does. UDP: no option at all, so any socket counts.
    if (type == SOCK_STREAM) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    const int rc = ::bind(fd, reinterpret_cast<const sockaddr*>(&storage), length);
    const int err = errno;
    ::close(fd);
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
  if (storage.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
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
