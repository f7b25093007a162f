// Server cookies against the published vectors: SipHash-2-4 from its paper, the cookies from
// RFC 9018 Appendix A.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dns/cookie.h"

namespace geodns::dns {
namespace {

std::vector<uint8_t> unhex(const std::string& s) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < s.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(s.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::string hex(const uint8_t* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

CookieSecret secret_of(const std::string& h) {
  CookieSecret s{};
  const auto b = unhex(h);
  std::copy(b.begin(), b.end(), s.begin());
  return s;
}

IpAddress ip(const char* text) {
  return *IpAddress::parse(text);
}

TEST(SipHash, PaperVector) {
  // Appendix A of "SipHash: a fast short-input PRF": key 00..0f, message 00..0e.
  CookieSecret key{};
  for (uint8_t i = 0; i < 16; ++i) key[i] = i;
  uint8_t msg[15];
  for (uint8_t i = 0; i < 15; ++i) msg[i] = i;
  EXPECT_EQ(siphash24(key, msg, sizeof msg), 0xa129ca6149be45e5ULL);
  EXPECT_EQ(siphash24(key, msg, 0), 0x726fdb47dd0e0e31ULL);  // empty message
}

struct Vector {
  const char* name;
  const char* secret;
  const char* client_cookie;
  const char* client;
  uint32_t now;
  const char* server_cookie;
};

TEST(ServerCookie, Rfc9018AppendixA) {
  const Vector vectors[] = {
      {"A.1", "e5e973e5a6b2a43f48e7dc849e37bfcf", "2464c4abcf10c957", "198.51.100.100", 1559731985,
       "010000005cf79f111f8130c3eee29480"},
      {"A.2", "e5e973e5a6b2a43f48e7dc849e37bfcf", "2464c4abcf10c957", "198.51.100.100", 1559734385,
       "010000005cf7a871d4a564a1442aca77"},
      {"A.3", "e5e973e5a6b2a43f48e7dc849e37bfcf", "fc93fc62807ddb86", "203.0.113.203", 1559734700,
       "010000005cf7a9acf73a7810aca2381e"},
      {"A.4", "445536bcd2513298075a5d379663c962", "22681ab97d52c298",
       "2001:db8:220:1:59de:d0f4:8769:82b8", 1559741961, "010000005cf7c609a6bb79d16625507a"},
  };
  for (const auto& v : vectors) {
    uint8_t out[kServerCookieBytes];
    const auto client_cookie = unhex(v.client_cookie);
    make_server_cookie(client_cookie.data(), ip(v.client), v.now, secret_of(v.secret), out);
    EXPECT_EQ(hex(out, sizeof out), v.server_cookie) << v.name;
    // And it checks as ours, fresh, right away.
    const CookieSecret s = secret_of(v.secret);
    EXPECT_EQ(
        check_server_cookie(client_cookie.data(), out, sizeof out, ip(v.client), v.now, &s, 1),
        CookieVerdict::fresh)
        << v.name;
  }
}

TEST(ServerCookie, ChecksAgeAddressSecretAndShape) {
  const CookieSecret secrets[] = {secret_of("445536bcd2513298075a5d379663c962"),
                                  secret_of("dd3bdf9344b678b185a6f5cb60fca715")};
  // RFC 9018 A.3: reserved bytes set by someone else are hashed as sent.
  const auto a3 = unhex("fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5");
  const CookieSecret a_secret = secret_of("e5e973e5a6b2a43f48e7dc849e37bfcf");
  const uint32_t a3_stamp = 0x5cf78f71;
  EXPECT_EQ(check_server_cookie(a3.data(), a3.data() + 8, 16, ip("203.0.113.203"), a3_stamp + 10,
                                &a_secret, 1),
            CookieVerdict::fresh);
  EXPECT_EQ(check_server_cookie(a3.data(), a3.data() + 8, 16, ip("203.0.113.204"), a3_stamp + 10,
                                &a_secret, 1),
            CookieVerdict::invalid);  // another address
  // When A.3's query arrives the cookie is 1 h 52 min old: expired, so a new one is issued.
  EXPECT_EQ(check_server_cookie(a3.data(), a3.data() + 8, 16, ip("203.0.113.203"), 1559734700,
                                &a_secret, 1),
            CookieVerdict::invalid);

  // RFC 9018 A.4: made with the previous secret: still valid, but renewed.
  const auto a4 = unhex("22681ab97d52c298010000005cf7c57926556bd0934c72f8");
  const IpAddress v6 = ip("2001:db8:220:1:59de:d0f4:8769:82b8");
  EXPECT_EQ(check_server_cookie(a4.data(), a4.data() + 8, 16, v6, 1559741961, secrets, 2),
            CookieVerdict::renew);
  EXPECT_EQ(check_server_cookie(a4.data(), a4.data() + 8, 16, v6, 1559741961, secrets, 1),
            CookieVerdict::invalid);  // the previous secret is gone

  const uint8_t client[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  const IpAddress v4 = ip("192.0.2.1");
  const uint32_t t = 1000000000;
  uint8_t c[16];
  make_server_cookie(client, v4, t, secrets[0], c);
  auto at = [&](uint32_t now) { return check_server_cookie(client, c, 16, v4, now, secrets, 1); };
  EXPECT_EQ(at(t + 1800), CookieVerdict::fresh);
  EXPECT_EQ(at(t + 1801), CookieVerdict::renew);
  EXPECT_EQ(at(t + 3600), CookieVerdict::renew);
  EXPECT_EQ(at(t + 3601), CookieVerdict::invalid);  // expired
  EXPECT_EQ(at(t - 300), CookieVerdict::fresh);     // five minutes of skew
  EXPECT_EQ(at(t - 301), CookieVerdict::invalid);   // from the future
  EXPECT_EQ(check_server_cookie(client, c, 8, v4, t, secrets, 1), CookieVerdict::invalid);
  c[0] = 2;  // another version
  EXPECT_EQ(at(t), CookieVerdict::invalid);
  c[0] = 1;
  c[15] ^= 1;  // a forged hash
  EXPECT_EQ(at(t), CookieVerdict::invalid);

  // Across the wrap of the 32-bit timestamp.
  make_server_cookie(client, v4, 4294964696U, secrets[0], c);
  EXPECT_EQ(at(1000), CookieVerdict::renew);
}

}  // namespace
}  // namespace geodns::dns
