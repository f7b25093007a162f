#include "steer/policy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "steer/target.h"

namespace geodns::steer {
namespace {

// One id per datacenter name, as a load's table would give them.
IdTable& test_dc_ids() {
  static IdTable t;
  return t;
}

IpAddress ip(const char* s) {
  return *IpAddress::parse(s);
}

Datacenter make_dc(const char* name, std::vector<const char*> addrs, double lat, double lon,
                   TargetId* next_target) {
  Datacenter dc;
  dc.name = name;
  dc.id = test_dc_ids().intern(name);
  for (const char* a : addrs) {
    DcAddress d{ip(a), (*next_target)++};
    (d.ip.is_v4() ? dc.v4 : dc.v6).push_back(d);
  }
  dc.has_location = true;
  dc.latitude = lat;
  dc.longitude = lon;
  return dc;
}

geo::Location located(const char* country, const char* continent, const char* sub, double lat,
                      double lon, uint8_t prefix) {
  geo::Location l;
  l.found = true;
  l.country = {country[0], country[1]};
  l.continent = {continent[0], continent[1]};
  for (size_t i = 0; i < 3 && sub[i] != 0; ++i) l.subdivision[i] = sub[i];
  l.has_coordinates = true;
  l.latitude = lat;
  l.longitude = lon;
  l.prefix_length = prefix;
  return l;
}

class PolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TargetId t = 100000;
    dcs_ = {make_dc("fra", {"192.0.2.10", "192.0.2.11", "2001:db8:f::10"}, 50.11, 8.68, &t),
            make_dc("iad", {"198.51.100.10", "198.51.100.11"}, 38.95, -77.45, &t),
            make_dc("sin", {"203.0.113.10", "2001:db8:5::10"}, 1.35, 103.82, &t),
            make_dc("sfo", {"203.0.113.30"}, 37.77, -122.42, &t)};
  }
  Rule geo_rule() {
    Rule r;
    r.owner = "www.example.com.";
    r.policy = Policy::geo;
    r.ttl_s = 30;
    r.degraded_ttl_s = 10;
    r.answers = 2;
    r.map = {{"EU", {0, 1}},    {"NA", {1, 0}}, {"US", {1}},
             {"US-CA", {3, 1}}, {"AS", {2, 0}}, {"default", {1, 0}}};
    r.nets = {{*IpPrefix::parse("203.0.113.0/24"), {2}}};
    EXPECT_TRUE(r.compile(dcs_.size()));
    return r;
  }
  Decision run(const Rule& r, uint8_t family, const char* client, const geo::Location* loc,
               uint8_t max_scope = 24, uint64_t rotation = 0, Trace* trace = nullptr) {
    ClientView v;
    v.address = ip(client);
    v.max_scope = max_scope;
    v.location = loc;
    Decision d;
    evaluate(r, dcs_, family, v, health_, rotation, &d, trace);
    return d;
  }
  std::vector<std::string> addrs(const Decision& d) {
    std::vector<std::string> out;
    for (uint32_t i = 0; i < d.count; ++i) out.push_back(d.addresses[i]->to_string());
    std::sort(out.begin(), out.end());
    return out;
  }
  void down(size_t dc, size_t index, uint8_t family = 4) {
    const auto& v = family == 4 ? dcs_[dc].v4 : dcs_[dc].v6;
    health_.set_target_up(v[index].target, false);
  }
  std::vector<Datacenter> dcs_;
  HealthView health_;
};

