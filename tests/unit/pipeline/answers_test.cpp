// Answer semantics that independent test suites and Knot/NSD disagreed with (issue 12): CNAMEs
// into a delegation, ANY at a CNAME owner, CNAME loops, DS at a child apex served beside its
// parent, replies to unknown opcodes and to cut-off datagrams, and DNAME (RFC 6672).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "answers_fixture.h"
#include "dns/oversized.h"

namespace geodns::server::testing {
namespace {

using dns::testing::QueryBuilder;
namespace rrtype = dns::rrtype;

std::vector<std::string> lines(ldns_rr_list* list) {
  std::vector<std::string> out;
  for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
    char* s = ldns_rr2str(ldns_rr_list_rr(list, i));
    std::string line = s;
    free(s);
    while (!line.empty() && line.back() == '\n') line.pop_back();
    out.push_back(line);
  }
  return out;
}

class Answers : public ::testing::Test, public AnswersFixture {
 protected:
  void SetUp() override {
    for (const auto& e : errors) ADD_FAILURE() << e.to_string();
  }
};

// RFC 1034 4.3.2 step 3b after step 3a: the restarted lookup reaches a cut.
TEST_F(Answers, CnameIntoADelegationCarriesTheReferral) {
  auto p = ask("tosub.parent.test", rrtype::A);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(ldns_pkt_aa(p.get()));  // for our CNAME
  EXPECT_EQ(lines(ldns_pkt_answer(p.get())),
            std::vector<std::string>{"tosub.parent.test.\t300\tIN\tCNAME\thost.sub.parent.test."});
  EXPECT_EQ(lines(ldns_pkt_authority(p.get())),
            std::vector<std::string>{"sub.parent.test.\t300\tIN\tNS\tns.sub.parent.test."});
  EXPECT_EQ(lines(ldns_pkt_additional(p.get())),
            std::vector<std::string>{"ns.sub.parent.test.\t300\tIN\tA\t192.0.2.2"});
  // Two links before the cut: both CNAMEs, then the referral.
  auto two = ask("viasub.parent.test", rrtype::AAAA);
  ASSERT_TRUE(two);
  EXPECT_TRUE(ldns_pkt_aa(two.get()));
  EXPECT_EQ(ldns_pkt_ancount(two.get()), 2);
  EXPECT_EQ(lines(ldns_pkt_authority(two.get())),
            std::vector<std::string>{"sub.parent.test.\t300\tIN\tNS\tns.sub.parent.test."});
  // A referral asked for directly still clears AA.
  auto direct = ask("host.sub.parent.test", rrtype::A);
  ASSERT_TRUE(direct);
  EXPECT_FALSE(ldns_pkt_aa(direct.get()));
  EXPECT_EQ(ldns_pkt_ancount(direct.get()), 0);
  EXPECT_EQ(ldns_pkt_nscount(direct.get()), 1);
}

// ANY matches the CNAME itself: NOERROR with the CNAME only, not chased into NXDOMAIN.
TEST_F(Answers, AnyAtACnameOwnerIsTheCnameAlone) {
  auto p = ask("nxd.parent.test", rrtype::ANY);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(ldns_pkt_aa(p.get()));
  EXPECT_EQ(lines(ldns_pkt_answer(p.get())),
            std::vector<std::string>{"nxd.parent.test.\t300\tIN\tCNAME\tnothere.parent.test."});
  EXPECT_EQ(ldns_pkt_nscount(p.get()), 0);
  // Asked for A, the chase ends in NXDOMAIN as before (RFC 6604).
  auto a = ask("nxd.parent.test", rrtype::A);
  EXPECT_EQ(ldns_pkt_get_rcode(a.get()), LDNS_RCODE_NXDOMAIN);
  // A steered owner that answers with a CNAME: the same.
  auto steered = ask("cdn.steer.test", rrtype::ANY);
  ASSERT_TRUE(steered);
  EXPECT_EQ(ldns_pkt_get_rcode(steered.get()), LDNS_RCODE_NOERROR);
  const auto ans = lines(ldns_pkt_answer(steered.get()));
  ASSERT_EQ(ans.size(), 1u);
  EXPECT_NE(ans[0].find("\tCNAME\tedge.steer.test."), std::string::npos) << ans[0];
}

// Knot and NSD stop when a name repeats: each record once.
TEST_F(Answers, CnameLoopListsEachRecordOnce) {
  auto p = ask("l1.parent.test", rrtype::A);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(lines(ldns_pkt_answer(p.get())),
            (std::vector<std::string>{"l1.parent.test.\t300\tIN\tCNAME\tl2.parent.test.",
                                      "l2.parent.test.\t300\tIN\tCNAME\tl3.parent.test.",
                                      "l3.parent.test.\t300\tIN\tCNAME\tl1.parent.test."}));
  // Entering the loop elsewhere lists it from there.
  auto mid = ask("L2.parent.test", rrtype::TXT);
  EXPECT_EQ(ldns_pkt_ancount(mid.get()), 3);
  auto self = ask("self.parent.test", rrtype::A);
  EXPECT_EQ(lines(ldns_pkt_answer(self.get())),
            std::vector<std::string>{"self.parent.test.\t300\tIN\tCNAME\tself.parent.test."});
}

TEST_F(Answers, LongChainWithoutALoopStopsAfterSixteenLinks) {
  auto p = ask("c1.parent.test", rrtype::A);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  const auto ans = lines(ldns_pkt_answer(p.get()));
  ASSERT_EQ(ans.size(), 16u);
  EXPECT_EQ(std::set<std::string>(ans.begin(), ans.end()).size(), 16u);
  EXPECT_EQ(ans.back(), "c16.parent.test.\t300\tIN\tCNAME\tc17.parent.test.");
  // Four links from the end: the whole chain and the address.
  auto near = ask("c16.parent.test", rrtype::A);
  const auto tail = lines(ldns_pkt_answer(near.get()));
  ASSERT_EQ(tail.size(), 5u);
  EXPECT_EQ(tail.back(), "c20.parent.test.\t300\tIN\tA\t192.0.2.20");
}

// RFC 4035 3.1.4.1: DS belongs to the parent side, which we serve too.
TEST_F(Answers, DsAtAChildApexIsAnsweredByTheParent) {
  auto p = ask("child.parent.test", rrtype::DS);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(ldns_pkt_aa(p.get()));
  EXPECT_EQ(ldns_pkt_ancount(p.get()), 0);
  const auto auth = lines(ldns_pkt_authority(p.get()));
  ASSERT_EQ(auth.size(), 1u);
  // The parent's SOA (negative TTL min(600, 30)), not the child's.
  EXPECT_EQ(auth[0].rfind("parent.test.\t30\tIN\tSOA\tns1.parent.test.", 0), 0u) << auth[0];
  auto ds = ask("signed.parent.test", rrtype::DS);
  ASSERT_TRUE(ds);
  const auto ans = lines(ldns_pkt_answer(ds.get()));
  ASSERT_EQ(ans.size(), 1u);
  EXPECT_EQ(ans[0].rfind("signed.parent.test.\t300\tIN\tDS\t12345 8 2 ", 0), 0u) << ans[0];
  // Other types at the child apex, and DS below it, stay with the child.
  auto soa = ask("child.parent.test", rrtype::SOA);
  EXPECT_EQ(lines(ldns_pkt_answer(soa.get())).at(0).rfind("child.parent.test.\t", 0), 0u);
  auto below = ask("ns1.child.parent.test", rrtype::DS);
  ASSERT_TRUE(below);
  EXPECT_TRUE(ldns_pkt_aa(below.get()));
  EXPECT_EQ(
      lines(ldns_pkt_authority(below.get())).at(0).rfind("child.parent.test.\t20\tIN\tSOA", 0), 0u);
  // A zone served without its parent answers DS at its apex itself.
  auto orphan = ask("parent.test", rrtype::DS);
  EXPECT_EQ(ldns_pkt_get_rcode(orphan.get()), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(ldns_pkt_aa(orphan.get()));
}

// RFC 6895 2: a reply copies ID, opcode and RD; CD and AD mean nothing outside QUERY.
TEST_F(Answers, UnknownOpcodeCopiesOnlyIdOpcodeAndRd) {
  QueryBuilder b;
  b.name = "ns1.parent.test";
  b.flags = (2 << 11) | 0x0100 | 0x0020 | 0x0010;  // STATUS, RD, AD, CD
  auto p = ask(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOTIMPL);
  EXPECT_EQ(ldns_pkt_id(p.get()), 0xBEEF);
  EXPECT_EQ(ldns_pkt_get_opcode(p.get()), LDNS_PACKET_STATUS);
  EXPECT_TRUE(ldns_pkt_qr(p.get()));
  EXPECT_TRUE(ldns_pkt_rd(p.get()));
  EXPECT_FALSE(ldns_pkt_cd(p.get()));
  EXPECT_FALSE(ldns_pkt_ad(p.get()));
  EXPECT_FALSE(ldns_pkt_aa(p.get()));
  EXPECT_EQ(ldns_pkt_ancount(p.get()), 0);
  // A QUERY keeps CD (RFC 4035 3.2.2).
  b.flags = 0x0100 | 0x0010;
  auto q = ask(b);
  ASSERT_TRUE(q);
  EXPECT_TRUE(ldns_pkt_cd(q.get()));
}

// The head of a datagram the kernel cut (worker.cpp reads 8 KiB): FORMERR, question echoed.
TEST(AnswersOversized, CutOffDatagramGetsFormerrWithItsQuestion) {
  QueryBuilder b;
  b.id = 0x1234;
  b.name = "ns1.parent.test";
  b.flags = 0x0100 | 0x0010;
  b.edns = true;
  b.options.assign(4, 0);  // an option header whose body was cut off
  b.options[0] = 0xFF;
  b.options[3] = 200;
  auto head = b.build();
  std::vector<uint8_t> out(512);
  const size_t n = dns::answer_oversized(head, out);
  ASSERT_GT(n, 0u);
  ldns_pkt* raw = nullptr;
  ASSERT_EQ(ldns_wire2pkt(&raw, out.data(), n), LDNS_STATUS_OK);
  AnswersPkt p(raw);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_FORMERR);
  EXPECT_EQ(ldns_pkt_id(p.get()), 0x1234);
  EXPECT_TRUE(ldns_pkt_qr(p.get()));
  EXPECT_TRUE(ldns_pkt_rd(p.get()));
  EXPECT_EQ(ldns_pkt_qdcount(p.get()), 1);
  EXPECT_EQ(ldns_pkt_arcount(p.get()), 0);  // no OPT: what the client asked for is unknown
  char* q = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(p.get()), 0)));
  EXPECT_STREQ(q, "ns1.parent.test.");
  free(q);
  // Only a header: FORMERR with no question. A response, or less than a header: silence.
  head.resize(12);
  EXPECT_EQ(dns::answer_oversized(head, out), 12u);
  head[2] |= 0x80;
  EXPECT_EQ(dns::answer_oversized(head, out), 0u);
  head.resize(5);
  EXPECT_EQ(dns::answer_oversized(head, out), 0u);
}

