// A compiled table decides as the runtime path does, for every address, and its scopes are
// honest: every address inside an announced merged network gets the same candidate list.
#include "steer/compiled.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>

#include "geo/database.h"
#include "geo/prefix_map.h"
#include "steer/policy.h"
#include "steer/target.h"

namespace geodns::steer {
namespace {

// One id per datacenter name, as a load's table would give them.
IdTable& test_dc_ids() {
  static IdTable t;
  return t;
}

const std::string kDemo = std::string(GEODNS_SOURCE_DIR) + "/geoip/demo.mmdb";
const std::string kReal = std::string(GEODNS_SOURCE_DIR) + "/geoip/real/geo-whois-asn-country.mmdb";

Datacenter make_dc(const char* name, const char* v4, const char* v6, double lat, double lon,
                   TargetId* next) {
  Datacenter dc;
  dc.name = name;
  dc.id = test_dc_ids().intern(name);
  dc.v4.push_back(DcAddress{*IpAddress::parse(v4), (*next)++});
  if (v6 != nullptr) dc.v6.push_back(DcAddress{*IpAddress::parse(v6), (*next)++});
  dc.has_location = true;
  dc.latitude = lat;
  dc.longitude = lon;
  return dc;
}

IpPrefix prefix(const char* text) {
  return *IpPrefix::parse(text);
}

class CompiledTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TargetId t = 200000;
    dcs_ = {make_dc("fra", "192.0.2.10", "2001:db8:f::10", 50.11, 8.68, &t),
            make_dc("iad", "198.51.100.10", nullptr, 38.95, -77.45, &t),
            make_dc("sin", "203.0.113.10", "2001:db8:5::10", 1.35, 103.82, &t),
            make_dc("gru", "203.0.113.30", nullptr, -23.55, -46.63, &t)};
  }

  // nets inside a database network (81.2.69.128/25 in 81.2.69.0/24), across several (8/8),
  // IPv6, v4-mapped, and nested.
  std::vector<std::pair<IpPrefix, DcList>> nets() const {
    return {{prefix("203.0.113.0/24"), {2}}, {prefix("81.2.69.128/25"), {3, 1}},
            {prefix("8.0.0.0/8"), {0}},      {prefix("8.8.0.0/16"), {2, 0}},
            {prefix("2001:4860::/40"), {2}}, {prefix("::ffff:46.4.0.0/112"), {1}},
            {prefix("2a01:4f8:1::/48"), {3}}};
  }
  Rule geo_rule() const {
    Rule r;
    r.owner = "www.compiled.test.";
    r.policy = Policy::geo;
    r.map = {{"EU", {0, 1}}, {"NA", {1, 0}}, {"US", {1}},     {"US-CA", {3, 1}},
             {"AS", {2, 0}}, {"DE", {0}},    {"GB-ENG", {2}}, {"default", {1, 0, 2}}};
    r.nets = nets();
    EXPECT_TRUE(r.compile(dcs_.size()));
    return r;
  }
  Rule nearest_rule() const {
    Rule r;
    r.owner = "near.compiled.test.";
    r.policy = Policy::nearest;
    r.datacenters = {0, 1, 2, 3};
    r.nets = nets();
    EXPECT_TRUE(r.compile(dcs_.size()));
    return r;
  }

  // The list the runtime path would try for `addr`: nets, then the database and the map or
  // the distance order (the same functions evaluate() calls).
  DcList runtime_list(const Rule& rule, const geo::Database* db, const IpAddress& addr) const {
    if (auto m = rule.net_table.lookup(addr)) return rule.lists[m->value];
    geo::Location loc;
    if (db != nullptr) db->lookup(addr, &loc);
    const geo::Location* where = db != nullptr ? &loc : nullptr;
    if (rule.policy == Policy::geo) return map_list(rule, where, nullptr);
    uint32_t order[kMaxNearestCandidates];
    double dist[kMaxNearestCandidates];
    const size_t n = nearest_order(rule, dcs_, where, order, dist, nullptr);
    return DcList(order, order + n);
  }

