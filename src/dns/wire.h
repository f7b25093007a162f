// DNS wire-format constants (RFC 1035, 3596, 6891, 7871, 8482) shared by the codec, the zone
// loader and the tests.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace geodns::dns {

inline constexpr size_t kHeaderSize = 12;
inline constexpr size_t kMaxNameLength = 255;  // wire form, including the root label
inline constexpr size_t kMaxLabelLength = 63;
inline constexpr size_t kMaxUdpPlain = 512;   // no EDNS (RFC 1035 4.2.1)
inline constexpr size_t kMaxMessage = 65535;  // TCP length prefix limit

namespace rrtype {
inline constexpr uint16_t A = 1;
inline constexpr uint16_t NS = 2;
inline constexpr uint16_t CNAME = 5;
inline constexpr uint16_t SOA = 6;
inline constexpr uint16_t PTR = 12;
inline constexpr uint16_t HINFO = 13;
inline constexpr uint16_t MX = 15;
inline constexpr uint16_t TXT = 16;
inline constexpr uint16_t AAAA = 28;
inline constexpr uint16_t SRV = 33;
inline constexpr uint16_t DNAME = 39;
inline constexpr uint16_t OPT = 41;
inline constexpr uint16_t DS = 43;
inline constexpr uint16_t RRSIG = 46;
inline constexpr uint16_t NSEC = 47;
inline constexpr uint16_t TKEY = 249;
inline constexpr uint16_t TSIG = 250;
inline constexpr uint16_t IXFR = 251;
inline constexpr uint16_t AXFR = 252;
inline constexpr uint16_t MAILB = 253;
inline constexpr uint16_t MAILA = 254;
inline constexpr uint16_t ANY = 255;
inline constexpr uint16_t CAA = 257;
}  // namespace rrtype

namespace rrclass {
inline constexpr uint16_t IN = 1;
inline constexpr uint16_t CH = 3;
inline constexpr uint16_t NONE = 254;
inline constexpr uint16_t ANY = 255;
}  // namespace rrclass

namespace rcode {
inline constexpr uint8_t NOERROR = 0;
inline constexpr uint8_t FORMERR = 1;
inline constexpr uint8_t SERVFAIL = 2;
inline constexpr uint8_t NXDOMAIN = 3;
inline constexpr uint8_t NOTIMP = 4;
inline constexpr uint8_t REFUSED = 5;
inline constexpr uint8_t YXDOMAIN = 6;   // RFC 6672 2.2: a DNAME substitution too long
inline constexpr uint16_t BADVERS = 16;  // extended: upper 8 bits go in the OPT TTL
inline constexpr uint16_t BADCOOKIE = 23;
}  // namespace rcode

namespace opcode {
inline constexpr uint8_t QUERY = 0;
}

namespace edns {
inline constexpr uint16_t kOptionNsid = 3;           // RFC 5001
inline constexpr uint16_t kOptionEcs = 8;            // RFC 7871
inline constexpr uint16_t kOptionCookie = 10;        // RFC 7873
inline constexpr uint16_t kOptionTcpKeepalive = 11;  // RFC 7828
inline constexpr uint16_t kOptionPadding = 12;
inline constexpr uint16_t kOptionEde = 15;  // RFC 8914 Extended DNS Errors
}  // namespace edns

// Extended DNS Error INFO-CODEs (RFC 8914 4) that geodns sends.
namespace ede {
inline constexpr uint16_t kOther = 0;
inline constexpr uint16_t kProhibited = 18;
inline constexpr uint16_t kNotAuthoritative = 20;
inline constexpr uint16_t kNotSupported = 21;
inline constexpr uint16_t kInvalidQueryType = 30;  // RFC 9824 3.5
}  // namespace ede

// Header flag bits in the 16-bit flags word.
namespace flag {
inline constexpr uint16_t QR = 0x8000;
inline constexpr uint16_t AA = 0x0400;
inline constexpr uint16_t TC = 0x0200;
inline constexpr uint16_t RD = 0x0100;
inline constexpr uint16_t RA = 0x0080;
inline constexpr uint16_t AD = 0x0020;
inline constexpr uint16_t CD = 0x0010;
}  // namespace flag

// Network byte order through one load or store and a byte swap (GCC does not merge the
// byte-wise form into one store; these run dozens of times per query). The swap is a no-op
// on big-endian hosts.
inline uint16_t net16(uint16_t v) noexcept {
  if constexpr (std::endian::native == std::endian::little) return __builtin_bswap16(v);
  return v;
}
inline uint32_t net32(uint32_t v) noexcept {
  if constexpr (std::endian::native == std::endian::little) return __builtin_bswap32(v);
  return v;
}
inline uint16_t read_u16(const uint8_t* p) noexcept {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return net16(v);
}
inline uint32_t read_u32(const uint8_t* p) noexcept {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return net32(v);
}
inline void write_u16(uint8_t* p, uint16_t v) noexcept {
  v = net16(v);
  std::memcpy(p, &v, 2);
}
inline void write_u32(uint8_t* p, uint32_t v) noexcept {
  v = net32(v);
  std::memcpy(p, &v, 4);
}

// Copies `n` bytes that do not overlap. Names and addresses are short and of varying length,
// which makes std::memcpy a library call: a few word moves instead (overlapping at the end).
inline void copy_short(uint8_t* dst, const uint8_t* src, size_t n) noexcept {
  if (n > 64) {
    std::memcpy(dst, src, n);
  } else if (n >= 8) {
    uint64_t v;
    for (size_t i = 0; i + 8 <= n; i += 8) {
      std::memcpy(&v, src + i, 8);
      std::memcpy(dst + i, &v, 8);
    }
    std::memcpy(&v, src + n - 8, 8);
    std::memcpy(dst + n - 8, &v, 8);
  } else if (n >= 4) {
    uint32_t a;
    uint32_t b;
    std::memcpy(&a, src, 4);
    std::memcpy(&b, src + n - 4, 4);
    std::memcpy(dst, &a, 4);
    std::memcpy(dst + n - 4, &b, 4);
  } else {
    for (size_t i = 0; i < n; ++i) dst[i] = src[i];
  }
}

}  // namespace geodns::dns
