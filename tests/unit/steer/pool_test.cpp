// Pools and composition, hashed stickiness, capacity spillover, min_up, the degraded TTL and
// A/AAAA pairing: the steering v2 semantics, without sockets.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "steer/policy.h"
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

// Client number i as a distinct /24 (10.x.y.0/24 and 2001:db8:x:y00::/56 for IPv6 tests).
IpAddress subnet(int i) {
  return IpAddress::v4(static_cast<uint8_t>(10 + (i >> 16)), static_cast<uint8_t>(i >> 8),
                       static_cast<uint8_t>(i), 0);
}

geo::Location located(const char* country, const char* continent, double lat, double lon) {
  geo::Location l;
  l.found = true;
  l.country = {country[0], country[1]};
  l.continent = {continent[0], continent[1]};
  l.has_coordinates = true;
  l.latitude = lat;
  l.longitude = lon;
  l.prefix_length = 16;
  return l;
}

class PoolTest : public ::testing::Test {
 protected:
  uint32_t dc(const char* name, std::vector<const char*> addrs, double lat, double lon,
              uint32_t capacity = 1) {
    Datacenter d;
    d.name = name;
    d.id = test_dc_ids().intern(name);
    for (const char* a : addrs) {
      DcAddress x{ip(a), next_target_++};
      (x.ip.is_v4() ? d.v4 : d.v6).push_back(x);
    }
    d.has_location = true;
    d.latitude = lat;
    d.longitude = lon;
    d.capacity = capacity;
    d.hash_seed = name_hash(name);
    dcs_.push_back(d);
    return static_cast<uint32_t>(dcs_.size() - 1);
  }
  uint32_t pool(const char* name, PoolPolicy policy, DcList members,
                std::vector<uint32_t> weights = {}, uint32_t pick = 1, bool spillover = false) {
    Pool p;
    p.name = name;
    p.policy = policy;
    p.members = std::move(members);
    p.weights = std::move(weights);
    p.pick = pick;
    p.spillover = spillover;
    pools_.push_back(p);
    return pool_member(static_cast<uint32_t>(pools_.size() - 1));
  }
  void compile(Rule& r) {
    ASSERT_TRUE(compile_pools(pools_, dcs_));
    Status st = r.compile(dcs_.size(), pools_);
    ASSERT_TRUE(st) << st.error().message;
  }
  // `client` is the ECS /24 (or the source when there is no ECS); `resolver` the packet source.
  Decision run(const Rule& r, uint8_t family, const IpAddress& client,
               const geo::Location* loc = nullptr, uint64_t rotation = 0, Trace* trace = nullptr,
               const IpAddress* resolver = nullptr) {
    ClientView v;
    v.address = client;
    v.source = resolver != nullptr ? *resolver : client;
    v.max_scope = 24;
    v.location = loc;
    Decision d;
    evaluate(r, Fleet{dcs_, pools_}, family, v, health_, rotation, &d, trace);
    return d;
  }
  void down(uint32_t d, size_t index, uint8_t family = 4) {
    const auto& v = family == 4 ? dcs_[d].v4 : dcs_[d].v6;
    health_.set_target_up(v[index].target, false);
  }
  void down_all(uint32_t d) {
    for (size_t i = 0; i < dcs_[d].v4.size(); ++i) down(d, i, 4);
    for (size_t i = 0; i < dcs_[d].v6.size(); ++i) down(d, i, 6);
  }
  void drain(uint32_t d) { health_.set_dc_override(dcs_[d].id, Override::force_down); }
  std::set<uint32_t> dcs_of(const Decision& d) { return {d.dcs, d.dcs + d.dc_count}; }

  std::vector<Datacenter> dcs_;
  std::vector<Pool> pools_;
  HealthView health_;
  TargetId next_target_ = 500000;
};

constexpr int kClients = 40000;