  // Compiled == runtime at `addr`, and at random addresses inside its merged network.
  void check(const Rule& rule, const CompiledRule& table, const geo::Database* db,
             const IpAddress& addr, std::mt19937_64& rng) const {
    const DcList* list = nullptr;
    uint8_t len = 0;
    ASSERT_TRUE(table.lookup(addr, &list, &len));
    const IpAddress a = addr.unmapped();
    ASSERT_EQ(*list, runtime_list(rule, db, a)) << a.to_string();
    for (int k = 0; k < 4; ++k) {
      IpAddress inner = a;
      for (size_t b = 0; b < 16; ++b) inner.bytes[b] = static_cast<uint8_t>(rng());
      if (a.is_v4()) std::fill(inner.bytes.begin() + 4, inner.bytes.end(), 0);
      // Keep the first `len` bits of `a`, random bits after them.
      for (unsigned bit = 0; bit < len; ++bit) {
        const uint8_t m = static_cast<uint8_t>(0x80U >> (bit % 8));
        inner.bytes[bit / 8] =
            static_cast<uint8_t>((inner.bytes[bit / 8] & ~m) | (a.bytes[bit / 8] & m));
      }
      if (inner.is_v4_mapped()) continue;  // another family's answer
      ASSERT_EQ(runtime_list(rule, db, inner), *list)
          << inner.to_string() << " inside " << a.to_string() << "/" << int{len};
    }
  }

  void check_many(const Rule& rule, const geo::Database* db, const geo::NetworkIndex& index,
                  size_t samples, const geo::NetworkIndex* asn_index = nullptr) const {
    auto table = CompiledRule::compile(rule, dcs_, index, nullptr, asn_index);
    ASSERT_NE(table, nullptr);
    std::mt19937_64 rng(42);
    // The edges of every nets entry and of database networks, then random addresses.
    for (const auto& [p, l] : rule.nets) check(rule, *table, db, p.address, rng);
    if (asn_index != nullptr) {
      // Every ASN network's first and last address (the demo ASN database is small).
      for (const geo::Leaf4& l : asn_index->v4()) {
        check(rule, *table, db, geo::v4_address(l.start), rng);
        const uint32_t last = l.length == 0 ? ~0U : l.start | (~0U >> l.length);
        check(rule, *table, db, geo::v4_address(last), rng);
      }
      for (const geo::Leaf6& l : asn_index->v6()) {
        const IpAddress a = geo::v6_address(l.start);
        if (!a.is_v4_mapped()) check(rule, *table, db, a, rng);
      }
    }
    const size_t step4 = std::max<size_t>(1, index.v4().size() / samples);
    for (size_t i = 0; i < index.v4().size(); i += step4) {
      check(rule, *table, db, geo::v4_address(index.v4()[i].start), rng);
    }
    const size_t step6 = std::max<size_t>(1, index.v6().size() / samples);
    for (size_t i = 0; i < index.v6().size(); i += step6) {
      const IpAddress a = geo::v6_address(index.v6()[i].start);
      if (!a.is_v4_mapped()) check(rule, *table, db, a, rng);
    }
    for (size_t i = 0; i < samples; ++i) {
      check(rule, *table, db, geo::v4_address(static_cast<uint32_t>(rng())), rng);
      // Mostly global unicast, where databases have data.
      const geo::Uint128 hi = (geo::Uint128{rng()} << 64) | rng();
      const geo::Uint128 v6 = i % 4 == 0 ? hi : ((hi >> 3) | (geo::Uint128{1} << 125));
      const IpAddress a = geo::v6_address(v6);
      if (!a.is_v4_mapped()) check(rule, *table, db, a, rng);
    }
  }

  std::vector<Datacenter> dcs_;
};

TEST_F(CompiledTest, GeoRuleOnDemoDatabaseDecidesAsTheRuntimePath) {
  auto db = geo::Database::open(kDemo);
  ASSERT_TRUE(db.ok());
  auto index = geo::NetworkIndex::build(**db);
  ASSERT_TRUE(index.ok());
  check_many(geo_rule(), db.value().get(), **index, 5000);
}

