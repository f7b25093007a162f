// Zone transfers and TSIG through the pipeline, decoded and verified by ldns: who may
// transfer, AXFR (one and many messages, signed and chained), IXFR from the journal, IXFR
// over UDP, and the NOTAUTH answers to bad keys, MACs and times. Plus the journal itself and
// the configuration errors.
// stdbool.h first: without it ldns/common.h #defines bool, true and false in C++.
#include <stdbool.h>  // NOLINT(modernize-deprecated-headers)
//
#include <ldns/ldns.h>

#include <gtest/gtest.h>

#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "dns/tsig.h"
#include "server/pipeline.h"
#include "server/transfer.h"
#include "zone/config.h"
#include "zone/loader.h"

namespace geodns::server {
namespace {

constexpr const char* kSecret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==";
constexpr const char* kServerConfig = R"(
[tsig.xfr-key]
algorithm = "hmac-sha256"
secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ=="
[tsig.other-key]
secret = "b3RoZXItb3RoZXItb3RoZXItb3RoZXIhIQ=="
)";

std::string zone_text(uint32_t serial, const std::string& extra_records) {
  return R"(
[zone]
name = "xfr.test."
ttl = 300
[zone.soa]
mname = "ns1.xfr.test."
rname = "hostmaster.xfr.test."
serial = )" +
         std::to_string(serial) +
         R"(
[[zone.secondary]]
address = "192.0.2.1:5301"
key = "xfr-key"
[[zone.secondary]]
address = "198.51.100.0/24"
[records]
"@" = ["NS ns1.xfr.test."]
ns1 = "A 192.0.2.53"
)" + extra_records;
}

struct PktDeleter {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using Pkt = std::unique_ptr<ldns_pkt, PktDeleter>;

Pkt decode(const std::vector<uint8_t>& m) {
  ldns_pkt* p = nullptr;
  if (ldns_wire2pkt(&p, m.data(), m.size()) != LDNS_STATUS_OK) return nullptr;
  return Pkt(p);
}

std::vector<uint8_t> wire_of(ldns_pkt* pkt) {
  uint8_t* wire = nullptr;
  size_t size = 0;
  EXPECT_EQ(ldns_pkt2wire(&wire, pkt, &size), LDNS_STATUS_OK);
  std::vector<uint8_t> out(wire, wire + size);
  free(wire);  // NOLINT(cppcoreguidelines-no-malloc): ldns allocates with malloc
  return out;
}

std::vector<std::string> answer_lines(ldns_pkt* p) {
  std::vector<std::string> out;
  const ldns_rr_list* list = ldns_pkt_answer(p);
  for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
    char* s = ldns_rr2str(ldns_rr_list_rr(list, i));
    std::string line = s;
    free(s);  // NOLINT(cppcoreguidelines-no-malloc)
    while (!line.empty() && line.back() == '\n') line.pop_back();
    out.push_back(line);
  }
  return out;
}

// A request built and (optionally) signed by ldns. `ixfr_serial` >= 0 makes it an IXFR.
std::vector<uint8_t> request(uint16_t type, const char* key_name = nullptr,
                             const char* secret = kSecret, int64_t ixfr_serial = -1) {
  ldns_pkt* raw = nullptr;
  if (ixfr_serial >= 0) {
    ldns_rr* soa = nullptr;
    const std::string text = "xfr.test. 300 IN SOA ns1.xfr.test. hostmaster.xfr.test. " +
                             std::to_string(ixfr_serial) + " 3600 600 1209600 60";
    EXPECT_EQ(ldns_rr_new_frm_str(&soa, text.c_str(), 0, nullptr, nullptr), LDNS_STATUS_OK);
    EXPECT_EQ(ldns_pkt_ixfr_request_new_frm_str(&raw, "xfr.test.", LDNS_RR_CLASS_IN, 0, soa),
              LDNS_STATUS_OK);
  } else {
    EXPECT_EQ(ldns_pkt_query_new_frm_str(&raw, "xfr.test.", static_cast<ldns_rr_type>(type),
                                         LDNS_RR_CLASS_IN, 0),
              LDNS_STATUS_OK);
  }
  Pkt pkt(raw);
  ldns_pkt_set_id(pkt.get(), 4242);
  if (key_name != nullptr) {
    EXPECT_EQ(ldns_pkt_tsig_sign(pkt.get(), key_name, secret, 300, "hmac-sha256.", nullptr),
              LDNS_STATUS_OK);
  }
  return wire_of(pkt.get());
}

