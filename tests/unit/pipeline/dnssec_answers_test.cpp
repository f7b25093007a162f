// DNSSEC in the answers (issue 13): DO honoured, every RRSIG verified by ldns against the
// zone's DNSKEY, online signatures of steered and synthesized RRsets, compact denial
// (RFC 9824) with and without CO, referrals, truncation with signatures.
#include <gtest/gtest.h>

#include <algorithm>

#include <set>

#include "dnssec/denial.h"
#include "dnssec_fixture.h"
#include "fixture.h"
#include "server/serving_state.h"

namespace geodns::server::testing {
namespace {

using dns::testing::QueryBuilder;
namespace rrtype = dns::rrtype;
constexpr uint16_t kTypeDnskey = 48;  // RFC 4034 2
constexpr uint16_t kTypeCds = 59;     // RFC 7344 3.1

// The records of `list` of `type`.
std::vector<ldns_rr*> of_type(ldns_rr_list* list, ldns_rr_type type) {
  std::vector<ldns_rr*> out;
  for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
    if (ldns_rr_get_type(ldns_rr_list_rr(list, i)) == type) out.push_back(ldns_rr_list_rr(list, i));
  }
  return out;
}

std::string owner_of(ldns_rr* rr) {
  char* s = ldns_rdf2str(ldns_rr_owner(rr));
  std::string out = s;
  free(s);
  return out;
}

// The types of an NSEC's bitmap.
std::vector<uint16_t> bitmap_of(ldns_rr* nsec) {
  std::vector<uint16_t> out;
  for (uint16_t t = 1; t < 300; ++t) {
    if (ldns_nsec_bitmap_covers_type(ldns_rr_rdf(nsec, 1), static_cast<ldns_rr_type>(t))) {
      out.push_back(t);
    }
  }
  return out;
}

std::string next_of(ldns_rr* nsec) {
  char* s = ldns_rdf2str(ldns_rr_rdf(nsec, 0));
  std::string out = s;
  free(s);
  return out;
}

// The response's EDNS flags word (DO, CO, ...), from the raw bytes: the OPT record is last
// and, with no option in the query, 11 bytes long.
uint16_t edns_flags(const std::vector<uint8_t>& r) {
  if (r.size() < 11) return 0;
  return static_cast<uint16_t>(r[r.size() - 4] << 8 | r[r.size() - 3]);
}

class DnssecAnswers : public ::testing::TestWithParam<dnssec::Algorithm> {
 protected:
  DnssecAnswers() : f(GetParam()) {}

  // Asks with DO, checks every signature, and returns the packet.
  SignedPkt ask_verified(const std::string& name, uint16_t type, bool co = false) {
    auto b = SignedPipelineFixture::dnssec_query(name, type);
    b.co_bit = co;
    SignedPkt p = f.ask(b);
    EXPECT_NE(p, nullptr) << name;
    if (p == nullptr) return p;
    EXPECT_FALSE(ldns_pkt_ad(p.get()));  // AD is never ours to set
    EXPECT_FALSE(ldns_pkt_tc(p.get())) << name;
    const DnssecCheck c = check_signatures(p.get(), f.keys);
    EXPECT_EQ(c.failures, 0u) << name << ": " << (c.problems.empty() ? "" : c.problems.front());
    EXPECT_EQ(c.unsigned_sets, 0u) << name << ": " << (c.problems.empty() ? "" : c.problems.back());
    EXPECT_GT(c.rrsigs, 0u) << name;
    return p;
  }

