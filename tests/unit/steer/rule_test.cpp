#include "steer/rule.h"

#include <gtest/gtest.h>

namespace geodns::steer {
namespace {

TEST(MapKey, Classification) {
  std::string why;
  EXPECT_EQ(classify_map_key("EU", &why), MapKeyKind::continent);
  EXPECT_EQ(classify_map_key("AS", &why), MapKeyKind::continent);  // Asia, as in gdnsd
  EXPECT_EQ(classify_map_key("DE", &why), MapKeyKind::country);
  EXPECT_EQ(classify_map_key("US-CA", &why), MapKeyKind::subdivision);
  EXPECT_EQ(classify_map_key("default", &why), MapKeyKind::fallback_default);
  EXPECT_FALSE(classify_map_key("XX", &why));
  EXPECT_NE(why.find("XX"), std::string::npos);
  EXPECT_FALSE(classify_map_key("Europe", &why));
  EXPECT_FALSE(classify_map_key("ZZ-12", &why));
  EXPECT_FALSE(classify_map_key("de", &why));
}

TEST(RuleCompile, GeoNeedsDefault) {
  Rule r;
  r.policy = Policy::geo;
  r.map = {{"EU", {0}}};
  auto st = r.compile(1);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("map.default"), std::string::npos);
}

TEST(RuleCompile, RejectsBadIndexesWeightsAndDuplicates) {
  Rule r;
  r.policy = Policy::failover;
  r.datacenters = {0, 5};
  EXPECT_FALSE(r.compile(2));
  r.datacenters = {};
  EXPECT_FALSE(r.compile(2));

  Rule w;
  w.policy = Policy::weighted;
  w.datacenters = {0, 1};
  w.weights = {1, 1001};
  EXPECT_FALSE(w.compile(2));
  w.weights = {1};
  EXPECT_FALSE(w.compile(2));
  w.weights = {3, 1};
  ASSERT_TRUE(w.compile(2));
  EXPECT_FALSE(w.depends_on_client);

  Rule g;
  g.policy = Policy::geo;
  g.map = {{"default", {0}}};
  auto p = IpPrefix::parse("192.0.2.0/24");
  g.nets = {{*p, {0}}, {*p, {1}}};
  EXPECT_FALSE(g.compile(2));
}

TEST(RuleCompile, NetsOnlyForGeoAndNearest) {
  Rule r;
  r.policy = Policy::roundrobin;
  r.datacenters = {0};
  r.nets = {{*IpPrefix::parse("192.0.2.0/24"), {0}}};
  EXPECT_FALSE(r.compile(1));
}

}  // namespace
}  // namespace geodns::steer
