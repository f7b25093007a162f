// DNS cookies (RFC 7873) with the interoperable server cookie of RFC 9018: Version 1,
// three reserved bytes, a 32-bit timestamp and SipHash-2-4 over client cookie, those eight
// bytes and the client address, keyed with a 16-byte secret. Servers that share the secret
// (anycast) accept each other's cookies.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "common/ip.h"

namespace geodns::dns {

using CookieSecret = std::array<uint8_t, 16>;

inline constexpr size_t kClientCookieBytes = 8;
inline constexpr size_t kServerCookieBytes = 16;  // what we hand out (RFC 9018)

// SipHash-2-4 (Aumasson and Bernstein) of `len` bytes with a 128-bit key.
uint64_t siphash24(const CookieSecret& key, const uint8_t* data, size_t len) noexcept;

// Our server cookie for `client_cookie` from `client` at `now` (seconds since the epoch,
// modulo 2^32): 01 000000 <timestamp> <hash>.
void make_server_cookie(const uint8_t* client_cookie, const IpAddress& client, uint32_t now,
                        const CookieSecret& secret, uint8_t* out) noexcept;

enum class CookieVerdict : uint8_t {
  fresh,    // ours, and less than half an hour old: hand it back as it is
  renew,    // ours, between half an hour and an hour old: valid, but give a new one
  invalid,  // not ours (other secret, other address, other length), expired, or from the future
};

// Checks a server cookie a client sent back (RFC 9018 section 4.3: valid for an hour, up to
// five minutes of clock skew). `secrets` are tried in order (current, then previous).
CookieVerdict check_server_cookie(const uint8_t* client_cookie, const uint8_t* server_cookie,
                                  size_t server_cookie_len, const IpAddress& client, uint32_t now,
                                  const CookieSecret* secrets, size_t secret_count) noexcept;

}  // namespace geodns::dns