class TransferTest : public ::testing::Test {
 protected:
  void SetUp() override { load(10, ""); }

  void load(uint32_t serial, const std::string& extra) {
    auto cfg = zone::load_server_config_text(kServerConfig, "geodns.toml", "");
    ASSERT_TRUE(cfg) << cfg.error().to_string();
    config = cfg.value();
    auto z = zone::load_zone_text(zone_text(serial, extra), "xfr.test.toml", config, nullptr);
    ASSERT_TRUE(z) << z.error().to_string();
    zone = z.value();
    auto set = std::make_shared<zone::ZoneSet>();
    set->zones.push_back(zone);
    set->reindex();
    snapshots.zones.publish(set);
    health.publish(std::make_shared<steer::HealthView>());
    snapshots.health = &health;
    PipelineConfig pc;
    for (const auto& k : config.tsig_keys) pc.tsig_keys.push_back(k.key);
    pipeline = std::make_unique<Pipeline>(snapshots, pc, 1);
    pipeline->begin_batch();
  }

  static ClientInfo client(const char* address, Transport t = Transport::tcp) {
    ClientInfo c;
    c.address = *IpAddress::parse(address);
    c.transport = t;
    return c;
  }

  // All messages of a transfer, or none when the pipeline does not stream it.
  std::vector<std::vector<uint8_t>> stream(const std::vector<uint8_t>& req, const char* from) {
    std::vector<std::vector<uint8_t>> out;
    auto s = pipeline->start_transfer(req, client(from));
    if (!s) return out;
    std::vector<uint8_t> buf(65535);
    while (!s->done() && out.size() < 1000) {
      const size_t n = s->next(buf);
      out.emplace_back(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    }
    return out;
  }

  Pkt respond(const std::vector<uint8_t>& req, const char* from, Transport t) {
    std::vector<uint8_t> buf(65535);
    const size_t n = pipeline->respond(req, client(from, t), buf);
    buf.resize(n);
    return decode(buf);
  }

  zone::ServerConfig config;
  zone::ZonePtr zone;
  Snapshots snapshots;
  Published<steer::HealthView> health;
  std::unique_ptr<Pipeline> pipeline;
};

TEST_F(TransferTest, AxfrFromAPermittedNetworkHasSoaFirstAndLast) {
  const auto msgs = stream(request(LDNS_RR_TYPE_AXFR), "198.51.100.7");
  ASSERT_EQ(msgs.size(), 1U);
  auto p = decode(msgs[0]);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(ldns_pkt_aa(p.get()));
  EXPECT_EQ(ldns_pkt_id(p.get()), 4242);
  const auto lines = answer_lines(p.get());
  const std::string soa =
      "xfr.test.\t300\tIN\tSOA\tns1.xfr.test. hostmaster.xfr.test. 10 3600 600 1209600 60";
  EXPECT_EQ(lines, (std::vector<std::string>{soa, "xfr.test.\t300\tIN\tNS\tns1.xfr.test.",
                                             "ns1.xfr.test.\t300\tIN\tA\t192.0.2.53", soa}));
}

TEST_F(TransferTest, RefusedForUnlistedClientsMissingKeyUdpAndSteeredZones) {
  // Not listed at all.
  EXPECT_TRUE(stream(request(LDNS_RR_TYPE_AXFR), "203.0.113.9").empty());
  auto p = respond(request(LDNS_RR_TYPE_AXFR), "203.0.113.9", Transport::tcp);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_REFUSED);
  // Listed with a key, asking without it or with another key.
  EXPECT_TRUE(stream(request(LDNS_RR_TYPE_AXFR), "192.0.2.1").empty());
  EXPECT_TRUE(
      stream(request(LDNS_RR_TYPE_AXFR, "other-key.", "b3RoZXItb3RoZXItb3RoZXItb3RoZXIhIQ=="),
             "192.0.2.1")
          .empty());
  p = respond(request(LDNS_RR_TYPE_AXFR), "192.0.2.1", Transport::tcp);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_REFUSED);
  // AXFR over UDP (RFC 5936 4.2), even from a permitted client.
  p = respond(request(LDNS_RR_TYPE_AXFR), "198.51.100.7", Transport::udp);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_REFUSED);
  // A zone with steered names has no secondaries to permit: transfer_permission refuses it.
  zone::Zone steered;
  steered.secondaries = zone->secondaries;
  steered.rules.resize(1);
  EXPECT_EQ(transfer_permission(steered, *IpAddress::parse("198.51.100.7"), nullptr), nullptr);
  EXPECT_NE(transfer_permission(*zone, *IpAddress::parse("198.51.100.7"), nullptr), nullptr);
}

