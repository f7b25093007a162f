#include "common/ip.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>

namespace geodns {

IpAddress IpAddress::masked(unsigned prefix_len) const noexcept {
  // Two 64-bit words (this runs per steered query): a big-endian mask of the kept bits per
  // word, byte-swapped to the words as loaded. IPv4 keeps its unused bytes 4..15 at zero.
  IpAddress out = *this;
  if (prefix_len >= bit_length()) return out;
  uint64_t w[2];
  std::memcpy(w, out.bytes.data(), 16);
  for (unsigned k = 0; k < 2; ++k) {
    const unsigned keep = prefix_len > 64 * k ? std::min(prefix_len - 64 * k, 64U) : 0U;
    const uint64_t mask = keep == 0 ? 0 : ~uint64_t{0} << (64 - keep);
    if constexpr (std::endian::native == std::endian::little) {
      w[k] &= __builtin_bswap64(mask);
    } else {
      w[k] &= mask;
    }
  }
  std::memcpy(out.bytes.data(), w, 16);
  return out;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof(buf)) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress ip;
  if (inet_pton(AF_INET, buf, ip.bytes.data()) == 1) {
    ip.family = 4;
    return ip;
  }
  if (inet_pton(AF_INET6, buf, ip.bytes.data()) == 1) {
    ip.family = 6;
    return ip;
  }
  return std::nullopt;
}

IpAddress IpAddress::from_sockaddr(const sockaddr* sa) noexcept {
  IpAddress ip;
  if (sa == nullptr) return ip;
  if (sa->sa_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(sa);
    ip.family = 4;
    std::memcpy(ip.bytes.data(), &sin->sin_addr, 4);
  } else if (sa->sa_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(sa);
    ip.family = 6;
    std::memcpy(ip.bytes.data(), &sin6->sin6_addr, 16);
  }
  return ip;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  if (family == 4) {
    inet_ntop(AF_INET, bytes.data(), buf, sizeof(buf));
  } else if (family == 6) {
    inet_ntop(AF_INET6, bytes.data(), buf, sizeof(buf));
  } else {
    return "?";
  }
  return buf;
}

unsigned common_prefix_length(const IpAddress& a, const IpAddress& b, unsigned limit) noexcept {
  unsigned n = 0;
  while (n < limit && a.bit(n) == b.bit(n)) ++n;
  return n;
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text, std::string* why) {
  auto fail = [&](const char* msg) -> std::optional<IpPrefix> {
    if (why != nullptr) *why = msg;
    return std::nullopt;
  };
  const auto slash = text.find('/');
  auto addr = IpAddress::parse(text.substr(0, slash));
  if (!addr) return fail("not an IP address");
  unsigned len = addr->bit_length();
  if (slash != std::string_view::npos) {
    std::string_view num = text.substr(slash + 1);
    auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), len);
    if (ec != std::errc() || ptr != num.data() + num.size() || num.empty()) {
      return fail("prefix length is not a number");
    }
    if (len > addr->bit_length()) return fail("prefix length too long for the address family");
  }
  IpPrefix p;
  p.address = addr->masked(len);
  p.length = static_cast<uint8_t>(len);
  if (!(p.address == *addr)) return fail("host bits set after the prefix length");
  return p;
}

bool IpPrefix::contains(const IpAddress& ip) const noexcept {
  if (ip.family != address.family) return false;
  return common_prefix_length(ip, address, length) == length;
}

std::string IpPrefix::to_string() const {
  return address.to_string() + "/" + std::to_string(length);
}

}  // namespace geodns
