// Pools and capacity spillover through the real binary: answers over UDP decoded with ldns.
// fra is probed on a closed loopback port, so it is down from the first round of checks (which
// the server finishes before it answers steered names); no test waits on a timer.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "../support/edns_option.h"
#include "serve_fixture.h"

namespace geodns::test {
namespace {

std::string zone_text(uint16_t closed_port) {
  return R"([zone]
name = "pools.test."
[zone.soa]
mname = "ns1.pools.test."
rname = "hostmaster.pools.test."
[records]
"@" = ["NS ns1.pools.test."]
ns1 = "A 192.0.2.53"

[checks.dead]
type = "tcp"
probe_address = "127.0.0.1"
probe_port = )" +
         std::to_string(closed_port) +
         R"(
interval = "1s"
timeout = "200ms"
fall = 1
rise = 1

[datacenters.fra]
addresses = ["192.0.2.10"]
location = { lat = 50.11, lon = 8.68 }
capacity = 500
check = "dead"
[datacenters.ams]
addresses = ["192.0.2.20", "2001:db8:a::20"]
location = { lat = 52.37, lon = 4.9 }
capacity = 100
[datacenters.par]
addresses = ["192.0.2.30", "2001:db8:b::30"]
location = { lat = 48.86, lon = 2.35 }
capacity = 300
[datacenters.iad]
addresses = ["198.51.100.10", "198.51.100.11", "198.51.100.12"]
location = { lat = 38.95, lon = -77.45 }

[pools.eu]
policy = "weighted"
members = { ams = 70, par = 30 }

[pools.sticky]
policy = "hashed"
members = ["ams", "par"]

# EU: 70 % ams / 30 % par, else iad.
[steer.www]
policy = "geo"
ttl = 300
map.EU = ["eu", "iad"]
map.default = ["iad"]

# fra is down: its clients spread over ams and par by capacity (1:3), per client subnet.
[steer.spill]
policy = "failover"
ttl = 300
spillover = true
datacenters = ["fra", "ams", "par"]

[steer.sticky]
policy = "failover"
datacenters = ["sticky"]

# Its only candidate (fra) is down: on_all_down names a pool, which answers by its policy.
[pools.backup]
policy = "failover"
members = ["par", "ams"]
[steer.fallback]
policy = "failover"
ttl = 300
datacenters = ["fra"]
on_all_down = "backup"

# roundrobin answers every healthy address unless `answers` says otherwise.
[steer.all]
policy = "roundrobin"
datacenters = ["iad", "ams"]
)";
}

struct Answer {
  std::set<std::string> addresses;
  uint32_t ttl = 0;
  int scope = -1;  // the ECS scope of the response
};

Answer ask(Server& s, const std::string& name, ldns_rr_type type, const std::string& subnet) {
  QueryOptions q;
  q.edns_payload = 1232;
  q.edns_options = ecs_option(subnet);
  Answer a;
  auto p = s.udp(name, type, q);
  if (!p) return a;
  const ldns_rr_list* an = ldns_pkt_answer(p.get());
  for (size_t i = 0; i < ldns_rr_list_rr_count(an); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(an, i);
    char* text = ldns_rdf2str(ldns_rr_rdf(rr, 0));
    a.addresses.insert(text);
    free(text);
    a.ttl = ldns_rr_ttl(rr);
  }
  const auto ecs = geodns::testing::edns_option(p.get(), 8);
  if (ecs.size() >= 4) a.scope = ecs[3];
  return a;
}

std::string eu_subnet(int i) {  // 46.4.0.0/16 is DE in the demo database
  return "46.4." + std::to_string(i) + ".0/24";
}

class PoolsServe : public ::testing::Test {
 protected:
  void SetUp() override {
    zones_.write("pools.test.toml", zone_text(free_port()));
    ServeOptions o;
    o.zones_dir = zones_.path();
    o.v6 = false;
    server_ = std::make_unique<Server>(o);
    ASSERT_TRUE(server_->ready) << server_->process->stderr_text();
  }
  TempDir zones_;
  std::unique_ptr<Server> server_;
};