  SignedPipelineFixture f;
};

TEST_P(DnssecAnswers, StaticRRsetCarriesItsVerifiedRrsig) {
  ASSERT_EQ(f.error, "");
  auto p = ask_verified("static.signed.test", rrtype::A);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(of_type(ldns_pkt_answer(p.get()), LDNS_RR_TYPE_A).size(), 2u);
  EXPECT_EQ(of_type(ldns_pkt_answer(p.get()), LDNS_RR_TYPE_RRSIG).size(), 1u);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(ldns_pkt_edns_do(p.get()));
}

TEST_P(DnssecAnswers, ApexMxWithSignedAdditionalAddresses) {
  ASSERT_EQ(f.error, "");
  auto p = ask_verified("signed.test", rrtype::MX);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(of_type(ldns_pkt_additional(p.get()), LDNS_RR_TYPE_A).size(), 1u);
  EXPECT_EQ(of_type(ldns_pkt_additional(p.get()), LDNS_RR_TYPE_RRSIG).size(), 2u);  // A, AAAA
}

TEST_P(DnssecAnswers, SteeredAnswersAreSignedOnlineAndCachedByContent) {
  ASSERT_EQ(f.error, "");
  // roundrobin, 2 of 5 addresses per answer, rotated: a handful of distinct RRsets, each
  // signed once (the cache key is the content, not the order); every answer verifies.
  std::set<std::set<std::string>> distinct;
  constexpr int kQueries = 60;
  for (int i = 0; i < kQueries; ++i) {
    auto p = ask_verified("www.signed.test", rrtype::A);
    ASSERT_NE(p, nullptr);
    const auto a = of_type(ldns_pkt_answer(p.get()), LDNS_RR_TYPE_A);
    EXPECT_EQ(a.size(), 2u);
    std::set<std::string> set;
    for (ldns_rr* rr : a) {
      char* s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
      set.insert(s);
      free(s);
    }
    distinct.insert(set);
  }
  const auto& c = f.counters.dnssec;
  EXPECT_EQ(c.cache_hits + c.cache_misses, static_cast<uint64_t>(kQueries));
  EXPECT_EQ(c.cache_misses.load(), distinct.size());  // one signature per distinct RRset
  EXPECT_EQ(c.signed_online.load(), c.cache_misses.load());
  EXPECT_GT(distinct.size(), 1u);  // the rotation did produce several
  EXPECT_EQ(c.sign_failed.load(), 0u);
}

TEST_P(DnssecAnswers, SteeredGeoAndAaaa) {
  ASSERT_EQ(f.error, "");
  ask_verified("geo.signed.test", rrtype::A);
  ask_verified("geo.signed.test", rrtype::AAAA);  // fra has one IPv6 address
  ask_verified("x.svc.signed.test", rrtype::A);   // a steered wildcard
}

TEST_P(DnssecAnswers, SteeredCnameAndItsTargetAreSigned) {
  ASSERT_EQ(f.error, "");
  auto p = ask_verified("cdn.signed.test", rrtype::A);
  ASSERT_NE(p, nullptr);
  auto* answer = ldns_pkt_answer(p.get());
  EXPECT_EQ(of_type(answer, LDNS_RR_TYPE_CNAME).size(), 1u);
  EXPECT_EQ(of_type(answer, LDNS_RR_TYPE_A).size(), 2u);
  EXPECT_EQ(of_type(answer, LDNS_RR_TYPE_RRSIG).size(), 2u);
}

TEST_P(DnssecAnswers, NxdomainIsCompactNodataWithNxname) {
  ASSERT_EQ(f.error, "");
  auto p = ask_verified("nope.signed.test", rrtype::A);
  ASSERT_NE(p, nullptr);
  // RFC 9824 3.2: NOERROR, an empty answer, SOA + NSEC (each with its RRSIG).
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_ancount(p.get()), 0);
  auto* auth = ldns_pkt_authority(p.get());
  ASSERT_EQ(of_type(auth, LDNS_RR_TYPE_SOA).size(), 1u);
  const auto nsec = of_type(auth, LDNS_RR_TYPE_NSEC);
  ASSERT_EQ(nsec.size(), 1u);
  EXPECT_EQ(owner_of(nsec[0]), "nope.signed.test.");
  EXPECT_EQ(next_of(nsec[0]), "\\000.nope.signed.test.");
  EXPECT_EQ(bitmap_of(nsec[0]),
            (std::vector<uint16_t>{rrtype::RRSIG, rrtype::NSEC, dnssec::kTypeNxname}));
  EXPECT_EQ(ldns_rr_ttl(nsec[0]), 60u);  // RFC 9077: min(SOA TTL, MINIMUM)
  EXPECT_EQ(of_type(auth, LDNS_RR_TYPE_RRSIG).size(), 2u);
}

