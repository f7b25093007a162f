// NSID (RFC 5001) and Extended DNS Errors (RFC 8914) from the real binary, decoded with ldns.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>

#include "../support/edns_option.h"
#include "serve_fixture.h"

namespace geodns::test {
namespace {

using namespace std::chrono_literals;
using geodns::testing::edns_option;

constexpr uint16_t kNsid = 3;
constexpr uint16_t kEde = 15;

QueryOptions asking_nsid() {
  QueryOptions o;
  o.edns_payload = 1232;
  o.edns_options = {0, 3, 0, 0};  // NSID, empty (RFC 5001 2.1)
  return o;
}

std::string text_of(const Bytes& b) {
  return std::string(b.begin(), b.end());
}

// The INFO-CODE of the response's Extended DNS Error, -1 without one.
int ede_code(const ldns_pkt* p) {
  const Bytes e = edns_option(p, kEde);
  return e.size() >= 2 ? (e[0] << 8) | e[1] : -1;
}
std::string ede_text(const ldns_pkt* p) {
  const Bytes e = edns_option(p, kEde);
  return e.size() > 2 ? std::string(e.begin() + 2, e.end()) : std::string();
}

TEST(Nsid, SentOnlyWhenAskedOverUdpAndTcpAndAppliedByReload) {
  ServeOptions o;
  o.extra_config = "nsid = \"ns-fra-1\"\n";
  Server s(o);
  ASSERT_TRUE(s.ready) << s.process->stderr_text();

  auto udp = s.udp("www.example.com.", LDNS_RR_TYPE_A, asking_nsid());
  ASSERT_TRUE(udp);
  EXPECT_EQ(text_of(edns_option(udp.get(), kNsid)), "ns-fra-1");
  EXPECT_EQ(ldns_pkt_get_rcode(udp.get()), LDNS_RCODE_NOERROR);
  EXPECT_FALSE(section_strings(udp.get(), LDNS_SECTION_ANSWER).empty());
  auto tcp = s.tcp("www.example.com.", LDNS_RR_TYPE_A, asking_nsid());
  ASSERT_TRUE(tcp);
  EXPECT_EQ(text_of(edns_option(tcp.get(), kNsid)), "ns-fra-1");
  // Errors carry it too: the identity is about the server, not the answer.
  auto refused = s.udp("www.not-ours.example.", LDNS_RR_TYPE_A, asking_nsid());
  ASSERT_TRUE(refused);
  EXPECT_EQ(text_of(edns_option(refused.get(), kNsid)), "ns-fra-1");

  // Not asked: never sent (with EDNS but no NSID option, and without EDNS).
  QueryOptions plain;
  plain.edns_payload = 1232;
  auto unasked = s.udp("www.example.com.", LDNS_RR_TYPE_A, plain);
  ASSERT_TRUE(unasked);
  EXPECT_TRUE(ldns_pkt_edns(unasked.get()));
  EXPECT_TRUE(edns_option(unasked.get(), kNsid).empty());
  auto no_edns = s.udp("www.example.com.", LDNS_RR_TYPE_A);
  ASSERT_TRUE(no_edns);
  EXPECT_FALSE(ldns_pkt_edns(no_edns.get()));

  // A reload applies a new identity (hex form), and an empty one turns NSID off.
  const std::string conf_path = s.dir.file("geodns.toml");
  std::string conf = read_text(conf_path);
  const std::string line = "nsid = \"ns-fra-1\"";
  ASSERT_NE(conf.find(line), std::string::npos);
  conf.replace(conf.find(line), line.size(), "nsid = \"0x6e73322d6c6f6e\"");  // "ns2-lon"
  s.dir.write("geodns.toml", conf);
  kill(s.process->pid(), SIGHUP);
  std::string seen;
  for (int i = 0; i < 100 && seen != "ns2-lon"; ++i) {
    std::this_thread::sleep_for(50ms);
    auto p = s.udp("www.example.com.", LDNS_RR_TYPE_A, asking_nsid());
    if (p) seen = text_of(edns_option(p.get(), kNsid));
  }
  EXPECT_EQ(seen, "ns2-lon") << s.process->stderr_text();
  conf.replace(conf.find("nsid = \"0x6e73322d6c6f6e\""), 25, "nsid = \"\"");
  s.dir.write("geodns.toml", conf);
  kill(s.process->pid(), SIGHUP);
  bool off = false;
  for (int i = 0; i < 100 && !off; ++i) {
    std::this_thread::sleep_for(50ms);
    auto p = s.udp("www.example.com.", LDNS_RR_TYPE_A, asking_nsid());
    off = p && ldns_pkt_edns(p.get()) && edns_option(p.get(), kNsid).empty();
  }
  EXPECT_TRUE(off) << s.process->stderr_text();
  EXPECT_EQ(s.process->stop(), 0);
}

TEST(Nsid, OffByDefault) {
  Server s;
  ASSERT_TRUE(s.ready) << s.process->stderr_text();
  auto p = s.udp("www.example.com.", LDNS_RR_TYPE_A, asking_nsid());
  ASSERT_TRUE(p);
  EXPECT_TRUE(ldns_pkt_edns(p.get()));
  EXPECT_TRUE(edns_option(p.get(), kNsid).empty());
}

TEST(Nsid, ABadValueIsAConfigErrorWithItsPosition) {
  ServeOptions o;
  o.extra_config = "nsid = \"0xabc\"\n";
  Server s(o);
  EXPECT_FALSE(s.ready);
  // The log line escapes the quotes of the message; the position and the words are what count.
  const std::string err = s.process->stderr_text();
  EXPECT_NE(err.find("geodns.toml:6:8: nsid "), std::string::npos) << err;
  EXPECT_NE(err.find("must be pairs of hex digits"), std::string::npos) << err;
}

class ExtendedErrors : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new Server();
    ASSERT_TRUE(server_->ready) << server_->process->stderr_text();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static QueryOptions edns() {
    QueryOptions o;
    o.edns_payload = 1232;
    return o;
  }
  static Server* server_;
};
Server* ExtendedErrors::server_ = nullptr;

TEST_F(ExtendedErrors, RefusedForAZoneWeDoNotServeIsNotAuthoritative) {
  auto p = server_->udp("www.not-ours.example.", LDNS_RR_TYPE_A, edns());
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_REFUSED);
  EXPECT_EQ(ede_code(p.get()), 20);
  // Only with EDNS: without OPT there is nowhere to put it, and no OPT is added.
  auto plain = server_->udp("www.not-ours.example.", LDNS_RR_TYPE_A);
  ASSERT_TRUE(plain);
  EXPECT_EQ(ldns_pkt_get_rcode(plain.get()), LDNS_RCODE_REFUSED);
  EXPECT_FALSE(ldns_pkt_edns(plain.get()));
}