// "EU: 70 % fra / 30 % ams, else iad".
TEST_F(PoolTest, EuSeventyThirtyElseIad) {
  const uint32_t fra = dc("fra", {"192.0.2.10", "2001:db8:f::10"}, 50.1, 8.7);
  const uint32_t ams = dc("ams", {"192.0.2.20", "2001:db8:a::20"}, 52.4, 4.9);
  const uint32_t iad = dc("iad", {"198.51.100.10"}, 38.9, -77.4);
  const uint32_t eu = pool("eu", PoolPolicy::weighted, {fra, ams}, {70, 30});
  Rule r;
  r.policy = Policy::geo;
  r.map = {{"EU", {eu, iad}}, {"default", {iad}}};
  compile(r);
  const auto de = located("DE", "EU", 50, 8);
  std::map<int32_t, int> hits;
  for (int i = 0; i < kClients; ++i) {
    const Decision d = run(r, 4, subnet(i), &de);
    ++hits[d.dc];
    ASSERT_FALSE(d.degraded);
  }
  EXPECT_NEAR(hits[fra] / double(kClients), 0.70, 0.02);
  EXPECT_NEAR(hits[ams] / double(kClients), 0.30, 0.02);
  EXPECT_EQ(hits[iad], 0);
  // fra down: the pool answers with ams for everyone (only fra's clients move, short TTL).
  down_all(fra);
  int moved_degraded = 0;
  for (int i = 0; i < 2000; ++i) {
    const Decision d = run(r, 4, subnet(i), &de);
    ASSERT_EQ(d.dc, static_cast<int32_t>(ams));
    moved_degraded += d.degraded ? 1 : 0;
  }
  EXPECT_NEAR(moved_degraded / 2000.0, 0.70, 0.04);  // ams's own clients keep the long TTL
  // The whole pool down: else iad.
  down_all(ams);
  EXPECT_EQ(run(r, 4, subnet(1), &de).dc, static_cast<int32_t>(iad));
  // Other continents never see the pool.
  const auto us = located("US", "NA", 39, -77);
  EXPECT_EQ(run(r, 4, subnet(2), &us).dc, static_cast<int32_t>(iad));
}

// gdnsd #127: "2 nearest + 1 random" as a union of a nearest-2 pick and a pick of one other.
TEST_F(PoolTest, TwoNearestPlusOneOther) {
  const uint32_t fra = dc("fra", {"192.0.2.10"}, 50.1, 8.7);
  const uint32_t ams = dc("ams", {"192.0.2.20"}, 52.4, 4.9);
  const uint32_t iad = dc("iad", {"198.51.100.10"}, 38.9, -77.4);
  const uint32_t sin = dc("sin", {"203.0.113.10"}, 1.35, 103.8);
  const uint32_t near2 = pool("near2", PoolPolicy::nearest, {fra, ams, iad, sin}, {}, 2);
  const uint32_t other = pool("other", PoolPolicy::weighted, {fra, ams, iad, sin});
  Rule r;
  r.policy = Policy::roundrobin;
  r.answers = 64;
  r.datacenters = {near2, other};
  compile(r);
  EXPECT_TRUE(r.depends_on_client);
  EXPECT_TRUE(r.lists_need_location);
  const auto london = located("GB", "EU", 51.5, -0.1);
  // The nearest pick used the client's coordinates: the scope is their database network.
  EXPECT_EQ(run(r, 4, subnet(0), &london).scope, 16);
  std::map<uint32_t, int> third;
  for (int i = 0; i < kClients; ++i) {
    const Decision d = run(r, 4, subnet(i), &london, static_cast<uint64_t>(i));
    ASSERT_EQ(d.dc_count, 3u);
    ASSERT_EQ(d.count, 3u);  // one address each, none twice
    ASSERT_EQ(d.dcs[0], ams);
    ASSERT_EQ(d.dcs[1], fra);
    ++third[d.dcs[2]];
  }
  // The third is one of the others, evenly.
  EXPECT_EQ(third.count(fra) + third.count(ams), 0u);
  EXPECT_NEAR(third[iad] / double(kClients), 0.5, 0.02);
  EXPECT_NEAR(third[sin] / double(kClients), 0.5, 0.02);
  // ams down: the nearest two are fra and iad; the other pick is then sin.
  down_all(ams);
  const Decision d = run(r, 4, subnet(7), &london);
  EXPECT_EQ(dcs_of(d), (std::set<uint32_t>{fra, iad, sin}));
  EXPECT_TRUE(d.degraded);
}

