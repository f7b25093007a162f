// Pools, min_up, capacity and spillover as the loader builds them: names resolved to the
// kPoolBit encoding, shared pools joining the zones that use them, a zone's own names
// shadowing shared ones.
#include <gtest/gtest.h>

#include <string>

#include "zone/loader.h"

namespace geodns::zone {
namespace {

constexpr const char* kHead = R"([zone]
name = "example.com."
[zone.soa]
mname = "ns1.example.com."
rname = "hostmaster.example.com."
[records]
"@" = "NS ns1"
ns1 = "A 192.0.2.1"
[datacenters.fra]
addresses = ["192.0.2.10", "192.0.2.11", "192.0.2.12", "192.0.2.13"]
location = { lat = 50.11, lon = 8.68 }
min_up = "50%"
capacity = 300
[datacenters.ams]
addresses = ["192.0.2.20", "192.0.2.21"]
location = { lat = 52.37, lon = 4.9 }
min_up = 2
capacity = 100
[datacenters.iad]
addresses = ["198.51.100.10", "198.51.100.11"]
location = { lat = 38.95, lon = -77.45 }
address_weights = { "198.51.100.11" = 3 }
)";

ZonePtr load(const std::string& text, const ServerConfig& config = ServerConfig{}) {
  auto r = load_zone_text(text, "zones/example.com.toml", config, nullptr);
  EXPECT_TRUE(r.ok()) << r.error().to_string();
  return r.ok() ? *r : nullptr;
}

const steer::Pool& pool_named(const Zone& z, const std::string& name) {
  for (const auto& p : z.pools) {
    if (p.name == name) return p;
  }
  ADD_FAILURE() << "no pool " << name;
  static const steer::Pool kNone;
  return kNone;
}

uint32_t pool_ref(const Zone& z, const std::string& name) {
  for (uint32_t i = 0; i < z.pools.size(); ++i) {
    if (z.pools[i].name == name) return steer::pool_member(i);
  }
  ADD_FAILURE() << "no pool " << name;
  return 0;
}

TEST(PoolLoader, EuWeightedElseIad) {
  auto z = load(std::string(kHead) + R"([pools.eu]
policy = "weighted"
members = { fra = 70, ams = 30 }
[steer.www]
policy = "geo"
map.EU = ["eu", "iad"]
map.default = ["iad"]
spillover = true
)");
  ASSERT_TRUE(z);
  const steer::Pool& eu = pool_named(*z, "eu");
  EXPECT_EQ(eu.policy, steer::PoolPolicy::weighted);
  EXPECT_EQ(eu.members, (steer::DcList{0, 1}));
  EXPECT_EQ(eu.weights, (std::vector<uint32_t>{70, 30}));
  EXPECT_EQ(eu.capacity, 400u);  // fra 300 + ams 100
  EXPECT_NE(eu.hash_seed, 0u);
  const steer::Rule& rule = z->rules[0];
  EXPECT_TRUE(rule.spillover);
  EXPECT_TRUE(rule.depends_on_client);
  ASSERT_EQ(rule.map.size(), 2u);
  EXPECT_EQ(rule.map[0].second, (steer::DcList{pool_ref(*z, "eu"), 2}));
  EXPECT_EQ(z->datacenters[0].min_up_percent, 50u);
  EXPECT_EQ(z->datacenters[0].capacity, 300u);
  EXPECT_EQ(z->datacenters[1].min_up, 2u);
  EXPECT_EQ(z->datacenters[2].capacity, 1u);  // unset: an equal share
  EXPECT_EQ(z->datacenters[2].v4[0].weight, 1u);
  EXPECT_EQ(z->datacenters[2].v4[1].weight, 3u);
  EXPECT_TRUE(z->datacenters[2].has_address_weights);
  EXPECT_FALSE(z->datacenters[0].has_address_weights);
  EXPECT_EQ(rule.answers, 2u);
}

TEST(PoolLoader, NestedPoolsAndRoundrobinAnswersAll) {
  auto z = load(std::string(kHead) + R"([pools.near2]
policy = "nearest"
pick = 2
members = ["fra", "ams", "iad"]
[pools.other]
policy = "hashed"
members = ["fra", "ams", "iad"]
[pools.both]
policy = "roundrobin"
members = ["near2", "other"]
[steer.www]
policy = "roundrobin"
datacenters = ["both"]
[steer.api]
policy = "roundrobin"
datacenters = ["fra"]
answers = 3
)");
  ASSERT_TRUE(z);
  const steer::Pool& both = pool_named(*z, "both");
  EXPECT_EQ(both.height, 2u);
  EXPECT_EQ(both.members, (steer::DcList{pool_ref(*z, "near2"), pool_ref(*z, "other")}));
  EXPECT_TRUE(both.needs_location);
  EXPECT_TRUE(both.needs_client);
  EXPECT_EQ(pool_named(*z, "near2").pick, 2u);
  EXPECT_EQ(pool_named(*z, "other").weights, (std::vector<uint32_t>{1, 1, 1}));
  // roundrobin with answers unset: every healthy address; set: as told.
  EXPECT_EQ(z->rules[0].answers, 64u);
  EXPECT_TRUE(z->rules[0].depends_on_client);  // a pool below it needs the client
  EXPECT_EQ(z->rules[1].answers, 3u);
  EXPECT_FALSE(z->rules[1].depends_on_client);
}

TEST(PoolLoader, SharedPoolsJoinWhenUsedAndZoneNamesShadowThem) {
  auto cfg = load_server_config_text(R"([datacenters.lon]
addresses = ["192.0.2.30"]
[datacenters.par]
addresses = ["192.0.2.40"]
[pools.west]
policy = "failover"
members = ["lon", "par"]
[pools.unused]
policy = "failover"
members = ["par"]
)",
                                     "geodns.toml", "");
  ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
  auto z = load(std::string(kHead) + R"([steer.www]
policy = "failover"
datacenters = ["west", "iad"]
)",
                *cfg);
  ASSERT_TRUE(z);
  ASSERT_EQ(z->pools.size(), 1u);  // "unused" stays out
  const steer::Pool& west = z->pools[0];
  ASSERT_EQ(west.members.size(), 2u);
  EXPECT_EQ(z->datacenters[west.members[0]].name, "lon");
  EXPECT_EQ(z->datacenters[west.members[1]].name, "par");
  EXPECT_FALSE(z->rules[0].depends_on_client);

  // The zone defines its own "west": it wins over the shared one.
  auto own = load(std::string(kHead) + R"([pools.west]
policy = "roundrobin"
members = ["ams"]
[steer.www]
policy = "failover"
datacenters = ["west"]
)",
                  *cfg);
  ASSERT_TRUE(own);
  ASSERT_EQ(own->pools.size(), 1u);
  EXPECT_EQ(own->pools[0].policy, steer::PoolPolicy::roundrobin);
  EXPECT_EQ(own->pools[0].members, (steer::DcList{1}));
}

TEST(PoolLoader, SharedPoolErrors) {
  auto both = load_server_config_text(
      "[datacenters.lon]\naddresses = [\"192.0.2.30\"]\n[pools.lon]\npolicy = "
      "\"failover\"\nmembers = [\"lon\"]\n",
      "geodns.toml", "");
  ASSERT_FALSE(both.ok());
  EXPECT_EQ(both.error().line, 3u);
  EXPECT_NE(both.error().message.find("both a datacenter and a pool"), std::string::npos);

  // A shared pool naming something no zone defines fails where the zone uses it.
  auto cfg = load_server_config_text("[pools.west]\npolicy = \"failover\"\nmembers = [\"nope\"]\n",
                                     "geodns.toml", "");
  ASSERT_TRUE(cfg.ok());
  auto r = load_zone_text(std::string(kHead) +
                              "[steer.www]\npolicy = \"failover\"\ndatacenters "
                              "= [\"west\"]\n",
                          "zones/example.com.toml", *cfg, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().file, "geodns.toml");
  EXPECT_EQ(r.error().line, 3u);
  EXPECT_NE(r.error().message.find("unknown datacenter \"nope\""), std::string::npos);
}

}  // namespace
}  // namespace geodns::zone
