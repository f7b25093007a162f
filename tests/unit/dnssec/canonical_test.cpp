// Canonical RR form and order (RFC 4034 6.2/6.3, RFC 6840 5.1).
#include "dnssec/canonical.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "ldns_check.h"

namespace geodns::dnssec::testing {
namespace {

std::vector<std::string> canonical_set(uint16_t type, const std::vector<std::string>& in) {
  std::vector<std::string_view> views(in.begin(), in.end());
  uint8_t scratch[4096];
  std::string_view sorted[64];
  const size_t n = canonical_rdata_set(type, views, scratch, sizeof scratch, sorted, 64);
  if (n == kCanonicalFailed) return {"failed"};
  return std::vector<std::string>(sorted, sorted + n);
}

std::string mx(uint16_t pref, std::string_view name) {
  std::string r;
  r.push_back(static_cast<char>(pref >> 8));
  r.push_back(static_cast<char>(pref));
  return r + wire(name);
}

TEST(Canonical, LowercasesNamesInListedTypesOnly) {
  EXPECT_EQ(canonical_set(15, {mx(10, "MX1.Example.COM.")}),
            std::vector<std::string>{mx(10, "mx1.example.com.")});
  // SRV: priority, weight, port, then the target.
  const std::string srv = std::string("\0\1\0\2\0\3", 6) + wire("SIP.Example.com.");
  EXPECT_EQ(canonical_set(33, {srv}),
            std::vector<std::string>{std::string("\0\1\0\2\0\3", 6) + wire("sip.example.com.")});
  // SOA: both names, the counters untouched.
  const std::string soa = wire("NS1.X.") + wire("Host.X.") + std::string(20, 'A');
  EXPECT_EQ(canonical_set(6, {soa}),
            std::vector<std::string>{wire("ns1.x.") + wire("host.x.") + std::string(20, 'A')});
  // TXT is not on the list: its bytes are not names.
  EXPECT_EQ(canonical_set(16, {"\3ABC"}), std::vector<std::string>{"\3ABC"});
  // RFC 6840 5.1: NSEC's next name keeps its case.
  const std::string nsec = wire("B.example.") + std::string("\0\1\x40", 3);
  EXPECT_EQ(canonical_set(47, {nsec}), std::vector<std::string>{nsec});
  EXPECT_TRUE(rdata_names_lowercased(46));
  EXPECT_FALSE(rdata_names_lowercased(47));
  EXPECT_FALSE(rdata_names_lowercased(1));
}

TEST(Canonical, OrderIsIndependentOfInputOrderAndDropsDuplicates) {
  std::vector<std::string> a;
  for (int i = 0; i < 12; ++i) a.push_back(std::string("\xc0\x00\x02", 3) + char(250 - i * 20));
  a.push_back(a[3]);  // a duplicate
  const auto expected = canonical_set(1, a);
  ASSERT_EQ(expected.size(), 12u);
  EXPECT_TRUE(std::is_sorted(expected.begin(), expected.end(), [](const auto& x, const auto& y) {
    return std::lexicographical_compare(x.begin(), x.end(), y.begin(), y.end(),
                                        [](char p, char q) { return uint8_t(p) < uint8_t(q); });
  }));
  // Unsigned: 0xf0 sorts after 0x10, which a signed char comparison would get wrong.
  EXPECT_EQ(static_cast<uint8_t>(expected.back()[3]), 250);
  std::sort(a.begin(), a.end());
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(canonical_set(1, a), expected);
    std::next_permutation(a.begin(), a.end());
  }
  std::reverse(a.begin(), a.end());
  EXPECT_EQ(canonical_set(1, a), expected);
  // A shorter RDATA that is a prefix of another sorts first (absence before 0x00).
  EXPECT_EQ(canonical_set(16, {std::string("\2a\0", 3), "\1a"}),
            (std::vector<std::string>{"\1a", std::string("\2a\0", 3)}));
  // Case-only differences in names collapse to one record.
  EXPECT_EQ(canonical_set(2, {wire("NS.X."), wire("ns.x.")}).size(), 1u);
}

TEST(Canonical, MalformedNamesAndSmallBuffersFail) {
  EXPECT_EQ(canonical_set(5, {"\5abc"}), std::vector<std::string>{"failed"});
  EXPECT_EQ(canonical_set(15, {"\0"}), std::vector<std::string>{"failed"});
  const std::string big(100, 'x');
  std::string_view v = big;
  uint8_t scratch[10];
  std::string_view sorted[1];
  EXPECT_EQ(canonical_rdata_set(16, {&v, 1}, scratch, sizeof scratch, sorted, 1), kCanonicalFailed);
}

TEST(Canonical, RrsigLabels) {
  const std::string w = wire("www.example.com.");
  EXPECT_EQ(rrsig_labels(reinterpret_cast<const uint8_t*>(w.data()), w.size()), 3);
  const std::string star = wire("*.example.com.");
  EXPECT_EQ(rrsig_labels(reinterpret_cast<const uint8_t*>(star.data()), star.size()), 2);
  const std::string root = wire(".");
  EXPECT_EQ(rrsig_labels(reinterpret_cast<const uint8_t*>(root.data()), root.size()), 0);
}

}  // namespace
}  // namespace geodns::dnssec::testing
