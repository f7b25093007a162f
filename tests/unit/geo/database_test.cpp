#include "geo/database.h"

#include "geo/countries.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace geodns::geo {
namespace {

const std::string kDemo = std::string(GEODNS_SOURCE_DIR) + "/geoip/demo.mmdb";
const std::string kData = std::string(GEODNS_SOURCE_DIR) + "/tests/data/geo/";

IpAddress ip(std::string_view text) {
  auto a = IpAddress::parse(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(IpAddress{});
}

DatabasePtr open_or_die(const std::string& path) {
  auto db = Database::open(path);
  EXPECT_TRUE(db.ok()) << (db.ok() ? "" : db.error().to_string());
  return db.ok() ? *db : nullptr;
}

TEST(Database, OpenMissingFileNamesThePath) {
  auto db = Database::open(kData + "does-not-exist.mmdb");
  ASSERT_FALSE(db.ok());
  const std::string text = db.error().to_string();
  EXPECT_NE(text.find("does-not-exist.mmdb: "), std::string::npos) << text;
  EXPECT_NE(text.find("No such file"), std::string::npos) << text;
}

TEST(Database, OpenGarbageFileReportsMmdbError) {
  auto db = Database::open(kData + "garbage.mmdb");
  ASSERT_FALSE(db.ok());
  const std::string text = db.error().to_string();
  EXPECT_EQ(db.error().file, kData + "garbage.mmdb");
  EXPECT_NE(text.find("cannot open GeoIP database"), std::string::npos) << text;
  EXPECT_NE(text.find("metadata"), std::string::npos) << text;  // MMDB_strerror's words
}

TEST(Database, OpenDirectoryFails) {
  auto db = Database::open(kData);
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.error().to_string().find("not a regular file"), std::string::npos);
}

TEST(DemoDatabase, Metadata) {
  auto db = open_or_die(kDemo);
  ASSERT_TRUE(db);
  EXPECT_EQ(db->path(), kDemo);
  EXPECT_NE(db->description().find("GeoIP2-City"), std::string::npos) << db->description();
  EXPECT_GT(db->build_epoch(), 1'600'000'000U);
  EXPECT_GT(db->file_mtime(), 0);
}

TEST(DemoDatabase, LondonIpv4) {
  auto db = open_or_die(kDemo);
  ASSERT_TRUE(db);
  Location loc;
  ASSERT_TRUE(db->lookup(ip("81.2.69.160"), &loc));
  EXPECT_TRUE(loc.found);
  EXPECT_EQ(loc.country_code(), "GB");
  EXPECT_EQ(loc.continent_code(), "EU");
  EXPECT_EQ(loc.subdivision_code(), "ENG");
  EXPECT_EQ(loc.prefix_length, 24);
  EXPECT_TRUE(loc.has_coordinates);
  EXPECT_FALSE(loc.coordinates_from_centroid);
  EXPECT_DOUBLE_EQ(loc.latitude, 51.5142);
  EXPECT_DOUBLE_EQ(loc.longitude, -0.0931);
}

TEST(DemoDatabase, RequiredNetworks) {
  auto db = open_or_die(kDemo);
  ASSERT_TRUE(db);
  struct Case {
    const char* addr;
    const char* country;
    const char* continent;
    const char* subdivision;
    int prefix_length;
  };
  const Case cases[] = {
      {"8.8.8.8", "US", "NA", "CA", 24},
      {"46.4.1.2", "DE", "EU", "SN", 16},
      {"24.48.1.1", "CA", "NA", "QC", 16},
      {"200.160.15.1", "BR", "SA", "SP", 20},
      {"133.1.2.3", "JP", "AS", "27", 16},
      {"202.108.22.5", "CN", "AS", "BJ", 16},
      {"1.1.1.1", "AU", "OC", "NSW", 24},
      {"196.25.1.1", "ZA", "AF", "GT", 16},
      {"192.0.2.53", "DE", "EU", "HE", 24},
      {"198.51.100.10", "US", "NA", "VA", 24},
      {"203.0.113.7", "JP", "AS", "13", 24},
      {"2a01:4f8:1::1", "DE", "EU", "SN", 32},
      {"2001:4860:4860::8888", "US", "NA", "CA", 32},
      {"2001:12ff::1", "BR", "SA", "SP", 32},
      {"2400:cb00::1", "AU", "OC", "NSW", 32},
      {"2001:db8:1::10", "DE", "EU", "HE", 48},
      {"2001:db8:2::10", "US", "NA", "VA", 48},
      {"2001:db8:3::10", "JP", "AS", "13", 48},
      {"2001:db8:4::10", "BR", "SA", "SP", 48},
  };
  for (const Case& c : cases) {
    Location loc;
    ASSERT_TRUE(db->lookup(ip(c.addr), &loc)) << c.addr;
    EXPECT_EQ(loc.country_code(), c.country) << c.addr;
    EXPECT_EQ(loc.continent_code(), c.continent) << c.addr;
    EXPECT_EQ(loc.subdivision_code(), c.subdivision) << c.addr;
    EXPECT_EQ(loc.prefix_length, c.prefix_length) << c.addr;
    EXPECT_TRUE(loc.has_coordinates) << c.addr;
    EXPECT_FALSE(loc.coordinates_from_centroid) << c.addr;
  }
}

TEST(DemoDatabase, Ipv6Coordinates) {
  auto db = open_or_die(kDemo);
  ASSERT_TRUE(db);
  Location loc;
  ASSERT_TRUE(db->lookup(ip("2001:db8:3::53"), &loc));
  EXPECT_DOUBLE_EQ(loc.latitude, 35.6895);
  EXPECT_DOUBLE_EQ(loc.longitude, 139.6917);
}

TEST(DemoDatabase, V4MappedIsLookedUpAsIpv4) {
  auto db = open_or_die(kDemo);
  ASSERT_TRUE(db);
  Location loc;
  ASSERT_TRUE(db->lookup(ip("::ffff:81.2.69.160"), &loc));
  EXPECT_EQ(loc.country_code(), "GB");
  EXPECT_EQ(loc.prefix_length, 24);  // IPv4 bits, not 120
}

TEST(DemoDatabase, MissResetsLocation) {
  auto db = open_or_die(kDemo);
  ASSERT_TRUE(db);
  Location loc;
  ASSERT_TRUE(db->lookup(ip("81.2.69.160"), &loc));
  EXPECT_FALSE(db->lookup(ip("10.0.0.1"), &loc));
  EXPECT_FALSE(loc.found);
  EXPECT_EQ(loc.country_code(), "");
  EXPECT_EQ(loc.continent_code(), "");
  EXPECT_EQ(loc.subdivision_code(), "");
  EXPECT_FALSE(loc.has_coordinates);
  // The empty network around 10.0.0.1: its neighbours 8.8.8.0/24 (00001000) and 14.139.0.0/16
  // (00001110) leave 10.0.0.0/7 (0000101x) without data. Counted in IPv4 bits.
  EXPECT_EQ(loc.prefix_length, 7);
  EXPECT_FALSE(db->lookup(ip("2001:db8:ffff::1"), &loc));
  EXPECT_FALSE(loc.found);
  // Every 2001:db8 entry has a third group below 0x8000: 2001:db8:8000::/33 is empty.
  EXPECT_EQ(loc.prefix_length, 33);
  EXPECT_FALSE(db->lookup(IpAddress{}, &loc));
  EXPECT_EQ(loc.prefix_length, 0);
}

TEST(DemoDatabase, SharedPointerOutlivesNothingElse) {
  // The database stays usable through a copy of the pointer after the original is dropped
  // (a reload publishes a new one while old snapshots still hold the previous).
  DatabasePtr copy;
  {
    auto db = open_or_die(kDemo);
    ASSERT_TRUE(db);
    copy = db;
  }
  Location loc;
  EXPECT_TRUE(copy->lookup(ip("8.8.8.8"), &loc));
  EXPECT_EQ(loc.country_code(), "US");
}

TEST(FlatDatabase, CountryAndCoordinates) {
  auto db = open_or_die(kData + "flat.mmdb");
  ASSERT_TRUE(db);
  Location loc;
  ASSERT_TRUE(db->lookup(ip("46.4.9.9"), &loc));
  EXPECT_EQ(loc.country_code(), "DE");
  EXPECT_EQ(loc.continent_code(), "EU");  // derived: flat databases have none
  EXPECT_EQ(loc.subdivision_code(), "");
  EXPECT_EQ(loc.prefix_length, 16);
  EXPECT_TRUE(loc.has_coordinates);
  EXPECT_FALSE(loc.coordinates_from_centroid);
  EXPECT_NEAR(loc.latitude, 50.4779, 1e-4);  // stored as float
  EXPECT_NEAR(loc.longitude, 12.3713, 1e-4);
}

TEST(FlatDatabase, SubdivisionNamesAreNotCodes) {
  auto db = open_or_die(kData + "flat.mmdb");
  ASSERT_TRUE(db);
  Location loc;
  ASSERT_TRUE(db->lookup(ip("81.2.69.160"), &loc));
  EXPECT_EQ(loc.country_code(), "GB");
  EXPECT_EQ(loc.subdivision_code(), "");  // state1 = "England" is a name
  ASSERT_TRUE(db->lookup(ip("198.51.100.1"), &loc));
  EXPECT_EQ(loc.subdivision_code(), "VA");  // state1 = "VA" is a code
  EXPECT_EQ(loc.prefix_length, 25);
  EXPECT_FALSE(db->lookup(ip("198.51.100.200"), &loc));
}

TEST(FlatDatabase, ExplicitContinentAndPrefixedSubdivision) {
  auto db = open_or_die(kData + "flat.mmdb");
  ASSERT_TRUE(db);
  Location loc;
  ASSERT_TRUE(db->lookup(ip("203.0.113.1"), &loc));
  EXPECT_EQ(loc.country_code(), "JP");
  EXPECT_EQ(loc.continent_code(), "AS");
  EXPECT_EQ(loc.subdivision_code(), "13");  // from "JP-13"
}

TEST(FlatDatabase, CountryOnlyUsesCentroid) {
  auto db = open_or_die(kData + "flat.mmdb");
  ASSERT_TRUE(db);
  Location loc;
  ASSERT_TRUE(db->lookup(ip("8.8.8.8"), &loc));
  EXPECT_EQ(loc.country_code(), "US");
  EXPECT_EQ(loc.continent_code(), "NA");
  EXPECT_TRUE(loc.has_coordinates);
  EXPECT_TRUE(loc.coordinates_from_centroid);
  const auto us = country_centroid("US");
  ASSERT_TRUE(us);
  EXPECT_DOUBLE_EQ(loc.latitude, us->latitude);
  EXPECT_DOUBLE_EQ(loc.longitude, us->longitude);

  // Lower-case country in the database is normalised.
  ASSERT_TRUE(db->lookup(ip("1.1.1.1"), &loc));
  EXPECT_EQ(loc.country_code(), "AU");
  EXPECT_EQ(loc.continent_code(), "OC");
  EXPECT_TRUE(loc.coordinates_from_centroid);

  ASSERT_TRUE(db->lookup(ip("2a01:4f8::1"), &loc));
  EXPECT_EQ(loc.country_code(), "DE");
  EXPECT_EQ(loc.continent_code(), "EU");
  EXPECT_EQ(loc.prefix_length, 32);
  EXPECT_TRUE(loc.coordinates_from_centroid);
}

TEST(FlatDatabase, UnknownCountryHasNoDerivedData) {
  auto db = open_or_die(kData + "flat.mmdb");
  ASSERT_TRUE(db);
  Location loc;
  ASSERT_TRUE(db->lookup(ip("192.0.2.1"), &loc));
  EXPECT_TRUE(loc.found);
  EXPECT_EQ(loc.country_code(), "ZZ");
  EXPECT_EQ(loc.continent_code(), "");
  EXPECT_FALSE(loc.has_coordinates);
}

TEST(FlatDatabase, Ipv4OnlyTree) {
  auto db = open_or_die(kData + "flat-v4.mmdb");
  ASSERT_TRUE(db);
  Location loc;
  ASSERT_TRUE(db->lookup(ip("203.0.113.1"), &loc));
  EXPECT_EQ(loc.country_code(), "JP");
  EXPECT_EQ(loc.prefix_length, 24);
  EXPECT_FALSE(db->lookup(ip("::ffff:8.8.4.4"), &loc));
  ASSERT_TRUE(db->lookup(ip("::ffff:8.8.8.4"), &loc));
  EXPECT_EQ(loc.country_code(), "US");
  EXPECT_EQ(loc.prefix_length, 24);
  // IPv6 addresses cannot be in an IPv4 tree: a clean miss, not an error.
  EXPECT_FALSE(db->lookup(ip("2001:4860::1"), &loc));
  EXPECT_FALSE(loc.found);
}

// The optional real database fetched by geoip/fetch-real-db.sh (git-ignored).
TEST(RealDatabase, LoadsWhenPresent) {
  const std::string path =
      std::string(GEODNS_SOURCE_DIR) + "/geoip/real/geo-whois-asn-country.mmdb";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "run geoip/fetch-real-db.sh";
  auto db = open_or_die(path);
  ASSERT_TRUE(db);
  Location loc;
  ASSERT_TRUE(db->lookup(ip("8.8.8.8"), &loc));
  EXPECT_EQ(loc.country_code(), "US");
  EXPECT_EQ(loc.continent_code(), "NA");
  EXPECT_TRUE(loc.coordinates_from_centroid);
  ASSERT_TRUE(db->lookup(ip("2a01:4f8::1"), &loc));
  EXPECT_EQ(loc.country_code(), "DE");
}

}  // namespace
}  // namespace geodns::geo