TEST_P(DnssecAnswers, CompactAnswersOkRestoresNxdomainAndIsEchoed) {
  ASSERT_EQ(f.error, "");
  auto p = ask_verified("nope.signed.test", rrtype::A, true);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NXDOMAIN);
  EXPECT_EQ(of_type(ldns_pkt_authority(p.get()), LDNS_RR_TYPE_NSEC).size(), 1u);
  auto b = SignedPipelineFixture::dnssec_query("nope.signed.test", rrtype::A);
  b.co_bit = true;
  EXPECT_EQ(edns_flags(f.raw(b.build())) & 0xC000, 0xC000);  // DO and CO (RFC 9824 4)
  b.co_bit = false;
  EXPECT_EQ(edns_flags(f.raw(b.build())) & 0xC000, 0x8000);
  // Without DO, CO changes nothing: a plain NXDOMAIN, no CO back.
  auto plain = SignedPipelineFixture::dnssec_query("nope.signed.test", rrtype::A, false);
  plain.co_bit = true;
  EXPECT_EQ(edns_flags(f.raw(plain.build())) & 0xC000, 0);
}

TEST_P(DnssecAnswers, NodataListsTheTypesAtTheName) {
  ASSERT_EQ(f.error, "");
  auto p = ask_verified("static.signed.test", rrtype::MX);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  const auto nsec = of_type(ldns_pkt_authority(p.get()), LDNS_RR_TYPE_NSEC);
  ASSERT_EQ(nsec.size(), 1u);
  EXPECT_EQ(bitmap_of(nsec[0]),
            (std::vector<uint16_t>{rrtype::A, rrtype::TXT, rrtype::RRSIG, rrtype::NSEC}));
  // A steered name lists its addresses, except the type denied.
  p = ask_verified("www.signed.test", rrtype::TXT);
  ASSERT_NE(p, nullptr);
  const auto steered = of_type(ldns_pkt_authority(p.get()), LDNS_RR_TYPE_NSEC);
  ASSERT_EQ(steered.size(), 1u);
  EXPECT_EQ(bitmap_of(steered[0]),
            (std::vector<uint16_t>{rrtype::A, rrtype::AAAA, rrtype::RRSIG, rrtype::NSEC}));
}

// An explicit NSEC query is answered with the name's NSEC (signed), not a NODATA whose NSEC
// would list NSEC; for a name that does not exist, the same NSEC with NXNAME.
TEST_P(DnssecAnswers, ExplicitNsecQueryGetsTheNsecAsItsAnswer) {
  ASSERT_EQ(f.error, "");
  for (const char* name : {"static.signed.test", "nope.signed.test"}) {
    auto p = ask_verified(name, rrtype::NSEC);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR) << name;
    const auto nsec = of_type(ldns_pkt_answer(p.get()), LDNS_RR_TYPE_NSEC);
    ASSERT_EQ(nsec.size(), 1u) << name;
    EXPECT_EQ(owner_of(nsec[0]), std::string(name) + ".");
    EXPECT_EQ(of_type(ldns_pkt_answer(p.get()), LDNS_RR_TYPE_RRSIG).size(), 1u) << name;
    EXPECT_EQ(ldns_pkt_nscount(p.get()), 0u) << name;
    const auto bits = bitmap_of(nsec[0]);
    EXPECT_NE(std::find(bits.begin(), bits.end(), rrtype::NSEC), bits.end());
    const bool nx = std::find(bits.begin(), bits.end(), dnssec::kTypeNxname) != bits.end();
    EXPECT_EQ(nx, std::string(name) == "nope.signed.test") << name;
  }
}

// RFC 9824 3.5: NXNAME is never a question.
TEST_P(DnssecAnswers, NxnameQueryIsFormerr) {
  ASSERT_EQ(f.error, "");
  auto p = f.ask(SignedPipelineFixture::dnssec_query("static.signed.test", dnssec::kTypeNxname));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_FORMERR);
  EXPECT_EQ(ldns_pkt_ancount(p.get()), 0);
}

