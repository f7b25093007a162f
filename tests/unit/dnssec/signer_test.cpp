// Every signature we make is checked by ldns against the DNSKEY it reads from our key file.
#include "dnssec/signer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>

#include "dnssec/canonical.h"
#include "dnssec/ds.h"
#include "dnssec/zone_signing.h"
#include "ldns_check.h"

namespace geodns::dnssec::testing {
namespace {

struct KeyOnDisk {
  TempDir dir;
  SigningKey key;
  ldns_rr* dnskey = nullptr;  // as ldns reads the .key file
  explicit KeyOnDisk(Algorithm a, KeyRole role = KeyRole::csk,
                     std::string_view zone = "example.com.") {
    auto k = generate_key(zone, a, role, std::time(nullptr));
    EXPECT_TRUE(k);
    EXPECT_TRUE(write_key_files(*k, dir.path));
    auto loaded = load_zone_keys(dir.path, zone);
    EXPECT_TRUE(loaded && loaded->size() == 1);
    key = loaded->front();
    dnskey = read_key_file(key.key_path);
    EXPECT_NE(dnskey, nullptr);
  }
  ~KeyOnDisk() { ldns_rr_free(dnskey); }
};

std::string a_rdata(uint8_t last) {
  return std::string("\xc0\x00\x02", 3) + char(last);
}

struct Signed {
  std::vector<uint8_t> rrsig;
};

std::vector<uint8_t> sign(Signer& s, const SigningKey& k, std::string_view owner, uint16_t type,
                          uint32_t ttl, const std::vector<std::string>& rdatas, int labels = -1) {
  std::vector<std::string_view> views(rdatas.begin(), rdatas.end());
  const auto* o = reinterpret_cast<const uint8_t*>(owner.data());
  const auto now = static_cast<uint32_t>(std::time(nullptr));
  std::vector<uint8_t> out(kMaxRrsigBytes);
  const uint8_t l = labels < 0 ? rrsig_labels(o, owner.size()) : static_cast<uint8_t>(labels);
  const size_t n = s.sign(k, o, owner.size(), type, ttl, views, l, now - 3600, now + 86400,
                          out.data(), out.size());
  out.resize(n);
  return out;
}

class SignerTest : public ::testing::TestWithParam<Algorithm> {};

TEST_P(SignerTest, LdnsVerifiesStaticRRsets) {
  KeyOnDisk k(GetParam());
  Signer signer;
  const std::string owner = wire("www.example.com.");
  const std::vector<std::string> a = {a_rdata(3), a_rdata(1), a_rdata(2)};
  auto sig = sign(signer, k.key, owner, dns::rrtype::A, 300, a);
  ASSERT_EQ(sig.size(), 18 + wire("example.com.").size() + 64);
  std::vector<std::string_view> views(a.begin(), a.end());
  EXPECT_EQ(ldns_verify(owner, dns::rrtype::A, 300, views, sig, k.dnskey), LDNS_STATUS_OK);
  // The check can fail: another owner, another record or a flipped bit are rejected. (A
  // validator uses the RRSIG's original TTL, RFC 4035 5.3.3, so the TTL is not one of them.)
  EXPECT_NE(ldns_verify(wire("ww.example.com."), dns::rrtype::A, 300, views, sig, k.dnskey),
            LDNS_STATUS_OK);
  views.pop_back();
  EXPECT_NE(ldns_verify(owner, dns::rrtype::A, 300, views, sig, k.dnskey), LDNS_STATUS_OK);
  views.assign(a.begin(), a.end());
  sig.back() ^= 1;
  EXPECT_NE(ldns_verify(owner, dns::rrtype::A, 300, views, sig, k.dnskey), LDNS_STATUS_OK);

  // Names inside RDATA in mixed case: signed over their canonical (lowercased) form.
  const std::vector<std::string> mx = {std::string("\0\x0a", 2) + wire("MX1.Example.COM."),
                                       std::string("\0\x14", 2) + wire("mx2.example.com.")};
  const std::string apex = wire("example.com.");
  auto mx_sig = sign(signer, k.key, apex, dns::rrtype::MX, 3600, mx);
  std::vector<std::string_view> mx_views(mx.begin(), mx.end());
  EXPECT_EQ(ldns_verify(apex, dns::rrtype::MX, 3600, mx_views, mx_sig, k.dnskey), LDNS_STATUS_OK);

  // The DNSKEY RRset itself.
  const std::vector<std::string> keys = {k.key.dnskey_rdata};
  auto key_sig = sign(signer, k.key, apex, 48, 3600, keys);
  std::vector<std::string_view> key_views(keys.begin(), keys.end());
  EXPECT_EQ(ldns_verify(apex, 48, 3600, key_views, key_sig, k.dnskey), LDNS_STATUS_OK);
}

TEST_P(SignerTest, LdnsVerifiesWildcardExpansions) {
  KeyOnDisk k(GetParam());
  Signer signer;
  const std::vector<std::string> a = {a_rdata(7)};
  std::vector<std::string_view> views(a.begin(), a.end());
  // A static wildcard RRset, signed at its own owner.
  const std::string star = wire("*.example.com.");
  auto sig = sign(signer, k.key, star, dns::rrtype::A, 60, a);
  EXPECT_EQ(sig[3], 2);  // Labels excludes the "*"
  EXPECT_EQ(ldns_verify(star, dns::rrtype::A, 60, views, sig, k.dnskey), LDNS_STATUS_OK);
  // Synthesized for a query name two labels deeper: same signature input, and ldns accepts
  // it over the expanded owner.
  const std::string deep = wire("a.b.example.com.");
  auto online = sign(signer, k.key, deep, dns::rrtype::A, 60, a, 2);
  ASSERT_FALSE(online.empty());
  EXPECT_EQ(ldns_verify(deep, dns::rrtype::A, 60, views, online, k.dnskey), LDNS_STATUS_OK);
  EXPECT_EQ(ldns_verify(star, dns::rrtype::A, 60, views, online, k.dnskey), LDNS_STATUS_OK);
  // Labels larger than the owner's is refused.
  EXPECT_TRUE(sign(signer, k.key, deep, dns::rrtype::A, 60, a, 5).empty());
}

TEST_P(SignerTest, InputOrderDoesNotChangeWhatIsSigned) {
  KeyOnDisk k(GetParam());
  Signer signer;
  const std::string owner = wire("www.example.com.");
  std::vector<std::string> a = {a_rdata(9), a_rdata(200), a_rdata(1), a_rdata(40)};
  auto first = sign(signer, k.key, owner, dns::rrtype::A, 30, a);
  std::vector<std::string_view> views(a.begin(), a.end());
  for (int i = 0; i < 6; ++i) {
    std::next_permutation(a.begin(), a.end());
    auto again = sign(signer, k.key, owner, dns::rrtype::A, 30, a);
    // Any order verifies against any other order's RRset.
    EXPECT_EQ(ldns_verify(owner, dns::rrtype::A, 30, views, again, k.dnskey), LDNS_STATUS_OK);
    // Ed25519 is deterministic (RFC 8032): the very same bytes. ECDSA signatures use a
    // random nonce, so only the fixed fields repeat.
    if (GetParam() == Algorithm::ed25519) {
      EXPECT_EQ(again, first);
    } else {
      EXPECT_TRUE(std::equal(first.begin(), first.end() - 64, again.begin()));
    }
  }
}

TEST_P(SignerTest, DsMatchesLdnsKeyRr2ds) {
  KeyOnDisk k(GetParam(), KeyRole::ksk, "Shop.Example.");
  for (const DigestType d : {DigestType::sha256, DigestType::sha384}) {
    const std::string ours = ds_rdata(lower(wire("shop.example.")), k.key.dnskey_rdata, d);
    ASSERT_EQ(ours.size(), 4 + digest_bytes(d));
    ldns_rr* ds = ldns_key_rr2ds(k.dnskey, d == DigestType::sha256 ? LDNS_SHA256 : LDNS_SHA384);
    ASSERT_NE(ds, nullptr);
    ldns_buffer* buf = ldns_buffer_new(256);
    ASSERT_EQ(ldns_rr_rdata2buffer_wire(buf, ds), LDNS_STATUS_OK);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(ldns_buffer_begin(buf)),
                          ldns_buffer_position(buf)),
              ours);
    ldns_buffer_free(buf);
    ldns_rr_free(ds);
  }
}