TEST_F(TransferTest, SignedMultiMessageAxfrVerifiesAsAChainWithLdns) {
  // About 100 KiB of TXT records: at least two messages of at most 64 KiB.
  std::string extra = "big = [\n";
  const std::string chunk(200, 'x');
  for (int i = 0; i < 500; ++i) extra += "  'TXT \"" + std::to_string(i) + chunk + "\"',\n";
  extra += "]\n";
  load(11, extra);
  const auto req = request(LDNS_RR_TYPE_AXFR, "xfr-key.");
  const auto msgs = stream(req, "192.0.2.1");
  ASSERT_GE(msgs.size(), 2U);
  auto q = decode(req);
  ASSERT_TRUE(q);
  // ldns: the request's MAC starts the chain; each later message covers the prior MAC and
  // the timers only (RFC 8945 5.3.1).
  ldns_rdf* prior = ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(q.get()), 3));
  size_t records = 0;
  for (size_t i = 0; i < msgs.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_LE(msgs[i].size(), 65535U);
    auto p = decode(msgs[i]);
    ASSERT_TRUE(p);
    EXPECT_TRUE(ldns_pkt_tsig_verify_next(p.get(), msgs[i].data(), msgs[i].size(), "xfr-key.",
                                          kSecret, prior, i > 0 ? 1 : 0));
    ldns_rdf_deep_free(prior);
    prior = ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(p.get()), 3));
    records += ldns_pkt_ancount(p.get());
  }
  ldns_rdf_deep_free(prior);
  EXPECT_EQ(records, 2U + 2U + 500U);  // SOA twice, NS, A, the TXT records
  auto first = decode(msgs.front());
  auto last = decode(msgs.back());
  EXPECT_EQ(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(first.get()), 0)), LDNS_RR_TYPE_SOA);
  const ldns_rr_list* tail = ldns_pkt_answer(last.get());
  EXPECT_EQ(ldns_rr_get_type(ldns_rr_list_rr(tail, ldns_rr_list_rr_count(tail) - 1)),
            LDNS_RR_TYPE_SOA);
}

TEST_F(TransferTest, IxfrAnswersTheCondensedJournalAndFallsBack) {
  const zone::ZonePtr v10 = zone;
  load(11, "www = \"A 192.0.2.80\"\n");
  const zone::ZonePtr v11 = zone;
  load(12, "www = \"A 192.0.2.81\"\n");
  auto journal = extend_journal(nullptr, diff_zones(*v10, *v11));
  journal = extend_journal(journal.get(), diff_zones(*v11, *zone));
  ASSERT_EQ(journal->diffs.size(), 2U);
  auto j = std::make_shared<TransferJournals>();
  j->by_origin.emplace(zone->origin, journal);
  snapshots.journals.publish(j);
  pipeline->begin_batch();

  const std::string s10 = "SOA\tns1.xfr.test. hostmaster.xfr.test. 10 ";
  const std::string s11 = "SOA\tns1.xfr.test. hostmaster.xfr.test. 11 ";
  const std::string s12 = "SOA\tns1.xfr.test. hostmaster.xfr.test. 12 ";
  auto msgs = stream(request(LDNS_RR_TYPE_IXFR, nullptr, kSecret, 10), "198.51.100.7");
  ASSERT_EQ(msgs.size(), 1U);
  auto p = decode(msgs[0]);
  ASSERT_TRUE(p);
  const auto lines = answer_lines(p.get());
  // RFC 1995 4: newest SOA; per version the old SOA, deletions, new SOA, additions; newest.
  ASSERT_EQ(lines.size(), 9U);
  EXPECT_NE(lines[0].find(s12), std::string::npos);
  EXPECT_NE(lines[1].find(s10), std::string::npos);  // 10 -> 11: nothing deleted
  EXPECT_NE(lines[2].find(s11), std::string::npos);
  EXPECT_EQ(lines[3], "www.xfr.test.\t300\tIN\tA\t192.0.2.80");
  EXPECT_NE(lines[4].find(s11), std::string::npos);  // 11 -> 12: .80 out, .81 in
  EXPECT_EQ(lines[5], "www.xfr.test.\t300\tIN\tA\t192.0.2.80");
  EXPECT_NE(lines[6].find(s12), std::string::npos);
  EXPECT_EQ(lines[7], "www.xfr.test.\t300\tIN\tA\t192.0.2.81");
  EXPECT_NE(lines[8].find(s12), std::string::npos);
  // Current client: the SOA alone.
  msgs = stream(request(LDNS_RR_TYPE_IXFR, nullptr, kSecret, 12), "198.51.100.7");
  ASSERT_EQ(msgs.size(), 1U);
  p = decode(msgs[0]);
  ASSERT_EQ(ldns_pkt_ancount(p.get()), 1);
  // Unknown serial: the whole zone, AXFR-style.
  msgs = stream(request(LDNS_RR_TYPE_IXFR, nullptr, kSecret, 3), "198.51.100.7");
  ASSERT_EQ(msgs.size(), 1U);
  p = decode(msgs[0]);
  EXPECT_EQ(ldns_pkt_ancount(p.get()), 5);  // SOA NS A A(www) SOA
}