TEST_F(PoolsServe, SpilloverSpreadsTheDownDatacenterByCapacityPerSubnet) {
  std::map<std::string, int> hits;
  constexpr int kSubnets = 400;
  for (int i = 0; i < kSubnets; ++i) {
    const std::string subnet =
        "10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".0/24";
    const Answer a = ask(*server_, "spill.pools.test", LDNS_RR_TYPE_A, subnet);
    ASSERT_EQ(a.addresses.size(), 1u) << subnet;
    ASSERT_EQ(a.addresses.count("192.0.2.10"), 0u);  // fra is down
    EXPECT_EQ(a.ttl, 10u);                           // health changed this answer
    EXPECT_EQ(a.scope, 24);                          // a per-subnet decision
    ++hits[*a.addresses.begin()];
    // The same subnet gets the same answer again.
    ASSERT_EQ(ask(*server_, "spill.pools.test", LDNS_RR_TYPE_A, subnet).addresses, a.addresses);
  }
  // ams:par = 100:300; 400 subnets give a wide enough estimate for +-8 %.
  EXPECT_NEAR(hits["192.0.2.20"] / double(kSubnets), 0.25, 0.08);
  EXPECT_NEAR(hits["192.0.2.30"] / double(kSubnets), 0.75, 0.08);
}

TEST_F(PoolsServe, OnAllDownNamesAPool) {
  const Answer a = ask(*server_, "fallback.pools.test", LDNS_RR_TYPE_A, "10.9.9.0/24");
  EXPECT_EQ(a.addresses, (std::set<std::string>{"192.0.2.30"}));  // the pool's first: par
  EXPECT_EQ(a.ttl, 10u);  // failing over to the fallback is a degraded answer
}

TEST_F(PoolsServe, WeightedPoolInAGeoMapAndHashedStickiness) {
  // EU clients get ams or par (never iad, both are up) with the full TTL; others iad.
  std::set<std::string> seen;
  for (int i = 0; i < 40; ++i) {
    const Answer a = ask(*server_, "www.pools.test", LDNS_RR_TYPE_A, eu_subnet(i));
    ASSERT_EQ(a.addresses.size(), 1u);
    EXPECT_EQ(a.ttl, 300u);  // fra's failure does not touch this name
    seen.insert(*a.addresses.begin());
  }
  // Weighted picks are sticky per resolver (the packet source, here always 127.0.0.1), so
  // every client behind it sees the same datacenter: A and AAAA can never disagree.
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(*seen.begin() == "192.0.2.20" || *seen.begin() == "192.0.2.30") << *seen.begin();
  const Answer us = ask(*server_, "www.pools.test", LDNS_RR_TYPE_A, "8.8.8.0/24");
  EXPECT_EQ(us.addresses.size(), 2u);  // iad, answers = 2
  for (const auto& s : us.addresses) EXPECT_EQ(s.rfind("198.51.100.", 0), 0u) << s;
  // Hashed: one /24 keeps its datacenter, and AAAA comes from the same one as A.
  const Answer first = ask(*server_, "sticky.pools.test", LDNS_RR_TYPE_A, "81.2.69.0/24");
  ASSERT_EQ(first.addresses.size(), 1u);
  EXPECT_EQ(first.scope, 24);
  for (int q = 0; q < 20; ++q) {
    ASSERT_EQ(ask(*server_, "sticky.pools.test", LDNS_RR_TYPE_A, "81.2.69.0/24").addresses,
              first.addresses);
  }
  const Answer v6 = ask(*server_, "sticky.pools.test", LDNS_RR_TYPE_AAAA, "81.2.69.0/24");
  ASSERT_EQ(v6.addresses.size(), 1u);
  EXPECT_EQ(*v6.addresses.begin(),
            *first.addresses.begin() == "192.0.2.20" ? "2001:db8:a::20" : "2001:db8:b::30");
}

TEST_F(PoolsServe, RoundrobinAnswersEveryHealthyAddressByDefault) {
  const Answer a = ask(*server_, "all.pools.test", LDNS_RR_TYPE_A, "8.8.8.0/24");
  EXPECT_EQ(a.addresses, (std::set<std::string>{"198.51.100.10", "198.51.100.11", "198.51.100.12",
                                                "192.0.2.20"}));
  EXPECT_EQ(a.scope, 0);
}

}  // namespace
}  // namespace geodns::test
