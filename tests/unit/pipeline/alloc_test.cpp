// Proves that answering a query allocates nothing: operator new/delete are replaced for this
// binary and counted while the pipeline answers static, negative and geo+ECS queries.
#include <gtest/gtest.h>
#include <openssl/crypto.h>

#include "../../support/alloc_counter.h"
#include "answers_fixture.h"
#include "dnssec_fixture.h"
#include "fixture.h"

using geodns::testing::g_allocations;
using geodns::testing::g_count_allocations;

namespace geodns::server::testing {
namespace {

// OpenSSL allocates with malloc, not operator new: its allocations are counted through its
// own hooks, installed before it allocates anything (static initialisation, before main).
std::atomic<uint64_t> g_openssl_allocations{0};
void* counting_malloc(size_t n, const char*, int) {
  if (g_count_allocations.load(std::memory_order_relaxed)) g_openssl_allocations.fetch_add(1);
  return std::malloc(n);
}
void* counting_realloc(void* p, size_t n, const char*, int) {
  if (g_count_allocations.load(std::memory_order_relaxed)) g_openssl_allocations.fetch_add(1);
  return std::realloc(p, n);
}
void counting_free(void* p, const char*, int) {
  std::free(p);
}
const bool g_openssl_hooked =
    CRYPTO_set_mem_functions(counting_malloc, counting_realloc, counting_free) == 1;

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
  // The per-zone index the pipeline uses holds the same tables as the search by rule.
  for (const auto& z : f.zones->zones) {
    const auto tables = compiled.value()->tables_of(z.get());
    for (size_t i = 0; i < z->rules.size(); ++i) {
      EXPECT_EQ(i < tables.size() ? tables[i] : nullptr, compiled.value()->find(&z->rules[i]));
    }
  }
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

// DNSSEC (issue 13): a DO query of a signed zone allocates nothing for static RRSIGs, nor for
// online ones once the worker's signature cache holds them (steered answers in every
// rotation, compact denial of a name asked before). The first round warms the cache.
TEST(PipelineAllocations, NoHeapAllocationForSignedAnswersWithWarmCache) {
#if GEODNS_UNDER_ASAN
  GTEST_SKIP() << "ASan owns the allocator";
#endif
  SignedPipelineFixture f;
  ASSERT_EQ(f.error, "");
  std::vector<std::vector<uint8_t>> queries;
  for (const auto& [name, type] : std::vector<std::pair<const char*, uint16_t>>{
           {"static.signed.test", dns::rrtype::A},         // static RRSIG
           {"signed.test", dns::rrtype::MX},               // static, additional signed
           {"chain.signed.test", dns::rrtype::A},          // CNAME chain
           {"www.signed.test", dns::rrtype::A},            // steered roundrobin (cache)
           {"geo.signed.test", dns::rrtype::AAAA},         // steered geo (cache)
           {"cdn.signed.test", dns::rrtype::A},            // steered CNAME (cache)
           {"x.wild.signed.test", dns::rrtype::A},         // wildcard, online (cache)
           {"nope.signed.test", dns::rrtype::A},           // compact NXDOMAIN (cache)
           {"static.signed.test", dns::rrtype::MX},        // NODATA (cache)
           {"host.insecure.signed.test", dns::rrtype::A},  // NSEC proving no DS (cache)
           {"host.secure.signed.test", dns::rrtype::A},    // signed DS
       }) {
    auto b = SignedPipelineFixture::dnssec_query(name, type);
    b.ecs(1, 24, 0, {81, 2, 69});
    queries.push_back(b.build());
  }
  std::vector<uint8_t> out(65535);
  ClientInfo ci;
  ci.address = *IpAddress::parse("192.0.2.1");
  // Every rotation of the steered names signed once (the cache is keyed by content).
  for (int warm = 0; warm < 64; ++warm) {
    for (const auto& q : queries) f.pipeline->respond(q, ci, out);
  }
  const uint64_t misses = f.counters.dnssec.cache_misses.load();
  ASSERT_TRUE(g_openssl_hooked);
  g_openssl_allocations = 0;
  const Counted c = respond_counting(*f.pipeline, queries, ci, out);
  EXPECT_GT(c.bytes, 0u);
  EXPECT_EQ(c.allocations, 0u);
  EXPECT_EQ(g_openssl_allocations.load(), 0u);
  EXPECT_EQ(f.counters.dnssec.cache_misses.load(), misses);  // every one a hit
  EXPECT_GT(f.counters.dnssec.cache_hits.load(), 0u);
}

// A cache miss signs on the packet path; OpenSSL may allocate inside its signing call. Not a
// limit, a measurement: recorded (and printed) per miss, so a change shows in the test log.
TEST(PipelineAllocations, SignatureCacheMissAllocationsMeasured) {
#if GEODNS_UNDER_ASAN
  GTEST_SKIP() << "ASan owns the allocator";
#endif
  for (const auto alg : {dnssec::Algorithm::ecdsap256sha256, dnssec::Algorithm::ed25519}) {
    SignedPipelineFixture f(alg);
    ASSERT_EQ(f.error, "");
    std::vector<std::vector<uint8_t>> queries;
    for (int i = 0; i < 100; ++i) {  // distinct nonexistent names: one signature each
      auto b = SignedPipelineFixture::dnssec_query("n" + std::to_string(i) + ".signed.test",
                                                   dns::rrtype::A);
      queries.push_back(b.build());
    }
    std::vector<uint8_t> out(65535);
    ClientInfo ci;
    ci.address = *IpAddress::parse("192.0.2.1");
    ASSERT_TRUE(g_openssl_hooked);
    g_count_allocations = true;
    g_allocations = 0;
    g_openssl_allocations = 0;
    for (const auto& q : queries) f.pipeline->respond(q, ci, out);
    g_count_allocations = false;
    const uint64_t allocations = g_allocations.load() + g_openssl_allocations.load();
    EXPECT_EQ(f.counters.dnssec.signed_online.load(), queries.size());
    const double per_miss = static_cast<double>(allocations) / static_cast<double>(queries.size());
    std::printf(
        "signature cache miss (%s): %.1f allocations per signature (%.1f in OpenSSL)\n",
        alg == dnssec::Algorithm::ed25519 ? "Ed25519" : "ECDSA P-256", per_miss,
        static_cast<double>(g_openssl_allocations.load()) / static_cast<double>(queries.size()));
    ::testing::Test::RecordProperty(alg == dnssec::Algorithm::ed25519
                                        ? "ed25519_allocations_per_miss"
                                        : "ecdsa_allocations_per_miss",
                                    std::to_string(per_miss));
  }
}

}  // namespace
}  // namespace geodns::server::testing