TEST_F(TransferTest, IxfrOverUdpIsTheCurrentSoa) {
  for (int64_t serial : {10, 3}) {
    SCOPED_TRACE(serial);
    auto p = respond(request(LDNS_RR_TYPE_IXFR, nullptr, kSecret, serial), "198.51.100.7",
                     Transport::udp);
    ASSERT_TRUE(p);
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
    const auto lines = answer_lines(p.get());
    ASSERT_EQ(lines.size(), 1U);
    EXPECT_NE(lines[0].find("SOA\tns1.xfr.test. hostmaster.xfr.test. 10 "), std::string::npos);
  }
  auto p = respond(request(LDNS_RR_TYPE_IXFR, nullptr, kSecret, 10), "203.0.113.9", Transport::udp);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_REFUSED);
}

uint16_t tsig_error_of(ldns_pkt* p) {
  const ldns_rr* t = ldns_pkt_tsig(p);
  return t == nullptr ? 0xFFFF : ldns_rdf2native_int16(ldns_rr_rdf(t, 5));
}

TEST_F(TransferTest, SignedQueriesAreAnsweredSignedAndBadOnesNotAuth) {
  // A valid signed ordinary query: the answer is signed, and ldns verifies it.
  const auto req = request(LDNS_RR_TYPE_SOA, "xfr-key.");
  std::vector<uint8_t> buf(65535);
  const size_t n = pipeline->respond(req, client("203.0.113.9", Transport::udp), buf);
  buf.resize(n);
  auto p = decode(buf);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_ancount(p.get()), 1);
  auto q = decode(req);
  EXPECT_TRUE(ldns_pkt_tsig_verify(p.get(), buf.data(), buf.size(), "xfr-key.", kSecret,
                                   ldns_rr_rdf(ldns_pkt_tsig(q.get()), 3)));
  EXPECT_FALSE(ldns_pkt_tsig_verify(
      p.get(), buf.data(), buf.size(), "xfr-key.",
      "b3RoZXItb3RoZXItb3RoZXItb3RoZXIhIQ==", ldns_rr_rdf(ldns_pkt_tsig(q.get()), 3)));

  // Unknown key: NOTAUTH, BADKEY, an unsigned TSIG (RFC 8945 5.2.1), no answer.
  p = respond(request(LDNS_RR_TYPE_SOA, "nobody."), "203.0.113.9", Transport::udp);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOTAUTH);
  EXPECT_EQ(ldns_pkt_ancount(p.get()), 0);
  EXPECT_EQ(tsig_error_of(p.get()), dns::tsig_error::BADKEY);
  EXPECT_EQ(ldns_rdf_size(ldns_rr_rdf(ldns_pkt_tsig(p.get()), 3)), 2U);  // MAC size 0
  // Known key, wrong secret: BADSIG.
  p = respond(request(LDNS_RR_TYPE_SOA, "xfr-key.", "d3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmc="),
              "203.0.113.9", Transport::udp);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOTAUTH);
  EXPECT_EQ(tsig_error_of(p.get()), dns::tsig_error::BADSIG);
  // AXFR with a bad key over TCP: not streamed, NOTAUTH from respond().
  const auto bad_axfr = request(LDNS_RR_TYPE_AXFR, "nobody.");
  EXPECT_TRUE(stream(bad_axfr, "192.0.2.1").empty());
  p = respond(bad_axfr, "192.0.2.1", Transport::tcp);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOTAUTH);
  EXPECT_EQ(tsig_error_of(p.get()), dns::tsig_error::BADKEY);
}

