#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <set>

#include "../../support/edns_option.h"
#include "fixture.h"

namespace geodns::server::testing {
namespace {

using dns::testing::QueryBuilder;
namespace rrtype = dns::rrtype;

class PipelineTest : public ::testing::Test, public PipelineFixture {
 protected:
  void SetUp() override {
    for (const auto& e : errors) ADD_FAILURE() << e.to_string();
  }
};

bool contains(const std::vector<std::string>& lines, const std::string& needle) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(needle) != std::string::npos; });
}

TEST_F(PipelineTest, AuthoritativeAnswer) {
  auto p = ask("ns1.example.com", rrtype::A);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(ldns_pkt_aa(p.get()));
  EXPECT_FALSE(ldns_pkt_ra(p.get()));
  EXPECT_EQ(section(ldns_pkt_answer(p.get())),
            std::vector<std::string>{"ns1.example.com.\t3600\tIN\tA\t198.51.100.53"});
}

TEST_F(PipelineTest, QueryNameCaseIsEchoed) {
  auto p = ask("NS1.ExAmPlE.cOm", rrtype::A);
  ASSERT_TRUE(p);
  const auto ans = section(ldns_pkt_answer(p.get()));
  ASSERT_EQ(ans.size(), 1u);
  EXPECT_EQ(ans[0].rfind("NS1.ExAmPlE.cOm.", 0), 0u) << ans[0];
  char* q = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(p.get()), 0)));
  EXPECT_STREQ(q, "NS1.ExAmPlE.cOm.");
  free(q);
}

TEST_F(PipelineTest, NxdomainCarriesSoaWithNegativeTtl) {
  auto p = ask("nope.example.com", rrtype::A);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NXDOMAIN);
  EXPECT_TRUE(ldns_pkt_aa(p.get()));
  EXPECT_EQ(ldns_pkt_ancount(p.get()), 0);
  const auto auth = section(ldns_pkt_authority(p.get()));
  ASSERT_EQ(auth.size(), 1u);
  // min(SOA TTL 3600, MINIMUM 60) = 60 (RFC 2308 3).
  EXPECT_EQ(auth[0].rfind("example.com.\t60\tIN\tSOA\tns1.example.com. hostmaster.example.com.", 0),
            0u)
      << auth[0];
  auto t = ask("nope.test.example", rrtype::A);
  ASSERT_TRUE(t);
  EXPECT_TRUE(contains(section(ldns_pkt_authority(t.get())), "test.example.\t30\tIN\tSOA"));
}

TEST_F(PipelineTest, NodataAndEmptyNonTerminal) {
  auto p = ask("ns1.example.com", rrtype::MX);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_ancount(p.get()), 0);
  EXPECT_TRUE(contains(section(ldns_pkt_authority(p.get())), "SOA"));
  auto ent = ask("b.c.example.com", rrtype::A);
  ASSERT_TRUE(ent);
  EXPECT_EQ(ldns_pkt_get_rcode(ent.get()), LDNS_RCODE_NOERROR);  // exists, holds nothing
  EXPECT_TRUE(contains(section(ldns_pkt_authority(ent.get())), "SOA"));
  auto below = ask("a.b.c.example.com", rrtype::A);
  EXPECT_EQ(section(ldns_pkt_answer(below.get())),
            std::vector<std::string>{"a.b.c.example.com.\t3600\tIN\tA\t192.0.2.100"});
}

TEST_F(PipelineTest, CnameChainInZone) {
  auto p = ask("alias.example.com", rrtype::A);
  ASSERT_TRUE(p);
  EXPECT_EQ(section(ldns_pkt_answer(p.get())),
            (std::vector<std::string>{"alias.example.com.\t3600\tIN\tCNAME\twww2.example.com.",
                                      "www2.example.com.\t3600\tIN\tA\t198.51.100.80"}));
  auto c = ask("alias.example.com", rrtype::CNAME);
  EXPECT_EQ(ldns_pkt_ancount(c.get()), 1);
}

TEST_F(PipelineTest, CnameLoopsOutOfZoneAndDangling) {
  auto loop = ask("loop1.test.example", rrtype::A);
  ASSERT_TRUE(loop);
  EXPECT_EQ(ldns_pkt_get_rcode(loop.get()), LDNS_RCODE_NOERROR);
  EXPECT_GE(ldns_pkt_ancount(loop.get()), 2);
  auto out = ask("out.test.example", rrtype::A);
  EXPECT_EQ(section(ldns_pkt_answer(out.get())),
            std::vector<std::string>{"out.test.example.\t300\tIN\tCNAME\twww.elsewhere.example."});
  auto dangling = ask("dangling.test.example", rrtype::A);
  EXPECT_EQ(ldns_pkt_get_rcode(dangling.get()), LDNS_RCODE_NXDOMAIN);  // RFC 6604
  EXPECT_EQ(ldns_pkt_ancount(dangling.get()), 1);
}

