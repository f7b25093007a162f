// Issue 12's answer semantics through the real binary, decoded with ldns: DNAME synthesis, a
// CNAME into a delegation, DS at a child apex served beside its parent, the reply to an
// unknown opcode, and a UDP datagram larger than the server's read buffer.
#include <gtest/gtest.h>

#include "serve_fixture.h"

namespace geodns::test {
namespace {

constexpr const char* kParent = R"([zone]
name = "parent.test."
ttl = 300
[zone.soa]
mname = "ns1.parent.test."
rname = "hostmaster.parent.test."
minimum = "30s"
ttl = 600
[records]
"@" = ["NS ns1.parent.test."]
ns1 = "A 192.0.2.1"
sub = "NS ns.sub.parent.test."
"ns.sub" = "A 192.0.2.2"
tosub = "CNAME host.sub.parent.test."
child = "NS ns1.child.parent.test."
"ns1.child" = "A 192.0.2.3"
d = "DNAME target.parent.test."
"x.target" = "A 192.0.2.10"
)";

constexpr const char* kChild = R"([zone]
name = "child.parent.test."
[zone.soa]
mname = "ns1.child.parent.test."
rname = "hostmaster.child.parent.test."
[records]
"@" = ["NS ns1.child.parent.test."]
ns1 = "A 192.0.2.3"
)";

class AnswersServe : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    zones_ = new TempDir();
    zones_->write("parent.test.toml", kParent);
    zones_->write("child.parent.test.toml", kChild);
    ServeOptions o;
    o.zones_dir = zones_->path();
    o.geoip.clear();
    server_ = new Server(o);
    ASSERT_TRUE(server_->ready) << server_->process->stderr_text();
  }
  static void TearDownTestSuite() {
    if (server_ != nullptr) {
      const int code = server_->process->stop();
      EXPECT_EQ(code, 0) << server_->process->stderr_text();
    }
    delete server_;
    server_ = nullptr;
    delete zones_;
    zones_ = nullptr;
  }
  static Server* server_;
  static TempDir* zones_;
};
Server* AnswersServe::server_ = nullptr;
TempDir* AnswersServe::zones_ = nullptr;

TEST_F(AnswersServe, DnameIsSynthesizedOverUdpAndTcp) {
  const std::vector<std::string> expected = {"d.parent.test. 300 IN DNAME target.parent.test.",
                                             "x.d.parent.test. 300 IN CNAME x.target.parent.test.",
                                             "x.target.parent.test. 300 IN A 192.0.2.10"};
  for (bool tcp : {false, true}) {
    auto p = tcp ? server_->tcp("x.d.parent.test", LDNS_RR_TYPE_A)
                 : server_->udp("x.d.parent.test", LDNS_RR_TYPE_A);
    ASSERT_TRUE(p) << (tcp ? "tcp" : "udp");
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
    EXPECT_TRUE(ldns_pkt_aa(p.get()));
    EXPECT_EQ(section_strings(p.get(), LDNS_SECTION_ANSWER), expected);
  }
}

TEST_F(AnswersServe, CnameIntoADelegationCarriesTheReferral) {
  auto p = server_->udp("tosub.parent.test", LDNS_RR_TYPE_A);
  ASSERT_TRUE(p);
  EXPECT_TRUE(ldns_pkt_aa(p.get()));
  EXPECT_EQ(section_strings(p.get(), LDNS_SECTION_ANSWER),
            std::vector<std::string>{"tosub.parent.test. 300 IN CNAME host.sub.parent.test."});
  EXPECT_EQ(section_strings(p.get(), LDNS_SECTION_AUTHORITY),
            std::vector<std::string>{"sub.parent.test. 300 IN NS ns.sub.parent.test."});
  EXPECT_EQ(section_strings(p.get(), LDNS_SECTION_ADDITIONAL),
            std::vector<std::string>{"ns.sub.parent.test. 300 IN A 192.0.2.2"});
}

TEST_F(AnswersServe, DsAtTheChildApexComesFromTheParent) {
  auto p = server_->udp("child.parent.test", LDNS_RR_TYPE_DS);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  const auto auth = section_strings(p.get(), LDNS_SECTION_AUTHORITY);
  ASSERT_EQ(auth.size(), 1u);
  EXPECT_EQ(auth[0].rfind("parent.test. 30 IN SOA ", 0), 0u) << auth[0];
}

TEST_F(AnswersServe, UnknownOpcodeReplyDoesNotCopyCd) {
  QueryOptions q;
  q.rd = true;
  q.cd = true;
  Bytes m = make_query("ns1.parent.test", LDNS_RR_TYPE_A, q);
  m[2] = static_cast<uint8_t>((m[2] & 0x87) | (2 << 3));  // opcode STATUS
  auto r = udp_query(server_->port, m);
  ASSERT_TRUE(r);
  auto p = decode(*r);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOTIMPL);
  EXPECT_EQ(ldns_pkt_get_opcode(p.get()), LDNS_PACKET_STATUS);
  EXPECT_TRUE(ldns_pkt_rd(p.get()));
  EXPECT_FALSE(ldns_pkt_cd(p.get()));
}

// The server reads 8 KiB per datagram: a larger one was dropped without a word.
TEST_F(AnswersServe, DatagramLargerThanTheReadBufferGetsFormerr) {
  QueryOptions q;
  q.id = 0x5151;
  Bytes m = make_query("ns1.parent.test", LDNS_RR_TYPE_A, q);
  const Bytes question(m.begin() + 12, m.end());
  m.resize(m.size() + 10000, 0);  // trailing bytes past the 8 KiB chunk
  auto r = udp_query(server_->port, m);
  ASSERT_TRUE(r) << "no reply to an oversized datagram";
  auto p = decode(*r);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_FORMERR);
  EXPECT_EQ(ldns_pkt_id(p.get()), 0x5151);
  EXPECT_EQ(question_name(p.get()), "ns1.parent.test.");
  EXPECT_EQ(Bytes(r->begin() + 12, r->end()), question);  // the question, nothing else
  // The same query whole is answered as usual.
  auto ok = server_->udp("ns1.parent.test", LDNS_RR_TYPE_A);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ldns_pkt_ancount(ok.get()), 1);
}

}  // namespace
}  // namespace geodns::test