TEST_F(TransferTest, RequestSignedAnHourAgoIsBadTimeSignedWithOurTime) {
  // Sign by hand with our codec and an old Time Signed (ldns always signs with "now").
  auto req = request(LDNS_RR_TYPE_SOA);
  req.resize(req.size() + 200);
  dns::TsigSigner signer;
  const dns::TsigKey& key = config.tsig_keys.front().key;
  const std::string_view alg = dns::tsig_algorithm_wire(key.algorithm);
  dns::TsigSigner::Response r;
  r.key = &key;
  r.key_name = reinterpret_cast<const uint8_t*>(key.name.data());
  r.key_name_len = key.name.size();
  r.algorithm = reinterpret_cast<const uint8_t*>(alg.data());
  r.algorithm_len = alg.size();
  const uint64_t now = static_cast<uint64_t>(std::time(nullptr));
  r.time_signed = now - 3600;
  const size_t n = signer.sign(req.data(), req.size() - 200, req.size(), r, nullptr, nullptr);
  ASSERT_GT(n, 0U);
  req.resize(n);
  auto p = respond(req, "203.0.113.9", Transport::udp);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOTAUTH);
  EXPECT_EQ(tsig_error_of(p.get()), dns::tsig_error::BADTIME);
  const ldns_rr* t = ldns_pkt_tsig(p.get());
  // Signed (a full MAC), Other Data = our time (6 bytes + the 2-byte length in ldns).
  EXPECT_EQ(ldns_rdf_size(ldns_rr_rdf(t, 3)), 2U + 32U);
  ASSERT_EQ(ldns_rdf_size(ldns_rr_rdf(t, 6)), 2U + 6U);
}

TEST(TransferJournal, DiffsChainAndStayBounded) {
  auto cfg = zone::load_server_config_text(kServerConfig, "geodns.toml", "");
  ASSERT_TRUE(cfg);
  std::vector<zone::ZonePtr> versions;
  for (uint32_t s = 1; s <= 5; ++s) {
    auto z = zone::load_zone_text(zone_text(s, "v = \"TXT \\\"" + std::to_string(s) + "\\\"\"\n"),
                                  "x.toml", *cfg, nullptr);
    ASSERT_TRUE(z) << z.error().to_string();
    versions.push_back(z.value());
  }
  const ZoneDiff d = diff_zones(*versions[0], *versions[1]);
  EXPECT_EQ(d.from_serial, 1U);
  EXPECT_EQ(d.to_serial, 2U);
  ASSERT_EQ(d.removed.size(), 1U);
  ASSERT_EQ(d.added.size(), 1U);
  EXPECT_EQ(d.removed[0].rdata, std::string("\1"
                                            "1"));
  EXPECT_EQ(d.added[0].rdata, std::string("\1"
                                          "2"));
  // Bounded to 3 differences: the oldest go first.
  std::shared_ptr<const ZoneJournal> j;
  for (size_t i = 0; i + 1 < versions.size(); ++i) {
    j = extend_journal(j.get(), diff_zones(*versions[i], *versions[i + 1]), 3);
  }
  ASSERT_EQ(j->diffs.size(), 3U);
  EXPECT_EQ(j->diffs.front().from_serial, 2U);
  EXPECT_FALSE(journal_since(*j, 1));
  ASSERT_TRUE(journal_since(*j, 3));
  EXPECT_EQ(journal_since(*j, 3)->size(), 2U);
  // A gap (a version never seen) starts the journal over.
  j = extend_journal(j.get(), diff_zones(*versions[0], *versions[2]));
  ASSERT_EQ(j->diffs.size(), 1U);
  // A byte bound keeps the newest difference only.
  j = extend_journal(j.get(), diff_zones(*versions[2], *versions[3]), 16, 1);
  ASSERT_EQ(j->diffs.size(), 1U);
  EXPECT_EQ(j->diffs.front().to_serial, 4U);
  EXPECT_TRUE(serial_at_or_after(5, 4));
  EXPECT_TRUE(serial_at_or_after(1, 0xFFFFFFF0U));  // RFC 1982 wrap
  EXPECT_FALSE(serial_at_or_after(4, 5));
}