TEST_F(PipelineTest, WildcardSynthesis) {
  auto p = ask("Anything.Wild.example.com", rrtype::A);
  ASSERT_TRUE(p);
  EXPECT_EQ(section(ldns_pkt_answer(p.get())),
            std::vector<std::string>{"Anything.Wild.example.com.\t3600\tIN\tA\t192.0.2.200"});
  auto deep = ask("a.b.wild.example.com", rrtype::TXT);
  EXPECT_EQ(ldns_pkt_ancount(deep.get()), 1);
  auto nodata = ask("x.wild.example.com", rrtype::MX);
  EXPECT_EQ(ldns_pkt_get_rcode(nodata.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_ancount(nodata.get()), 0);
  // The wildcard does not cover names that exist (the ENT b.c) nor the parent itself.
  auto parent = ask("wild.example.com", rrtype::A);
  EXPECT_EQ(ldns_pkt_get_rcode(parent.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_ancount(parent.get()), 0);
}

TEST_F(PipelineTest, ReferralWithGlueAndAaClear) {
  for (const char* name : {"sub.example.com", "host.deep.sub.example.com"}) {
    auto p = ask(name, rrtype::A);
    ASSERT_TRUE(p);
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
    EXPECT_FALSE(ldns_pkt_aa(p.get())) << name;
    EXPECT_EQ(ldns_pkt_ancount(p.get()), 0);
    const auto auth = section(ldns_pkt_authority(p.get()));
    EXPECT_TRUE(contains(auth, "sub.example.com.\t3600\tIN\tNS\tns1.sub.example.com."));
    const auto add = section(ldns_pkt_additional(p.get()));
    EXPECT_TRUE(contains(add, "ns1.sub.example.com.\t3600\tIN\tA\t192.0.2.53"));
    EXPECT_TRUE(contains(add, "ns1.sub.example.com.\t3600\tIN\tAAAA\t2001:db8:53::53"));
  }
  // Glue itself is below the cut: referred, not answered authoritatively.
  auto glue = ask("ns1.sub.example.com", rrtype::A);
  EXPECT_FALSE(ldns_pkt_aa(glue.get()));
  EXPECT_EQ(ldns_pkt_ancount(glue.get()), 0);
}

TEST_F(PipelineTest, DsAtTheCutIsAnsweredByTheParent) {
  auto p = ask("deleg.test.example", rrtype::DS);
  ASSERT_TRUE(p);
  EXPECT_TRUE(ldns_pkt_aa(p.get()));
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(contains(section(ldns_pkt_authority(p.get())), "SOA"));
}

TEST_F(PipelineTest, MxAnswerCarriesAdditionalAddresses) {
  auto p = ask("example.com", rrtype::MX);
  const auto add = section(ldns_pkt_additional(p.get()));
  EXPECT_TRUE(contains(add, "mail.example.com.\t600\tIN\tA\t198.51.100.25"));
  EXPECT_TRUE(contains(add, "mail2.example.com.\t600\tIN\tA\t203.0.113.25"));
}

TEST_F(PipelineTest, RefusedOutsideOurZones) {
  auto p = ask("example.org", rrtype::A);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_REFUSED);
  EXPECT_FALSE(ldns_pkt_aa(p.get()));
}

TEST_F(PipelineTest, FormerrNotimpAndDrop) {
  QueryBuilder b;
  b.qdcount = 2;
  auto p = ask(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_FORMERR);
  QueryBuilder n;
  n.flags = 4 << 11;  // NOTIFY
  auto notimp = ask(n);
  ASSERT_TRUE(notimp);
  EXPECT_EQ(ldns_pkt_get_rcode(notimp.get()), LDNS_RCODE_NOTIMPL);
  QueryBuilder r;
  r.flags = 0x8000;
  EXPECT_TRUE(raw(r.build()).empty());
  // A valid query right after still gets its answer.
  auto ok = ask("ns1.example.com", rrtype::A);
  EXPECT_EQ(ldns_pkt_ancount(ok.get()), 1);
}

TEST_F(PipelineTest, MalformedEcsIsFormerr) {
  QueryBuilder b;
  b.name = "www.example.com";
  b.ecs(1, 24, 0, {81, 2, 69, 7});
  auto p = ask(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_FORMERR);
}

TEST_F(PipelineTest, EdnsEchoAndNoOptWithoutEdns) {
  auto plain = raw(QueryBuilder().build());
  EXPECT_EQ(dns::read_u16(plain.data() + 10), 0);  // ARCOUNT: no OPT to a query without one
  QueryBuilder b;
  b.edns = true;
  b.payload = 4096;
  auto p = ask(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_edns_udp_size(p.get()), 1232);
  EXPECT_EQ(ldns_pkt_edns_version(p.get()), 0);
}

TEST_F(PipelineTest, BadversForEdnsVersionOne) {
  QueryBuilder b;
  b.edns = true;
  b.version = 1;
  auto r = raw(b.build());
  ASSERT_GT(r.size(), 12u);
  EXPECT_EQ(r[3] & 0xF, 0);
  EXPECT_EQ(r[r.size() - 6], 1);  // extended rcode 16 = BADVERS
}

TEST_F(PipelineTest, TruncationOverUdpAndFullAnswerOverTcp) {
  QueryBuilder b;
  b.name = "big.test.example";
  b.qtype = rrtype::TXT;
  auto udp = ask(b);
  ASSERT_TRUE(udp);
  EXPECT_TRUE(ldns_pkt_tc(udp.get()));
  EXPECT_EQ(ldns_pkt_ancount(udp.get()), 0);
  auto tcp = ask(b, Transport::tcp);
  ASSERT_TRUE(tcp);
  EXPECT_FALSE(ldns_pkt_tc(tcp.get()));
  EXPECT_EQ(ldns_pkt_ancount(tcp.get()), 6);
  // With EDNS and a big enough payload it fits over UDP too.
  b.edns = true;
  b.payload = 1232;
  auto edns = ask(b);
  EXPECT_FALSE(ldns_pkt_tc(edns.get()));
  EXPECT_EQ(ldns_pkt_ancount(edns.get()), 6);
}

TEST_F(PipelineTest, AnyGetsOneRrset) {
  auto p = ask("example.com", rrtype::ANY);
  ASSERT_TRUE(p);
  const auto ans = section(ldns_pkt_answer(p.get()));
  ASSERT_FALSE(ans.empty());
  std::set<std::string> types;
  for (size_t i = 0; i < ldns_rr_list_rr_count(ldns_pkt_answer(p.get())); ++i) {
    types.insert(std::to_string(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(p.get()), i))));
  }
  EXPECT_EQ(types.size(), 1u);
}

