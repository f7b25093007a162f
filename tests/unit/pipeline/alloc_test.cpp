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

// The same geo and nearest queries answered from compiled tables (no libmaxminddb call).
TEST(PipelineAllocations, NoHeapAllocationPerCompiledQuery) {
#if GEODNS_UNDER_ASAN
  GTEST_SKIP() << "ASan owns the allocator";
#endif
  PipelineFixture f;
  ASSERT_TRUE(f.errors.empty());
  std::vector<std::vector<uint8_t>> queries;
  QueryBuilder geo;
  geo.name = "www.example.com";
  geo.ecs(1, 24, 0, {8, 8, 8});
  queries.push_back(geo.build());
  QueryBuilder near;
  near.name = "near.example.com";
  near.ecs(1, 24, 0, {81, 2, 69});
  queries.push_back(near.build());
  QueryBuilder plain;  // no ECS: located by the source address
  plain.name = "www.example.com";
  queries.push_back(plain.build());
  std::vector<uint8_t> out(65535);
  ClientInfo ci;
  ci.address = *IpAddress::parse("192.0.2.1");
  const size_t runtime_len = f.pipeline->respond(queries[0], ci, out);
  const std::vector<uint8_t> runtime(out.begin(), out.begin() + static_cast<long>(runtime_len));

  auto compiled = compile_steering(f.zones, f.snapshots.geoip.load(), nullptr);
  ASSERT_TRUE(compiled.ok()) << compiled.error().to_string();
  ASSERT_FALSE(compiled.value()->by_rule.empty());
  f.snapshots.steering.publish(compiled.value());
  f.pipeline->begin_batch();
  // The compiled path answers: 8.8.8.0/24 shares its list with a far wider network, so the
  // response (its ECS scope) differs from the runtime one.
  const size_t compiled_len = f.pipeline->respond(queries[0], ci, out);
  ASSERT_EQ(compiled_len, runtime_len);
  EXPECT_NE(std::vector<uint8_t>(out.begin(), out.begin() + static_cast<long>(compiled_len)),
            runtime);

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
