#include "dns/writer.h"

#include <gtest/gtest.h>
#include <ldns/ldns.h>

#include <cstring>
#include <memory>

#include "test_query.h"

namespace geodns::dns {
namespace {

using testing::QueryBuilder;
using testing::wire_name;

struct PktDeleter {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using Pkt = std::unique_ptr<ldns_pkt, PktDeleter>;

Pkt decode(const uint8_t* data, size_t len) {
  ldns_pkt* p = nullptr;
  if (ldns_wire2pkt(&p, data, len) != LDNS_STATUS_OK) return nullptr;
  return Pkt(p);
}

std::string rr_text(ldns_rr* rr) {
  char* s = ldns_rr2str(rr);
  std::string out = s;
  free(s);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

class WriterTest : public ::testing::Test {
 protected:
  void start(QueryBuilder b, size_t limit = 65535) {
    msg_ = b.build();
    ASSERT_EQ(parse_query(std::span<const uint8_t>(msg_.data(), msg_.size()), &q_),
              ParseStatus::ok);
    w_.begin(q_, buf_, limit, q_.has_edns);
  }
  std::vector<uint8_t> msg_;
  Query q_;
  ResponseWriter w_;
  uint8_t buf_[65535];
};

TEST_F(WriterTest, AnswerWithQuestionPointerAndCompressedRdata) {
  QueryBuilder b;
  b.name = "WWW.example.com";
  b.qtype = rrtype::CNAME;
  start(b);
  const auto target = wire_name("web.example.com");
  w_.set_aa(true);
  ASSERT_TRUE(
      w_.add(Section::answer, nullptr, 0, rrtype::CNAME, 300, target.data(), target.size()));
  const size_t n = w_.finish();
  // Header 12 + question 21 + owner pointer 2 + fixed 10 + "web" label 4 + pointer 2.
  EXPECT_EQ(n, 12u + 21u + 2u + 10u + 4u + 2u);
  auto pkt = decode(buf_, n);
  ASSERT_TRUE(pkt);
  EXPECT_TRUE(ldns_pkt_qr(pkt.get()));
  EXPECT_TRUE(ldns_pkt_aa(pkt.get()));
  EXPECT_TRUE(ldns_pkt_rd(pkt.get()));
  EXPECT_EQ(ldns_pkt_id(pkt.get()), 0xBEEF);
  ASSERT_EQ(ldns_pkt_ancount(pkt.get()), 1);
  EXPECT_EQ(rr_text(ldns_rr_list_rr(ldns_pkt_answer(pkt.get()), 0)),
            "WWW.example.com.\t300\tIN\tCNAME\tweb.example.com.");
}

TEST_F(WriterTest, SoaNamesAreCompressedAndDecodable) {
  QueryBuilder b;
  b.name = "nope.example.com";
  start(b);
  std::vector<uint8_t> soa = wire_name("ns1.example.com");
  auto rname = wire_name("hostmaster.example.com");
  soa.insert(soa.end(), rname.begin(), rname.end());
  for (int i = 0; i < 20; ++i) soa.push_back(static_cast<uint8_t>(i));
  const auto owner = wire_name("example.com");
  ASSERT_TRUE(w_.add(Section::authority, owner.data(), owner.size(), rrtype::SOA, 60, soa.data(),
                     soa.size()));
  w_.set_rcode(rcode::NXDOMAIN);
  const size_t n = w_.finish();
  auto pkt = decode(buf_, n);
  ASSERT_TRUE(pkt);
  EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NXDOMAIN);
  ASSERT_EQ(ldns_pkt_nscount(pkt.get()), 1);
  const std::string text = rr_text(ldns_rr_list_rr(ldns_pkt_authority(pkt.get()), 0));
  EXPECT_NE(text.find("example.com.\t60\tIN\tSOA\tns1.example.com. hostmaster.example.com. "
                      "66051 67438087"),
            std::string::npos)
      << text;
  // The owner is a pure pointer into the question: smaller than writing it out.
  EXPECT_LT(n, 12u + 22u + 2u + 10u + 60u);
}

TEST_F(WriterTest, RecordThatDoesNotFitIsRejectedAndMessageUnchanged) {
  QueryBuilder b;
  start(b, 512);
  std::vector<uint8_t> big(400, 'x');
  big[0] = 255;
  ASSERT_TRUE(w_.add(Section::answer, nullptr, 0, rrtype::TXT, 1, big.data(), big.size()));
  const size_t mark = w_.mark();
  EXPECT_FALSE(w_.add(Section::answer, nullptr, 0, rrtype::TXT, 1, big.data(), big.size()));
  EXPECT_EQ(w_.mark(), mark);
  EXPECT_EQ(w_.count(Section::answer), 1);
  EXPECT_LE(w_.finish(), 512u);
}

TEST_F(WriterTest, OptEchoesEcsWithScopeAndDo) {
  QueryBuilder b;
  b.ecs(1, 24, 0, {81, 2, 69});
  b.do_bit = true;
  start(b);
  w_.set_ecs_scope(20);
  const size_t n = w_.finish();
  auto pkt = decode(buf_, n);
  ASSERT_TRUE(pkt);
  EXPECT_EQ(ldns_pkt_edns_udp_size(pkt.get()), 1232);
  EXPECT_TRUE(ldns_pkt_edns_do(pkt.get()));
  // The ECS option: code 8, len 7, family 1, source 24, scope 20, 81.2.69.
  const uint8_t expected[] = {0, 8, 0, 7, 0, 1, 24, 20, 81, 2, 69};
  ASSERT_GE(n, sizeof(expected));
  EXPECT_EQ(std::memcmp(buf_ + n - sizeof(expected), expected, sizeof(expected)), 0);
}

TEST_F(WriterTest, BadversGoesInTheOptRecord) {
  QueryBuilder b;
  b.edns = true;
  start(b);
  w_.set_rcode(rcode::BADVERS);
  const size_t n = w_.finish();
  EXPECT_EQ(buf_[3] & 0xF, 0);  // header rcode: low 4 bits of 16
  // OPT TTL's first byte is the extended rcode: 16 >> 4 = 1.
  EXPECT_EQ(buf_[n - 6], 1);
}

TEST_F(WriterTest, ClearRecordsKeepsQuestion) {
  QueryBuilder b;
  start(b, 512);
  const uint8_t a[4] = {192, 0, 2, 1};
  ASSERT_TRUE(w_.add(Section::answer, nullptr, 0, rrtype::A, 1, a, 4));
  w_.clear_records();
  w_.set_tc();
  const size_t n = w_.finish();
  auto pkt = decode(buf_, n);
  ASSERT_TRUE(pkt);
  EXPECT_TRUE(ldns_pkt_tc(pkt.get()));
  EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 0);
  EXPECT_EQ(ldns_pkt_qdcount(pkt.get()), 1);
}

TEST_F(WriterTest, NsidAndExtendedErrorGoInTheOptAfterTheRecords) {
  QueryBuilder b;
  b.edns = true;
  start(b);
  static constexpr char kId[] = "ns1";
  ASSERT_TRUE(w_.add_option(edns::kOptionNsid, reinterpret_cast<const uint8_t*>(kId), 3));
  ASSERT_TRUE(w_.set_extended_error(ede::kNotAuthoritative, "why"));
  EXPECT_FALSE(w_.set_extended_error(ede::kOther, ""));  // one per response
  const uint8_t a[4] = {192, 0, 2, 1};
  ASSERT_TRUE(w_.add(Section::answer, nullptr, 0, rrtype::A, 1, a, 4));
  const size_t n = w_.finish();
  auto pkt = decode(buf_, n);
  ASSERT_TRUE(pkt);
  EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 1);
  // NSID: code 3, len 3, "ns1"; EDE: code 15, len 5, INFO-CODE 20, "why".
  const uint8_t expected[] = {0, 3, 0, 3, 'n', 's', '1', 0, 15, 0, 5, 0, 20, 'w', 'h', 'y'};
  ASSERT_GE(n, sizeof(expected));
  EXPECT_EQ(std::memcmp(buf_ + n - sizeof(expected), expected, sizeof(expected)), 0);
  EXPECT_EQ(buf_[n - sizeof(expected) - 2], 0);  // OPT RDLENGTH = 16
  EXPECT_EQ(buf_[n - sizeof(expected) - 1], sizeof(expected));
}

TEST_F(WriterTest, OptionsNeedAnOptRecordAndRoom) {
  QueryBuilder plain;
  start(plain);
  EXPECT_FALSE(w_.set_extended_error(ede::kOther, ""));
  EXPECT_FALSE(w_.add_option(edns::kOptionNsid, nullptr, 0));
  QueryBuilder b;
  b.edns = true;
  start(b, 512);
  static const uint8_t big[600] = {};
  EXPECT_FALSE(w_.add_option(edns::kOptionNsid, big, sizeof(big)));
  // What an option takes is no longer there for records: the answer still fits in 512.
  static const uint8_t id[400] = {};
  ASSERT_TRUE(w_.add_option(edns::kOptionNsid, id, sizeof(id)));
  const uint8_t txt[100] = {99};
  EXPECT_FALSE(w_.add(Section::answer, nullptr, 0, rrtype::TXT, 1, txt, sizeof(txt)));
  EXPECT_LE(w_.finish(), 512u);
}

}  // namespace
}  // namespace geodns::dns