// ASN keys ([server] asn_db) compiled over the geography: AS15169 holds 8.8.8.0/24, which is
// also inside the nets 8.8.0.0/16 (nets win), and 2001:4860::/32; AS20712 is 81.2.69.0/24,
// GB-ENG in the demo GeoIP database, half of it under the nets /25; AS64500 has no GeoIP
// record at all (192.0.2.128/25); AS13335 (1.1.1.0/24) is no key of the rule.
TEST_F(CompiledTest, AsnRuleOnDemoDatabasesDecidesAsTheRuntimePath) {
  auto db = geo::Database::open(kDemo, std::string(GEODNS_SOURCE_DIR) + "/geoip/demo-asn.mmdb");
  ASSERT_TRUE(db.ok()) << db.error().to_string();
  auto index = geo::NetworkIndex::build(**db);
  ASSERT_TRUE(index.ok());
  auto asn_index = geo::NetworkIndex::build_asn(*(*db)->asn_database());
  ASSERT_TRUE(asn_index.ok());
  Rule r = geo_rule();
  r.map.push_back({"AS15169", {3}});
  r.map.push_back({"AS20712", {1, 2}});
  r.map.push_back({"AS64500", {2, 3}});
  r.map.push_back({"AS64501", {0}});
  ASSERT_TRUE(r.compile(dcs_.size()));
  check_many(r, db.value().get(), **index, 5000, asn_index.value().get());
  auto table = CompiledRule::compile(r, dcs_, **index, nullptr, asn_index.value().get());
  const DcList* list = nullptr;
  uint8_t len = 0;
  ASSERT_TRUE(table->lookup(*IpAddress::parse("81.2.69.1"), &list, &len));
  EXPECT_EQ(*list, (DcList{1, 2}));  // the ASN, not GB-ENG's {2}
  EXPECT_EQ(len, 25);                // the nets /25 holds the other half
  ASSERT_TRUE(table->lookup(*IpAddress::parse("192.0.2.200"), &list, &len));
  EXPECT_EQ(*list, (DcList{2, 3}));  // an ASN without a GeoIP record
  EXPECT_EQ(len, 25);
  ASSERT_TRUE(table->lookup(*IpAddress::parse("8.8.8.8"), &list, &len));
  EXPECT_EQ(*list, (DcList{2, 0}));  // nets beat the ASN
  ASSERT_TRUE(
      table->lookup(*IpAddress::parse("2001:4860:100::1"), &list, &len));  // past the nets /40
  EXPECT_EQ(*list, (DcList{3}));
  // Without an ASN database the keys never match, as at runtime (no client has an ASN).
  auto plain = geo::Database::open(kDemo);
  ASSERT_TRUE(plain.ok());
  check_many(r, plain.value().get(), **index, 2000);
}

TEST_F(CompiledTest, NearestRuleOnDemoDatabaseDecidesAsTheRuntimePath) {
  auto db = geo::Database::open(kDemo);
  ASSERT_TRUE(db.ok());
  auto index = geo::NetworkIndex::build(**db);
  ASSERT_TRUE(index.ok());
  check_many(nearest_rule(), db.value().get(), **index, 5000);
}

TEST_F(CompiledTest, WithoutDatabaseOnlyNetsDecide) {
  auto index = geo::NetworkIndex::empty();
  check_many(geo_rule(), nullptr, *index, 2000);
  check_many(nearest_rule(), nullptr, *index, 2000);
  auto table = CompiledRule::compile(geo_rule(), dcs_, *index);
  const DcList* list = nullptr;
  uint8_t len = 0;
  ASSERT_TRUE(table->lookup(*IpAddress::parse("81.2.69.200"), &list, &len));
  EXPECT_EQ(*list, (DcList{3, 1}));
  EXPECT_EQ(len, 25);
  ASSERT_TRUE(table->lookup(*IpAddress::parse("100.0.0.1"), &list, &len));
  EXPECT_EQ(*list, (DcList{1, 0, 2}));  // map.default
  EXPECT_EQ(len, 3);  // 96.0.0.0/3 holds no nets entry (64/2 holds 81.2.69.128/25)
}

TEST_F(CompiledTest, ScopeIsTheMergedNetwork) {
  auto db = geo::Database::open(kDemo);
  ASSERT_TRUE(db.ok());
  auto index = geo::NetworkIndex::build(**db);
  ASSERT_TRUE(index.ok());
  auto table = CompiledRule::compile(geo_rule(), dcs_, **index);
  const DcList* list = nullptr;
  uint8_t len = 0;
  // 81.2.69.0/24 (GB-ENG) minus the nets /25 inside it.
  ASSERT_TRUE(table->lookup(*IpAddress::parse("81.2.69.1"), &list, &len));
  EXPECT_EQ(*list, (DcList{2}));
  EXPECT_EQ(len, 25);
  // Lists are interned: each distinct list once.
  for (size_t i = 0; i < table->lists().size(); ++i) {
    for (size_t j = i + 1; j < table->lists().size(); ++j) {
      EXPECT_NE(table->lists()[i], table->lists()[j]);
    }
  }
}

