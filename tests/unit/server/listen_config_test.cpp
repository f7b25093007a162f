#include "server/listen_config.h"

#include <gtest/gtest.h>

namespace geodns::server {
namespace {

TEST(ParseEndpoint, Ipv4WithPort) {
  const Result<Endpoint> endpoint = parse_endpoint("127.0.0.1:5353");
  ASSERT_TRUE(endpoint.ok()) << endpoint.error().to_string();
  EXPECT_EQ(endpoint->address, IpAddress::v4(127, 0, 0, 1));
  EXPECT_EQ(endpoint->port, 5353);
  EXPECT_EQ(endpoint->text, "127.0.0.1:5353");
}

TEST(ParseEndpoint, WildcardAndPortZero) {
  const Result<Endpoint> any = parse_endpoint("0.0.0.0:53");
  ASSERT_TRUE(any.ok());
  EXPECT_EQ(any->address, IpAddress::v4(0, 0, 0, 0));
  EXPECT_EQ(any->port, 53);
  const Result<Endpoint> zero = parse_endpoint("127.0.0.1:0");
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero->port, 0);
}

TEST(ParseEndpoint, Ipv6InBrackets) {
  const Result<Endpoint> endpoint = parse_endpoint("[::1]:5353");
  ASSERT_TRUE(endpoint.ok()) << endpoint.error().to_string();
  EXPECT_TRUE(endpoint->address.is_v6());
  EXPECT_EQ(endpoint->address.bytes[15], 1);
  EXPECT_EQ(endpoint->port, 5353);
  EXPECT_EQ(endpoint->text, "[::1]:5353");
  const Result<Endpoint> any = parse_endpoint("[::]:53");
  ASSERT_TRUE(any.ok());
  EXPECT_EQ(any->text, "[::]:53");
}

void expect_error(std::string_view text, std::string_view fragment) {
  const Result<Endpoint> endpoint = parse_endpoint(text);
  ASSERT_FALSE(endpoint.ok()) << text;
  EXPECT_NE(endpoint.error().message.find(fragment), std::string::npos)
      << text << " -> " << endpoint.error().message;
}

TEST(ParseEndpoint, ClearErrors) {
  expect_error("", "empty");
  expect_error("127.0.0.1", "missing port");
  expect_error("127.0.0.1:", "missing port");
  expect_error("127.0.0.1:65536", "0..65535");
  expect_error("127.0.0.1:53x", "0..65535");
  expect_error("127.0.0.1:-1", "0..65535");
  expect_error("localhost:53", "not an IP address");
  expect_error("::1:53", "brackets");
  expect_error("[::1]53", "missing port");
  expect_error("[::1", "missing ']'");
  expect_error("[127.0.0.1]:53", "brackets are for IPv6");
  expect_error("300.1.1.1:53", "not an IP address");
}

TEST(ListenConfigOf, TcpThreadsKeptAsGiven) {
  zone::ListenSettings settings;
  EXPECT_EQ(settings.tcp_threads, 1u);  // the documented default: one TCP worker
  settings.threads = 0;
  settings.tcp_threads = 3;
  const Result<ListenConfig> lc = listen_config(settings, 4);
  ASSERT_TRUE(lc.ok()) << lc.error().to_string();
  EXPECT_EQ(lc->threads, 4u);  // UDP workers: one per core
  EXPECT_EQ(lc->tcp_threads, 3u);
  settings.tcp_threads = 0;  // shared: 0 is not resolved to a core count
  EXPECT_EQ(listen_config(settings, 4)->tcp_threads, 0u);
}

TEST(FormatEndpoint, RoundTrips) {
  const auto v6 = IpAddress::parse("2001:db8::53");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(format_endpoint(*v6, 53), "[2001:db8::53]:53");
  const Result<Endpoint> back = parse_endpoint(format_endpoint(*v6, 53));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->address, *v6);
}

}  // namespace
}  // namespace geodns::server