TEST_P(DnssecAnswers, EmptyNonTerminalIsNodataWithRrsigAndNsecOnly) {
  ASSERT_EQ(f.error, "");
  auto p = ask_verified("b.ent.signed.test", rrtype::A);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  const auto nsec = of_type(ldns_pkt_authority(p.get()), LDNS_RR_TYPE_NSEC);
  ASSERT_EQ(nsec.size(), 1u);
  EXPECT_EQ(bitmap_of(nsec[0]), (std::vector<uint16_t>{rrtype::RRSIG, rrtype::NSEC}));
}

TEST_P(DnssecAnswers, WildcardAnswerIsSignedAtTheQueryName) {
  ASSERT_EQ(f.error, "");
  auto p = ask_verified("x.wild.signed.test", rrtype::A);
  ASSERT_NE(p, nullptr);
  const auto sigs = of_type(ldns_pkt_answer(p.get()), LDNS_RR_TYPE_RRSIG);
  ASSERT_EQ(sigs.size(), 1u);
  // The full label count: no wildcard expansion for a validator to prove (docs/decisions.md).
  EXPECT_EQ(ldns_rdf2native_int8(ldns_rr_rrsig_labels(sigs[0])), 4);
  EXPECT_EQ(of_type(ldns_pkt_authority(p.get()), LDNS_RR_TYPE_NSEC).size(), 0u);
  // A wildcard NODATA: the NSEC at the query name, with the wildcard's types.
  p = ask_verified("x.wild.signed.test", rrtype::MX);
  ASSERT_NE(p, nullptr);
  const auto nsec = of_type(ldns_pkt_authority(p.get()), LDNS_RR_TYPE_NSEC);
  ASSERT_EQ(nsec.size(), 1u);
  EXPECT_EQ(owner_of(nsec[0]), "x.wild.signed.test.");
  EXPECT_EQ(bitmap_of(nsec[0]),
            (std::vector<uint16_t>{rrtype::A, rrtype::TXT, rrtype::RRSIG, rrtype::NSEC}));
}

TEST_P(DnssecAnswers, CnameChainEveryLinkSigned) {
  ASSERT_EQ(f.error, "");
  auto p = ask_verified("chain.signed.test", rrtype::A);
  ASSERT_NE(p, nullptr);
  auto* answer = ldns_pkt_answer(p.get());
  EXPECT_EQ(of_type(answer, LDNS_RR_TYPE_CNAME).size(), 2u);
  EXPECT_EQ(of_type(answer, LDNS_RR_TYPE_RRSIG).size(), 3u);
}

TEST_P(DnssecAnswers, DnameSignedSynthesizedCnameNot) {
  ASSERT_EQ(f.error, "");
  // x.d -> x.static, which does not exist: the DNAME signed, the CNAME not (RFC 6672
  // 5.3.1), and the compact denial for the target.
  auto p = ask_verified("x.d.signed.test", rrtype::A);
  ASSERT_NE(p, nullptr);
  auto* answer = ldns_pkt_answer(p.get());
  EXPECT_EQ(of_type(answer, LDNS_RR_TYPE_DNAME).size(), 1u);
  EXPECT_EQ(of_type(answer, LDNS_RR_TYPE_CNAME).size(), 1u);
  EXPECT_EQ(of_type(answer, LDNS_RR_TYPE_RRSIG).size(), 1u);
  const auto nsec = of_type(ldns_pkt_authority(p.get()), LDNS_RR_TYPE_NSEC);
  ASSERT_EQ(nsec.size(), 1u);
  EXPECT_EQ(owner_of(nsec[0]), "x.static.signed.test.");
}

TEST_P(DnssecAnswers, InsecureReferralProvesNoDs) {
  ASSERT_EQ(f.error, "");
  auto p = ask_verified("host.insecure.signed.test", rrtype::A);
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(ldns_pkt_aa(p.get()));
  auto* auth = ldns_pkt_authority(p.get());
  EXPECT_EQ(of_type(auth, LDNS_RR_TYPE_NS).size(), 1u);
  const auto nsec = of_type(auth, LDNS_RR_TYPE_NSEC);
  ASSERT_EQ(nsec.size(), 1u);
  EXPECT_EQ(owner_of(nsec[0]), "insecure.signed.test.");
  EXPECT_EQ(bitmap_of(nsec[0]), (std::vector<uint16_t>{rrtype::NS, rrtype::RRSIG, rrtype::NSEC}));
  EXPECT_EQ(of_type(auth, LDNS_RR_TYPE_RRSIG).size(), 1u);  // the NSEC's; NS is the child's
  EXPECT_EQ(of_type(ldns_pkt_additional(p.get()), LDNS_RR_TYPE_A).size(), 1u);  // glue
  EXPECT_EQ(of_type(ldns_pkt_additional(p.get()), LDNS_RR_TYPE_RRSIG).size(), 0u);
}

