// Proves that the limiter allocates only at construction: operator new is replaced for this
// binary and counted while account() runs over many keys, including a full table.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "rrl_helpers.h"
#include "server/rrl.h"

#include "../../support/alloc_counter.h"

using geodns::testing::g_allocations;

namespace geodns::server::testing {
namespace {

TEST(RrlAllocations, NoHeapAllocationPerResponse) {
#if GEODNS_UNDER_ASAN
  GTEST_SKIP() << "ASan owns the allocator";
#endif
  ManualClock clock;
  RrlConfig c;
  c.enabled = true;
  c.responses_per_second = 5;
  c.slip = 2;
  c.table_entries = 64;
  c.clock = &clock;
  Rrl rrl(c, 3);
  std::vector<dns::Query> queries;
  for (int i = 0; i < 200; ++i) queries.push_back(parsed("n" + std::to_string(i) + ".example"));
  const auto noerror = header_with_rcode(0);
  const auto nxdomain = header_with_rcode(3);
  const IpAddress client = *IpAddress::parse("192.0.2.1");
  geodns::testing::g_count_allocations = true;
  g_allocations = 0;
  for (int round = 0; round < 10; ++round) {
    for (const auto& q : queries) {
      (void)rrl.account(client, q, noerror);
      (void)rrl.account(client, q, nxdomain);
    }
  }
  geodns::testing::g_count_allocations = false;
  EXPECT_EQ(g_allocations.load(), 0U);
}

}  // namespace
}  // namespace geodns::server::testing