TEST(TransferConfig, ErrorsPointAtTheValue) {
  auto cfg = zone::load_server_config_text(kServerConfig, "geodns.toml", "");
  ASSERT_TRUE(cfg);
  const struct {
    const char* secondary;
    const char* error;
  } cases[] = {
      {"address = \"192.0.2.1\"\nkey = \"nokey\"",
       "x.toml:9:7: unknown TSIG key \"nokey\" (define [tsig.nokey] in the server config)"},
      {"address = \"192.0.2.300\"", "x.toml:8:11: bad secondary address \"192.0.2.300\""},
      {"address = \"192.0.2.0/24\"\nnotify = true",
       "x.toml:9:10: notify needs a host address, not a network"},
      {"key = \"xfr-key\"", "x.toml:7:1: [[zone.secondary]] needs an address"},
      {"address = \"192.0.2.1\"\nport = 5",
       "x.toml:9:1: unknown key \"port\" in [[zone.secondary]]"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.secondary);
    const std::string text = std::string("[zone]\nname = \"x.test.\"\n[zone.soa]\n") +
                             "mname = \"ns1.x.test.\"\nrname = \"h.x.test.\"\n\n" +
                             "[[zone.secondary]]\n" + c.secondary + "\n" +
                             "[records]\n\"@\" = \"NS ns1.x.test.\"\n";
    auto z = zone::load_zone_text(text, "x.toml", *cfg, nullptr);
    ASSERT_FALSE(z);
    EXPECT_EQ(z.error().to_string().rfind(c.error, 0), 0U) << z.error().to_string();
  }
  // Steered names and secondaries do not mix.
  const std::string steered = std::string("[zone]\nname = \"x.test.\"\n") +
                              "[zone.soa]\nmname = \"ns1.x.test.\"\nrname = \"h.x.test.\"\n" +
                              "[[zone.secondary]]\naddress = \"192.0.2.1\"\n" +
                              "[datacenters.a]\naddresses = [\"192.0.2.10\"]\n" +
                              "[steer.www]\npolicy = \"failover\"\ndatacenters = [\"a\"]\n" +
                              "[records]\n\"@\" = \"NS ns1.x.test.\"\n";
  auto z = zone::load_zone_text(steered, "x.toml", *cfg, nullptr);
  ASSERT_FALSE(z);
  EXPECT_NE(z.error().message.find("zone transfers need a zone without steered names"),
            std::string::npos)
      << z.error().to_string();

  const struct {
    const char* text;
    const char* error;
  } server_cases[] = {
      {"[tsig.k]\nsecret = \"not base64!\"",
       "s.toml:2:10: the secret must be base64 (as tsig-keygen and keymgr print it)"},
      {"[tsig.k]\nalgorithm = \"hmac-md5\"\nsecret = \"c2VjcmV0LXNlY3JldC1zZWNyZXQ=\"",
       "s.toml:2:13: unknown algorithm \"hmac-md5\""},
      {"[tsig.k]\nalgorithm = \"hmac-sha256\"",
       "s.toml:1:7: [tsig.k] needs either secret or key_file"},
      {"[tsig.k]\nsecret = \"c2hvcnQ=\"", "s.toml:2:10: the secret must be at least 16 bytes"},
      {"[tsig.k]\nkey_file = \"/nonexistent/key\"",
       "s.toml:2:12: cannot read key_file \"/nonexistent/key\""},
  };
  for (const auto& c : server_cases) {
    SCOPED_TRACE(c.text);
    auto s = zone::load_server_config_text(c.text, "s.toml", "");
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().to_string().rfind(c.error, 0), 0U) << s.error().to_string();
  }
}

}  // namespace
}  // namespace geodns::server
