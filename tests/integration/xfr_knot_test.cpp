// geodns as the primary of a plain zone with a real Knot secondary (Debian's knotd, its own
// config, storage and rundir in a temp dir, on its own loopback port): Knot transfers the
// zone with TSIG and answers it; an edit and a reload of geodns NOTIFY Knot, which fetches
// the new serial by IXFR. Plus what unkeyed and badly keyed transfer requests get.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "harness.h"
#include "serve_fixture.h"

namespace geodns::test {
namespace {

constexpr const char* kSecret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==";

std::string zone_file(uint16_t knot_port, const std::string& www) {
  return R"([zone]
name = "plain.test."
ttl = 300
[zone.soa]
mname = "ns1.plain.test."
rname = "hostmaster.plain.test."
refresh = "1h"

[[zone.secondary]]
address = "127.0.0.1:)" +
         std::to_string(knot_port) + R"("
key = "xfr-key"

[records]
"@" = ["NS ns1.plain.test.", "MX 10 mail.plain.test."]
ns1 = "A 192.0.2.53"
mail = "A 192.0.2.25"
www = "A )" +
         www + R"("
)";
}

std::string knot_config(const TempDir& dir, uint16_t knot_port, uint16_t primary_port) {
  return "server:\n"
         "    rundir: \"" +
         dir.file("knot/run") +
         "\"\n"
         "    listen: 127.0.0.1@" +
         std::to_string(knot_port) +
         "\n"
         "database:\n"
         "    storage: \"" +
         dir.file("knot/db") +
         "\"\n"
         "key:\n"
         "  - id: xfr-key\n"
         "    algorithm: hmac-sha256\n"
         "    secret: " +
         kSecret +
         "\n"
         "remote:\n"
         "  - id: primary\n"
         "    address: 127.0.0.1@" +
         std::to_string(primary_port) +
         "\n"
         "    key: xfr-key\n"
         "acl:\n"
         "  - id: notify_from_primary\n"
         "    address: 127.0.0.1\n"
         "    key: xfr-key\n"
         "    action: notify\n"
         "template:\n"
         "  - id: default\n"
         "    storage: \"" +
         dir.file("knot/zones") +
         "\"\n"
         "zone:\n"
         "  - domain: plain.test\n"
         "    master: primary\n"
         "    acl: notify_from_primary\n"
         "log:\n"
         "  - target: stderr\n"
         "    any: info\n";
}

// The serial Knot (or geodns) answers for plain.test SOA over UDP, or 0.
uint32_t soa_serial(uint16_t port) {
  auto r = udp_query(port, make_query("plain.test.", LDNS_RR_TYPE_SOA), 1s);
  if (!r) return 0;
  auto p = decode(*r);
  if (!p || ldns_pkt_get_rcode(p.get()) != LDNS_RCODE_NOERROR || ldns_pkt_ancount(p.get()) != 1) {
    return 0;
  }
  const ldns_rr* soa = ldns_rr_list_rr(ldns_pkt_answer(p.get()), 0);
  return ldns_rdf2native_int32(ldns_rr_rdf(soa, 2));
}

// Polls until `pred` holds, at most `timeout` (the transfer's pace is Knot's).
template <class Pred>
bool eventually(std::chrono::milliseconds timeout, Pred pred) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

Bytes signed_axfr(const char* key_name, const char* secret) {
  auto p = decode(make_query("plain.test.", LDNS_RR_TYPE_AXFR));
  EXPECT_EQ(ldns_pkt_tsig_sign(p.get(), key_name, secret, 300, "hmac-sha256.", nullptr),
            LDNS_STATUS_OK);
  uint8_t* wire = nullptr;
  size_t size = 0;
  EXPECT_EQ(ldns_pkt2wire(&wire, p.get(), &size), LDNS_STATUS_OK);
  Bytes out(wire, wire + size);
  free(wire);  // NOLINT(cppcoreguidelines-no-malloc): ldns allocates with malloc
  return out;
}

TEST(XfrKnot, KnotTransfersWithTsigAndFollowsNotifyByIxfr) {
  const std::string knotd = "/usr/sbin/knotd";
  ASSERT_TRUE(std::filesystem::exists(knotd)) << "knotd missing: run scripts/install-deps.sh";
  TempDir zones;
  std::filesystem::create_directories(zones.file("zones"));
  const uint16_t knot_port = free_port();
  zones.write("zones/plain.test.toml", zone_file(knot_port, "192.0.2.80"));
  ServeOptions o;
  o.zones_dir = zones.file("zones");
  o.geoip = "";
  o.v6 = false;
  o.extra_config =
      std::string("\n[tsig.xfr-key]\nalgorithm = \"hmac-sha256\"\nsecret = \"") + kSecret + "\"\n";
  Server geodns(o);
  ASSERT_TRUE(geodns.ready) << geodns.process->stderr_text();
  const uint32_t first_serial = soa_serial(geodns.port);
  ASSERT_NE(first_serial, 0U);

  // Without the key: REFUSED; with an unknown key: NOTAUTH / BADKEY.
  auto r = tcp_query(geodns.port, make_query("plain.test.", LDNS_RR_TYPE_AXFR));
  ASSERT_TRUE(r);
  auto p = decode(*r);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_REFUSED);
  r = tcp_query(geodns.port, signed_axfr("nobody.", kSecret));
  ASSERT_TRUE(r);
  p = decode(*r);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOTAUTH);
  ASSERT_NE(ldns_pkt_tsig(p.get()), nullptr);
  EXPECT_EQ(ldns_rdf2native_int16(ldns_rr_rdf(ldns_pkt_tsig(p.get()), 5)), 17);  // BADKEY

  // Knot, with its own config, storage and rundir.
  TempDir state;
  for (const char* d : {"knot/run", "knot/db", "knot/zones"}) {
    std::filesystem::create_directories(state.file(d));
  }
  state.write("knot.conf", knot_config(state, knot_port, geodns.port));
  ServerProcess knot(knotd, {"-c", state.file("knot.conf")});
  ASSERT_TRUE(knot.wait_ready(knot_port, 10s)) << knot.stderr_text();

  // The first transfer (AXFR: Knot has nothing yet), then Knot answers the zone itself.
  ASSERT_TRUE(eventually(15s, [&] { return soa_serial(knot_port) == first_serial; }))
      << knot.stderr_text();
  auto answer = udp_query(knot_port, make_query("www.plain.test.", LDNS_RR_TYPE_A));
  ASSERT_TRUE(answer);
  p = decode(*answer);
  ASSERT_TRUE(p);
  EXPECT_TRUE(ldns_pkt_aa(p.get()));
  EXPECT_EQ(section_strings(p.get(), LDNS_SECTION_ANSWER),
            std::vector<std::string>{"www.plain.test. 300 IN A 192.0.2.80"});
  answer = udp_query(knot_port, make_query("plain.test.", LDNS_RR_TYPE_MX));
  ASSERT_TRUE(answer);
  p = decode(*answer);
  EXPECT_EQ(section_strings(p.get(), LDNS_SECTION_ANSWER),
            std::vector<std::string>{"plain.test. 300 IN MX 10 mail.plain.test."});

  // An edit and a reload: geodns's NOTIFY brings Knot to the new serial by IXFR, well
  // before its one-hour refresh timer would.
  zones.write("zones/plain.test.toml", zone_file(knot_port, "192.0.2.81"));
  ASSERT_EQ(::kill(geodns.process->pid(), SIGHUP), 0);
  ASSERT_TRUE(eventually(10s, [&] {
    const uint32_t s = soa_serial(geodns.port);
    return s != 0 && s != first_serial;
  }));
  const uint32_t second_serial = soa_serial(geodns.port);
  ASSERT_TRUE(eventually(15s, [&] { return soa_serial(knot_port) == second_serial; }))
      << knot.stderr_text() << geodns.process->stderr_text();
  answer = udp_query(knot_port, make_query("www.plain.test.", LDNS_RR_TYPE_A));
  ASSERT_TRUE(answer);
  p = decode(*answer);
  EXPECT_EQ(section_strings(p.get(), LDNS_SECTION_ANSWER),
            std::vector<std::string>{"www.plain.test. 300 IN A 192.0.2.81"});
  const std::string log = knot.stderr_text();
  EXPECT_NE(log.find("notify, incoming"), std::string::npos) << log;
  EXPECT_NE(
      log.find("IXFR, incoming, remote 127.0.0.1@" + std::to_string(geodns.port) + ", finished"),
      std::string::npos)
      << log;
  EXPECT_NE(geodns.process->stderr_text().find("event=notify_answered"), std::string::npos);
  knot.stop();
  geodns.process->stop();
}

}  // namespace
}  // namespace geodns::test
