// RRL wired into the Pipeline: UDP answers over the rate are dropped or sent as TC=1 header +
// question (decoded by ldns), TCP is never limited, and the default config limits nothing.
#include <stdbool.h>  // NOLINT(modernize-deprecated-headers): before ldns (it #defines bool)

#include <gtest/gtest.h>
#include <ldns/ldns.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "../dns/test_query.h"
#include "server/pipeline.h"
#include "zone/loader.h"

namespace geodns::server::testing {
namespace {

using dns::testing::QueryBuilder;
using namespace std::chrono_literals;

class RrlPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    zone::ServerConfig config;
    auto report = zone::load_zone_dir(std::string(GEODNS_SOURCE_DIR) + "/zones", config, nullptr);
    ASSERT_TRUE(report.errors.empty());
    snapshots_.zones.publish(report.zones);
    health_.publish(std::make_shared<steer::HealthView>());
    snapshots_.health = &health_;
  }

  std::unique_ptr<Pipeline> make(bool enabled, uint32_t rate, uint32_t slip) {
    PipelineConfig pc;
    pc.rrl.enabled = enabled;
    pc.rrl.responses_per_second = rate;
    pc.rrl.slip = slip;
    pc.rrl.clock = &clock_;
    auto p = std::make_unique<Pipeline>(snapshots_, pc, 7);
    p->begin_batch();
    return p;
  }

  std::vector<uint8_t> ask(Pipeline& p, const std::vector<uint8_t>& query,
                           Transport t = Transport::udp, const char* source = "192.0.2.99") {
    ClientInfo ci;
    ci.address = *IpAddress::parse(source);
    ci.transport = t;
    std::vector<uint8_t> out(65535);
    out.resize(p.respond(query, ci, out));
    return out;
  }

  Snapshots snapshots_;
  Published<steer::HealthView> health_;
  ManualClock clock_;
};

std::vector<uint8_t> mx_query(bool edns) {
  QueryBuilder b;
  b.id = 0x5151;
  b.name = "ExAmple.com";
  b.qtype = dns::rrtype::MX;
  b.edns = edns;
  return b.build();
}

TEST_F(RrlPipelineTest, OffByDefault) {
  PipelineConfig pc;
  EXPECT_FALSE(pc.rrl.enabled);
  auto p = make(false, 1, 1);
  for (int i = 0; i < 100; ++i) ASSERT_FALSE(ask(*p, mx_query(false)).empty());
  EXPECT_EQ(p->rrl_counters().dropped.load() + p->rrl_counters().slipped.load(), 0U);
}

TEST_F(RrlPipelineTest, OverTheRateUdpIsDroppedOrSlippedWithTc) {
  auto p = make(true, 3, 2);
  for (int i = 0; i < 3; ++i) {
    const auto r = ask(*p, mx_query(true));
    ASSERT_GT(r.size(), 12U);
    EXPECT_EQ(r[2] & 0x02, 0) << "full answers are not truncated";
  }
  EXPECT_TRUE(ask(*p, mx_query(true)).empty());  // first limited: dropped
  const auto slip = ask(*p, mx_query(true));     // second limited: slipped
  ASSERT_FALSE(slip.empty());
  ldns_pkt* pkt = nullptr;
  ASSERT_EQ(ldns_wire2pkt(&pkt, slip.data(), slip.size()), LDNS_STATUS_OK);
  EXPECT_EQ(ldns_pkt_id(pkt), 0x5151);
  EXPECT_TRUE(ldns_pkt_qr(pkt));
  EXPECT_TRUE(ldns_pkt_tc(pkt));
  EXPECT_EQ(ldns_pkt_get_rcode(pkt), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_qdcount(pkt), 1);
  EXPECT_EQ(ldns_pkt_ancount(pkt), 0);
  EXPECT_EQ(ldns_pkt_nscount(pkt), 0);
  EXPECT_TRUE(ldns_pkt_edns(pkt)) << "the OPT record survives the slip";
  char* qname = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(pkt), 0)));
  EXPECT_STREQ(qname, "ExAmple.com.");  // case echoed
  free(qname);
  ldns_pkt_free(pkt);
  EXPECT_EQ(p->rrl_counters().dropped.load(), 1U);
  EXPECT_EQ(p->rrl_counters().slipped.load(), 1U);

  // Another network is not affected; time refills the first one.
  EXPECT_FALSE(ask(*p, mx_query(true), Transport::udp, "198.51.100.7").empty());
  clock_.advance(400ms);
  const auto again = ask(*p, mx_query(true));
  ASSERT_GT(again.size(), 12U);
  EXPECT_EQ(again[2] & 0x02, 0);
}

TEST_F(RrlPipelineTest, TcpIsNeverLimited) {
  auto p = make(true, 1, 0);
  for (int i = 0; i < 50; ++i) {
    const auto r = ask(*p, mx_query(false), Transport::tcp);
    ASSERT_GT(r.size(), 12U) << i;
    EXPECT_EQ(r[2] & 0x02, 0);
  }
  EXPECT_FALSE(ask(*p, mx_query(false)).empty());  // the UDP bucket is still full
  EXPECT_TRUE(ask(*p, mx_query(false)).empty());
}

TEST_F(RrlPipelineTest, MalformedQueriesAreLimitedToo) {
  auto p = make(true, 2, 0);
  std::vector<uint8_t> junk = {0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0x3f};
  EXPECT_FALSE(ask(*p, junk).empty());  // FORMERR
  EXPECT_FALSE(ask(*p, junk).empty());
  EXPECT_TRUE(ask(*p, junk).empty());
}

}  // namespace
}  // namespace geodns::server::testing

namespace geodns::server::testing {
namespace {

// The rcodes are what was sent: a response the limiter dropped or slipped is counted there,
// not as NOERROR. All of it lands in the worker's one counter block.
TEST_F(RrlPipelineTest, RcodesAreCountedAfterRateLimitingInTheWorkersBlock) {
  PipelineConfig pc;
  pc.rrl.enabled = true;
  pc.rrl.responses_per_second = 3;
  pc.rrl.slip = 2;
  pc.rrl.clock = &clock_;
  WorkerCounters block;
  Pipeline p(snapshots_, pc, 7, &block);
  p.begin_batch();
  for (int i = 0; i < 7; ++i) (void)ask(p, mx_query(true));
  // 3 within the rate; then drop, slip, drop, slip.
  EXPECT_EQ(block.rrl.dropped.load(), 2U);
  EXPECT_EQ(block.rrl.slipped.load(), 2U);
  EXPECT_EQ(block.pipeline.rcodes[0].load(), 3U);
  EXPECT_EQ(block.pipeline.queries_udp.load(), 7U);
  EXPECT_EQ(&p.counters(), &block.pipeline);
  EXPECT_EQ(p.transport_counters(), &block.transport);
}

}  // namespace
}  // namespace geodns::server::testing