TEST_F(CompiledTest, NearestKeepsPoolEntriesAfterTheDatacenters) {
  Rule r = nearest_rule();
  r.datacenters = {3, 0x80000001U, 0, 0x80000000U};
  auto db = geo::Database::open(kDemo);
  ASSERT_TRUE(db.ok());
  auto built = geo::NetworkIndex::build(**db);
  ASSERT_TRUE(built.ok());
  auto table = CompiledRule::compile(r, dcs_, **built);
  const DcList* list = nullptr;
  uint8_t len = 0;
  ASSERT_TRUE(table->lookup(*IpAddress::parse("2a01:4f8:2::1"), &list, &len));  // DE, no nets
  EXPECT_EQ(*list, (DcList{0, 3, 0x80000001U, 0x80000000U}));
}

TEST_F(CompiledTest, CanonicalKeySharesIdenticalTargetingOnly) {
  const Rule a = geo_rule();
  Rule b = geo_rule();
  b.owner = "other.compiled.test.";
  EXPECT_EQ(canonical_key(a, dcs_), canonical_key(b, dcs_));
  Rule c = geo_rule();
  c.nets.pop_back();
  ASSERT_TRUE(c.compile(dcs_.size()));
  EXPECT_NE(canonical_key(a, dcs_), canonical_key(c, dcs_));
  const Rule n = nearest_rule();
  EXPECT_NE(canonical_key(a, dcs_), canonical_key(n, dcs_));
  std::vector<Datacenter> moved = dcs_;
  moved[1].latitude += 1;
  EXPECT_NE(canonical_key(n, dcs_), canonical_key(n, moved));
  Rule f;
  f.policy = Policy::failover;
  f.datacenters = {0, 1};
  ASSERT_TRUE(f.compile(dcs_.size()));
  EXPECT_EQ(canonical_key(f, dcs_), "");
  EXPECT_EQ(CompiledRule::compile(f, dcs_, *geo::NetworkIndex::empty()), nullptr);
}

TEST_F(CompiledTest, RulesThatMapAlikeShareTheDatabaseRuns) {
  auto db = geo::Database::open(kDemo);
  ASSERT_TRUE(db.ok());
  auto index = geo::NetworkIndex::build(**db);
  ASSERT_TRUE(index.ok());
  CompileCache cache;
  const Rule a = geo_rule();
  Rule b = geo_rule();  // same map, other nets: shares the base, not the patch
  b.nets = {{prefix("198.18.0.0/15"), {2}}};
  ASSERT_TRUE(b.compile(dcs_.size()));
  Rule c = geo_rule();  // another map: its own base
  c.map = {{"EU", {1}}, {"default", {0}}};
  c.nets.clear();
  ASSERT_TRUE(c.compile(dcs_.size()));
  auto ta = CompiledRule::compile(a, dcs_, **index, &cache);
  auto tb = CompiledRule::compile(b, dcs_, **index, &cache);
  auto tc = CompiledRule::compile(c, dcs_, **index, &cache);
  EXPECT_EQ(ta->base(), tb->base());
  EXPECT_NE(ta->base(), tc->base());
  EXPECT_EQ(cache.bases.size(), 2u);
  // A later compile finds the bases of the previous one.
  CompileCache next;
  next.previous = &cache;
  auto again = CompiledRule::compile(c, dcs_, **index, &next);
  EXPECT_EQ(again->base(), tc->base());
  // Sharing does not leak nets: b's entry answers only in b.
  const DcList* list = nullptr;
  uint8_t len = 0;
  ASSERT_TRUE(tb->lookup(*IpAddress::parse("198.18.1.1"), &list, &len));
  EXPECT_EQ(*list, (DcList{2}));
  ASSERT_TRUE(ta->lookup(*IpAddress::parse("198.18.1.1"), &list, &len));
  EXPECT_EQ(*list, runtime_list(a, db.value().get(), *IpAddress::parse("198.18.1.1")));
  EXPECT_NE(*list, (DcList{2}));
}

TEST_F(CompiledTest, RealDatabaseDecidesAsTheRuntimePath) {
  if (!std::filesystem::exists(kReal)) GTEST_SKIP() << kReal << " absent (geoip/fetch-real-db.sh)";
  auto db = geo::Database::open(kReal);
  ASSERT_TRUE(db.ok());
  auto index = geo::NetworkIndex::build(**db);
  ASSERT_TRUE(index.ok());
  check_many(geo_rule(), db.value().get(), **index, 20000);
  check_many(nearest_rule(), db.value().get(), **index, 20000);
}

}  // namespace
}  // namespace geodns::steer