TEST_F(PolicyTest, GeoPrecedenceNetsSubdivisionCountryContinentDefault) {
  const Rule r = geo_rule();
  auto ca = located("US", "NA", "CA", 37.4, -122.1, 24);
  EXPECT_EQ(run(r, 4, "8.8.8.8", &ca).dc, 3);  // US-CA
  auto va = located("US", "NA", "VA", 39.0, -77.5, 24);
  EXPECT_EQ(run(r, 4, "198.51.100.1", &va).dc, 1);  // US
  auto canada = located("CA", "NA", "QC", 45.5, -73.6, 16);
  EXPECT_EQ(run(r, 4, "24.48.0.1", &canada).dc, 1);  // NA
  auto gb = located("GB", "EU", "ENG", 51.5, -0.1, 24);
  EXPECT_EQ(run(r, 4, "81.2.69.160", &gb).dc, 0);  // EU
  auto br = located("BR", "SA", "SP", -23.5, -46.6, 20);
  EXPECT_EQ(run(r, 4, "200.160.0.1", &br).dc, 1);  // default
  // nets beat everything, even a located client.
  EXPECT_EQ(run(r, 4, "203.0.113.99", &gb).dc, 2);
  // No database, or not found: default.
  EXPECT_EQ(run(r, 4, "81.2.69.160", nullptr).dc, 1);
  geo::Location miss;
  miss.prefix_length = 8;
  EXPECT_EQ(run(r, 4, "10.1.2.3", &miss).dc, 1);
}

TEST_F(PolicyTest, GeoAnswersHealthyAddressesCappedAndTtl) {
  const Rule r = geo_rule();
  auto gb = located("GB", "EU", "ENG", 51.5, -0.1, 24);
  Decision d = run(r, 4, "81.2.69.160", &gb);
  EXPECT_EQ(addrs(d), (std::vector<std::string>{"192.0.2.10", "192.0.2.11"}));
  EXPECT_EQ(d.ttl_s, 30u);
  EXPECT_FALSE(d.degraded);
  down(0, 0);
  d = run(r, 4, "81.2.69.160", &gb);
  EXPECT_EQ(addrs(d), (std::vector<std::string>{"192.0.2.11"}));
  EXPECT_EQ(d.ttl_s, 10u);  // degraded: short TTL so resolvers come back soon
  EXPECT_TRUE(d.degraded);
}

TEST_F(PolicyTest, GeoFallsThroughToNextDatacenter) {
  const Rule r = geo_rule();
  auto gb = located("GB", "EU", "ENG", 51.5, -0.1, 24);
  down(0, 0);
  down(0, 1);
  Decision d = run(r, 4, "81.2.69.160", &gb);
  EXPECT_EQ(d.dc, 1);
  EXPECT_EQ(addrs(d), (std::vector<std::string>{"198.51.100.10", "198.51.100.11"}));
  EXPECT_FALSE(d.failed_open);
  // fra still has a healthy v6 address: AAAA keeps answering from fra.
  d = run(r, 6, "81.2.69.160", &gb);
  EXPECT_EQ(d.dc, 0);
  EXPECT_EQ(addrs(d), (std::vector<std::string>{"2001:db8:f::10"}));
}

TEST_F(PolicyTest, AaaaSkipsDatacentersWithoutV6) {
  const Rule r = geo_rule();
  auto va = located("US", "NA", "VA", 39.0, -77.5, 24);
  // US -> [iad]; iad has no IPv6: NODATA rather than a wrong-family answer.
  Decision d = run(r, 6, "198.51.100.1", &va);
  EXPECT_TRUE(d.nodata);
  EXPECT_EQ(d.count, 0u);
  auto ca = located("CA", "NA", "QC", 45.5, -73.6, 16);
  d = run(r, 6, "24.48.0.1", &ca);  // NA -> [iad, fra]: fra has v6
  EXPECT_EQ(d.dc, 0);
}

TEST_F(PolicyTest, AllDownFailsOpenByDefault) {
  const Rule r = geo_rule();
  auto gb = located("GB", "EU", "ENG", 51.5, -0.1, 24);
  for (size_t i = 0; i < 2; ++i) {
    down(0, i);
    down(1, i);
  }
  Decision d = run(r, 4, "81.2.69.160", &gb);
  EXPECT_TRUE(d.failed_open);
  EXPECT_EQ(d.dc, 0);
  EXPECT_EQ(d.count, 2u);  // never an accidental empty answer
  EXPECT_EQ(d.ttl_s, 10u);
}