TEST_F(ExtendedErrors, RefusedTransfersAreProhibited) {
  auto p = server_->tcp("example.com.", LDNS_RR_TYPE_AXFR, edns());
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_REFUSED);
  EXPECT_EQ(ede_code(p.get()), 18);
}

TEST_F(ExtendedErrors, NotImplementedOpcodeIsNotSupportedAndKeepsOpt) {
  Bytes q = make_query("example.com.", LDNS_RR_TYPE_SOA, edns());
  q[2] = static_cast<uint8_t>((q[2] & 0x87) | (4 << 3));  // opcode NOTIFY
  auto r = udp_query(server_->port, q);
  ASSERT_TRUE(r);
  Packet p = decode(*r);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOTIMPL);
  EXPECT_TRUE(ldns_pkt_edns(p.get()));
  EXPECT_EQ(ede_code(p.get()), 21);
}

TEST_F(ExtendedErrors, FormerrSaysWhy) {
  // A query with a record in its answer section.
  Bytes q = make_query("www.example.com.", LDNS_RR_TYPE_A, edns());
  // Header ANCOUNT = 1 and a record inserted before the OPT (which ldns put last): rebuild as
  // question + answer RR + OPT by hand from the ldns-built parts.
  const size_t question_end = 12 + 17 + 4;  // "www.example.com." is 17 bytes on the wire
  Bytes answer = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1};
  q.insert(q.begin() + static_cast<long>(question_end), answer.begin(), answer.end());
  q[7] = 1;
  auto r = udp_query(server_->port, q);
  ASSERT_TRUE(r);
  Packet p = decode(*r);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_FORMERR);
  EXPECT_EQ(ede_code(p.get()), 0);
  EXPECT_EQ(ede_text(p.get()), "records in the answer or authority section");

  // A malformed ECS option.
  QueryOptions o = edns();
  o.edns_options = {0, 8, 0, 4, 0, 9, 24, 0};  // unknown family 9
  auto bad_ecs = server_->udp("www.example.com.", LDNS_RR_TYPE_A, o);
  ASSERT_TRUE(bad_ecs);
  EXPECT_EQ(ldns_pkt_get_rcode(bad_ecs.get()), LDNS_RCODE_FORMERR);
  EXPECT_EQ(ede_text(bad_ecs.get()), "bad ECS option");
}

TEST_F(ExtendedErrors, NoErrorAnswersCarryNone) {
  auto p = server_->udp("www.example.com.", LDNS_RR_TYPE_A, edns());
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ede_code(p.get()), -1);
  auto nx = server_->udp("nothere.example.com.", LDNS_RR_TYPE_A, edns());
  ASSERT_TRUE(nx);
  EXPECT_EQ(ldns_pkt_get_rcode(nx.get()), LDNS_RCODE_NXDOMAIN);
  EXPECT_EQ(ede_code(nx.get()), -1);
}

}  // namespace
}  // namespace geodns::test