TEST_P(DnssecAnswers, SecureReferralCarriesSignedDs) {
  ASSERT_EQ(f.error, "");
  auto p = ask_verified("host.secure.signed.test", rrtype::A);
  ASSERT_NE(p, nullptr);
  auto* auth = ldns_pkt_authority(p.get());
  EXPECT_EQ(of_type(auth, LDNS_RR_TYPE_DS).size(), 1u);
  EXPECT_EQ(of_type(auth, LDNS_RR_TYPE_RRSIG).size(), 1u);
  EXPECT_EQ(of_type(auth, LDNS_RR_TYPE_NSEC).size(), 0u);
}

TEST_P(DnssecAnswers, DsAtTheCutAnsweredByTheParentSigned) {
  ASSERT_EQ(f.error, "");
  auto p = ask_verified("secure.signed.test", rrtype::DS);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(ldns_pkt_aa(p.get()));
  EXPECT_EQ(of_type(ldns_pkt_answer(p.get()), LDNS_RR_TYPE_DS).size(), 1u);
  p = ask_verified("insecure.signed.test", rrtype::DS);
  ASSERT_NE(p, nullptr);
  const auto nsec = of_type(ldns_pkt_authority(p.get()), LDNS_RR_TYPE_NSEC);
  ASSERT_EQ(nsec.size(), 1u);
  EXPECT_EQ(bitmap_of(nsec[0]), (std::vector<uint16_t>{rrtype::NS, rrtype::RRSIG, rrtype::NSEC}));
}

TEST_P(DnssecAnswers, AnyGetsOneSignedRRset) {
  ASSERT_EQ(f.error, "");
  auto p = ask_verified("static.signed.test", rrtype::ANY);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(of_type(ldns_pkt_answer(p.get()), LDNS_RR_TYPE_RRSIG).size(), 1u);
  ask_verified("www.signed.test", rrtype::ANY);
}

TEST_P(DnssecAnswers, TcpAnswersAreSignedToo) {
  ASSERT_EQ(f.error, "");
  SignedPkt p =
      f.ask(SignedPipelineFixture::dnssec_query("big.signed.test", rrtype::TXT), Transport::tcp);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(check_signatures(p.get(), f.keys).rrsigs, 1u);
}

TEST_P(DnssecAnswers, AnswerThatDoesNotFitWithItsSignatureIsTruncated) {
  ASSERT_EQ(f.error, "");
  // The four TXT records fit in 512 bytes alone, not with their RRSIG.
  auto b = SignedPipelineFixture::dnssec_query("big.signed.test", rrtype::TXT, false);
  b.payload = 512;
  SignedPkt plain = f.ask(b);
  ASSERT_NE(plain, nullptr);
  EXPECT_FALSE(ldns_pkt_tc(plain.get()));
  EXPECT_EQ(ldns_pkt_ancount(plain.get()), 4);
  b.do_bit = true;
  SignedPkt p = f.ask(b);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(ldns_pkt_tc(p.get()));  // RFC 4035 3.1.1: TC rather than without RRSIGs
  EXPECT_EQ(ldns_pkt_ancount(p.get()), 0);
  // Steered: five addresses cannot be cut to fit either.
}

