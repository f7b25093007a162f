// IP addresses and prefixes as plain values: no sockaddr juggling outside this file.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

struct sockaddr;

namespace geodns {

struct IpAddress {
  // 4 or 6. IPv4 lives in bytes[0..3], the rest zero.
  uint8_t family = 0;
  std::array<uint8_t, 16> bytes{};

  uint8_t bit_length() const noexcept { return family == 4 ? 32 : 128; }
  bool is_v4() const noexcept { return family == 4; }
  bool is_v6() const noexcept { return family == 6; }
  // True for ::ffff:a.b.c.d. Inline, by words: every steered query asks, mostly of IPv4.
  bool is_v4_mapped() const noexcept {
    if (family != 6) return false;
    uint64_t hi;
    uint32_t mid;
    std::memcpy(&hi, bytes.data(), 8);
    std::memcpy(&mid, bytes.data() + 8, 4);
    constexpr uint8_t kMarker[4] = {0, 0, 0xff, 0xff};
    uint32_t marker;
    std::memcpy(&marker, kMarker, 4);
    return hi == 0 && mid == marker;
  }
  // ::ffff:a.b.c.d -> a.b.c.d; other addresses unchanged.
  IpAddress unmapped() const noexcept {
    if (!is_v4_mapped()) return *this;
    return v4(bytes[12], bytes[13], bytes[14], bytes[15]);
  }
  // Bit i (0 = most significant) of the address.
  bool bit(unsigned i) const noexcept { return (bytes[i / 8] >> (7 - i % 8)) & 1U; }
  // Zeroes every bit from `prefix_len` on.
  IpAddress masked(unsigned prefix_len) const noexcept;

  static std::optional<IpAddress> parse(std::string_view text);
  static IpAddress from_sockaddr(const sockaddr* sa) noexcept;
  static IpAddress v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) noexcept {
    IpAddress ip;
    ip.family = 4;
    ip.bytes[0] = a;
    ip.bytes[1] = b;
    ip.bytes[2] = c;
    ip.bytes[3] = d;
    return ip;
  }
  std::string to_string() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// Number of leading bits `a` and `b` share (both of one family), at most `limit`.
unsigned common_prefix_length(const IpAddress& a, const IpAddress& b, unsigned limit) noexcept;

struct IpPrefix {
  IpAddress address;  // masked to `length`
  uint8_t length = 0;

  // "192.0.2.0/24", "2001:db8::/32"; a bare address is a host prefix. Rejects host bits set.
  static std::optional<IpPrefix> parse(std::string_view text, std::string* why = nullptr);
  bool contains(const IpAddress& ip) const noexcept;
  std::string to_string() const;
  friend bool operator==(const IpPrefix&, const IpPrefix&) = default;
};

}  // namespace geodns
