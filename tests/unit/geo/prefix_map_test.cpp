#include "geo/prefix_map.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace geodns::geo {
namespace {

using P4 = PrefixMap::Piece<uint32_t>;
using P6 = PrefixMap::Piece<Uint128>;

uint32_t b4(const char* text) {
  return v4_bits(*IpAddress::parse(text));
}

PrefixMap::Match find(const PrefixMap& m, const char* text) {
  PrefixMap::Match out{~0U, 255};
  EXPECT_TRUE(m.lookup(*IpAddress::parse(text), &out)) << text;
  return out;
}

PrefixMap::Overlay overlay(const char* prefix, uint32_t value) {
  return PrefixMap::Overlay{*IpPrefix::parse(prefix), value};
}

std::vector<P6> v6_all(uint32_t value) {
  return {P6{0, 0, value}};
}

#define EXPECT_MATCH(m, addr, v, len)           \
  do {                                          \
    const PrefixMap::Match got = find(m, addr); \
    EXPECT_EQ(got.value, v##u) << addr;         \
    EXPECT_EQ(got.length, len) << addr;         \
  } while (0)

TEST(PrefixMap, SiblingsWithEqualValuesMergeIntoTheWidestSupernet) {
  const std::vector<P4> v4 = {{b4("0.0.0.0"), 2, 7},
                              {b4("64.0.0.0"), 2, 7},
                              {b4("128.0.0.0"), 3, 8},
                              {b4("160.0.0.0"), 3, 8},
                              {b4("192.0.0.0"), 2, 9}};
  const PrefixMap m = PrefixMap::from_pieces(v4, v6_all(0), {});
  ASSERT_EQ(m.prefixes4().size(), 3u);
  EXPECT_MATCH(m, "10.0.0.1", 7, 1);
  EXPECT_MATCH(m, "130.0.0.1", 8, 2);
  EXPECT_MATCH(m, "200.0.0.1", 9, 2);
}

TEST(PrefixMap, MergingCascadesUpToTheRoot) {
  const std::vector<P4> v4 = {
      {b4("0.0.0.0"), 1, 3}, {b4("128.0.0.0"), 2, 3}, {b4("192.0.0.0"), 2, 3}};
  const PrefixMap m = PrefixMap::from_pieces(v4, v6_all(0), {});
  ASSERT_EQ(m.prefixes4().size(), 1u);
  EXPECT_MATCH(m, "255.255.255.255", 3, 0);
}

TEST(PrefixMap, OverlayInsideADatabaseNetworkSplitsItAlongThePath) {
  const PrefixMap m =
      PrefixMap::from_pieces({{0, 0, 0}}, v6_all(0), std::vector{overlay("10.0.0.0/8", 1)});
  EXPECT_MATCH(m, "10.1.2.3", 1, 8);
  EXPECT_MATCH(m, "11.0.0.0", 0, 8);  // the sibling of 10/8
  EXPECT_MATCH(m, "8.0.0.1", 0, 7);
  EXPECT_MATCH(m, "12.0.0.0", 0, 6);
  EXPECT_MATCH(m, "0.0.0.0", 0, 5);
  EXPECT_MATCH(m, "16.0.0.0", 0, 4);
  EXPECT_MATCH(m, "200.0.0.0", 0, 1);
  EXPECT_EQ(m.prefixes4().size(), 9u);  // 10/8 and its eight siblings
}

TEST(PrefixMap, OverlayAcrossDatabaseNetworksReplacesThemAndTheLongestWins) {
  const std::vector<P4> v4 = {{b4("0.0.0.0"), 1, 1}, {b4("128.0.0.0"), 1, 2}};
  const std::vector overlays = {overlay("10.0.0.0/8", 1), overlay("0.0.0.0/0", 3),
                                overlay("10.20.0.0/16", 4)};
  const PrefixMap m = PrefixMap::from_pieces(v4, v6_all(0), overlays);
  EXPECT_MATCH(m, "10.1.0.0", 1, 12);  // 10.16/12 holds 10.20/16: not in the scope
  EXPECT_MATCH(m, "10.20.30.40", 4, 16);
  EXPECT_MATCH(m, "200.0.0.0", 3, 1);
  EXPECT_MATCH(m, "11.0.0.0", 3, 8);
}

TEST(PrefixMap, OverlayEqualToItsNeighbourMergesWithIt) {
  const std::vector<P4> v4 = {{b4("0.0.0.0"), 1, 1}, {b4("128.0.0.0"), 1, 2}};
  const PrefixMap m = PrefixMap::from_pieces(v4, v6_all(0), std::vector{overlay("128.0.0.0/1", 1)});
  ASSERT_EQ(m.prefixes4().size(), 1u);
  EXPECT_MATCH(m, "1.2.3.4", 1, 0);
}

TEST(PrefixMap, V4MappedOverlayAndLookupUseIpv4) {
  const PrefixMap m = PrefixMap::from_pieces({{0, 0, 0}}, v6_all(5),
                                             std::vector{overlay("::ffff:10.0.0.0/104", 1)});
  EXPECT_MATCH(m, "10.9.9.9", 1, 8);
  EXPECT_MATCH(m, "::ffff:10.9.9.9", 1, 8);  // looked up as IPv4
  EXPECT_MATCH(m, "::ffff:11.9.9.9", 0, 8);
  EXPECT_MATCH(m, "2001:db8::1", 5, 0);
}

TEST(PrefixMap, Ipv6OverlaysAndLengths) {
  const std::vector<P6> v6 = {{0, 1, 0}, {Uint128(1) << 127, 1, 2}};
  const PrefixMap m = PrefixMap::from_pieces(
      {{0, 0, 0}}, v6, std::vector{overlay("2001:db8::/32", 1), overlay("2001:db8:1::/48", 3)});
  EXPECT_MATCH(m, "2001:db8::1", 1, 48);  // 2001:db8:1::/48 is its sibling
  EXPECT_MATCH(m, "2001:db8:1:2::", 3, 48);
  EXPECT_MATCH(m, "2001:db9::", 0, 32);
  EXPECT_MATCH(m, "8000::1", 2, 1);
  EXPECT_MATCH(m, "10.0.0.1", 0, 0);  // IPv4 untouched by IPv6 overlays
}

// Random partitions and overlays against a brute-force answer; the result must be a valid
// partition in which no two sibling entries carry the same value (the coarsest one).
TEST(PrefixMap, RandomPartitionsAgreeWithBruteForce) {
  std::mt19937 gen(11);
  auto rng = [&] { return static_cast<uint32_t>(gen()); };
  for (int round = 0; round < 30; ++round) {
    // A random prefix partition: split recursively with some probability.
    std::vector<P4> base;
    std::vector<std::pair<uint32_t, unsigned>> todo = {{0, 0}};
    while (!todo.empty()) {
      const auto [start, len] = todo.back();
      todo.pop_back();
      if (len < 24 && (len < 2 || rng() % 2 != 0)) {
        todo.push_back({start | (1U << (31 - len)), len + 1});
        todo.push_back({start, len + 1});
      } else {
        base.push_back({start, static_cast<uint8_t>(len), rng() % 3});
      }
    }
    std::vector<PrefixMap::Overlay> overlays;
    for (int k = 0; k < 12; ++k) {
      const unsigned len = rng() % 25;
      const uint32_t start = len == 0 ? 0 : (rng() & ~((len >= 32 ? 0U : (1U << (32 - len))) - 1));
      IpPrefix p{v4_address(start), static_cast<uint8_t>(len)};
      bool dup = false;
      for (const auto& o : overlays) dup = dup || o.prefix == p;
      if (!dup) overlays.push_back({p, 10 + rng() % 2});
    }
    const PrefixMap m = PrefixMap::from_pieces(base, v6_all(0), overlays);
    const auto parts = m.prefixes4();
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      const auto a = parts[i];
      const auto b = parts[i + 1];
      const uint64_t end = uint64_t{a.start} + (uint64_t{1} << (32 - a.length));
      ASSERT_EQ(end, b.start);
      const bool siblings =
          a.length == b.length && a.length > 0 && (a.start & (1U << (32 - a.length))) == 0;
      EXPECT_FALSE(siblings && a.value == b.value) << "unmerged siblings at entry " << i;
    }
    auto brute = [&](uint32_t addr) {
      uint32_t want = 0;
      int best = -1;
      for (const auto& o : overlays) {
        if (o.prefix.contains(v4_address(addr)) && o.prefix.length > best) {
          best = o.prefix.length;
          want = o.value;
        }
      }
      if (best >= 0) return want;
      for (const P4& p : base) {
        if (IpPrefix{v4_address(p.start), p.length}.contains(v4_address(addr))) want = p.value;
      }
      return want;
    };
    for (int s = 0; s < 1000; ++s) {
      const uint32_t addr = rng();
      PrefixMap::Match got;
      ASSERT_TRUE(m.lookup(v4_address(addr), &got));
      ASSERT_EQ(got.value, brute(addr)) << v4_address(addr).to_string();
      // The scope is the piece of the coarsest prefix partition that holds the address.
      auto piece = std::upper_bound(parts.begin(), parts.end(), addr,
                                    [](uint32_t v, const P4& p) { return v < p.start; });
      --piece;
      ASSERT_EQ(got.length, piece->length) << v4_address(addr).to_string();
      // Scope honesty: every address of the merged prefix gets the same value.
      const uint32_t host = got.length == 0    ? ~0U
                            : got.length >= 32 ? 0U
                                               : (1U << (32 - got.length)) - 1;
      for (int k = 0; k < 5; ++k) {
        const uint32_t inner = (addr & ~host) | (rng() & host);
        ASSERT_EQ(brute(inner), got.value)
            << v4_address(inner).to_string() << " in /" << int{got.length};
      }
    }
  }
}

}  // namespace
}  // namespace geodns::geo