TEST_P(DnssecAnswers, DnskeySignedWithDoUnsignedWithout) {
  ASSERT_EQ(f.error, "");
  auto p = ask_verified("signed.test", kTypeDnskey);
  ASSERT_NE(p, nullptr);
  const auto keys = of_type(ldns_pkt_answer(p.get()), LDNS_RR_TYPE_DNSKEY);
  ASSERT_EQ(keys.size(), 1u);
  // The key served verifies its own RRset (the key the validator would take from the DS).
  ldns_rr_list* served =
      ldns_pkt_rr_list_by_type(p.get(), LDNS_RR_TYPE_DNSKEY, LDNS_SECTION_ANSWER);
  EXPECT_EQ(check_signatures(p.get(), served).failures, 0u);
  EXPECT_EQ(check_signatures(p.get(), served).rrsigs, 1u);
  ldns_rr_list_deep_free(served);
  SignedPkt plain = f.ask(SignedPipelineFixture::dnssec_query("signed.test", kTypeDnskey, false));
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(of_type(ldns_pkt_answer(plain.get()), LDNS_RR_TYPE_DNSKEY).size(), 1u);
  EXPECT_EQ(of_type(ldns_pkt_answer(plain.get()), LDNS_RR_TYPE_RRSIG).size(), 0u);
}

TEST_P(DnssecAnswers, CdIsCopiedAdNeverSet) {
  ASSERT_EQ(f.error, "");
  auto b = SignedPipelineFixture::dnssec_query("static.signed.test", rrtype::A);
  b.flags = 0x0100 | 0x0010 | 0x0020;  // RD, CD, AD
  SignedPkt p = f.ask(b);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(ldns_pkt_cd(p.get()));
  EXPECT_FALSE(ldns_pkt_ad(p.get()));
}

INSTANTIATE_TEST_SUITE_P(Algorithms, DnssecAnswers,
                         ::testing::Values(dnssec::Algorithm::ecdsap256sha256,
                                           dnssec::Algorithm::ed25519),
                         [](const ::testing::TestParamInfo<dnssec::Algorithm>& p) {
                           return p.param == dnssec::Algorithm::ed25519 ? "Ed25519" : "EcdsaP256";
                         });

// RFC 4035 3.1 / RFC 3225: without DO not one RRSIG, NSEC or added DNSKEY, whatever the
// query: static, steered, NXDOMAIN, NODATA, wildcard, CNAME, DNAME, referral, ANY, DS; with
// and without EDNS, CO set or not.
TEST(DnssecWithoutDo, NoDnssecRecordEverReachesTheClient) {
  SignedPipelineFixture f;
  ASSERT_EQ(f.error, "");
  const std::vector<std::pair<std::string, uint16_t>> sample = {
      {"static.signed.test", rrtype::A},
      {"signed.test", rrtype::MX},
      {"signed.test", rrtype::SOA},
      {"signed.test", rrtype::NS},
      {"signed.test", rrtype::ANY},
      {"www.signed.test", rrtype::A},
      {"www.signed.test", rrtype::AAAA},
      {"geo.signed.test", rrtype::A},
      {"cdn.signed.test", rrtype::A},
      {"x.svc.signed.test", rrtype::A},
      {"nope.signed.test", rrtype::A},
      {"static.signed.test", rrtype::MX},
      {"b.ent.signed.test", rrtype::A},
      {"x.wild.signed.test", rrtype::A},
      {"x.wild.signed.test", rrtype::MX},
      {"chain.signed.test", rrtype::A},
      {"x.d.signed.test", rrtype::A},
      {"host.insecure.signed.test", rrtype::A},
      {"host.secure.signed.test", rrtype::A},
      {"secure.signed.test", rrtype::DS},
      {"insecure.signed.test", rrtype::DS},
      {"static.signed.test", rrtype::RRSIG},
      {"static.signed.test", rrtype::NSEC},
      {"www.signed.test", rrtype::ANY},
      {"signed.test", kTypeCds},
      {"big.signed.test", rrtype::TXT},
  };
  size_t answered = 0;
  for (const auto& [name, type] : sample) {
    for (int variant = 0; variant < 3; ++variant) {
      QueryBuilder b;
      b.name = name;
      b.qtype = type;
      b.edns = variant > 0;
      b.co_bit = variant == 2;
      for (Transport t : {Transport::udp, Transport::tcp}) {
        SignedPkt p = f.ask(b, t);
        ASSERT_NE(p, nullptr) << name;
        EXPECT_EQ(dnssec_records(p.get()), 0u)
            << name << " type " << type << " variant " << variant;
        EXPECT_FALSE(ldns_pkt_edns_do(p.get()));
        answered += ldns_pkt_ancount(p.get()) + ldns_pkt_nscount(p.get());
      }
    }
    // The same query with DO gets DNSSEC records: the sample can tell the difference.
    SignedPkt with_do = f.ask(SignedPipelineFixture::dnssec_query(name, type));
    ASSERT_NE(with_do, nullptr);
    EXPECT_GT(dnssec_records(with_do.get()), 0u) << name << " type " << type;
  }
  EXPECT_GT(answered, sample.size());
}

