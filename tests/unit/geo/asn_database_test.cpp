// The ASN database beside the GeoIP one (geoip/demo-asn.mmdb, built by geoip/build-demo-asn.pl):
// lookup() fills Location::asn and the longer of the two networks.
#include <gtest/gtest.h>

#include <string>

#include "geo/database.h"

namespace geodns::geo {
namespace {

const std::string kDemo = std::string(GEODNS_SOURCE_DIR) + "/geoip/demo.mmdb";
const std::string kAsn = std::string(GEODNS_SOURCE_DIR) + "/geoip/demo-asn.mmdb";

IpAddress ip(const char* text) {
  return *IpAddress::parse(text);
}

TEST(AsnDatabase, LookupFillsTheAsnBesideTheLocation) {
  auto geo_only = Database::open(kDemo);
  auto both = Database::open(kDemo, kAsn);
  ASSERT_TRUE(geo_only.ok() && both.ok()) << (both.ok() ? "" : both.error().to_string());
  ASSERT_NE(both.value()->asn_database(), nullptr);
  EXPECT_NE(both.value()->description().find("GeoLite2-ASN"), std::string::npos);

  Location plain;
  Location with_asn;
  ASSERT_TRUE(geo_only.value()->lookup(ip("8.8.8.8"), &plain));
  ASSERT_TRUE(both.value()->lookup(ip("8.8.8.8"), &with_asn));
  EXPECT_EQ(plain.asn, 0u);
  EXPECT_EQ(with_asn.asn, 15169u);
  EXPECT_EQ(with_asn.country_code(), plain.country_code());  // the location is unchanged
  // The answer may depend on either network: the longer one bounds the scope.
  EXPECT_EQ(with_asn.prefix_length, std::max<uint8_t>(plain.prefix_length, 24));

  Location v6;
  both.value()->lookup(ip("2001:db8:100::1"), &v6);
  EXPECT_EQ(v6.asn, 64501u);
  Location mapped;
  both.value()->lookup(ip("::ffff:1.1.1.1"), &mapped);
  EXPECT_EQ(mapped.asn, 13335u);

  // Not in the ASN database: 0, and the empty ASN network still counts in the length.
  Location none;
  both.value()->lookup(ip("9.9.9.9"), &none);
  EXPECT_EQ(none.asn, 0u);
  uint32_t asn = 1;
  uint8_t len = 0;
  ASSERT_TRUE(both.value()->asn_database()->lookup_asn(ip("9.9.9.9"), &asn, &len));
  EXPECT_EQ(asn, 0u);
  EXPECT_GT(len, 0u);
  EXPECT_GE(none.prefix_length, len);
}

TEST(AsnDatabase, AnUnreadableAsnDatabaseFailsTheOpen) {
  auto r = Database::open(kDemo, kAsn + ".missing");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().file, kAsn + ".missing");
}

}  // namespace
}  // namespace geodns::geo
