// Proves that answering a query allocates nothing: operator new/delete are replaced for this
// binary and counted while the pipeline answers static, negative and geo+ECS queries.
#include <gtest/gtest.h>

#include "../../support/alloc_counter.h"
#include "answers_fixture.h"
#include "fixture.h"

using geodns::testing::g_allocations;
using geodns::testing::g_count_allocations;

namespace geodns::server::testing {
namespace {

// 100 rounds of `queries` through the pipeline, counting heap allocations meanwhile.
struct Counted {
  size_t bytes = 0;  // response bytes written, so an all-empty run cannot pass
  uint64_t allocations = 0;
};
Counted respond_counting(Pipeline& pipeline, const std::vector<std::vector<uint8_t>>& queries,
                         const ClientInfo& ci, std::vector<uint8_t>& out) {
  Counted c;
  g_count_allocations = true;
  g_allocations = 0;
  for (int round = 0; round < 100; ++round) {
    for (const auto& q : queries) c.bytes += pipeline.respond(q, ci, out);
  }
  g_count_allocations = false;
  c.allocations = g_allocations.load();
  return c;
}

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
  const Counted c = respond_counting(*f.pipeline, queries, ci, out);
  EXPECT_GT(c.bytes, 0u);
  EXPECT_EQ(c.allocations, 0u);
}

// The steered names of docs/decisions.md: apex beside static records, a wildcard, a CNAME to
// a target datacenter followed inside the zone, and a static type beside a steered name.
TEST(PipelineAllocations, NoHeapAllocationForSteeredApexWildcardAndCname) {
#if GEODNS_UNDER_ASAN
  GTEST_SKIP() << "ASan owns the allocator";
#endif
  constexpr const char* kZone = R"(
[zone]
name = "steer.test."
[zone.soa]
mname = "ns1.steer.test."
rname = "hostmaster.steer.test."
[records]
"@" = ["NS ns1.steer.test.", 'TXT "apex"']
ns1 = "A 192.0.2.53"
[checks.cdn]
type = "tcp"
port = 80
probe_address = "192.0.2.81"
[datacenters.fra]
addresses = ["192.0.2.10", "2001:db8::10"]
[datacenters.edge]
target = "edge.steer.test."
check = "cdn"
[steer."@"]
policy = "failover"
datacenters = ["fra"]
[steer."*.svc"]
policy = "failover"
datacenters = ["fra"]
[steer.cdn]
policy = "geo"
map.default = ["edge"]
[steer.edge]
policy = "failover"
datacenters = ["fra"]
)";
  auto z = zone::load_zone_text(kZone, "steer.test.toml", zone::ServerConfig{}, nullptr);
  ASSERT_TRUE(z.ok()) << z.error().to_string();
  auto set = std::make_shared<zone::ZoneSet>();
  set->zones.push_back(z.value());
  set->reindex();
  Snapshots snapshots;
  snapshots.zones.publish(set);
  Published<steer::HealthView> health;
  health.publish(std::make_shared<steer::HealthView>());
  snapshots.health = &health;
  Pipeline pipeline(snapshots, PipelineConfig{}, 1);
  pipeline.begin_batch();
  std::vector<std::vector<uint8_t>> queries;
  for (const auto& [name, type] : std::vector<std::pair<const char*, uint16_t>>{
           {"steer.test", dns::rrtype::A},
           {"steer.test", dns::rrtype::TXT},
           {"steer.test", dns::rrtype::ANY},
           {"a.svc.steer.test", dns::rrtype::AAAA},
           {"cdn.steer.test", dns::rrtype::A},
           {"cdn.steer.test", dns::rrtype::MX},
       }) {
    QueryBuilder b;
    b.name = name;
    b.qtype = type;
    b.ecs(1, 24, 0, {81, 2, 69});
    queries.push_back(b.build());
  }
  std::vector<uint8_t> out(65535);
  ClientInfo ci;
  ci.address = *IpAddress::parse("192.0.2.1");
  const Counted c = respond_counting(pipeline, queries, ci, out);
  EXPECT_GT(c.bytes, 0u);
  EXPECT_EQ(c.allocations, 0u);
}

// Issue 12's answers: DNAME synthesis (followed, out of zone, YXDOMAIN, a loop), a CNAME into
// a delegation, a CNAME loop, DS from the parent zone, ANY at a CNAME owner.
TEST(PipelineAllocations, NoHeapAllocationForDnameAndChains) {
#if GEODNS_UNDER_ASAN
  GTEST_SKIP() << "ASan owns the allocator";
#endif
  AnswersFixture f;
  for (const auto& e : f.errors) ADD_FAILURE() << e.to_string();
  std::vector<std::vector<uint8_t>> queries;
  for (const auto& [name, type] : std::vector<std::pair<const char*, uint16_t>>{
           {"x.d.parent.test", dns::rrtype::A},
           {"tod.parent.test", dns::rrtype::A},
           {"www.away.parent.test", dns::rrtype::AAAA},
           {"bbbbbbbbbbbb.long.parent.test", dns::rrtype::A},
           {"x.dl.parent.test", dns::rrtype::A},
           {"www.old.test", dns::rrtype::A},
           {"tosub.parent.test", dns::rrtype::A},
           {"l1.parent.test", dns::rrtype::A},
           {"c1.parent.test", dns::rrtype::A},
           {"child.parent.test", dns::rrtype::DS},
           {"nxd.parent.test", dns::rrtype::ANY},
       }) {
    QueryBuilder b;
    b.name = name;
    b.qtype = type;
    b.edns = true;
    queries.push_back(b.build());
  }
  std::vector<uint8_t> out(65535);
  ClientInfo ci;
  ci.address = *IpAddress::parse("192.0.2.1");
  const Counted c = respond_counting(*f.pipeline, queries, ci, out);
  EXPECT_GT(c.bytes, 0u);
  EXPECT_EQ(c.allocations, 0u);
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

  const Counted c = respond_counting(*f.pipeline, queries, ci, out);
  EXPECT_GT(c.bytes, 0u);
  EXPECT_EQ(c.allocations, 0u);
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
  const Counted c = respond_counting(*f.pipeline, queries, ci, out);
  EXPECT_GT(c.bytes, 0u);
  EXPECT_EQ(c.allocations, 0u);
}

}  // namespace
}  // namespace geodns::server::testing