TEST_F(PolicyTest, AllDownNodataAndFallback) {
  Rule r = geo_rule();
  r.on_all_down = AllDown::nodata;
  ASSERT_TRUE(r.compile(dcs_.size()));
  auto gb = located("GB", "EU", "ENG", 51.5, -0.1, 24);
  for (size_t i = 0; i < 2; ++i) {
    down(0, i);
    down(1, i);
  }
  Decision d = run(r, 4, "81.2.69.160", &gb);
  EXPECT_TRUE(d.nodata);
  EXPECT_EQ(d.count, 0u);
  r.on_all_down = AllDown::fallback;
  r.fallback_dc = 3;
  ASSERT_TRUE(r.compile(dcs_.size()));
  d = run(r, 4, "81.2.69.160", &gb);
  EXPECT_EQ(d.dc, 3);
  EXPECT_EQ(addrs(d), (std::vector<std::string>{"203.0.113.30"}));
}

TEST_F(PolicyTest, OverridesDrainAndForceUp) {
  const Rule r = geo_rule();
  auto gb = located("GB", "EU", "ENG", 51.5, -0.1, 24);
  health_.set_dc_override(dcs_[0].id, Override::force_down);
  EXPECT_EQ(run(r, 4, "81.2.69.160", &gb).dc, 1);
  health_.set_dc_override(dcs_[0].id, Override::force_up);
  down(0, 0);
  down(0, 1);
  Decision d = run(r, 4, "81.2.69.160", &gb);
  EXPECT_EQ(d.dc, 0);
  EXPECT_EQ(d.count, 2u);
  health_.set_dc_override(dcs_[0].id, Override::none);
}

TEST_F(PolicyTest, EcsScopeIsTheDecidingNetworkNarrowedByInnerNets) {
  const Rule r = geo_rule();
  // Decided by a /16 database network that contains the 203.0.113.0/24 nets entry? No:
  // use a client in 203.0.0.0/16 outside the nets entry.
  auto jp = located("JP", "AS", "13", 35.7, 139.7, 16);
  Decision d = run(r, 4, "203.0.5.1", &jp);
  EXPECT_EQ(d.dc, 2);
  // 203.0.5.1 and 203.0.113.0 share 17 bits (203.0.0.0/17): the scope must exclude the /24.
  EXPECT_EQ(d.scope, 18);
  // Decided by the nets entry itself: its length.
  d = run(r, 4, "203.0.113.7", &jp);
  EXPECT_EQ(d.scope, 24);
  // Capped by what the client revealed.
  d = run(r, 4, "203.0.113.7", &jp, 20);
  EXPECT_EQ(d.scope, 20);
  // A plain /24 database decision.
  auto gb = located("GB", "EU", "ENG", 51.5, -0.1, 24);
  EXPECT_EQ(run(r, 4, "81.2.69.160", &gb).scope, 24);
}

TEST_F(PolicyTest, NearestOrdersByDistance) {
  Rule r;
  r.policy = Policy::nearest;
  r.datacenters = {0, 1, 2, 3};
  r.answers = 1;
  ASSERT_TRUE(r.compile(dcs_.size()));
  auto tokyo = located("JP", "AS", "13", 35.68, 139.69, 24);
  Trace t;
  Decision d = run(r, 4, "203.0.5.1", &tokyo, 24, 0, &t);
  EXPECT_EQ(d.dc, 2);  // Singapore
  ASSERT_EQ(t.candidates.size(), 4u);
  EXPECT_EQ(t.candidates[0].dc, 2u);
  EXPECT_EQ(t.candidates[1].dc, 3u);  // San Francisco next
  EXPECT_LT(t.candidates[0].distance_km, t.candidates[1].distance_km);
  auto london = located("GB", "EU", "ENG", 51.5, -0.1, 24);
  EXPECT_EQ(run(r, 4, "81.2.69.1", &london).dc, 0);
  down(0, 0);
  down(0, 1);
  EXPECT_EQ(run(r, 4, "81.2.69.1", &london).dc, 1);  // next nearest: Ashburn
  // Unknown location: configured order.
  EXPECT_EQ(run(r, 4, "10.0.0.1", nullptr).dc, 1);
}