TEST_F(PipelineTest, AnyWithAnSrvRrsetCarriesTheTargetsAddresses) {
  auto p = ask("_sip._tcp.example.com", rrtype::ANY);
  ASSERT_TRUE(p);
  EXPECT_TRUE(contains(section(ldns_pkt_answer(p.get())), "SRV\t10 60 5060 sip.example.com."));
  const auto add = section(ldns_pkt_additional(p.get()));
  EXPECT_TRUE(contains(add, "sip.example.com.\t3600\tIN\tA\t198.51.100.60")) << add.size();
  EXPECT_TRUE(contains(add, "sip2.example.com.\t3600\tIN\tA\t203.0.113.60"));
}

TEST_F(PipelineTest, RrsigAndNsecAtACnameOwnerAreNotChased) {
  // They live beside the CNAME (RFC 4035 2.5): NODATA here, not the alias's target.
  for (uint16_t type : {uint16_t{46}, uint16_t{47}}) {
    auto p = ask("alias.example.com", type);
    ASSERT_TRUE(p);
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR) << type;
    EXPECT_EQ(ldns_pkt_ancount(p.get()), 0) << type;
    EXPECT_TRUE(contains(section(ldns_pkt_authority(p.get())), "SOA")) << type;
  }
}

TEST_F(PipelineTest, ZoneTransfersRefused) {
  auto p = ask("example.com", rrtype::AXFR);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_REFUSED);
}

