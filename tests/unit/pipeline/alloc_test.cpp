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

// Pools, hashed choices, spillover and the A/AAAA pairing run on stack arrays only.
constexpr const char* kPoolZone = R"(
[zone]
name = "pools.example."
[zone.soa]
mname = "ns1.pools.example."
rname = "hostmaster.pools.example."
[records]
"@" = ["NS ns1.pools.example."]
ns1 = "A 192.0.2.53"
[datacenters.fra]
addresses = ["192.0.2.10", "192.0.2.11", "2001:db8:f::10"]
location = { lat = 50.11, lon = 8.68 }
min_up = "50%"
capacity = 300
[datacenters.ams]
addresses = ["192.0.2.20", "2001:db8:a::20"]
location = { lat = 52.37, lon = 4.9 }
capacity = 100
[datacenters.iad]
addresses = ["198.51.100.10", "2001:db8:1::10"]
location = { lat = 38.95, lon = -77.45 }
capacity = 200
[pools.eu]
policy = "weighted"
members = { fra = 70, ams = 30 }
[pools.sticky]
policy = "hashed"
members = { fra = 1, ams = 1, iad = 2 }
[pools.near2]
policy = "nearest"
pick = 2
members = ["fra", "ams", "iad"]
[pools.other]
policy = "weighted"
members = ["fra", "ams", "iad"]
[steer.www]
policy = "geo"
map.EU = ["eu", "iad"]
map.default = ["iad", "eu"]
[steer.h]
policy = "failover"
datacenters = ["sticky"]
[steer.spill]
policy = "failover"
spillover = true
datacenters = ["fra", "ams", "iad"]
[steer.union]
policy = "roundrobin"
datacenters = ["near2", "other"]
)";

TEST(PipelineAllocations, NoHeapAllocationForPoolsHashedAndSpillover) {
#if GEODNS_UNDER_ASAN
  GTEST_SKIP() << "ASan owns the allocator";
#endif
  PipelineFixture f;
  auto pz = zone::load_zone_text(kPoolZone, "pools.example.toml", zone::ServerConfig{}, nullptr);
  ASSERT_TRUE(pz.ok()) << pz.error().to_string();
  auto set = std::make_shared<zone::ZoneSet>(*f.zones);
  set->zones.push_back(pz.value());
  set->reindex();
  f.snapshots.zones.publish(set);
  // fra down: `spill` spreads its clients by capacity.
  auto health = std::make_shared<steer::HealthView>();
  for (const auto& a : pz.value()->datacenters[0].v4) health->set_target_up(a.target, false);
  f.health.publish(health);
  f.pipeline->begin_batch();
  std::vector<std::vector<uint8_t>> queries;
  for (const char* name :
       {"www.pools.example", "h.pools.example", "spill.pools.example", "union.pools.example"}) {
    for (uint16_t type : {dns::rrtype::A, dns::rrtype::AAAA}) {
      for (uint8_t third : {uint8_t{69}, uint8_t{70}, uint8_t{71}}) {
        QueryBuilder q;
        q.name = name;
        q.qtype = type;
        q.ecs(1, 24, 0, {81, 2, third});
        queries.push_back(q.build());
      }
    }
  }
  std::vector<uint8_t> out(65535);
  ClientInfo ci;
  ci.address = *IpAddress::parse("192.0.2.1");
  // Every query gets an answer (not an error that would skip the steering code).
  for (const auto& q : queries) {
    const size_t n = f.pipeline->respond(q, ci, out);
    ASSERT_GT(n, 12u);
    ASSERT_GT((out[6] << 8) | out[7], 0) << "no answer";
  }
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
