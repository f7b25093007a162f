// The per-worker signature cache: content-keyed, order-independent, exact, bounded.
#include "dnssec/signature_cache.h"

#include <gtest/gtest.h>

#include <vector>

#include "ldns_check.h"

namespace geodns::dnssec::testing {
namespace {

constexpr int64_t kNow = 1'800'000'000;

SigningKey fake_key(char fill) {
  SigningKey k;
  k.dnskey_rdata = std::string("\1\1\3\15", 4) + std::string(64, fill);
  k.key_tag = key_tag(k.dnskey_rdata);
  return k;
}

struct Request {
  std::string owner = wire("www.example.com.");
  std::vector<std::string> rdatas = {std::string("\xc0\0\2\1", 4), std::string("\xc0\0\2\2", 4),
                                     std::string("\xc0\0\2\3", 4)};
  std::vector<std::string_view> views;
  SignatureRequest r;
  explicit Request(const SigningKey& k) {
    views.assign(rdatas.begin(), rdatas.end());
    r.key = &k;
    r.owner = reinterpret_cast<const uint8_t*>(owner.data());
    r.owner_len = owner.size();
    r.type = 1;
    r.ttl = 60;
    r.rdatas = views;
    r.labels = 3;
    r.inception = static_cast<uint32_t>(kNow - 3600);
    r.expiration = static_cast<uint32_t>(kNow + 86400);
  }
};

std::vector<uint8_t> bytes(std::span<const uint8_t> s) {
  return {s.begin(), s.end()};
}

TEST(SignatureCache, HitForAnyRdataOrderReturnsTheSameBytes) {
  SigningKey k = fake_key('k');
  Request q(k);
  SignatureCache cache(16, 1 << 16);
  EXPECT_TRUE(cache.find(q.r, kNow, 0).empty());
  const std::vector<uint8_t> sig(82, 0x5a);
  const auto stored = bytes(cache.insert(q.r, sig));
  EXPECT_EQ(stored, sig);
  std::sort(q.rdatas.begin(), q.rdatas.end());
  do {
    q.views.assign(q.rdatas.begin(), q.rdatas.end());
    q.r.rdatas = q.views;
    EXPECT_EQ(bytes(cache.find(q.r, kNow, 0)), sig);
  } while (std::next_permutation(q.rdatas.begin(), q.rdatas.end()));
  // Duplicates do not change the RRset either.
  q.rdatas.push_back(q.rdatas.front());
  q.views.assign(q.rdatas.begin(), q.rdatas.end());
  q.r.rdatas = q.views;
  EXPECT_EQ(bytes(cache.find(q.r, kNow, 0)), sig);
  EXPECT_EQ(cache.stats().hits, 7u);
}

TEST(SignatureCache, EveryPartOfTheContentIsPartOfTheKey) {
  SigningKey k = fake_key('k');
  Request base(k);
  SignatureCache cache(64, 1 << 16);
  const std::vector<uint8_t> sig(82, 1);
  (void)cache.insert(base.r, sig);
  auto miss = [&](auto change) {
    Request q(k);
    change(q);
    q.views.assign(q.rdatas.begin(), q.rdatas.end());
    q.r.rdatas = q.views;
    return cache.find(q.r, kNow, 0).empty();
  };
  EXPECT_FALSE(miss([](Request&) {}));
  EXPECT_TRUE(miss([](Request& q) { q.r.ttl = 61; }));
  EXPECT_TRUE(miss([](Request& q) { q.r.type = 28; }));
  EXPECT_TRUE(miss([](Request& q) { q.r.labels = 2; }));
  EXPECT_TRUE(miss([](Request& q) { q.r.inception += 1; }));
  EXPECT_TRUE(miss([](Request& q) { q.r.expiration += 1; }));
  EXPECT_TRUE(miss([](Request& q) { q.rdatas.pop_back(); }));
  EXPECT_TRUE(miss([](Request& q) { q.rdatas[0][3] = 9; }));
  EXPECT_TRUE(miss([](Request& q) {
    q.owner = wire("ww2.example.com.");
    q.r.owner = reinterpret_cast<const uint8_t*>(q.owner.data());
  }));
  // Another key with the same key tag: the key's identity is its whole DNSKEY, so no hit.
  SigningKey twin = k;
  twin.dnskey_rdata[10] = static_cast<char>(twin.dnskey_rdata[10] + 1);
  twin.dnskey_rdata[12] = static_cast<char>(twin.dnskey_rdata[12] - 1);
  ASSERT_EQ(key_tag(twin.dnskey_rdata), k.key_tag);
  EXPECT_TRUE(miss([&](Request& q) { q.r.key = &twin; }));
}

TEST(SignatureCache, NearExpiryIsAMissAndIsReplaced) {
  SigningKey k = fake_key('k');
  Request q(k);
  SignatureCache cache(16, 1 << 16);
  (void)cache.insert(q.r, std::vector<uint8_t>(82, 1));
  const int64_t expiry = kNow + 86400;
  EXPECT_FALSE(cache.find(q.r, expiry - 1000, 999).empty());
  EXPECT_TRUE(cache.find(q.r, expiry - 1000, 1001).empty());
  EXPECT_TRUE(cache.find(q.r, expiry + 1, 0).empty());
  EXPECT_EQ(cache.stats().expired, 2u);
  (void)cache.insert(q.r, std::vector<uint8_t>(82, 2));
  EXPECT_EQ(bytes(cache.find(q.r, kNow, 0)), std::vector<uint8_t>(82, 2));
}

TEST(SignatureCache, BoundedMemoryEvictsOldestAndNeverReturnsOverwrittenBytes) {
  SigningKey k = fake_key('k');
  SignatureCache cache(64, 1);  // the arena's minimum: a few dozen entries
  const size_t budget = cache.memory_bytes();
  std::vector<std::string> owners;
  for (int i = 0; i < 5000; ++i) owners.push_back(wire("n" + std::to_string(i) + ".example."));
  for (int i = 0; i < 5000; ++i) {
    Request q(k);
    q.owner = owners[i];
    q.r.owner = reinterpret_cast<const uint8_t*>(q.owner.data());
    q.r.owner_len = q.owner.size();
    (void)cache.insert(q.r, std::vector<uint8_t>(82, static_cast<uint8_t>(i)));
  }
  EXPECT_EQ(cache.memory_bytes(), budget);
  size_t hits = 0;
  for (int i = 0; i < 5000; ++i) {
    Request q(k);
    q.owner = owners[i];
    q.r.owner = reinterpret_cast<const uint8_t*>(q.owner.data());
    q.r.owner_len = q.owner.size();
    const auto got = cache.find(q.r, kNow, 0);
    if (got.empty()) continue;
    ++hits;
    EXPECT_EQ(bytes(got), std::vector<uint8_t>(82, static_cast<uint8_t>(i))) << i;
  }
  EXPECT_GT(hits, 0u);
  EXPECT_LT(hits, 5000u);
  // The newest entry is always there.
  Request last(k);
  last.owner = owners.back();
  last.r.owner = reinterpret_cast<const uint8_t*>(last.owner.data());
  last.r.owner_len = last.owner.size();
  EXPECT_FALSE(cache.find(last.r, kNow, 0).empty());
}

}  // namespace
}  // namespace geodns::dnssec::testing
