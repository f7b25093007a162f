#include <gtest/gtest.h>

#include <maxminddb.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "geo/database.h"
#include "geo/mmdb_walk.h"
#include "geo/prefix_map.h"

namespace geodns::geo {
namespace {

const std::string kDemo = std::string(GEODNS_SOURCE_DIR) + "/geoip/demo.mmdb";
const std::string kReal = std::string(GEODNS_SOURCE_DIR) + "/geoip/real/geo-whois-asn-country.mmdb";

template <typename T>
T host_mask(unsigned len, unsigned bits) {
  return len == 0 ? ~T(0) : len >= bits ? T(0) : (T(1) << (bits - len)) - 1;
}

// Ordered, aligned, gap-free, covering the whole family.
template <typename Leaf, typename T>
void expect_partition(std::span<const Leaf> leaves, unsigned bits) {
  ASSERT_FALSE(leaves.empty());
  EXPECT_EQ(leaves.front().start, T(0));
  for (size_t i = 0; i < leaves.size(); ++i) {
    const T mask = host_mask<T>(leaves[i].length, bits);
    ASSERT_EQ(leaves[i].start & mask, T(0)) << "unaligned leaf " << i;
    const T last = leaves[i].start | mask;
    if (i + 1 < leaves.size()) {
      ASSERT_EQ(last + 1, leaves[i + 1].start) << "gap or overlap after leaf " << i;
    } else {
      EXPECT_EQ(last, ~T(0));
    }
  }
}

// The walk agrees with libmaxminddb's own lookup on the first and last address of a leaf.
void expect_leaf_matches_lookup(const Database& db, const NetworkIndex& index, const IpAddress& a,
                                uint8_t length, uint32_t cls) {
  Location loc;
  const bool found = db.lookup(a, &loc);
  ASSERT_EQ(found, cls != kNoClass) << a.to_string();
  EXPECT_EQ(loc.prefix_length, length) << a.to_string();
  if (!found) return;
  const Location& c = index.classes()[cls];
  EXPECT_EQ(loc.country, c.country) << a.to_string();
  EXPECT_EQ(loc.continent, c.continent) << a.to_string();
  EXPECT_EQ(loc.subdivision, c.subdivision) << a.to_string();
  EXPECT_EQ(loc.has_coordinates, c.has_coordinates) << a.to_string();
  EXPECT_EQ(loc.latitude, c.latitude) << a.to_string();
  EXPECT_EQ(loc.longitude, c.longitude) << a.to_string();
}

void check_index(const std::string& path, size_t max_leaves_checked) {
  auto db = Database::open(path);
  ASSERT_TRUE(db.ok()) << db.error().to_string();
  auto built = NetworkIndex::build(**db);
  ASSERT_TRUE(built.ok()) << built.error().to_string();
  const NetworkIndex& index = **built;
  expect_partition<Leaf4, uint32_t>(index.v4(), 32);
  expect_partition<Leaf6, Uint128>(index.v6(), 128);
  EXPECT_LE(index.tree_networks(), index.v4().size() + index.v6().size());
  std::mt19937_64 rng(7);
  auto pick = [&](size_t n) {
    return n <= max_leaves_checked
               ? 1
               : std::uniform_int_distribution<size_t>(1, n / max_leaves_checked)(rng);
  };
  for (size_t i = 0; i < index.v4().size(); i += pick(index.v4().size())) {
    const Leaf4& l = index.v4()[i];
    expect_leaf_matches_lookup(**db, index, v4_address(l.start), l.length, l.cls);
    expect_leaf_matches_lookup(**db, index, v4_address(l.start | host_mask<uint32_t>(l.length, 32)),
                               l.length, l.cls);
  }
  for (size_t i = 0; i < index.v6().size(); i += pick(index.v6().size())) {
    const Leaf6& l = index.v6()[i];
    const IpAddress first = v6_address(l.start);
    // v4-mapped addresses are looked up as IPv4 (IPv4 lengths), which the v4 leaves cover.
    if (first.is_v4_mapped()) continue;
    expect_leaf_matches_lookup(**db, index, first, l.length, l.cls);
    expect_leaf_matches_lookup(**db, index, v6_address(l.start | host_mask<Uint128>(l.length, 128)),
                               l.length, l.cls);
  }
}

// Resident kB of the process's mapping that starts at `start` (/proc/self/smaps), -1 if none.
long resident_kb(const void* start) {
  char prefix[32];
  std::snprintf(prefix, sizeof(prefix), "%lx-", reinterpret_cast<unsigned long>(start));
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool in_mapping = false;
  while (std::getline(smaps, line)) {
    if (line.rfind(prefix, 0) == 0) {
      in_mapping = true;
    } else if (in_mapping && line.rfind("Rss:", 0) == 0) {
      std::istringstream fields(line.substr(4));
      long kb = -1;
      fields >> kb;
      return kb;
    }
  }
  return -1;
}

// The walk reads every page of the file; the index then drops them from the process's
// resident memory, and a lookup faults back what it reads, with the same answers.
void check_walk_releases_pages(const std::string& path) {
  auto db = Database::open(path);
  ASSERT_TRUE(db.ok()) << db.error().to_string();
  const void* mapping = (*db)->mmdb().file_content;
  Location before;
  ASSERT_TRUE((*db)->lookup(IpAddress::v4(81, 2, 69, 160), &before));
  ASSERT_GT(resident_kb(mapping), 0) << "a lookup makes part of the file resident";
  auto index = NetworkIndex::build(**db);
  ASSERT_TRUE(index.ok()) << index.error().to_string();
  EXPECT_EQ(resident_kb(mapping), 0);
  Location after;
  ASSERT_TRUE((*db)->lookup(IpAddress::v4(81, 2, 69, 160), &after));
  EXPECT_GT(resident_kb(mapping), 0);
  EXPECT_EQ(after.country, before.country);
  EXPECT_EQ(after.continent, before.continent);
  EXPECT_EQ(after.prefix_length, before.prefix_length);
  check_index(path, 2000);  // every checked leaf still agrees with lookup
}

TEST(NetworkIndex, DemoWalkReleasesTheFilesPages) {
  check_walk_releases_pages(kDemo);
}

TEST(NetworkIndex, RealWalkReleasesTheFilesPages) {
  if (!std::filesystem::exists(kReal)) GTEST_SKIP() << kReal << " absent (geoip/fetch-real-db.sh)";
  check_walk_releases_pages(kReal);
}

TEST(NetworkIndex, DemoDatabaseIsACompletePartitionThatAgreesWithLookup) {
  check_index(kDemo, ~size_t{0});
}

TEST(NetworkIndex, DemoDatabaseDedupesClassesAndFindsKnownNetworks) {
  auto db = Database::open(kDemo);
  ASSERT_TRUE(db.ok());
  auto index = NetworkIndex::build(**db);
  ASSERT_TRUE(index.ok());
  // demo-source.csv: each line its own location, two of them (DE and US) repeated for IPv6.
  EXPECT_LT((*index)->classes().size(), (*index)->tree_networks());
  bool saw_gb = false;
  for (const Leaf4& l : (*index)->v4()) {
    if (l.start == v4_bits(IpAddress::v4(81, 2, 69, 0)) && l.length == 24) {
      ASSERT_NE(l.cls, kNoClass);
      EXPECT_EQ((*index)->classes()[l.cls].country_code(), "GB");
      saw_gb = true;
    }
  }
  EXPECT_TRUE(saw_gb);
}

TEST(NetworkIndex, EmptyIndexHasOneNotFoundNetworkPerFamily) {
  auto index = NetworkIndex::empty();
  ASSERT_EQ(index->v4().size(), 1u);
  ASSERT_EQ(index->v6().size(), 1u);
  EXPECT_EQ(index->v4()[0].cls, kNoClass);
  EXPECT_EQ(index->v6()[0].length, 0);
}

TEST(NetworkIndex, RealDatabaseIsACompletePartitionThatAgreesWithLookup) {
  if (!std::filesystem::exists(kReal)) GTEST_SKIP() << kReal << " absent (geoip/fetch-real-db.sh)";
  check_index(kReal, 20000);
}

}  // namespace
}  // namespace geodns::geo
