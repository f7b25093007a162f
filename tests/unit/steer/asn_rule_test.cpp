// ASN map keys: parsing, precedence (nets > ASN > subdivision > country > continent > default)
// and their part in the compiled tables' sharing key (compiled_test.cpp compares the tables
// with the runtime path).
#include <gtest/gtest.h>

#include "steer/compiled.h"
#include "steer/policy.h"
#include "steer/rule.h"

namespace geodns::steer {
namespace {

TEST(AsnKeys, Parse) {
  EXPECT_EQ(parse_asn_key("AS15169"), 15169u);
  EXPECT_EQ(parse_asn_key("as64500"), 64500u);
  EXPECT_EQ(parse_asn_key("AS4294967295"), 4294967295u);
  EXPECT_FALSE(parse_asn_key("AS4294967296"));
  EXPECT_FALSE(parse_asn_key("AS0"));
  EXPECT_FALSE(parse_asn_key("AS015169"));
  EXPECT_FALSE(parse_asn_key("AS"));
  EXPECT_FALSE(parse_asn_key("AS12a"));
  EXPECT_FALSE(parse_asn_key("15169"));
  EXPECT_EQ(classify_map_key("AS15169", nullptr), MapKeyKind::asn);
  EXPECT_EQ(classify_map_key("AS", nullptr), MapKeyKind::continent);  // Asia, as before
}

Rule asn_rule() {
  Rule r;
  r.policy = Policy::geo;
  r.map = {{"AS15169", {0}}, {"US", {1}}, {"NA", {1}}, {"default", {2}}};
  return r;
}

TEST(AsnKeys, AnAsnBeatsTheClientsCountryAndAMissFallsThrough) {
  Rule r = asn_rule();
  ASSERT_TRUE(r.compile(3).ok());
  ASSERT_EQ(r.by_asn.size(), 1u);
  geo::Location loc;
  loc.found = true;
  loc.country = {'U', 'S'};
  loc.continent = {'N', 'A'};
  Trace trace;
  loc.asn = 15169;
  EXPECT_EQ(map_list(r, &loc, &trace), (DcList{0}));
  EXPECT_EQ(trace.matched, "map.AS15169");
  loc.asn = 13335;
  EXPECT_EQ(map_list(r, &loc, &trace), (DcList{1}));
  EXPECT_EQ(trace.matched, "map.US");
  // Known to the ASN database only.
  geo::Location asn_only;
  asn_only.asn = 15169;
  EXPECT_EQ(map_list(r, &asn_only, nullptr), (DcList{0}));
}

TEST(AsnKeys, AsnKeysArePartOfTheCompiledTablesKey) {
  Rule r = asn_rule();
  ASSERT_TRUE(r.compile(3).ok());
  Rule plain;
  plain.policy = Policy::geo;
  plain.map = {{"US", {1}}, {"NA", {1}}, {"default", {2}}};
  ASSERT_TRUE(plain.compile(3).ok());
  Rule other = asn_rule();
  other.map[0] = {"AS13335", {0}};
  ASSERT_TRUE(other.compile(3).ok());
  const std::string k = canonical_key(r, {});
  EXPECT_FALSE(k.empty());
  // The same geography with other (or no) ASN keys must not share a table.
  EXPECT_NE(k, canonical_key(plain, {}));
  EXPECT_NE(k, canonical_key(other, {}));
  Rule same = asn_rule();
  ASSERT_TRUE(same.compile(3).ok());
  EXPECT_EQ(k, canonical_key(same, {}));
}

TEST(AsnKeys, TheSameAsnTwiceIsAnError) {
  Rule r;
  r.policy = Policy::geo;
  r.map = {{"AS15169", {0}}, {"as15169", {1}}, {"default", {0}}};
  auto st = r.compile(2);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("AS15169 is given twice"), std::string::npos);
}

}  // namespace
}  // namespace geodns::steer
