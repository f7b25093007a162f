#include "geo/countries.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace geodns::geo {
namespace {

TEST(Countries, ContinentCodes) {
  for (const char* c : {"AF", "AN", "AS", "EU", "NA", "OC", "SA"}) {
    EXPECT_TRUE(is_continent_code(c)) << c;
  }
  EXPECT_FALSE(is_continent_code("eu"));
  EXPECT_FALSE(is_continent_code("XX"));
  EXPECT_FALSE(is_continent_code("EUR"));
  EXPECT_FALSE(is_continent_code(""));
}

TEST(Countries, CountryCodes) {
  EXPECT_TRUE(is_country_code("DE"));
  EXPECT_TRUE(is_country_code("US"));
  EXPECT_TRUE(is_country_code("AD"));  // first
  EXPECT_TRUE(is_country_code("ZW"));  // last
  EXPECT_TRUE(is_country_code("XK"));  // Kosovo, as MaxMind reports it
  EXPECT_FALSE(is_country_code("de"));
  EXPECT_FALSE(is_country_code("ZZ"));
  EXPECT_FALSE(is_country_code("UK"));
  EXPECT_FALSE(is_country_code("DEU"));
  EXPECT_FALSE(is_country_code(""));
}

// Every code in the system's tzdata ISO 3166 list is known (skipped where tzdata is absent).
TEST(Countries, CoversIso3166FromTzdata) {
  std::ifstream in("/usr/share/zoneinfo/iso3166.tab");
  if (!in) GTEST_SKIP() << "no /usr/share/zoneinfo/iso3166.tab";
  std::string line;
  int count = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const std::string code = line.substr(0, 2);
    EXPECT_TRUE(is_country_code(code)) << code;
    EXPECT_EQ(continent_of_country(code).size(), 2U) << code;
    EXPECT_TRUE(country_centroid(code).has_value()) << code;
    ++count;
  }
  EXPECT_GE(count, 240);
}

TEST(Countries, SubdivisionCodes) {
  EXPECT_TRUE(is_subdivision_code("US-CA"));
  EXPECT_TRUE(is_subdivision_code("GB-ENG"));
  EXPECT_TRUE(is_subdivision_code("JP-13"));
  EXPECT_TRUE(is_subdivision_code("FR-2A"));
  EXPECT_FALSE(is_subdivision_code("US-"));
  EXPECT_FALSE(is_subdivision_code("US-CALI"));
  EXPECT_FALSE(is_subdivision_code("ZZ-CA"));
  EXPECT_FALSE(is_subdivision_code("US-ca"));
  EXPECT_FALSE(is_subdivision_code("USCA"));
  EXPECT_FALSE(is_subdivision_code("US"));
}

TEST(Countries, ContinentOfCountry) {
  EXPECT_EQ(continent_of_country("DE"), "EU");
  EXPECT_EQ(continent_of_country("GB"), "EU");
  EXPECT_EQ(continent_of_country("US"), "NA");
  EXPECT_EQ(continent_of_country("MX"), "NA");
  EXPECT_EQ(continent_of_country("BR"), "SA");
  EXPECT_EQ(continent_of_country("JP"), "AS");
  EXPECT_EQ(continent_of_country("AU"), "OC");
  EXPECT_EQ(continent_of_country("ZA"), "AF");
  EXPECT_EQ(continent_of_country("AQ"), "AN");
  EXPECT_EQ(continent_of_country("RU"), "EU");
  EXPECT_EQ(continent_of_country("ZZ"), "");
  EXPECT_EQ(continent_of_country("d"), "");
}

TEST(Countries, Centroids) {
  auto de = country_centroid("DE");
  ASSERT_TRUE(de);
  EXPECT_NEAR(de->latitude, 51.2, 1.0);
  EXPECT_NEAR(de->longitude, 10.4, 1.0);
  auto au = country_centroid("AU");
  ASSERT_TRUE(au);
  EXPECT_LT(au->latitude, -20);
  EXPECT_GT(au->longitude, 120);
  auto us = country_centroid("US");
  ASSERT_TRUE(us);
  EXPECT_GT(us->latitude, 30);
  EXPECT_LT(us->longitude, -80);
  EXPECT_FALSE(country_centroid("ZZ").has_value());
}

TEST(Distance, FrankfurtToAshburn) {
  const double km = great_circle_km(50.1109, 8.6821, 39.0438, -77.4874);
  EXPECT_NEAR(km, 6500.0, 6500.0 * 0.02);
  // Symmetric.
  EXPECT_DOUBLE_EQ(km, great_circle_km(39.0438, -77.4874, 50.1109, 8.6821));
}

TEST(Distance, EdgeCases) {
  EXPECT_DOUBLE_EQ(great_circle_km(10, 20, 10, 20), 0.0);
  // Half the circumference for antipodes, no NaN.
  EXPECT_NEAR(great_circle_km(0, 0, 0, 180), 3.14159265358979 * 6371.0, 0.01);
  EXPECT_NEAR(great_circle_km(90, 0, -90, 0), 3.14159265358979 * 6371.0, 0.01);
  // Across the antimeridian: 1 degree of longitude at the equator, about 111 km.
  EXPECT_NEAR(great_circle_km(0, 179.5, 0, -179.5), 111.19, 0.1);
}

}  // namespace
}  // namespace geodns::geo