TEST_F(PipelineTest, Chaos) {
  QueryBuilder b;
  b.name = "version.bind";
  b.qtype = rrtype::TXT;
  b.qclass = dns::rrclass::CH;
  auto p = ask(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(section(ldns_pkt_answer(p.get())),
            std::vector<std::string>{"version.bind.\t0\tCH\tTXT\t\"geodns test\""});
  b.name = "id.server";
  auto id = ask(b);
  EXPECT_TRUE(contains(section(ldns_pkt_answer(id.get())), "\"test-ns\""));
  b.name = "other.bind";
  auto other = ask(b);
  EXPECT_EQ(ldns_pkt_get_rcode(other.get()), LDNS_RCODE_REFUSED);
}

TEST_F(PipelineTest, StaticAnswerWithEcsHasScopeZero) {
  QueryBuilder b;
  b.name = "ns1.example.com";
  b.ecs(1, 24, 0, {81, 2, 69});
  auto r = raw(b.build());
  // The last option bytes: family 1, source 24, scope 0, 81.2.69.
  const uint8_t tail[] = {0, 1, 24, 0, 81, 2, 69};
  ASSERT_GT(r.size(), sizeof(tail));
  EXPECT_EQ(std::memcmp(r.data() + r.size() - sizeof(tail), tail, sizeof(tail)), 0);
}

struct GeoCase {
  const char* what;
  std::vector<uint8_t> subnet;
  uint8_t source;
  uint16_t family;
  uint16_t qtype;
  const char* expected;  // one address the answer must contain
  uint8_t scope;
};

TEST_F(PipelineTest, GeoSteeringByEcsOnEveryContinent) {
  const GeoCase cases[] = {
      {"EU GB", {81, 2, 69}, 24, 1, rrtype::A, "192.0.2.1", 24},  // fra 192.0.2.10/.11
      {"NA US", {8, 8, 8}, 24, 1, rrtype::A, "198.51.100.1", 24},
      {"SA BR", {200, 160, 0}, 20, 1, rrtype::A, "203.0.113.20", 20},
      {"OC AU", {1, 1, 1}, 24, 1, rrtype::A, "203.0.113.10", 24},
      {"AS CN", {202, 108}, 16, 1, rrtype::A, "203.0.113.10", 16},
      {"AS JP nets", {203, 0, 113}, 24, 1, rrtype::A, "203.0.113.10", 24},
      {"AF ZA default", {196, 25, 1}, 24, 1, rrtype::A, "198.51.100.1", 16},
      {"v6 DE", {0x2a, 0x01, 0x04, 0xf8}, 32, 2, rrtype::AAAA, "2001:db8:f::10", 32},
  };
  for (const auto& c : cases) {
    QueryBuilder b;
    b.name = "www.example.com";
    b.qtype = c.qtype;
    b.ecs(c.family, c.source, 0, c.subnet);
    auto r = raw(b.build());
    ldns_pkt* p = nullptr;
    ASSERT_EQ(ldns_wire2pkt(&p, r.data(), r.size()), LDNS_STATUS_OK) << c.what;
    Pkt pkt(p);
    const auto ans = section(ldns_pkt_answer(pkt.get()));
    EXPECT_TRUE(contains(ans, c.expected)) << c.what << ": " << (ans.empty() ? "" : ans[0]);
    const size_t addr_len = (c.source + 7U) / 8U;
    EXPECT_EQ(r[r.size() - addr_len - 1], c.scope) << c.what;  // the scope byte
  }
}

TEST_F(PipelineTest, SourcePrefixIsTruncatedAndScopeNeverExceedsIt) {
  QueryBuilder b;
  b.name = "www.example.com";
  b.ecs(1, 32, 0, {81, 2, 69, 160});
  auto r = raw(b.build());
  EXPECT_EQ(r[r.size() - 5], 24);  // looked up as /24; scope /24 of a /32 source
  QueryBuilder n;
  n.name = "www.example.com";
  n.ecs(1, 20, 0, {81, 2, 64});
  auto r2 = raw(n.build());
  EXPECT_LE(r2[r2.size() - 4], 20);
}

TEST_F(PipelineTest, ClientWithoutEcsIsLocatedBySourceAddress) {
  QueryBuilder b;
  b.name = "www.example.com";
  auto eu = ask(b, Transport::udp, "81.2.69.160");
  EXPECT_TRUE(contains(section(ldns_pkt_answer(eu.get())), "192.0.2.1"));
  auto na = ask(b, Transport::udp, "8.8.8.8");
  EXPECT_TRUE(contains(section(ldns_pkt_answer(na.get())), "198.51.100.1"));
  auto mapped = ask(b, Transport::udp, "::ffff:81.2.69.160");
  EXPECT_TRUE(contains(section(ldns_pkt_answer(mapped.get())), "192.0.2.1"));
}

TEST_F(PipelineTest, V4MappedEcsIsLocatedAsV4) {
  QueryBuilder b;
  b.name = "www.example.com";
  b.ecs(2, 120, 0, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 81, 2, 69});
  auto r = raw(b.build());
  ldns_pkt* p = nullptr;
  ASSERT_EQ(ldns_wire2pkt(&p, r.data(), r.size()), LDNS_STATUS_OK);
  Pkt pkt(p);
  EXPECT_TRUE(contains(section(ldns_pkt_answer(pkt.get())), "192.0.2.1"));
  EXPECT_EQ(r[r.size() - 16], 120);  // scope 24 + 96, reported in IPv6 bits
}

