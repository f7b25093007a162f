// DNSSEC answers of the real binary (issue 13): a zone with `dnssec = true` and a key in its
// key directory, queried over UDP and TCP on loopback. Every RRSIG is verified by ldns against
// the DNSKEY RRset the server itself publishes; steered answers are signed online, negative
// answers carry a compact denial (RFC 9824), queries without DO see no DNSSEC record, and an
// answer that does not fit with its signatures is truncated. The signature cache shows in
// /metrics.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <string>

#include "dnssec/key.h"
#include "ops/ctl.h"
#include "serve_fixture.h"

namespace geodns::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kZone = R"([zone]
name = "signed.test."
ttl = 300
dnssec = true
[zone.soa]
mname = "ns1.signed.test."
rname = "hostmaster.signed.test."
minimum = "60s"
[records]
"@" = ["NS ns1.signed.test.", 'TXT "apex"']
ns1 = "A 192.0.2.53"
static = ["A 192.0.2.1", "A 192.0.2.2"]
alias = "CNAME static"
"*.wild" = "A 192.0.2.7"
insecure = "NS ns.insecure.signed.test."
"ns.insecure" = "A 192.0.2.54"
big = [
  'TXT "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"',
  'TXT "1123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"',
  'TXT "2123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"',
  'TXT "3123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"',
]
[datacenters.fra]
addresses = ["192.0.2.10", "192.0.2.11", "192.0.2.12"]
[datacenters.iad]
addresses = ["198.51.100.10"]
[steer.www]
policy = "roundrobin"
datacenters = ["fra", "iad"]
answers = 2
[steer.geo]
policy = "geo"
map.EU = ["fra"]
map.default = ["iad"]
)";

size_t count_type(const ldns_pkt* p, ldns_pkt_section s, ldns_rr_type t) {
  ldns_rr_list* l = ldns_pkt_rr_list_by_type(p, t, s);
  const size_t n = l == nullptr ? 0 : ldns_rr_list_rr_count(l);
  ldns_rr_list_deep_free(l);
  return n;
}

size_t dnssec_records(const ldns_pkt* p) {
  size_t n = 0;
  for (auto s : {LDNS_SECTION_ANSWER, LDNS_SECTION_AUTHORITY, LDNS_SECTION_ADDITIONAL}) {
    n += count_type(p, s, LDNS_RR_TYPE_RRSIG) + count_type(p, s, LDNS_RR_TYPE_NSEC);
  }
  return n;
}

// Verifies every RRSIG in the answer and authority sections with ldns against `keys`;
// returns how many verified, or -1 at the first that does not.
int verify_all(const ldns_pkt* p, ldns_rr_list* keys, std::string* why) {
  int ok = 0;
  for (ldns_rr_list* list : {ldns_pkt_answer(p), ldns_pkt_authority(p)}) {
    for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
      ldns_rr* sig = ldns_rr_list_rr(list, i);
      if (ldns_rr_get_type(sig) != LDNS_RR_TYPE_RRSIG) continue;
      ldns_rr_list* set = ldns_rr_list_new();
      for (size_t j = 0; j < ldns_rr_list_rr_count(list); ++j) {
        ldns_rr* rr = ldns_rr_list_rr(list, j);
        if (ldns_rr_get_type(rr) == ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(sig)) &&
            ldns_dname_compare(ldns_rr_owner(rr), ldns_rr_owner(sig)) == 0) {
          ldns_rr_list_push_rr(set, rr);
        }
      }
      ldns_rr_list* good = ldns_rr_list_new();
      const ldns_status st = ldns_verify_rrsig_keylist(set, sig, keys, good);
      ldns_rr_list_free(good);
      ldns_rr_list_free(set);
      if (st != LDNS_STATUS_OK) {
        char* s = ldns_rr2str(sig);
        *why = std::string(ldns_get_errorstr_by_id(st)) + ": " + s;
        free(s);
        return -1;
      }
      ++ok;
    }
  }
  return ok;
}

class DnssecServe : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto now = static_cast<int64_t>(std::time(nullptr));
    auto key = dnssec::generate_key("signed.test.", dnssec::Algorithm::ecdsap256sha256,
                                    dnssec::KeyRole::csk, now);
    ASSERT_TRUE(key) << key.error().to_string();
    key->timing.publish_unix = now - 60;
    key->timing.activate_unix = now - 60;
    ASSERT_TRUE(dnssec::write_key_files(*key, keys.file("keys")));
    std::filesystem::create_directories(zones.file("zones"));
    zones.write("zones/signed.test.toml", kZone);
    ServeOptions o;
    o.zones_dir = zones.file("zones");
    o.extra_config = "[dnssec]\nkey_directory = \"" + keys.file("keys") + "\"\n";
    server = std::make_unique<Server>(o);
    ASSERT_TRUE(server->ready) << server->process->stderr_text();
    // The keys a validator would use: the DNSKEY RRset the server publishes.
    QueryOptions q;
    q.dnssec_ok = true;
    Packet p = server->tcp("signed.test.", LDNS_RR_TYPE_DNSKEY, q);
    ASSERT_NE(p, nullptr);
    dnskeys = ldns_pkt_rr_list_by_type(p.get(), LDNS_RR_TYPE_DNSKEY, LDNS_SECTION_ANSWER);
    ASSERT_NE(dnskeys, nullptr);
    ASSERT_EQ(ldns_rr_list_rr_count(dnskeys), 1u);
  }
  void TearDown() override {
    if (dnskeys != nullptr) ldns_rr_list_deep_free(dnskeys);
  }

  // A DO query over UDP whose signatures all verify; returns the packet.
  Packet signed_answer(const std::string& name, ldns_rr_type type) {
    QueryOptions q;
    q.dnssec_ok = true;
    Packet p = server->udp(name, type, q);
    EXPECT_NE(p, nullptr) << name;
    if (p == nullptr) return p;
    std::string why;
    EXPECT_GT(verify_all(p.get(), dnskeys, &why), 0) << name << ": " << why;
    EXPECT_FALSE(ldns_pkt_ad(p.get()));
    return p;
  }

  TempDir keys;
  TempDir zones;
  std::unique_ptr<Server> server;
  ldns_rr_list* dnskeys = nullptr;
};

