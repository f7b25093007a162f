#include "server/tcp_framer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace geodns::server {
namespace {

std::vector<uint8_t> frame(const std::string& body) {
  uint8_t prefix[2];
  write_tcp_length(prefix, body.size());
  std::vector<uint8_t> out(body.size() + 2);
  out[0] = prefix[0];
  out[1] = prefix[1];
  std::copy(body.begin(), body.end(), out.begin() + 2);
  return out;
}

std::string text(std::span<const uint8_t> bytes) {
  return {bytes.begin(), bytes.end()};
}

TEST(TcpFramer, EmptyHasNothing) {
  TcpFramer framer;
  EXPECT_FALSE(framer.next().has_value());
  EXPECT_FALSE(framer.has_message());
  EXPECT_FALSE(framer.has_partial());
  EXPECT_EQ(framer.buffered_bytes(), 0U);
}

TEST(TcpFramer, OneMessage) {
  TcpFramer framer;
  framer.append(frame("hello"));
  ASSERT_TRUE(framer.has_message());
  const auto message = framer.next();
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(text(*message), "hello");
  EXPECT_FALSE(framer.next().has_value());
  EXPECT_EQ(framer.buffered_bytes(), 0U);
}

TEST(TcpFramer, PipelinedMessagesInOrder) {
  TcpFramer framer;
  std::vector<uint8_t> stream;
  for (int i = 0; i < 10; ++i) {
    const auto one = frame("query-" + std::to_string(i));
    stream.insert(stream.end(), one.begin(), one.end());
  }
  framer.append(stream);
  for (int i = 0; i < 10; ++i) {
    const auto message = framer.next();
    ASSERT_TRUE(message.has_value()) << i;
    EXPECT_EQ(text(*message), "query-" + std::to_string(i));
  }
  EXPECT_FALSE(framer.next().has_value());
}

TEST(TcpFramer, ByteByByteIncludingSplitPrefix) {
  TcpFramer framer;
  const auto bytes = frame(std::string(300, 'x'));  // length 0x012C: both prefix bytes matter
  for (size_t i = 0; i + 1 < bytes.size(); ++i) {
    framer.append({&bytes[i], 1});
    EXPECT_TRUE(framer.has_partial()) << i;
    EXPECT_FALSE(framer.next().has_value()) << i;
  }
  framer.append({&bytes.back(), 1});
  EXPECT_FALSE(framer.has_partial());
  const auto message = framer.next();
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(message->size(), 300U);
  EXPECT_EQ(text(*message), std::string(300, 'x'));
}

TEST(TcpFramer, MessageThenPartialKeepsRemainder) {
  TcpFramer framer;
  auto bytes = frame("first");
  const auto second = frame("second");
  bytes.insert(bytes.end(), second.begin(), second.begin() + 4);  // prefix + "se"
  framer.append(bytes);
  const auto first = framer.next();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(text(*first), "first");
  EXPECT_TRUE(framer.has_partial());
  EXPECT_EQ(framer.buffered_bytes(), 4U);
  framer.append({second.data() + 4, second.size() - 4});
  const auto rest = framer.next();
  ASSERT_TRUE(rest.has_value());
  EXPECT_EQ(text(*rest), "second");
}

TEST(TcpFramer, ZeroLengthMessage) {
  TcpFramer framer;
  framer.append(frame(""));
  const auto message = framer.next();
  ASSERT_TRUE(message.has_value());
  EXPECT_TRUE(message->empty());
}

TEST(TcpFramer, MaximumLengthMessage) {
  TcpFramer framer;
  const auto bytes = frame(std::string(65535, 'm'));
  framer.append({bytes.data(), 40000});
  EXPECT_FALSE(framer.next().has_value());
  framer.append({bytes.data() + 40000, bytes.size() - 40000});
  const auto message = framer.next();
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(message->size(), 65535U);
}

TEST(TcpFramer, ClearDropsEverything) {
  TcpFramer framer;
  framer.append(frame("abc"));
  framer.clear();
  EXPECT_EQ(framer.buffered_bytes(), 0U);
  EXPECT_FALSE(framer.next().has_value());
}

TEST(WriteTcpLength, NetworkOrder) {
  uint8_t out[2];
  write_tcp_length(out, 0x1234);
  EXPECT_EQ(out[0], 0x12);
  EXPECT_EQ(out[1], 0x34);
}

}  // namespace
}  // namespace geodns::server