TEST_F(PipelineTest, EcsSourceZeroMeansNoClientInformation) {
  QueryBuilder b;
  b.name = "www.example.com";
  b.ecs(1, 0, 0, {});
  auto r = raw(b.build(), Transport::udp, "81.2.69.160");
  EXPECT_EQ(r[r.size() - 1], 0);  // scope 0
}

TEST_F(PipelineTest, NonGeoPoliciesHaveScopeZeroAndRotate) {
  std::set<std::string> first;
  for (int i = 0; i < 20; ++i) {
    QueryBuilder b;
    b.name = "rr.example.com";
    b.ecs(1, 24, 0, {81, 2, 69});
    auto r = raw(b.build());
    EXPECT_EQ(r[r.size() - 4], 0);
    ldns_pkt* p = nullptr;
    ASSERT_EQ(ldns_wire2pkt(&p, r.data(), r.size()), LDNS_STATUS_OK);
    Pkt pkt(p);
    first.insert(section(ldns_pkt_answer(pkt.get())).at(0));
  }
  EXPECT_GT(first.size(), 1u);
}

TEST_F(PipelineTest, SteeredNameOtherTypesAreNodata) {
  auto p = ask("www.example.com", rrtype::MX);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_ancount(p.get()), 0);
  EXPECT_TRUE(contains(section(ldns_pkt_authority(p.get())), "SOA"));
}

std::vector<uint8_t> response_cookie(const Pkt& p) {
  return geodns::testing::edns_option(p.get(), dns::edns::kOptionCookie);
}

