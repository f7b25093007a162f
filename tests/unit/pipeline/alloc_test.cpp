// Proves that answering a query allocates nothing: operator new/delete are replaced for this
// binary and counted while the pipeline answers static, negative and geo+ECS queries.
#include <gtest/gtest.h>

#include "../../support/alloc_counter.h"
#include "fixture.h"

using geodns::testing::g_allocations;
using geodns::testing::g_count_allocations;

namespace geodns::server::testing {
namespace {

using dns::testing::QueryBuilder;

TEST(PipelineAllocations, NoHeapAllocationPerQuery) {
#if GEODNS_UNDER_ASAN
  GTEST_SKIP() << "ASan owns the allocator";
#endif
  PipelineFixture f;
  ASSERT_TRUE(f.errors.empty());
  std::vector<std::vector<uint8_t>> queries;
  QueryBuilder s;
  s.name = "ns1.example.com";
  queries.push_back(s.build());
  QueryBuilder nx;
  nx.name = "nope.example.com";
  queries.push_back(nx.build());
  QueryBuilder cn;
  cn.name = "alias.example.com";
  queries.push_back(cn.build());
  QueryBuilder geo;
  geo.name = "www.example.com";
  geo.ecs(1, 24, 0, {81, 2, 69});
  queries.push_back(geo.build());
  QueryBuilder near;
  near.name = "near.example.com";
  near.ecs(1, 24, 0, {8, 8, 8});
  queries.push_back(near.build());
  QueryBuilder mx;
  mx.name = "example.com";
  mx.qtype = dns::rrtype::MX;
  queries.push_back(mx.build());
  std::vector<uint8_t> out(65535);
  ClientInfo ci;
  ci.address = *IpAddress::parse("192.0.2.1");
  size_t total = 0;
  g_count_allocations = true;
  g_allocations = 0;
  for (int round = 0; round < 100; ++round) {
    for (const auto& q : queries) total += f.pipeline->respond(q, ci, out);
  }
  g_count_allocations = false;
  EXPECT_GT(total, 0u);
  EXPECT_EQ(g_allocations.load(), 0u);
}

}  // namespace
}  // namespace geodns::server::testing