TEST_F(PolicyTest, FailoverIsOrderedAndClientIndependent) {
  Rule r;
  r.policy = Policy::failover;
  r.datacenters = {1, 0};
  ASSERT_TRUE(r.compile(dcs_.size()));
  auto gb = located("GB", "EU", "ENG", 51.5, -0.1, 24);
  Decision d = run(r, 4, "81.2.69.1", &gb);
  EXPECT_EQ(d.dc, 1);
  EXPECT_EQ(d.scope, 0);
  down(1, 0);
  down(1, 1);
  EXPECT_EQ(run(r, 4, "81.2.69.1", &gb).dc, 0);
}

TEST_F(PolicyTest, WeightedDistributionWithinBounds) {
  Rule r;
  r.policy = Policy::weighted;
  r.datacenters = {0, 1};
  r.weights = {3, 1};
  r.answers = 1;
  ASSERT_TRUE(r.compile(dcs_.size()));
  // The pick is sticky per resolver (so A and AAAA agree); weights hold over resolvers.
  std::map<int, int> hits;
  constexpr int kN = 40000;
  auto resolver = [](int i) {
    return IpAddress::v4(10, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8),
                         static_cast<uint8_t>(i));
  };
  for (int i = 0; i < kN; ++i) {
    ClientView v;
    v.address = resolver(i);
    Decision d;
    evaluate(r, dcs_, 4, v, health_, static_cast<uint64_t>(i), &d);
    ++hits[d.dc];
    EXPECT_EQ(d.scope, 0);  // the same answer for every client of the resolver
  }
  EXPECT_NEAR(hits[0] / double(kN), 0.75, 0.02);
  EXPECT_NEAR(hits[1] / double(kN), 0.25, 0.02);
  // The same resolver keeps its datacenter whatever the rotation.
  const int first = run(r, 4, "8.8.8.8", nullptr, 24, 0).dc;
  for (int i = 1; i < 1000; ++i) ASSERT_EQ(run(r, 4, "8.8.8.8", nullptr, 24, i).dc, first);
  // A down datacenter gets nothing while another is healthy.
  down(1, 0);
  down(1, 1);
  hits.clear();
  for (int i = 0; i < 1000; ++i) {
    ClientView v;
    v.address = resolver(i);
    Decision d;
    evaluate(r, dcs_, 4, v, health_, 0, &d);
    ++hits[d.dc];
  }
  EXPECT_EQ(hits[0], 1000);
}

TEST_F(PolicyTest, RoundRobinRotatesEveryHealthyAddress) {
  Rule r;
  r.policy = Policy::roundrobin;
  r.datacenters = {0, 1};
  r.answers = 1;
  ASSERT_TRUE(r.compile(dcs_.size()));
  std::map<std::string, int> first;
  constexpr int kN = 4000;
  for (int i = 0; i < kN; ++i)
    ++first[run(r, 4, "8.8.8.8", nullptr, 24, i).addresses[0]->to_string()];
  ASSERT_EQ(first.size(), 4u);
  for (const auto& [a, n] : first) EXPECT_NEAR(n / double(kN), 0.25, 0.03) << a;
  down(1, 1);
  first.clear();
  for (int i = 0; i < 300; ++i)
    ++first[run(r, 4, "8.8.8.8", nullptr, 24, i).addresses[0]->to_string()];
  EXPECT_EQ(first.count("198.51.100.11"), 0u);
  EXPECT_EQ(first.size(), 3u);
}