uint32_t unix_now() {
  return static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

TEST_F(PipelineTest, ClientCookieGetsAServerCookieOfOurs) {
  const std::vector<uint8_t> client = {0x24, 0x64, 0xc4, 0xab, 0xcf, 0x10, 0xc9, 0x57};
  QueryBuilder b;
  b.name = "ns1.example.com";
  b.cookie(client);
  auto p = ask(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_ancount(p.get()), 1);
  const auto cookie = response_cookie(p);
  ASSERT_EQ(cookie.size(), 24u);
  EXPECT_TRUE(std::equal(client.begin(), client.end(), cookie.begin()));
  EXPECT_EQ(cookie[8], 1);  // RFC 9018 version
  EXPECT_EQ(
      dns::check_server_cookie(client.data(), cookie.data() + 8, 16,
                               *IpAddress::parse("192.0.2.99"), unix_now(), &kCookieSecret, 1),
      dns::CookieVerdict::fresh);
  // No cookie asked for, none given.
  QueryBuilder plain;
  plain.edns = true;
  auto q = ask(plain);
  ASSERT_TRUE(q);
  EXPECT_TRUE(response_cookie(q).empty());
}

TEST_F(PipelineTest, FreshCookieIsKeptOthersAreReplaced) {
  const uint8_t client[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  const IpAddress me = *IpAddress::parse("192.0.2.99");
  auto held = [&](const IpAddress& issued_to, uint32_t at, const dns::CookieSecret& secret) {
    std::vector<uint8_t> c(client, client + 8);
    uint8_t server[16];
    dns::make_server_cookie(client, issued_to, at, secret, server);
    c.insert(c.end(), server, server + 16);
    return c;
  };
  auto answer_to = [&](const std::vector<uint8_t>& cookie) {
    QueryBuilder b;
    b.name = "ns1.example.com";
    b.cookie(cookie);
    auto p = ask(b);
    EXPECT_TRUE(p);
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);  // answered whatever the cookie
    EXPECT_EQ(ldns_pkt_ancount(p.get()), 1);
    return response_cookie(p);
  };
  const uint32_t now = unix_now();
  const auto fresh = held(me, now - 60, kCookieSecret);
  const uint64_t valid_before = pipeline->counters().cookies_valid.load();
  EXPECT_EQ(answer_to(fresh), fresh);
  EXPECT_EQ(pipeline->counters().cookies_valid.load(), valid_before + 1);
  const uint64_t new_before = pipeline->counters().cookies_new.load();
  dns::CookieSecret other = kCookieSecret;
  other[0] ^= 1;
  for (const auto& stale :
       {held(me, now - 2000, kCookieSecret),  // worn: over half an hour
        held(me, now - 4000, kCookieSecret),  // expired
        held(*IpAddress::parse("192.0.2.98"), now, kCookieSecret), held(me, now, other)}) {
    const auto got = answer_to(stale);
    ASSERT_EQ(got.size(), 24u);
    EXPECT_NE(got, stale);
    EXPECT_EQ(dns::check_server_cookie(client, got.data() + 8, 16, me, now, &kCookieSecret, 1),
              dns::CookieVerdict::fresh);
  }
  // The worn one was still ours (valid, renewed); the other three were not.
  EXPECT_EQ(pipeline->counters().cookies_new.load(), new_before + 3);
  // A shorter server cookie (another implementation's) is not ours either: a new one.
  std::vector<uint8_t> foreign(client, client + 8);
  foreign.resize(16, 0xAA);
  EXPECT_EQ(answer_to(foreign).size(), 24u);
}

TEST_F(PipelineTest, QueryWithoutQuestionFetchesACookie) {
  QueryBuilder b;
  b.qdcount = 0;
  b.question = false;
  b.cookie({9, 9, 9, 9, 9, 9, 9, 9});
  auto p = ask(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_qdcount(p.get()), 0);
  EXPECT_EQ(ldns_pkt_ancount(p.get()), 0);
  EXPECT_EQ(response_cookie(p).size(), 24u);
}

TEST_F(PipelineTest, GarbageNeverCrashes) {
  // Deterministic pseudo-random inputs, plus every single-byte mutation of a valid query.
  uint64_t x = 42;
  std::vector<uint8_t> buf;
  for (int i = 0; i < 2000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    buf.resize(static_cast<size_t>(x >> 56) % 300);
    for (auto& c : buf) {
      x = x * 6364136223846793005ULL + 1;
      c = static_cast<uint8_t>(x >> 33);
    }
    (void)raw(buf);
  }
  QueryBuilder b;
  b.ecs(1, 24, 0, {81, 2, 69});
  const auto base = b.build();
  for (size_t i = 0; i < base.size(); ++i) {
    for (int v : {0x00, 0xC0, 0xFF, 0x3F}) {
      auto m = base;
      m[i] = static_cast<uint8_t>(v);
      (void)raw(m);
      (void)raw(m, Transport::tcp);
    }
  }
  EXPECT_EQ(ldns_pkt_ancount(ask("ns1.example.com", rrtype::A).get()), 1);
}

}  // namespace
}  // namespace geodns::server::testing

namespace geodns::server::testing {
namespace {

// A reload publishes new settings: the pipeline answers with them from its next batch on
// (never in the middle of one), RRL included.
TEST_F(PipelineTest, PublishedSettingsApplyFromTheNextBatch) {
  QueryBuilder b;
  b.name = "version.bind";
  b.qtype = rrtype::TXT;
  b.qclass = dns::rrclass::CH;
  PipelineConfig next = pipeline->config();
  next.chaos_version = "after reload";
  next.rrl.enabled = true;
  next.rrl.responses_per_second = 1;
  next.rrl.slip = 0;
  snapshots.settings.publish(std::make_shared<const PipelineConfig>(next));
  auto p = ask(b);
  ASSERT_TRUE(p);
  EXPECT_TRUE(contains(section(ldns_pkt_answer(p.get())), "\"geodns test\""));

  pipeline->begin_batch();
  EXPECT_EQ(pipeline->config().chaos_version, "after reload");
  EXPECT_TRUE(pipeline->config().rrl.enabled);
  // One response per second, no slip: the first goes out, the same again at once is dropped.
  const auto query = b.build();
  EXPECT_FALSE(raw(query).empty());
  EXPECT_TRUE(raw(query).empty());
  EXPECT_GE(pipeline->rrl_counters().dropped.load(), 1u);

  // Off again: nothing is limited any more.
  next.rrl.enabled = false;
  snapshots.settings.publish(std::make_shared<const PipelineConfig>(next));
  pipeline->begin_batch();
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(raw(query).empty());
}

}  // namespace
}  // namespace geodns::server::testing