TEST_F(DnssecServe, StaticSteeredAndWildcardAnswersVerify) {
  Packet p = signed_answer("static.signed.test.", LDNS_RR_TYPE_A);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(count_type(p.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_RRSIG), 1u);
  for (int i = 0; i < 10; ++i) {
    p = signed_answer("www.signed.test.", LDNS_RR_TYPE_A);  // rotated: every set verifies
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(count_type(p.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A), 2u);
  }
  p = signed_answer("geo.signed.test.", LDNS_RR_TYPE_A);
  p = signed_answer("alias.signed.test.", LDNS_RR_TYPE_A);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(count_type(p.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_RRSIG), 2u);  // CNAME, A
  p = signed_answer("host.wild.signed.test.", LDNS_RR_TYPE_A);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(count_type(p.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_RRSIG), 1u);
}

TEST_F(DnssecServe, NegativeAnswersAreCompactDenials) {
  Packet p = signed_answer("nope.signed.test.", LDNS_RR_TYPE_A);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);  // RFC 9824: NXDOMAIN as NODATA
  ldns_rr_list* nsec = ldns_pkt_rr_list_by_type(p.get(), LDNS_RR_TYPE_NSEC, LDNS_SECTION_AUTHORITY);
  ASSERT_NE(nsec, nullptr);
  ASSERT_EQ(ldns_rr_list_rr_count(nsec), 1u);
  EXPECT_TRUE(ldns_nsec_bitmap_covers_type(ldns_rr_rdf(ldns_rr_list_rr(nsec, 0), 1),
                                           static_cast<ldns_rr_type>(128)));  // NXNAME
  ldns_rr_list_deep_free(nsec);
  p = signed_answer("static.signed.test.", LDNS_RR_TYPE_MX);  // NODATA
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(count_type(p.get(), LDNS_SECTION_AUTHORITY, LDNS_RR_TYPE_NSEC), 1u);
  p = signed_answer("host.insecure.signed.test.", LDNS_RR_TYPE_A);  // referral: no DS
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(count_type(p.get(), LDNS_SECTION_AUTHORITY, LDNS_RR_TYPE_NS), 1u);
  EXPECT_EQ(count_type(p.get(), LDNS_SECTION_AUTHORITY, LDNS_RR_TYPE_NSEC), 1u);
}

TEST_F(DnssecServe, WithoutDoNoDnssecRecords) {
  for (const char* name :
       {"static.signed.test.", "www.signed.test.", "nope.signed.test.", "host.wild.signed.test.",
        "alias.signed.test.", "host.insecure.signed.test."}) {
    QueryOptions q;
    q.edns_payload = 1232;
    Packet p = server->udp(name, LDNS_RR_TYPE_A, q);
    ASSERT_NE(p, nullptr) << name;
    EXPECT_EQ(dnssec_records(p.get()), 0u) << name;
    EXPECT_GT(ldns_pkt_ancount(p.get()) + ldns_pkt_nscount(p.get()), 0) << name;
  }
  Packet nx = server->udp("nope.signed.test.", LDNS_RR_TYPE_A);
  ASSERT_NE(nx, nullptr);
  EXPECT_EQ(ldns_pkt_get_rcode(nx.get()), LDNS_RCODE_NXDOMAIN);
}

TEST_F(DnssecServe, TruncatedRatherThanUnsignedThenWholeOverTcp) {
  QueryOptions q;
  q.dnssec_ok = true;
  q.edns_payload = 512;
  Packet udp = server->udp("big.signed.test.", LDNS_RR_TYPE_TXT, q);
  ASSERT_NE(udp, nullptr);
  EXPECT_TRUE(ldns_pkt_tc(udp.get()));
  EXPECT_EQ(ldns_pkt_ancount(udp.get()), 0);
  Packet tcp = server->tcp("big.signed.test.", LDNS_RR_TYPE_TXT, q);
  ASSERT_NE(tcp, nullptr);
  EXPECT_FALSE(ldns_pkt_tc(tcp.get()));
  EXPECT_EQ(count_type(tcp.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_TXT), 4u);
  std::string why;
  EXPECT_EQ(verify_all(tcp.get(), dnskeys, &why), 1) << why;
}

TEST_F(DnssecServe, SignatureCacheInMetrics) {
  for (int i = 0; i < 20; ++i) signed_answer("geo.signed.test.", LDNS_RR_TYPE_A);
  auto r = ops::http_call("127.0.0.1:" + std::to_string(server->control_port), "GET", "/metrics",
                          "", "", 5s);
  ASSERT_TRUE(r) << r.error().to_string();
  const std::string& m = r->body;
  EXPECT_NE(m.find("geodns_dnssec_signature_cache_total{result=\"hit\"}"), std::string::npos) << m;
  EXPECT_NE(m.find("geodns_dnssec_signed_online_total"), std::string::npos);
  // One RRset for geo from this client, signed once per worker at most: hits dominate.
  const auto hits_at = m.find("geodns_dnssec_signature_cache_total{result=\"hit\"} ");
  ASSERT_NE(hits_at, std::string::npos);
  const double hits = std::stod(m.substr(hits_at + 50));
  EXPECT_GE(hits, 18.0);
}

}  // namespace
}  // namespace geodns::test