// RFC 6672 3.2: the DNAME, the CNAME synthesized from it (the DNAME's TTL), then the chase.
TEST_F(Answers, DnameSynthesizesACnameAndFollowsIt) {
  auto p = ask("x.d.parent.test", rrtype::A);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(ldns_pkt_aa(p.get()));
  EXPECT_EQ(lines(ldns_pkt_answer(p.get())),
            (std::vector<std::string>{"d.parent.test.\t300\tIN\tDNAME\ttarget.parent.test.",
                                      "x.d.parent.test.\t300\tIN\tCNAME\tx.target.parent.test.",
                                      "x.target.parent.test.\t300\tIN\tA\t192.0.2.10"}));
  // Deeper names keep every label of their own; the target may not exist (RFC 6604).
  auto nx = ask("a.b.d.parent.test", rrtype::A);
  EXPECT_EQ(ldns_pkt_get_rcode(nx.get()), LDNS_RCODE_NXDOMAIN);
  EXPECT_EQ(
      lines(ldns_pkt_answer(nx.get())),
      (std::vector<std::string>{"d.parent.test.\t300\tIN\tDNAME\ttarget.parent.test.",
                                "a.b.d.parent.test.\t300\tIN\tCNAME\ta.b.target.parent.test."}));
  EXPECT_EQ(lines(ldns_pkt_authority(nx.get())).at(0).rfind("parent.test.\t30\tIN\tSOA", 0), 0u);
  // Reached through a CNAME.
  auto via = ask("tod.parent.test", rrtype::A);
  EXPECT_EQ(lines(ldns_pkt_answer(via.get())),
            (std::vector<std::string>{"tod.parent.test.\t300\tIN\tCNAME\tx.d.parent.test.",
                                      "d.parent.test.\t300\tIN\tDNAME\ttarget.parent.test.",
                                      "x.d.parent.test.\t300\tIN\tCNAME\tx.target.parent.test.",
                                      "x.target.parent.test.\t300\tIN\tA\t192.0.2.10"}));
  // Asked for CNAME: the synthesized one is the answer, not chased.
  auto cname = ask("x.d.parent.test", rrtype::CNAME);
  EXPECT_EQ(ldns_pkt_ancount(cname.get()), 2);
  // The client's spelling of the owner is kept in both records; the synthesized name is made
  // from the lower-cased one, as Knot makes it.
  auto cased = ask("X.D.Parent.Test", rrtype::A);
  const auto c = lines(ldns_pkt_answer(cased.get()));
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0], "D.Parent.Test.\t300\tIN\tDNAME\ttarget.parent.test.");
  // (The target's tail may come out in the question's case: compression pointers match
  // names case-insensitively.)
  EXPECT_EQ(c[1].rfind("X.D.Parent.Test.\t300\tIN\tCNAME\tx.target.", 0), 0u) << c[1];
  EXPECT_EQ(c[2].rfind("x.target.", 0), 0u) << c[2];
}