// An unsigned zone answers a DO query exactly as before: no DNSSEC records.
TEST(DnssecWithoutSigning, DoQueryOfUnsignedZoneHasNoDnssecRecords) {
  PipelineFixture f;
  ASSERT_TRUE(f.errors.empty());
  for (const char* name : {"www.example.com", "nope.example.com", "example.com"}) {
    SignedPkt p(f.ask(SignedPipelineFixture::dnssec_query(name, rrtype::A)).release());
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(dnssec_records(p.get()), 0u) << name;
    EXPECT_TRUE(ldns_pkt_edns_do(p.get()));
  }
  SignedPkt nx(f.ask(SignedPipelineFixture::dnssec_query("nope.example.com", rrtype::A)).release());
  EXPECT_EQ(ldns_pkt_get_rcode(nx.get()), LDNS_RCODE_NXDOMAIN);
}

}  // namespace
}  // namespace geodns::server::testing

namespace geodns::server::testing {
namespace {

// [dnssec] signature_cache sizes each worker's cache; reaching the pipeline through the one
// conversion the daemon uses.
TEST(DnssecSignatureCacheSetting, ReadAndPassedToThePipeline) {
  auto c = zone::load_server_config_text("[dnssec]\nsignature_cache = 4096\n", "geodns.toml", "");
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->dnssec.signature_cache, 4096u);
  EXPECT_EQ(pipeline_config(*c, "host", dns::CookieSecret{}, std::nullopt).signature_cache_entries,
            4096u);
  auto d = zone::load_server_config_text("", "geodns.toml", "");
  ASSERT_TRUE(d);
  EXPECT_EQ(pipeline_config(*d, "host", dns::CookieSecret{}, std::nullopt).signature_cache_entries,
            16384u);
  auto bad = zone::load_server_config_text("[dnssec]\nsignature_cache = 2\n", "geodns.toml", "");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().to_string().find("geodns.toml:2:"), std::string::npos)
      << bad.error().to_string();
}

}  // namespace
}  // namespace geodns::server::testing

namespace geodns::server::testing {
namespace {

// The signer and cache are made when a signed zone is first served, between batches: a
// pipeline started on unsigned zones signs after a reload brings a signed one.
TEST(DnssecPrepared, SignedZoneArrivingByReloadIsSigned) {
  SignedPipelineFixture f;
  ASSERT_EQ(f.error, "");
  Snapshots snapshots;
  snapshots.zones.publish(std::make_shared<zone::ZoneSet>());
  snapshots.health = &f.health;
  Pipeline pipeline(snapshots, PipelineConfig{}, 1);
  pipeline.begin_batch();
  const auto query = SignedPipelineFixture::dnssec_query("www.signed.test", dns::rrtype::A).build();
  std::vector<uint8_t> out(65535);
  ClientInfo ci;
  ci.address = *IpAddress::parse("192.0.2.1");
  pipeline.respond(query, ci, out);
  EXPECT_EQ(out[3] & 0x0F, dns::rcode::REFUSED);  // not ours yet
  snapshots.zones.publish(f.zones);
  pipeline.begin_batch();
  const size_t n = pipeline.respond(query, ci, out);
  ldns_pkt* p = nullptr;
  ASSERT_EQ(ldns_wire2pkt(&p, out.data(), n), LDNS_STATUS_OK);
  SignedPkt pkt(p);
  EXPECT_EQ(check_signatures(pkt.get(), f.keys).rrsigs, 1u);
}

}  // namespace
}  // namespace geodns::server::testing
