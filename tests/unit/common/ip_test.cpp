#include "common/ip.h"

#include <gtest/gtest.h>

namespace geodns {
namespace {

IpAddress ip(const char* s) {
  return *IpAddress::parse(s);
}

TEST(IpAddress, MaskedKeepsExactlyThePrefix) {
  EXPECT_EQ(ip("81.2.69.160").masked(24).to_string(), "81.2.69.0");
  EXPECT_EQ(ip("81.2.69.160").masked(0).to_string(), "0.0.0.0");
  EXPECT_EQ(ip("81.2.69.160").masked(32).to_string(), "81.2.69.160");
  EXPECT_EQ(ip("255.255.255.255").masked(7).to_string(), "254.0.0.0");
  EXPECT_EQ(ip("255.255.255.255").masked(20).to_string(), "255.255.240.0");
  EXPECT_EQ(ip("2001:db8:abcd:ef01::1").masked(56).to_string(), "2001:db8:abcd:ef00::");
  EXPECT_EQ(ip("2001:db8::1").masked(128).to_string(), "2001:db8::1");
  EXPECT_EQ(ip("2001:db8::1").masked(0).to_string(), "::");
  EXPECT_EQ(ip("ffff::").masked(9).to_string(), "ff80::");
}

TEST(IpAddress, MappedAndCommonPrefix) {
  EXPECT_TRUE(ip("::ffff:81.2.69.160").is_v4_mapped());
  EXPECT_EQ(ip("::ffff:81.2.69.160").unmapped().to_string(), "81.2.69.160");
  EXPECT_FALSE(ip("2001:db8::1").is_v4_mapped());
  EXPECT_EQ(common_prefix_length(ip("203.0.5.1"), ip("203.0.113.0"), 32), 17u);
  EXPECT_EQ(common_prefix_length(ip("10.0.0.1"), ip("10.0.0.1"), 32), 32u);
}

TEST(IpPrefix, ParseRejectsHostBitsAndBadLengths) {
  std::string why;
  auto p = IpPrefix::parse("192.0.2.0/24", &why);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->length, 24);
  EXPECT_TRUE(p->contains(ip("192.0.2.77")));
  EXPECT_FALSE(p->contains(ip("192.0.3.1")));
  EXPECT_FALSE(IpPrefix::parse("192.0.2.1/24", &why));
  EXPECT_NE(why.find("host bits"), std::string::npos);
  EXPECT_FALSE(IpPrefix::parse("192.0.2.0/33", &why));
  EXPECT_FALSE(IpPrefix::parse("192.0.2.0/x", &why));
  EXPECT_FALSE(IpPrefix::parse("nonsense", &why));
  EXPECT_EQ(IpPrefix::parse("2001:db8::/32")->to_string(), "2001:db8::/32");
  EXPECT_EQ(IpPrefix::parse("198.51.100.7")->length, 32);
}

}  // namespace
}  // namespace geodns

namespace geodns {
namespace {

TEST(IpAddress, MaskedAgreesWithBitwiseMaskAtEveryLength) {
  for (const char* text :
       {"255.255.255.255", "81.2.69.160", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "2001:db8:abcd:ef01:2345:6789:abcd:ef01"}) {
    const IpAddress a = *IpAddress::parse(text);
    for (unsigned len = 0; len <= a.bit_length() + 1U; ++len) {
      const IpAddress m = a.masked(len);
      EXPECT_EQ(m.family, a.family);
      for (unsigned i = 0; i < 128; ++i) {
        const bool want = i < len && i < a.bit_length() && a.bit(i);
        ASSERT_EQ(m.bit(i), want) << text << "/" << len << " bit " << i;
      }
    }
  }
}

TEST(IpAddress, V4MappedIsRecognisedExactly) {
  EXPECT_TRUE(IpAddress::parse("::ffff:192.0.2.1")->is_v4_mapped());
  EXPECT_EQ(IpAddress::parse("::ffff:192.0.2.1")->unmapped().to_string(), "192.0.2.1");
  EXPECT_FALSE(IpAddress::parse("::fffe:192.0.2.1")->is_v4_mapped());
  EXPECT_FALSE(IpAddress::parse("1::ffff:192.0.2.1")->is_v4_mapped());
  EXPECT_FALSE(IpAddress::parse("::192.0.2.1")->is_v4_mapped());
  EXPECT_FALSE(IpAddress::parse("192.0.2.1")->is_v4_mapped());
  EXPECT_EQ(IpAddress::parse("2001:db8::1")->unmapped().to_string(), "2001:db8::1");
}

}  // namespace
}  // namespace geodns