TEST_F(Answers, DnameOwnerAnswersNormally) {
  auto a = ask("d.parent.test", rrtype::A);
  EXPECT_EQ(lines(ldns_pkt_answer(a.get())),
            std::vector<std::string>{"d.parent.test.\t300\tIN\tA\t192.0.2.9"});
  auto d = ask("d.parent.test", rrtype::DNAME);
  EXPECT_EQ(lines(ldns_pkt_answer(d.get())),
            std::vector<std::string>{"d.parent.test.\t300\tIN\tDNAME\ttarget.parent.test."});
  auto nodata = ask("d.parent.test", rrtype::MX);
  EXPECT_EQ(ldns_pkt_get_rcode(nodata.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_ancount(nodata.get()), 0);
  EXPECT_EQ(ldns_pkt_nscount(nodata.get()), 1);
}

TEST_F(Answers, DnameOutOfZoneLoopAndApex) {
  // A target outside our zones: the DNAME and the CNAME, both with the DNAME's TTL.
  auto out = ask("www.away.parent.test", rrtype::A);
  EXPECT_EQ(ldns_pkt_get_rcode(out.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(lines(ldns_pkt_answer(out.get())),
            (std::vector<std::string>{"away.parent.test.\t120\tIN\tDNAME\texample.net.",
                                      "www.away.parent.test.\t120\tIN\tCNAME\twww.example.net."}));
  // dl DNAME dl.parent.test.: x.dl -> x.dl repeats at once; each record once.
  auto loop = ask("x.dl.parent.test", rrtype::A);
  EXPECT_EQ(ldns_pkt_get_rcode(loop.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(lines(ldns_pkt_answer(loop.get())),
            (std::vector<std::string>{"dl.parent.test.\t300\tIN\tDNAME\tdl.parent.test.",
                                      "x.dl.parent.test.\t300\tIN\tCNAME\tx.dl.parent.test."}));
  // A DNAME at the apex redirects the whole zone; its target is another zone of ours, whose
  // answers a resolver asks for separately (chains stay in their zone).
  auto apex = ask("www.old.test", rrtype::A);
  EXPECT_EQ(ldns_pkt_get_rcode(apex.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(lines(ldns_pkt_answer(apex.get())),
            (std::vector<std::string>{"old.test.\t3600\tIN\tDNAME\tparent.test.",
                                      "www.old.test.\t3600\tIN\tCNAME\twww.parent.test."}));
  auto soa = ask("old.test", rrtype::SOA);
  EXPECT_EQ(ldns_pkt_ancount(soa.get()), 1);
}

// RFC 6672 2.2: a substituted name longer than 255 bytes is YXDOMAIN, with the DNAME alone.
TEST_F(Answers, DnameSubstitutionTooLongIsYxdomain) {
  // The target is 243 bytes: a first label of 11 characters makes exactly 255.
  QueryBuilder b;
  b.name = "bbbbbbbbbbb.long.parent.test";
  b.edns = true;  // two long names do not fit in 512 bytes
  auto fits = ask(b);
  ASSERT_TRUE(fits);
  EXPECT_EQ(ldns_pkt_get_rcode(fits.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_ancount(fits.get()), 2);
  auto too_long = ask("bbbbbbbbbbbb.long.parent.test", rrtype::A);
  ASSERT_TRUE(too_long);
  EXPECT_EQ(ldns_pkt_get_rcode(too_long.get()), LDNS_RCODE_YXDOMAIN);
  EXPECT_TRUE(ldns_pkt_aa(too_long.get()));
  const auto ans = lines(ldns_pkt_answer(too_long.get()));
  ASSERT_EQ(ans.size(), 1u);
  EXPECT_EQ(ans[0].rfind("long.parent.test.\t300\tIN\tDNAME\t", 0), 0u) << ans[0];
}

}  // namespace
}  // namespace geodns::server::testing