// "5 % of North America to a canary".
TEST_F(PoolTest, FivePercentOfNorthAmericaToACanary) {
  const uint32_t iad = dc("iad", {"198.51.100.10"}, 38.9, -77.4);
  const uint32_t sfo = dc("sfo", {"198.51.100.20"}, 37.8, -122.4);
  const uint32_t canary = dc("canary", {"198.51.100.99"}, 38.9, -77.4);
  const uint32_t fra = dc("fra", {"192.0.2.10"}, 50.1, 8.7);
  const uint32_t na_main = pool("na_main", PoolPolicy::failover, {iad, sfo});
  const uint32_t na = pool("na", PoolPolicy::weighted, {na_main, canary}, {95, 5});
  Rule r;
  r.policy = Policy::geo;
  r.map = {{"NA", {na, fra}}, {"default", {fra}}};
  compile(r);
  const auto us = located("US", "NA", 39, -77);
  std::map<int32_t, int> hits;
  for (int i = 0; i < kClients; ++i) {
    IpAddress resolver = subnet(i);
    resolver.bytes[3] = 53;
    ++hits[run(r, 4, subnet(i), &us, 0, nullptr, &resolver).dc];
  }
  EXPECT_NEAR(hits[canary] / double(kClients), 0.05, 0.02);
  EXPECT_NEAR(hits[iad] / double(kClients), 0.95, 0.02);
  EXPECT_EQ(hits[sfo], 0);
  // The canary fails: its 5 % go back to the main pool, nobody leaves North America.
  down_all(canary);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(run(r, 4, subnet(i), &us).dc, int32_t(iad));
}

TEST_F(PoolTest, HashedIsStickyPerSubnetAndDrainingMovesOnlyItsShare) {
  const uint32_t a = dc("a", {"192.0.2.1"}, 0, 0);
  const uint32_t b = dc("b", {"192.0.2.2"}, 0, 0);
  const uint32_t c = dc("c", {"192.0.2.3"}, 0, 0);
  const uint32_t h = pool("h", PoolPolicy::hashed, {a, b, c}, {50, 30, 20});
  Rule r;
  r.policy = Policy::failover;
  r.datacenters = {h};
  compile(r);
  EXPECT_TRUE(r.depends_on_client);
  // The same /24 gets the same datacenter over 1,000 queries, whatever host and rotation.
  const Decision first = run(r, 4, ip("81.2.69.0"));
  EXPECT_EQ(first.scope, 24);  // the decision depends on the client at /24
  for (int q = 0; q < 1000; ++q) {
    IpAddress host = ip("81.2.69.0");
    host.bytes[3] = static_cast<uint8_t>(q);
    ClientView v;
    v.address = host.masked(24);
    v.source = IpAddress::v4(8, 8, static_cast<uint8_t>(q >> 8), static_cast<uint8_t>(q));
    v.max_scope = 24;
    Decision d;
    evaluate(r, Fleet{dcs_, pools_}, 4, v, health_, static_cast<uint64_t>(q), &d);
    ASSERT_EQ(d.dc, first.dc);
  }
  std::vector<int32_t> before(kClients);
  std::map<int32_t, int> hits;
  for (int i = 0; i < kClients; ++i) ++hits[before[i] = run(r, 4, subnet(i)).dc];
  EXPECT_NEAR(hits[a] / double(kClients), 0.50, 0.02);
  EXPECT_NEAR(hits[b] / double(kClients), 0.30, 0.02);
  EXPECT_NEAR(hits[c] / double(kClients), 0.20, 0.02);
  // Drain b: only b's clients move, spread over a and c by weight (50:20).
  drain(b);
  int moved = 0;
  int to_a = 0;
  for (int i = 0; i < kClients; ++i) {
    const Decision d = run(r, 4, subnet(i));
    if (before[i] != int32_t(b)) {
      ASSERT_EQ(d.dc, before[i]) << i;
      ASSERT_FALSE(d.degraded);  // not moved: the long TTL stays
    } else {
      ++moved;
      to_a += d.dc == int32_t(a) ? 1 : 0;
      ASSERT_TRUE(d.degraded);
    }
  }
  EXPECT_NEAR(to_a / double(moved), 50.0 / 70.0, 0.02);
  // IPv6 clients hash on their /56 and the scope says so.
  const uint32_t v6 = dc("v6", {"2001:db8::1"}, 0, 0);
  ClientView v;
  v.address = ip("2001:db8:1:200::");
  v.max_scope = 56;
  Rule r6;
  r6.policy = Policy::hashed;
  r6.datacenters = {v6};
  ASSERT_TRUE(r6.compile(dcs_.size(), pools_));
  Decision d6;
  evaluate(r6, Fleet{dcs_, pools_}, 6, v, health_, 0, &d6);
  EXPECT_EQ(d6.dc, int32_t(v6));
  EXPECT_EQ(d6.scope, 56);
}

