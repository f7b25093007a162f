// A signature-cache hit, through ZoneSigning::sign_online as the pipeline calls it, allocates
// nothing: operator new is counted for this whole binary.
#include <gtest/gtest.h>

#include <ctime>

#include "../../support/alloc_counter.h"
#include "dns/name.h"
#include "dnssec/zone_signing.h"

namespace geodns::dnssec {
namespace {

using geodns::testing::g_allocations;
using geodns::testing::g_count_allocations;

TEST(DnssecAllocations, CacheHitAllocatesNothing) {
#if GEODNS_UNDER_ASAN
  GTEST_SKIP() << "ASan owns the allocator";
#endif
  g_count_allocations = false;
  const int64_t now = std::time(nullptr);
  auto key = generate_key("example.com.", Algorithm::ecdsap256sha256, KeyRole::csk, now);
  ASSERT_TRUE(key);
  ZoneSigning z;
  z.origin = key->origin_wire;
  z.keys.push_back(*key);
  z.online_key = 0;
  z.window = window_at(z.settings, now);
  z.resign_by_unix = z.window.resign_unix;
  Signer signer;
  SignatureCache cache;
  std::string owner;
  ASSERT_TRUE(dns::name_from_text("www.example.com.", &owner));
  const std::string a[3] = {std::string("\xc0\0\2\1", 4), std::string("\xc0\0\2\2", 4),
                            std::string("\xc0\0\2\3", 4)};
  std::string_view views[3] = {a[0], a[1], a[2]};
  const auto* o = reinterpret_cast<const uint8_t*>(owner.data());
  ASSERT_FALSE(z.sign_online(signer, cache, o, owner.size(), 1, 60, views, 3, now).empty());

  g_allocations = 0;
  g_count_allocations = true;
  size_t bytes = 0;
  for (int i = 0; i < 1000; ++i) {
    std::swap(views[i % 3], views[(i + 1) % 3]);  // rotation order changes, the RRset does not
    bytes += z.sign_online(signer, cache, o, owner.size(), 1, 60, views, 3, now + i).size();
  }
  g_count_allocations = false;
  EXPECT_EQ(g_allocations.load(), 0u);
  EXPECT_EQ(bytes, 1000u * (18 + 13 + 64));
  EXPECT_EQ(cache.stats().hits, 1000u);
}

}  // namespace
}  // namespace geodns::dnssec
