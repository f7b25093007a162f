#include "ops/query_log.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace geodns::ops {
namespace {

std::vector<uint8_t> query(const std::vector<std::string>& labels, uint16_t qtype) {
  std::vector<uint8_t> q = {0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  for (const auto& l : labels) {
    q.push_back(static_cast<uint8_t>(l.size()));
    q.insert(q.end(), l.begin(), l.end());
  }
  q.push_back(0);
  q.push_back(static_cast<uint8_t>(qtype >> 8));
  q.push_back(static_cast<uint8_t>(qtype & 0xff));
  q.push_back(0);
  q.push_back(1);
  return q;
}

// Echoes the query as a response with NXDOMAIN and one (fake) answer count.
class EchoResponder : public server::Responder {
 public:
  size_t respond(std::span<const uint8_t> q, const server::ClientInfo&,
                 std::span<uint8_t> out) noexcept override {
    ++calls;
    std::memcpy(out.data(), q.data(), q.size());
    out[2] = 0x84;
    out[3] = 3;
    out[7] = 1;
    return q.size();
  }
  int calls = 0;
};

TEST(QueryLog, QuestionNameEscapes) {
  char buf[255];
  auto q = query({"www", "Exa.mple", "com"}, 1);
  const size_t n = question_name(q, buf);
  EXPECT_EQ(std::string(buf, n), "www.Exa\\046mple.com.");
  auto root = query({}, 2);
  EXPECT_EQ(std::string(buf, question_name(root, buf)), ".");
  std::vector<uint8_t> truncated(q.begin(), q.begin() + 15);
  EXPECT_EQ(question_name(truncated, buf), 0U);
  std::vector<uint8_t> pointer = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c};
  EXPECT_EQ(question_name(pointer, buf), 0U);
}

TEST(QueryLog, RateLimitedPerSecondAndRingBounded) {
  ManualClock clock;
  QueryLogRing ring;
  auto inner = std::make_unique<EchoResponder>();
  EchoResponder* echo = inner.get();
  LoggingResponder r(std::move(inner), &ring, &clock, 3);
  auto q = query({"www", "example", "com"}, 28);
  std::vector<uint8_t> out(65535);
  server::ClientInfo ci;
  ci.address = *IpAddress::parse("192.0.2.7");
  ci.transport = server::Transport::tcp;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(r.respond(q, ci, out), q.size());
  EXPECT_EQ(echo->calls, 10);  // every query answered, whatever the log does
  std::vector<QueryLogEntry> got;
  ring.drain([&](const QueryLogEntry& e) { got.push_back(e); });
  ASSERT_EQ(got.size(), 3U);
  EXPECT_EQ(got[0].name_text(), "www.example.com.");
  EXPECT_EQ(got[0].qtype, 28);
  EXPECT_EQ(got[0].rcode, 3);
  EXPECT_EQ(got[0].answers, 1);
  EXPECT_EQ(got[0].client.to_string(), "192.0.2.7");
  EXPECT_EQ(got[0].transport, server::Transport::tcp);
  clock.advance(std::chrono::seconds(1));
  for (int i = 0; i < 10; ++i) (void)r.respond(q, ci, out);
  EXPECT_EQ(ring.drain([](const QueryLogEntry&) {}), 3U);

  // Nobody drains: the ring fills, then drops and counts instead of blocking.
  LoggingResponder fast(std::make_unique<EchoResponder>(), &ring, &clock, 1'000'000);
  for (size_t i = 0; i < QueryLogRing::kCapacity + 10; ++i) (void)fast.respond(q, ci, out);
  EXPECT_EQ(ring.dropped(), 10U);
  EXPECT_EQ(ring.drain([](const QueryLogEntry&) {}), QueryLogRing::kCapacity);
}

}  // namespace
}  // namespace geodns::ops
