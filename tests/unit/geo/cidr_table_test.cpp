#include "geo/cidr_table.h"

#include <gtest/gtest.h>

#include <string_view>

namespace geodns::geo {
namespace {

IpAddress ip(std::string_view text) {
  auto a = IpAddress::parse(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(IpAddress{});
}

IpPrefix net(std::string_view text) {
  auto p = IpPrefix::parse(text);
  EXPECT_TRUE(p.has_value()) << text;
  return p.value_or(IpPrefix{});
}

TEST(CidrTable, EmptyTableMatchesNothing) {
  CidrTable t;
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.size(), 0U);
  EXPECT_FALSE(t.lookup(ip("192.0.2.1")).has_value());
  EXPECT_FALSE(t.lookup(ip("2001:db8::1")).has_value());
  EXPECT_FALSE(t.lookup(IpAddress{}).has_value());
}

TEST(CidrTable, LongestPrefixWins) {
  CidrTable t;
  ASSERT_TRUE(t.insert(net("10.0.0.0/8"), 1));
  ASSERT_TRUE(t.insert(net("10.1.0.0/16"), 2));
  ASSERT_TRUE(t.insert(net("10.1.2.0/24"), 3));
  EXPECT_EQ(t.size(), 3U);

  auto m = t.lookup(ip("10.1.2.3"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->value, 3U);
  EXPECT_EQ(m->prefix_length, 24);

  m = t.lookup(ip("10.1.3.3"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->value, 2U);
  EXPECT_EQ(m->prefix_length, 16);

  m = t.lookup(ip("10.200.0.1"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->value, 1U);
  EXPECT_EQ(m->prefix_length, 8);

  EXPECT_FALSE(t.lookup(ip("11.0.0.1")).has_value());
}

TEST(CidrTable, DuplicateIsRejectedAndKeepsFirstValue) {
  CidrTable t;
  ASSERT_TRUE(t.insert(net("192.0.2.0/24"), 7));
  EXPECT_FALSE(t.insert(net("192.0.2.0/24"), 8));
  EXPECT_EQ(t.size(), 1U);
  EXPECT_EQ(t.lookup(ip("192.0.2.9"))->value, 7U);
  // Same bits, different length: not a duplicate.
  EXPECT_TRUE(t.insert(net("192.0.2.0/25"), 9));
  EXPECT_EQ(t.lookup(ip("192.0.2.9"))->value, 9U);
  EXPECT_EQ(t.lookup(ip("192.0.2.200"))->value, 7U);
}

TEST(CidrTable, DefaultRoutesAndHostRoutes) {
  CidrTable t;
  ASSERT_TRUE(t.insert(net("0.0.0.0/0"), 1));
  ASSERT_TRUE(t.insert(net("::/0"), 2));
  ASSERT_TRUE(t.insert(net("198.51.100.7/32"), 3));
  ASSERT_TRUE(t.insert(net("2001:db8::7/128"), 4));

  auto m = t.lookup(ip("203.0.113.1"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->value, 1U);
  EXPECT_EQ(m->prefix_length, 0);
  m = t.lookup(ip("198.51.100.7"));
  EXPECT_EQ(m->value, 3U);
  EXPECT_EQ(m->prefix_length, 32);
  EXPECT_EQ(t.lookup(ip("198.51.100.8"))->value, 1U);

  m = t.lookup(ip("2001:db8::7"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->value, 4U);
  EXPECT_EQ(m->prefix_length, 128);
  m = t.lookup(ip("2001:db8::8"));
  EXPECT_EQ(m->value, 2U);
  EXPECT_EQ(m->prefix_length, 0);
}

TEST(CidrTable, FamiliesAreSeparate) {
  CidrTable t;
  ASSERT_TRUE(t.insert(net("0.0.0.0/0"), 1));
  // An IPv6 address whose leading bytes equal an IPv4 entry must not match it.
  EXPECT_FALSE(t.lookup(ip("2001:db8::1")).has_value());
  ASSERT_TRUE(t.insert(net("2001:db8::/32"), 2));
  EXPECT_EQ(t.lookup(ip("2001:db8:ffff::1"))->value, 2U);
  EXPECT_EQ(t.lookup(ip("32.1.13.184"))->value, 1U);  // 0x20010db8 as IPv4
}

TEST(CidrTable, V4MappedAddressMatchesIpv4Entries) {
  CidrTable t;
  ASSERT_TRUE(t.insert(net("203.0.113.0/24"), 5));
  auto m = t.lookup(ip("::ffff:203.0.113.9"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->value, 5U);
  EXPECT_EQ(m->prefix_length, 24);  // IPv4 bits
  EXPECT_FALSE(t.lookup(ip("::ffff:203.0.114.9")).has_value());
  // A v4-mapped prefix is stored as the IPv4 prefix: a duplicate of it.
  EXPECT_FALSE(t.insert(net("::ffff:203.0.113.0/120"), 6));
  ASSERT_TRUE(t.insert(net("::ffff:198.51.100.0/120"), 6));
  EXPECT_EQ(t.lookup(ip("198.51.100.1"))->value, 6U);
}

TEST(CidrTableScope, NoEntriesKeepsDecidedLength) {
  CidrTable t;
  EXPECT_EQ(t.scope_excluding_inner(ip("192.0.2.1"), 16), 16);
  EXPECT_EQ(t.scope_excluding_inner(ip("2001:db8::1"), 32), 32);
}

TEST(CidrTableScope, InnerEntryNotContainingClientNarrowsScope) {
  // The database decided 10.0.0.0/8; an override 10.1.0.0/16 answers differently.
  CidrTable t;
  ASSERT_TRUE(t.insert(net("10.1.0.0/16"), 1));
  // 10.2.3.4 shares 14 bits with 10.1.0.0 (00001010.000000|01 vs |10), so /15 is the widest
  // scope whose network excludes 10.1.0.0/16.
  EXPECT_EQ(t.scope_excluding_inner(ip("10.2.3.4"), 8), 15);
  // 10.128.0.1 diverges from 10.1/16 at bit 8: /9 already excludes it.
  EXPECT_EQ(t.scope_excluding_inner(ip("10.128.0.1"), 8), 9);
  // Entries outside the decided network do not matter.
  EXPECT_EQ(t.scope_excluding_inner(ip("11.0.0.1"), 8), 8);
}

TEST(CidrTableScope, EntriesContainingClientDoNotNarrow) {
  CidrTable t;
  ASSERT_TRUE(t.insert(net("10.0.0.0/8"), 1));
  ASSERT_TRUE(t.insert(net("10.1.0.0/16"), 2));
  // Client inside 10.1.0.0/16 decided by that entry: nothing deeper, scope stays 16.
  EXPECT_EQ(t.scope_excluding_inner(ip("10.1.2.3"), 16), 16);
  ASSERT_TRUE(t.insert(net("10.1.2.0/24"), 3));
  // Decided by 10.1.0.0/16 for 10.1.9.9, but 10.1.2.0/24 sits inside: 10.1.9.9 and 10.1.2.0
  // share 20 bits (00001001 vs 00000010 in the third byte: 4 bits), so scope 21.
  EXPECT_EQ(t.scope_excluding_inner(ip("10.1.9.9"), 16), 21);
  // The client inside the /24 itself: its own entry contains it, nothing narrower exists.
  EXPECT_EQ(t.scope_excluding_inner(ip("10.1.2.3"), 24), 24);
}

TEST(CidrTableScope, DeepestDivergenceWins) {
  CidrTable t;
  ASSERT_TRUE(t.insert(net("192.0.2.0/30"), 1));
  ASSERT_TRUE(t.insert(net("192.0.2.128/25"), 2));
  // 192.0.2.5 (..00000101) vs 192.0.2.0/30 (..000000xx): shares 29 bits -> scope 30.
  EXPECT_EQ(t.scope_excluding_inner(ip("192.0.2.5"), 24), 30);
  // A host entry next door forces the full length.
  ASSERT_TRUE(t.insert(net("192.0.2.4/32"), 3));
  EXPECT_EQ(t.scope_excluding_inner(ip("192.0.2.5"), 24), 32);
  // The scope never exceeds the family's bits even when decided_length is silly.
  EXPECT_EQ(t.scope_excluding_inner(ip("192.0.2.5"), 200), 32);
}

TEST(CidrTableScope, Ipv6AndMapped) {
  CidrTable t;
  ASSERT_TRUE(t.insert(net("2001:db8:1::/48"), 1));
  // 2001:db8:2:: vs 2001:db8:1:: diverge at bit 46 -> 47.
  EXPECT_EQ(t.scope_excluding_inner(ip("2001:db8:2::1"), 32), 47);
  EXPECT_EQ(t.scope_excluding_inner(ip("2001:db8:1::1"), 48), 48);
  ASSERT_TRUE(t.insert(net("203.0.113.0/24"), 2));
  EXPECT_EQ(t.scope_excluding_inner(ip("::ffff:203.0.112.1"), 16), 24);
}

}  // namespace
}  // namespace geodns::geo
