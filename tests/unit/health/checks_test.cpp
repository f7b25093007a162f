#include "health/checks.h"

#include <gtest/gtest.h>

namespace geodns::health {
namespace {

TEST(DnsQuery, EncodesHeaderQuestionAndNoRecursion) {
  const std::string q = build_dns_query("www.Example.com.", 1, 0xBEEF);
  const std::string expected(
      "\xBE\xEF\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00"
      "\x03www\x07"
      "Example\x03"
      "com\x00"
      "\x00\x01\x00\x01",
      12 + 17 + 4);
  EXPECT_EQ(q, expected);
}

TEST(DnsQuery, RootNameAndBadNames) {
  const std::string root = build_dns_query(".", 6, 1);
  ASSERT_EQ(root.size(), 12u + 1 + 4);
  EXPECT_EQ(root[12], '\0');
  EXPECT_EQ(root[14], '\x06');
  EXPECT_TRUE(build_dns_query("a..b", 1, 1).empty());
  EXPECT_TRUE(build_dns_query(std::string(64, 'a') + ".com", 1, 1).empty());
}

TEST(ProbeEndpoint, DefaultsAndOverrides) {
  steer::TargetSpec t;
  t.address = *IpAddress::parse("192.0.2.10");
  t.check.type = steer::CheckType::https;
  auto ep = probe_endpoint(t);
  EXPECT_EQ(ep.address, t.address);
  EXPECT_EQ(ep.port, 443);
  t.check.type = steer::CheckType::dns;
  EXPECT_EQ(probe_endpoint(t).port, 53);
  t.check.port = 8080;
  EXPECT_EQ(probe_endpoint(t).port, 8080);
  t.check.probe_port = 9090;
  t.check.probe_address = *IpAddress::parse("10.0.0.1");
  ep = probe_endpoint(t);
  EXPECT_EQ(ep.port, 9090);
  EXPECT_EQ(ep.address, *IpAddress::parse("10.0.0.1"));
}

}  // namespace
}  // namespace geodns::health