TEST_F(PolicyTest, AnswersCapsTheCount) {
  Rule r;
  r.policy = Policy::roundrobin;
  r.datacenters = {0, 1};
  r.answers = 3;
  ASSERT_TRUE(r.compile(dcs_.size()));
  EXPECT_EQ(run(r, 4, "8.8.8.8", nullptr).count, 3u);
  r.answers = 10;
  ASSERT_TRUE(r.compile(dcs_.size()));
  EXPECT_EQ(run(r, 4, "8.8.8.8", nullptr).count, 4u);
}

// evaluate() answers most queries (a plain ordered list whose first candidate is up) without
// the general Selector; with a Trace it always takes the general path. Both must give the same
// decision in every health state: random ones here, over geo, nearest and failover rules.
TEST_F(PolicyTest, ShortcutDecidesAsTheGeneralPath) {
  dcs_[0].min_up = 2;                  // fra: up for IPv4 only while both addresses are
  dcs_[1].has_address_weights = true;  // iad: weighted first address
  dcs_[1].v4[0].weight = 3;
  Rule geo = geo_rule();
  Rule nearest;
  nearest.policy = Policy::nearest;
  nearest.datacenters = {0, 1, 2, 3};
  ASSERT_TRUE(nearest.compile(dcs_.size()));
  Rule failover;
  failover.policy = Policy::failover;
  failover.depends_on_client = false;
  failover.datacenters = {3, 2, 0, 1};
  ASSERT_TRUE(failover.compile(dcs_.size()));
  const auto gb = located("GB", "EU", "ENG", 51.5, -0.1, 24);
  const auto va = located("US", "NA", "VA", 39.0, -77.5, 16);
  std::vector<TargetId> targets;
  for (const Datacenter& dc : dcs_) {
    for (const auto& a : dc.v4) targets.push_back(a.target);
    for (const auto& a : dc.v6) targets.push_back(a.target);
  }
  uint64_t x = 42;
  auto next = [&x]() {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return x >> 33;
  };
  int compared = 0;
  for (int round = 0; round < 400; ++round) {
    health_ = HealthView();
    // Mostly healthy, as in service, so that both paths are taken often.
    for (TargetId t : targets) health_.set_target_up(t, next() % 5 != 0);
    if (next() % 8 == 0) health_.set_dc_override(dcs_[next() % 4].id, Override::force_down);
    if (next() % 8 == 0) health_.set_dc_override(dcs_[next() % 4].id, Override::force_up);
    for (const Rule* r : {&geo, &nearest, &failover}) {
      for (const geo::Location* loc : {&gb, &va}) {
        for (uint8_t family : {uint8_t{4}, uint8_t{6}}) {
          const uint64_t rotation = next();
          Trace trace;
          const Decision fast = run(*r, family, "81.2.69.160", loc, 24, rotation);
          const Decision general = run(*r, family, "81.2.69.160", loc, 24, rotation, &trace);
          SCOPED_TRACE(::testing::Message() << "round " << round << " " << policy_name(r->policy)
                                            << " family " << int{family});
          ASSERT_EQ(fast.count, general.count);
          for (uint32_t i = 0; i < fast.count; ++i) {
            EXPECT_EQ(*fast.addresses[i], *general.addresses[i]);
          }
          EXPECT_EQ(fast.dc, general.dc);
          EXPECT_EQ(fast.dc_count, general.dc_count);
          EXPECT_EQ(fast.ttl_s, general.ttl_s);
          EXPECT_EQ(fast.scope, general.scope);
          EXPECT_EQ(fast.degraded, general.degraded);
          EXPECT_EQ(fast.failed_open, general.failed_open);
          EXPECT_EQ(fast.nodata, general.nodata);
          EXPECT_EQ(fast.per_subnet, general.per_subnet);
          ++compared;
        }
      }
    }
  }
  EXPECT_EQ(compared, 400 * 3 * 2 * 2);
}

}  // namespace
}  // namespace geodns::steer