TEST_F(PoolTest, SpilloverSpreadsAFailedDatacenterByCapacity) {
  const uint32_t primary = dc("primary", {"192.0.2.1"}, 0, 0, 1000);
  const uint32_t b = dc("b", {"192.0.2.2"}, 0, 0, 100);
  const uint32_t c = dc("c", {"192.0.2.3"}, 0, 0, 300);
  const uint32_t d = dc("d", {"192.0.2.4"}, 0, 0, 600);
  Rule r;
  r.policy = Policy::failover;
  r.spillover = true;
  r.datacenters = {primary, b, c, d};
  compile(r);
  // Healthy: everyone on the primary, and the answer is the same for every client.
  const Decision healthy = run(r, 4, subnet(3));
  EXPECT_EQ(healthy.dc, int32_t(primary));
  EXPECT_FALSE(healthy.per_subnet);
  EXPECT_EQ(healthy.scope, 0);
  EXPECT_EQ(healthy.ttl_s, 30u);
  down_all(primary);
  std::map<int32_t, int> hits;
  std::vector<int32_t> where(kClients);
  for (int i = 0; i < kClients; ++i) {
    const Decision x = run(r, 4, subnet(i), nullptr, static_cast<uint64_t>(i));
    ++hits[where[i] = x.dc];
    ASSERT_TRUE(x.degraded);
    ASSERT_EQ(x.scope, 24);  // spilled by subnet: valid for this /24 only
  }
  EXPECT_NEAR(hits[b] / double(kClients), 0.10, 0.03);
  EXPECT_NEAR(hits[c] / double(kClients), 0.30, 0.03);
  EXPECT_NEAR(hits[d] / double(kClients), 0.60, 0.03);
  // Deterministic: the same subnet lands in the same place on every query.
  for (int q = 0; q < 1000; ++q) {
    ASSERT_EQ(run(r, 4, subnet(42), nullptr, static_cast<uint64_t>(q)).dc, where[42]);
  }
  // d fails too: only d's share moves, over b and c by capacity (1:3).
  down_all(d);
  int from_d = 0;
  int to_c = 0;
  for (int i = 0; i < kClients; ++i) {
    const int32_t now = run(r, 4, subnet(i)).dc;
    if (where[i] != int32_t(d)) {
      ASSERT_EQ(now, where[i]);
    } else {
      ++from_d;
      to_c += now == int32_t(c) ? 1 : 0;
    }
  }
  EXPECT_NEAR(to_c / double(from_d), 0.75, 0.03);
  // Without spillover the next one takes everything.
  Rule plain = r;
  plain.spillover = false;
  ASSERT_TRUE(plain.compile(dcs_.size(), pools_));
  EXPECT_EQ(run(plain, 4, subnet(5)).dc, int32_t(b));
}

TEST_F(PoolTest, SpilloverInAGeoListAndInAPool) {
  const uint32_t fra = dc("fra", {"192.0.2.1"}, 50, 8, 100);
  const uint32_t ams = dc("ams", {"192.0.2.2"}, 52, 5, 100);
  const uint32_t par = dc("par", {"192.0.2.3"}, 48, 2, 100);
  const uint32_t eu = pool("eu", PoolPolicy::failover, {fra, ams, par}, {}, 1, true);
  Rule r;
  r.policy = Policy::geo;
  r.map = {{"default", {eu}}};
  compile(r);
  down_all(fra);
  std::map<int32_t, int> hits;
  for (int i = 0; i < kClients; ++i) ++hits[run(r, 4, subnet(i)).dc];
  EXPECT_NEAR(hits[ams] / double(kClients), 0.5, 0.03);
  EXPECT_NEAR(hits[par] / double(kClients), 0.5, 0.03);
  Trace t;
  const Decision d = run(r, 4, subnet(1), nullptr, 0, &t);
  EXPECT_EQ(d.scope, 24);
  bool spill_step = false;
  for (const auto& s : t.steps) spill_step = spill_step || s.find("spillover: fra") == 0;
  EXPECT_TRUE(spill_step);
  bool share = false;
  for (const auto& c : t.candidates) share = share || c.note.find("capacity 100/200") == 0;
  EXPECT_TRUE(share);
  EXPECT_NE(t.scope_why.find("/24"), std::string::npos);
}