TEST_P(SignerTest, ZoneSigningSignsOnlineWithTheZoneWindow) {
  KeyOnDisk k(GetParam());
  ZoneSigning z;
  z.origin = k.key.origin_wire;
  z.keys.push_back(k.key);
  z.online_key = 0;
  const int64_t now = std::time(nullptr);
  z.window = window_at(z.settings, now);
  z.resign_by_unix = z.window.resign_unix;
  EXPECT_EQ(z.window.expiration_unix - now, 14 * 86400);
  EXPECT_EQ(now - z.window.inception_unix, 3600);
  Signer signer;
  SignatureCache cache(64, 1 << 16);
  const std::string owner = wire("geo.example.com.");
  const std::vector<std::string> a = {a_rdata(1), a_rdata(2)};
  std::vector<std::string_view> views(a.begin(), a.end());
  auto sig = z.sign_online(signer, cache, reinterpret_cast<const uint8_t*>(owner.data()),
                           owner.size(), dns::rrtype::A, 20, views, 3, now);
  ASSERT_FALSE(sig.empty());
  const std::vector<uint8_t> copy(sig.begin(), sig.end());
  EXPECT_EQ(dns::read_u32(copy.data() + 8), z.window.expiration);
  EXPECT_EQ(dns::read_u32(copy.data() + 12), z.window.inception);
  EXPECT_EQ(ldns_verify(owner, dns::rrtype::A, 20, views, copy, k.dnskey), LDNS_STATUS_OK);
  std::reverse(views.begin(), views.end());
  auto hit = z.sign_online(signer, cache, reinterpret_cast<const uint8_t*>(owner.data()),
                           owner.size(), dns::rrtype::A, 20, views, 3, now + 10);
  EXPECT_EQ(std::vector<uint8_t>(hit.begin(), hit.end()), copy);
  EXPECT_EQ(cache.stats().hits, 1u);
  // Past resign_by (the re-sign is late): a fresh window from now, so never less than the
  // refresh interval left.
  const int64_t late = z.resign_by_unix + 100;
  auto fresh = z.sign_online(signer, cache, reinterpret_cast<const uint8_t*>(owner.data()),
                             owner.size(), dns::rrtype::A, 20, views, 3, late);
  ASSERT_FALSE(fresh.empty());
  EXPECT_GE(static_cast<int64_t>(dns::read_u32(fresh.data() + 8)) - late,
            z.settings.refresh.count());
  // No online key: nothing.
  z.online_key = -1;
  EXPECT_TRUE(z.sign_online(signer, cache, reinterpret_cast<const uint8_t*>(owner.data()),
                            owner.size(), dns::rrtype::A, 20, views, 3, now)
                  .empty());
}

INSTANTIATE_TEST_SUITE_P(Algorithms, SignerTest,
                         ::testing::Values(Algorithm::ecdsap256sha256, Algorithm::ed25519));

}  // namespace
}  // namespace geodns::dnssec::testing
