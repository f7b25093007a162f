// The one sockaddr helper and the RAII descriptor: both directions of the conversion, and a
// descriptor closed exactly once by its last owner.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cerrno>

#include "common/socket_address.h"
#include "common/unique_fd.h"

namespace geodns {
namespace {

TEST(SocketAddress, V4RoundTrips) {
  const auto ip = IpAddress::parse("192.0.2.7");
  ASSERT_TRUE(ip);
  const SocketAddress sa = to_socket_address(*ip, 5353);
  EXPECT_EQ(sa.family(), AF_INET);
  EXPECT_EQ(sa.length, sizeof(sockaddr_in));
  EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in*>(sa.get())->sin_port), 5353);
  EXPECT_EQ(IpAddress::from_sockaddr(sa.get()), *ip);
  EXPECT_EQ(port_of(sa.get()), 5353);
}

TEST(SocketAddress, V6RoundTrips) {
  const auto ip = IpAddress::parse("2001:db8::53");
  ASSERT_TRUE(ip);
  const SocketAddress sa = to_socket_address(*ip, 53);
  EXPECT_EQ(sa.family(), AF_INET6);
  EXPECT_EQ(sa.length, sizeof(sockaddr_in6));
  EXPECT_EQ(IpAddress::from_sockaddr(sa.get()), *ip);
  EXPECT_EQ(port_of(sa.get()), 53);
}

TEST(SocketAddress, NoAddressHasNoLength) {
  EXPECT_EQ(to_socket_address(IpAddress{}, 53).length, 0u);
  EXPECT_EQ(port_of(nullptr), 0);
}

bool is_open_fd(int fd) {
  return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

TEST(UniqueFd, ClosesOnceAndHandsOver) {
  int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(raw, 0);
  {
    UniqueFd a(raw);
    UniqueFd b(std::move(a));
    EXPECT_FALSE(a.is_open());
    EXPECT_EQ(b.get(), raw);
    EXPECT_TRUE(is_open_fd(raw));
  }
  EXPECT_FALSE(is_open_fd(raw));
  raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(raw, 0);
  {
    UniqueFd c(raw);
    EXPECT_EQ(c.release(), raw);
  }
  EXPECT_TRUE(is_open_fd(raw));  // released: the new owner closes it
  ::close(raw);
}

}  // namespace
}  // namespace geodns
