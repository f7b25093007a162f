#include "dns/cookie.h"

#include <cstring>

#include "dns/wire.h"

namespace geodns::dns {

namespace {

constexpr uint64_t rotl(uint64_t x, int b) noexcept {
  return (x << b) | (x >> (64 - b));
}

uint64_t load_le64(const uint8_t* p) noexcept {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

void store_le64(uint64_t v, uint8_t* p) noexcept {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

struct SipState {
  uint64_t v0, v1, v2, v3;
  void round() noexcept {
    v0 += v1;
    v1 = rotl(v1, 13);
    v1 ^= v0;
    v0 = rotl(v0, 32);
    v2 += v3;
    v3 = rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = rotl(v1, 17);
    v1 ^= v2;
    v2 = rotl(v2, 32);
  }
  void absorb(uint64_t m) noexcept {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
};

// Hash input of RFC 9018 section 4.4: client cookie | version | reserved | timestamp | address.
size_t hash_input(const uint8_t* client_cookie, const uint8_t* head, const IpAddress& client,
                  uint8_t* out) noexcept {
  std::memcpy(out, client_cookie, kClientCookieBytes);
  std::memcpy(out + 8, head, 8);
  const size_t addr_len = client.is_v4() ? 4 : 16;
  std::memcpy(out + 16, client.bytes.data(), addr_len);
  return 16 + addr_len;
}

void sign(const uint8_t* client_cookie, const IpAddress& client, const CookieSecret& secret,
          uint8_t* cookie) noexcept {
  uint8_t input[32];
  const size_t n = hash_input(client_cookie, cookie, client, input);
  store_le64(siphash24(secret, input, n), cookie + 8);
}

}  // namespace

uint64_t siphash24(const CookieSecret& key, const uint8_t* data, size_t len) noexcept {
  const uint64_t k0 = load_le64(key.data());
  const uint64_t k1 = load_le64(key.data() + 8);
  SipState s{0x736f6d6570736575ULL ^ k0, 0x646f72616e646f6dULL ^ k1, 0x6c7967656e657261ULL ^ k0,
             0x7465646279746573ULL ^ k1};
  const size_t full = len - len % 8;
  for (size_t i = 0; i < full; i += 8) s.absorb(load_le64(data + i));
  uint64_t last = static_cast<uint64_t>(len & 0xff) << 56;
  for (size_t i = 0; i < len % 8; ++i) last |= static_cast<uint64_t>(data[full + i]) << (8 * i);
  s.absorb(last);
  s.v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

void make_server_cookie(const uint8_t* client_cookie, const IpAddress& client, uint32_t now,
                        const CookieSecret& secret, uint8_t* out) noexcept {
  out[0] = 1;  // version
  out[1] = out[2] = out[3] = 0;
  write_u32(out + 4, now);
  sign(client_cookie, client, secret, out);
}

CookieVerdict check_server_cookie(const uint8_t* client_cookie, const uint8_t* server_cookie,
                                  size_t server_cookie_len, const IpAddress& client, uint32_t now,
                                  const CookieSecret* secrets, size_t secret_count) noexcept {
  if (server_cookie_len != kServerCookieBytes || server_cookie[0] != 1) {
    return CookieVerdict::invalid;
  }
  const uint32_t stamp = read_u32(server_cookie + 4);
  // Serial arithmetic (RFC 1982): the timestamp wraps every 136 years.
  const auto age = static_cast<int32_t>(now - stamp);
  if (age > 3600 || age < -300) return CookieVerdict::invalid;
  for (size_t i = 0; i < secret_count; ++i) {
    uint8_t expected[kServerCookieBytes];
    std::memcpy(expected, server_cookie, 8);  // version, reserved (hashed as sent), timestamp
    sign(client_cookie, client, secrets[i], expected);
    // Not secret-dependent timing worth hiding: the hash is bound to the client's address.
    if (std::memcmp(expected + 8, server_cookie + 8, 8) == 0) {
      return age > 1800 || i > 0 ? CookieVerdict::renew : CookieVerdict::fresh;
    }
  }
  return CookieVerdict::invalid;
}

}  // namespace geodns::dns