TEST_F(PoolTest, MinUpCountAndPercent) {
  const uint32_t fra = dc("fra", {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"}, 0, 0);
  const uint32_t iad = dc("iad", {"198.51.100.1"}, 0, 0);
  dcs_[fra].min_up = 2;
  Rule r;
  r.policy = Policy::failover;
  r.answers = 4;
  r.datacenters = {fra, iad};
  compile(r);
  down(fra, 0);
  down(fra, 1);
  Decision d = run(r, 4, subnet(1));
  EXPECT_EQ(d.dc, int32_t(fra));  // 2 of 4 up: enough
  EXPECT_EQ(d.count, 2u);         // only the healthy ones
  EXPECT_TRUE(d.degraded);
  down(fra, 2);
  EXPECT_EQ(run(r, 4, subnet(1)).dc, int32_t(iad));  // 1 of 4: down as a whole
  // 75 %: three of four must be up.
  health_ = HealthView();
  dcs_[fra].min_up = 1;
  dcs_[fra].min_up_percent = 75;
  down(fra, 0);
  EXPECT_EQ(run(r, 4, subnet(1)).dc, int32_t(fra));
  down(fra, 1);
  Trace t;
  EXPECT_EQ(run(r, 4, subnet(1), nullptr, 0, &t).dc, int32_t(iad));
  ASSERT_GE(t.candidates.size(), 1u);
  EXPECT_EQ(t.candidates[0].need, 3u);
  EXPECT_EQ(t.candidates[0].up, 2u);
  // The threshold never exceeds the family's address count: a lone IPv6 address can answer.
  const uint32_t one = dc("one", {"2001:db8::1"}, 0, 0);
  dcs_[one].min_up = 2;
  Rule r6;
  r6.policy = Policy::failover;
  r6.datacenters = {one};
  ASSERT_TRUE(r6.compile(dcs_.size(), pools_));
  EXPECT_EQ(run(r6, 6, subnet(1)).dc, int32_t(one));
}

TEST_F(PoolTest, DegradedTtlOnlyWhenHealthChangedThisAnswer) {
  const uint32_t fra = dc("fra", {"192.0.2.1", "192.0.2.2"}, 0, 0);
  const uint32_t iad = dc("iad", {"198.51.100.1"}, 0, 0);
  Rule r;
  r.policy = Policy::failover;
  r.ttl_s = 300;
  r.degraded_ttl_s = 10;
  r.datacenters = {fra, iad};
  compile(r);
  // A drained backup that was not going to answer leaves the primary's TTL alone.
  drain(iad);
  Decision d = run(r, 4, subnet(1));
  EXPECT_EQ(d.dc, int32_t(fra));
  EXPECT_FALSE(d.degraded);
  EXPECT_EQ(d.ttl_s, 300u);
  // An address of the answering datacenter down: short TTL.
  down(fra, 1);
  EXPECT_EQ(run(r, 4, subnet(1)).ttl_s, 10u);
  // The first choice down: the backup answers with the short TTL, so resolvers return soon.
  health_ = HealthView();
  down(fra, 0);
  down(fra, 1);
  d = run(r, 4, subnet(1));
  EXPECT_EQ(d.dc, int32_t(iad));
  EXPECT_EQ(d.ttl_s, 10u);
  // Everything down: failing open is degraded too.
  drain(iad);
  d = run(r, 4, subnet(1));
  EXPECT_TRUE(d.failed_open);
  EXPECT_EQ(d.dc, int32_t(fra));
  EXPECT_EQ(d.count, 2u);
  EXPECT_EQ(d.ttl_s, 10u);
  // A datacenter without the asked family is not a failure.
  Rule r6 = r;
  health_ = HealthView();
  const uint32_t v6 = dc("v6", {"2001:db8::1"}, 0, 0);
  r6.datacenters = {fra, v6};
  ASSERT_TRUE(r6.compile(dcs_.size(), pools_));
  d = run(r6, 6, subnet(1));
  EXPECT_EQ(d.dc, int32_t(v6));
  EXPECT_EQ(d.ttl_s, 300u);
}

TEST_F(PoolTest, DualStackClientGetsBothFamiliesFromOneDatacenter) {
  const uint32_t fra = dc("fra", {"192.0.2.1", "2001:db8:f::1"}, 50, 8);
  const uint32_t ams = dc("ams", {"192.0.2.2", "2001:db8:a::1"}, 52, 5);
  const uint32_t v4only = dc("v4only", {"192.0.2.3"}, 48, 2);
  const uint32_t v6only = dc("v6only", {"2001:db8:6::1"}, 48, 2);
  const uint32_t w = pool("w", PoolPolicy::weighted, {fra, ams, v4only, v6only});
  const uint32_t hs = pool("hs", PoolPolicy::hashed, {fra, ams, v4only, v6only});
  for (uint32_t top : {w, hs}) {
    Rule r;
    r.policy = Policy::failover;
    r.datacenters = {top};
    compile(r);
    int paired = 0;
    for (int i = 0; i < 4000; ++i) {
      const Decision a = run(r, 4, subnet(i), nullptr, static_cast<uint64_t>(2 * i));
      const Decision aaaa = run(r, 6, subnet(i), nullptr, static_cast<uint64_t>(2 * i + 1));
      ASSERT_GE(a.dc, 0);
      ASSERT_GE(aaaa.dc, 0);
      if (!dcs_[a.dc].v6.empty()) {
        ASSERT_EQ(aaaa.dc, a.dc) << "client " << i;
        ++paired;
      }
      ASSERT_FALSE(dcs_[aaaa.dc].v6.empty());
    }
    EXPECT_GT(paired, 2000);
    // ams's IPv6 down: its clients' AAAA goes elsewhere, A stays.
    down(ams, 0, 6);
    for (int i = 0; i < 500; ++i) {
      const Decision a = run(r, 4, subnet(i));
      const Decision aaaa = run(r, 6, subnet(i));
      ASSERT_NE(aaaa.dc, int32_t(ams));
      if (a.dc == int32_t(fra)) {
        ASSERT_EQ(aaaa.dc, int32_t(fra));
      }
    }
    health_ = HealthView();
  }
  // Ordered lists too: a v6-only datacenter listed first does not split a client whose A
  // datacenter has IPv6.
  Rule geo;
  geo.policy = Policy::geo;
  geo.map = {{"default", {v6only, fra}}};
  compile(geo);
  EXPECT_EQ(run(geo, 4, subnet(1)).dc, int32_t(fra));
  EXPECT_EQ(run(geo, 6, subnet(1)).dc, int32_t(fra));
}

TEST_F(PoolTest, RoundrobinPoolIsAUnionAndFailsOpenWhole) {
  const uint32_t fra = dc("fra", {"192.0.2.1", "192.0.2.2"}, 0, 0);
  const uint32_t ams = dc("ams", {"192.0.2.3"}, 0, 0);
  const uint32_t iad = dc("iad", {"198.51.100.1"}, 0, 0);
  const uint32_t eu = pool("eu", PoolPolicy::roundrobin, {fra, ams});
  Rule r;
  r.policy = Policy::failover;
  r.answers = 64;
  r.datacenters = {eu, iad};
  compile(r);
  Decision d = run(r, 4, subnet(1));
  EXPECT_EQ(d.count, 3u);
  EXPECT_EQ(dcs_of(d), (std::set<uint32_t>{fra, ams}));
  down_all(fra);
  d = run(r, 4, subnet(1));
  EXPECT_EQ(d.dc, int32_t(ams));
  down_all(ams);
  EXPECT_EQ(run(r, 4, subnet(1)).dc, int32_t(iad));
  down_all(iad);
  d = run(r, 4, subnet(1));
  EXPECT_TRUE(d.failed_open);
  EXPECT_EQ(d.count, 3u);  // as a healthy fleet would answer: the whole eu union
}

// A fallback pool pairs the families as the rule's own choice does (issue 11 point 6): AAAA
// follows the datacenter the pool chose for A whenever that one is up for IPv6.
TEST_F(PoolTest, FallbackPoolPairsAaaaWithA) {
  const uint32_t fra = dc("fra", {"192.0.2.1", "2001:db8:f::1"}, 0, 0);
  const uint32_t ams = dc("ams", {"192.0.2.3", "2001:db8:a::3"}, 0, 0);
  const uint32_t lhr = dc("lhr", {"192.0.2.5", "2001:db8:1::5"}, 0, 0);
  const uint32_t backup = pool("backup", PoolPolicy::failover, {ams, lhr});
  Rule r;
  r.policy = Policy::failover;
  r.datacenters = {fra};
  r.on_all_down = AllDown::fallback;
  r.fallback_dc = backup;
  compile(r);
  down_all(fra);
  down(ams, 0, 4);  // ams is down for IPv4 only: the pool answers A from lhr
  EXPECT_EQ(run(r, 4, subnet(1)).dc, int32_t(lhr));
  Decision d = run(r, 6, subnet(1));
  EXPECT_TRUE(d.failed_open);
  EXPECT_EQ(d.dc, int32_t(lhr));  // not ams, which is up for IPv6 alone
  ASSERT_EQ(d.count, 1u);
  EXPECT_EQ(d.addresses[0]->to_string(), "2001:db8:1::5");
  down(lhr, 0, 6);  // the A choice has no IPv6 up: AAAA chooses on its own (ams)
  d = run(r, 6, subnet(1));
  EXPECT_EQ(d.dc, int32_t(ams));
  EXPECT_EQ(run(r, 4, subnet(1)).dc, int32_t(lhr));
}

// on_all_down = "<pool>": when every candidate is down, the pool answers by its own policy,
// from its healthy members, or as if all were up when it is down too.
TEST_F(PoolTest, OnAllDownNamesAPool) {
  const uint32_t fra = dc("fra", {"192.0.2.1"}, 0, 0);
  const uint32_t iad = dc("iad", {"198.51.100.1"}, 0, 0);
  const uint32_t ams = dc("ams", {"192.0.2.3", "192.0.2.4"}, 0, 0);
  const uint32_t lhr = dc("lhr", {"192.0.2.5"}, 0, 0);
  const uint32_t backup = pool("backup", PoolPolicy::failover, {ams, lhr});
  Rule r;
  r.policy = Policy::failover;
  r.datacenters = {fra, iad};
  r.on_all_down = AllDown::fallback;
  r.fallback_dc = backup;
  compile(r);
  EXPECT_EQ(run(r, 4, subnet(1)).dc, int32_t(fra));
  down_all(fra);
  down_all(iad);
  Trace trace;
  Decision d = run(r, 4, subnet(1), nullptr, 0, &trace);
  EXPECT_TRUE(d.failed_open);
  EXPECT_EQ(d.ttl_s, r.degraded_ttl_s);
  EXPECT_EQ(d.dc, int32_t(ams));
  EXPECT_EQ(d.count, 2u);
  EXPECT_NE(trace.outcome.find("fallback pool backup with ams"), std::string::npos)
      << trace.outcome;
  down(ams, 0);  // the pool's own health counts: ams still answers, with its healthy address
  d = run(r, 4, subnet(1));
  EXPECT_EQ(d.dc, int32_t(ams));
  ASSERT_EQ(d.count, 1u);
  EXPECT_EQ(d.addresses[0]->to_string(), "192.0.2.4");
  down_all(ams);  // the pool's failover moves on
  EXPECT_EQ(run(r, 4, subnet(1)).dc, int32_t(lhr));
  down_all(lhr);  // the pool is down too: its answer as if all were up, never empty
  d = run(r, 4, subnet(1));
  EXPECT_EQ(d.dc, int32_t(ams));
  EXPECT_EQ(d.count, 2u);
  // No member with the family (AAAA): on to failing open with the rule's own candidates.
  d = run(r, 6, subnet(1));
  EXPECT_TRUE(d.nodata);
  // A fallback that is neither a datacenter nor a pool is a load error.
  Rule bad = r;
  bad.fallback_dc = pool_member(7);
  EXPECT_FALSE(bad.compile(dcs_.size(), pools_));
}

TEST_F(PoolTest, AddressWeightsShareFirstPlacesInADatacenter) {
  const uint32_t fra = dc("fra", {"192.0.2.1", "192.0.2.2", "192.0.2.3"}, 0, 0);
  dcs_[fra].v4[0].weight = 6;
  dcs_[fra].v4[1].weight = 3;
  dcs_[fra].v4[2].weight = 1;
  dcs_[fra].has_address_weights = true;
  Rule r;
  r.policy = Policy::failover;
  r.answers = 1;
  r.datacenters = {fra};
  compile(r);
  std::map<std::string, int> hits;
  for (int i = 0; i < kClients; ++i) {
    ++hits[run(r, 4, subnet(1), nullptr, static_cast<uint64_t>(i)).addresses[0]->to_string()];
  }
  EXPECT_NEAR(hits["192.0.2.1"] / double(kClients), 0.6, 0.02);
  EXPECT_NEAR(hits["192.0.2.2"] / double(kClients), 0.3, 0.02);
  EXPECT_NEAR(hits["192.0.2.3"] / double(kClients), 0.1, 0.02);
  // A down address's share goes to the healthy ones by their weights (6:1).
  down(fra, 1);
  hits.clear();
  for (int i = 0; i < kClients; ++i) {
    ++hits[run(r, 4, subnet(1), nullptr, static_cast<uint64_t>(i)).addresses[0]->to_string()];
  }
  EXPECT_EQ(hits.count("192.0.2.2"), 0u);
  EXPECT_NEAR(hits["192.0.2.1"] / double(kClients), 6.0 / 7.0, 0.02);
}

TEST_F(PoolTest, TraceShowsTheChain) {
  const uint32_t fra = dc("fra", {"192.0.2.1"}, 50, 8);
  const uint32_t ams = dc("ams", {"192.0.2.2"}, 52, 5);
  const uint32_t eu = pool("eu", PoolPolicy::weighted, {fra, ams}, {70, 30});
  const uint32_t outer = pool("outer", PoolPolicy::failover, {eu});
  Rule r;
  r.policy = Policy::geo;
  r.map = {{"EU", {outer}}, {"default", {fra}}};
  compile(r);
  const auto de = located("DE", "EU", 50, 8);
  Trace t;
  const Decision d = run(r, 4, subnet(9), &de, 0, &t);
  EXPECT_EQ(t.matched, "map.EU");
  ASSERT_EQ(t.steps.size(), 2u);
  EXPECT_EQ(t.steps[0], "pool outer: failover, pick 1");
  EXPECT_EQ(t.steps[1], "pool outer > eu: weighted, pick 1");
  ASSERT_GE(t.candidates.size(), 1u);
  EXPECT_EQ(t.candidates[0].via, "outer > eu");
  EXPECT_EQ(t.candidates[0].note.rfind("weight ", 0), 0u) << t.candidates[0].note;
  EXPECT_TRUE(t.candidates[0].chosen);
  EXPECT_EQ(int32_t(t.candidates[0].dc), d.dc);
  EXPECT_NE(t.outcome.find(dcs_[d.dc].name), std::string::npos);
}

TEST_F(PoolTest, CompilePoolsRejectsCyclesDepthAndEmpty) {
  dc("fra", {"192.0.2.1"}, 0, 0);
  pool("a", PoolPolicy::failover, {pool_member(1)});
  pool("b", PoolPolicy::failover, {pool_member(0)});
  Status st = compile_pools(pools_, dcs_);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("contains itself: a -> b -> a"), std::string::npos)
      << st.error().message;
  pools_.clear();
  uint32_t inner = pool("p0", PoolPolicy::failover, {0});
  for (int i = 1; i < 5; ++i) {
    inner = pool(("p" + std::to_string(i)).c_str(), PoolPolicy::failover, {inner});
  }
  st = compile_pools(pools_, dcs_);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("more than 4 deep"), std::string::npos);
  pools_.pop_back();
  EXPECT_TRUE(compile_pools(pools_, dcs_));
  EXPECT_EQ(pools_.back().height, 4u);
  pool("empty", PoolPolicy::failover, {});
  EXPECT_FALSE(compile_pools(pools_, dcs_));
}

}  // namespace
}  // namespace geodns::steer
