// The real geodns binary on the shipped demo zones and GeoIP database, queried over UDP and
// TCP on loopback, answers decoded with ldns.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "../support/edns_option.h"
#include "serve_fixture.h"

namespace geodns::test {
namespace {

class ServeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new Server();
    ASSERT_TRUE(server_->ready) << server_->process->stderr_text();
  }
  static void TearDownTestSuite() {
    if (server_ != nullptr) {
      const int code = server_->process->stop();
      EXPECT_EQ(code, 0) << server_->process->stderr_text();
    }
    delete server_;
    server_ = nullptr;
  }
  static Server* server_;
};
Server* ServeTest::server_ = nullptr;

struct TypeCase {
  const char* name;
  ldns_rr_type type;
  const char* expected;
};

TEST_F(ServeTest, EveryRecordTypeOverUdpAndTcp) {
  const TypeCase cases[] = {
      {"example.com", LDNS_RR_TYPE_SOA, "IN SOA ns1.example.com. hostmaster.example.com."},
      {"example.com", LDNS_RR_TYPE_NS, "example.com. 3600 IN NS ns1.example.com."},
      {"ns1.example.com", LDNS_RR_TYPE_A, "ns1.example.com. 3600 IN A 198.51.100.53"},
      {"ns1.example.com", LDNS_RR_TYPE_AAAA, "IN AAAA 2001:db8:53::1"},
      {"example.com", LDNS_RR_TYPE_MX, "IN MX 10 mail.example.com."},
      {"txt.example.com", LDNS_RR_TYPE_TXT, "\"first string\" \"second string\" \"third\""},
      {"_sip._tcp.example.com", LDNS_RR_TYPE_SRV, "IN SRV 10 60 5060 sip.example.com."},
      {"example.com", LDNS_RR_TYPE_CAA, "IN CAA 0 issue \"letsencrypt.org\""},
      {"alias.example.com", LDNS_RR_TYPE_A, "www2.example.com. 3600 IN A 198.51.100.80"},
      {"alias.example.com", LDNS_RR_TYPE_CNAME, "IN CNAME www2.example.com."},
      {"foo.wild.example.com", LDNS_RR_TYPE_A, "foo.wild.example.com. 3600 IN A 192.0.2.200"},
  };
  for (const auto& c : cases) {
    for (bool tcp : {false, true}) {
      auto p = tcp ? server_->tcp(c.name, c.type) : server_->udp(c.name, c.type);
      ASSERT_TRUE(p) << c.name;
      EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR) << c.name;
      EXPECT_TRUE(ldns_pkt_aa(p.get())) << c.name;
      const auto ans = section_strings(p.get(), LDNS_SECTION_ANSWER);
      EXPECT_TRUE(has_line(ans, c.expected)) << c.name << (tcp ? " tcp" : " udp") << "\n"
                                             << joined(ans);
    }
  }
}

TEST_F(ServeTest, LongTxtIsSplitAndPtrZoneServes) {
  auto p = server_->tcp("long._domainkey.example.com", LDNS_RR_TYPE_TXT);
  ASSERT_TRUE(p);
  ASSERT_EQ(ldns_pkt_ancount(p.get()), 1);
  ldns_rr* rr = ldns_rr_list_rr(ldns_pkt_answer(p.get()), 0);
  EXPECT_GE(ldns_rr_rd_count(rr), 2u);  // more than one character-string
  auto ptr = server_->udp("10.2.0.192.in-addr.arpa", LDNS_RR_TYPE_PTR);
  ASSERT_TRUE(ptr);
  EXPECT_EQ(ldns_pkt_ancount(ptr.get()), 1);
  EXPECT_TRUE(ldns_pkt_aa(ptr.get()));
}

TEST_F(ServeTest, NegativeAnswersReferralsAndRefused) {
  auto nx = server_->udp("nope.example.com", LDNS_RR_TYPE_A);
  ASSERT_TRUE(nx);
  EXPECT_EQ(ldns_pkt_get_rcode(nx.get()), LDNS_RCODE_NXDOMAIN);
  EXPECT_TRUE(
      has_line(section_strings(nx.get(), LDNS_SECTION_AUTHORITY), "example.com. 60 IN SOA"));
  auto ent = server_->udp("b.c.example.com", LDNS_RR_TYPE_A);
  EXPECT_EQ(ldns_pkt_get_rcode(ent.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_ancount(ent.get()), 0);
  auto ref = server_->udp("www.sub.example.com", LDNS_RR_TYPE_A);
  ASSERT_TRUE(ref);
  EXPECT_FALSE(ldns_pkt_aa(ref.get()));
  EXPECT_TRUE(has_line(section_strings(ref.get(), LDNS_SECTION_AUTHORITY),
                       "sub.example.com. 3600 IN NS ns1.sub.example.com."));
  EXPECT_TRUE(has_line(section_strings(ref.get(), LDNS_SECTION_ADDITIONAL),
                       "ns1.sub.example.com. 3600 IN A 192.0.2.53"));
  auto refused = server_->udp("www.example.org", LDNS_RR_TYPE_A);
  EXPECT_EQ(ldns_pkt_get_rcode(refused.get()), LDNS_RCODE_REFUSED);
}

TEST_F(ServeTest, CaseIsEchoedAndEdnsHonoured) {
  QueryOptions q;
  q.edns_payload = 4096;
  auto p = server_->udp("WwW2.ExAmPlE.CoM", LDNS_RR_TYPE_A, q);
  ASSERT_TRUE(p);
  EXPECT_EQ(question_name(p.get()), "WwW2.ExAmPlE.CoM.");
  EXPECT_TRUE(has_line(section_strings(p.get(), LDNS_SECTION_ANSWER), "WwW2.ExAmPlE.CoM."));
  EXPECT_EQ(ldns_pkt_edns_udp_size(p.get()), 1232);
  auto plain = udp_query(server_->port, make_query("www2.example.com", LDNS_RR_TYPE_A));
  ASSERT_TRUE(plain);
  EXPECT_EQ(((*plain)[10] << 8) | (*plain)[11], 0);  // no OPT without one in the query
}

struct GeoCase {
  const char* subnet;
  ldns_rr_type type;
  const char* expected;
  int scope;
};

// Scopes are the compiled merged networks: map.NA and map.default are the same list, so North
// America merges with the empty space around it (8.8.8.0/24 -> 8.0.0.0/6).
TEST_F(ServeTest, GeoSteeringWithEcsFromEachContinent) {
  const GeoCase cases[] = {
      {"81.2.69.0/24", LDNS_RR_TYPE_A, "192.0.2.1", 24},       // Europe -> fra
      {"46.4.0.0/16", LDNS_RR_TYPE_A, "192.0.2.1", 16},        // Europe -> fra
      {"8.8.8.0/24", LDNS_RR_TYPE_A, "198.51.100.1", 6},       // North America -> iad
      {"24.48.0.0/16", LDNS_RR_TYPE_A, "198.51.100.1", 4},     // North America -> iad
      {"200.160.0.0/20", LDNS_RR_TYPE_A, "203.0.113.20", 20},  // South America -> gru
      {"133.1.0.0/16", LDNS_RR_TYPE_A, "203.0.113.10", 16},    // Asia -> sin
      {"1.1.1.0/24", LDNS_RR_TYPE_A, "203.0.113.10", 24},      // Oceania -> sin
      {"196.25.0.0/16", LDNS_RR_TYPE_A, "198.51.100.1", 6},    // Africa -> default (iad)
      {"2a01:4f8::/32", LDNS_RR_TYPE_AAAA, "2001:db8:f::10", 32},
      {"2001:4860::/32", LDNS_RR_TYPE_AAAA, "2001:db8:a::10", 18},
  };
  for (const auto& c : cases) {
    QueryOptions q;
    q.edns_payload = 1232;
    q.edns_options = ecs_option(c.subnet);
    auto r = udp_query(server_->port, make_query("www.example.com", c.type, q));
    ASSERT_TRUE(r) << c.subnet;
    auto p = decode(*r);
    ASSERT_TRUE(p) << c.subnet;
    const auto ans = section_strings(p.get(), LDNS_SECTION_ANSWER);
    EXPECT_TRUE(has_line(ans, c.expected)) << c.subnet << "\n" << joined(ans);
    const std::string prefix(c.subnet);
    const int source = std::stoi(prefix.substr(prefix.find('/') + 1));
    const size_t addr_len = static_cast<size_t>((source + 7) / 8);
    EXPECT_EQ((*r)[r->size() - addr_len - 1], c.scope) << c.subnet;
  }
}

TEST_F(ServeTest, ClientWithoutEcsIsLocatedBySourceAddress) {
  // 127.0.0.1 is in no database network: the map's default list (iad) answers.
  auto p = server_->udp("www.example.com", LDNS_RR_TYPE_A);
  ASSERT_TRUE(p);
  EXPECT_TRUE(has_line(section_strings(p.get(), LDNS_SECTION_ANSWER), "198.51.100.1"));
}

TEST_F(ServeTest, Ipv6ListenerAnswers) {
  if (!server_->v6) GTEST_SKIP() << "no ::1 on this machine";
  auto r = udp_query(server_->port, make_query("ns1.example.com", LDNS_RR_TYPE_A), 2s, true);
  ASSERT_TRUE(r);
  auto p = decode(*r);
  EXPECT_EQ(ldns_pkt_ancount(p.get()), 1);
  auto t = tcp_query(server_->port, make_query("ns1.example.com", LDNS_RR_TYPE_AAAA), 2s, true);
  ASSERT_TRUE(t);
  EXPECT_EQ(ldns_pkt_ancount(decode(*t).get()), 1);
}

TEST_F(ServeTest, TcpPipelining) {
  std::vector<Bytes> qs;
  const char* names[] = {"ns1.example.com", "nope.example.com", "www2.example.com",
                         "mail.example.com", "sip.example.com"};
  for (uint16_t i = 0; i < 5; ++i) {
    QueryOptions o;
    o.id = static_cast<uint16_t>(100 + i);
    qs.push_back(make_query(names[i], LDNS_RR_TYPE_A, o));
  }
  const auto replies = tcp_query_many(server_->port, qs);
  ASSERT_EQ(replies.size(), 5u);
  for (uint16_t i = 0; i < 5; ++i) {
    auto p = decode(replies[i]);
    ASSERT_TRUE(p);
    EXPECT_EQ(ldns_pkt_id(p.get()), 100 + i);
    EXPECT_EQ(question_name(p.get()), std::string(names[i]) + ".");
  }
}

TEST_F(ServeTest, MalformedPacketsGetFormerrOrDropAndServiceContinues) {
  const std::vector<Bytes> bad = {
      {0x12},                                                  // shorter than a header
      {0x12, 0x34, 0x01, 0x00, 0x00, 0x02, 0, 0, 0, 0, 0, 0},  // QDCOUNT 2, no question
      {0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1},  // loop
      {0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 5, 'a', 'b'},           // cut
  };
  for (const auto& m : bad) {
    auto r = udp_query(server_->port, m, 300ms);
    if (r) {
      ASSERT_GE(r->size(), 12u);
      EXPECT_EQ((*r)[3] & 0xF, LDNS_RCODE_FORMERR);
      EXPECT_TRUE(((*r)[2] & 0x80) != 0);
    }
    auto ok = server_->udp("ns1.example.com", LDNS_RR_TYPE_A);
    ASSERT_TRUE(ok);
    EXPECT_EQ(ldns_pkt_ancount(ok.get()), 1);
  }
  QueryOptions q;
  q.edns_options = {0, 8, 0, 8, 0, 1, 24, 0, 81, 2, 69, 7};  // address longer than /24
  auto ecs = server_->udp("www.example.com", LDNS_RR_TYPE_A, q);
  ASSERT_TRUE(ecs);
  EXPECT_EQ(ldns_pkt_get_rcode(ecs.get()), LDNS_RCODE_FORMERR);
}

TEST_F(ServeTest, ChaosIdentity) {
  QueryOptions q;
  q.qclass = LDNS_RR_CLASS_CH;
  auto p = server_->udp("version.bind", LDNS_RR_TYPE_TXT, q);
  ASSERT_TRUE(p);
  EXPECT_TRUE(has_line(section_strings(p.get(), LDNS_SECTION_ANSWER), "geodns"));
}

std::string run_command(const std::string& cmd, int* status) {
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  *status = pclose(f);
  return out;
}

TEST(ServeCli, CheckReportsFileLineColumnAndServeRefusesBrokenConfig) {
  TempDir dir;
  dir.write("bad.example.toml",
            "[zone]\nname = \"bad.example.\"\n[zone.soa]\nmname = \"ns1.bad.example.\"\n"
            "rname = \"h.bad.example.\"\n[records]\n\"@\" = \"NS ns1.bad.example.\"\n"
            "[steer.www]\npolicy = \"geo\"\nmap.default = [\"fra2\"]\n");
  int status = 0;
  const std::string out =
      run_command(std::string(GEODNS_BINARY) + " check --zones " + dir.path() + " 2>&1", &status);
  EXPECT_NE(WEXITSTATUS(status), 0);
  EXPECT_NE(out.find("bad.example.toml:10:"), std::string::npos) << out;
  EXPECT_NE(out.find("fra2"), std::string::npos) << out;
  ServerProcess p(GEODNS_BINARY, {"serve", "--zones", dir.path(), "--listen",
                                  "127.0.0.1:" + std::to_string(free_port())});
  ASSERT_TRUE(p.wait_exit(5s));
  EXPECT_EQ(p.exit_code(), 1);
  EXPECT_NE(p.stderr_text().find("fra2"), std::string::npos);
}

TEST(ServeCli, ExplainShowsLocationRuleAndAnswer) {
  int status = 0;
  const std::string out = run_command(
      std::string(GEODNS_BINARY) + " explain www.example.com --client 81.2.69.160" + " --zones " +
          source_path("zones") + " --geoip " + source_path("geoip/demo.mmdb") + " 2>&1",
      &status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  EXPECT_NE(out.find("GB"), std::string::npos) << out;
  EXPECT_NE(out.find("map.EU"), std::string::npos) << out;
  EXPECT_NE(out.find("fra"), std::string::npos) << out;
  EXPECT_NE(out.find("192.0.2.1"), std::string::npos) << out;
  EXPECT_NE(out.find("/24"), std::string::npos) << out;
}

bool wait_for_answer(Server& s, const std::string& name, const std::string& needle,
                     std::chrono::milliseconds max) {
  const auto deadline = std::chrono::steady_clock::now() + max;
  while (std::chrono::steady_clock::now() < deadline) {
    auto p = s.udp(name, LDNS_RR_TYPE_A);
    if (p && has_line(section_strings(p.get(), LDNS_SECTION_ANSWER), needle)) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

TEST(ServeReload, EditIsPickedUpAndABrokenEditKeepsServing) {
  TempDir zones;
  copy_demo_zones(zones);
  ServeOptions o;
  o.zones_dir = zones.path();
  o.threads = 1;
  o.v6 = false;
  Server s(o);
  ASSERT_TRUE(s.ready) << s.process->stderr_text();
  const std::string file = zones.file("example.com.toml");
  const std::string original = read_text(file);
  auto serial_of = [&]() {
    auto p = s.udp("example.com", LDNS_RR_TYPE_SOA);
    return ldns_rdf2native_int32(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(p.get()), 0), 2));
  };
  const uint32_t serial1 = serial_of();
  // A good edit is picked up by the file watcher.
  std::string edited = original;
  edited.replace(edited.find("A 198.51.100.53"), 15, "A 198.51.100.99");
  zones.write("example.com.toml", edited);
  EXPECT_TRUE(wait_for_answer(s, "ns1.example.com", "198.51.100.99", 5s))
      << s.process->stderr_text();
  EXPECT_GT(serial_of(), serial1);
  // A broken edit keeps the old zone serving and is reported with file:line:column.
  zones.write("example.com.toml", edited + "\n[records.oops]\nbogus = 1\n");
  std::this_thread::sleep_for(1500ms);
  EXPECT_TRUE(wait_for_answer(s, "ns1.example.com", "198.51.100.99", 1s));
  EXPECT_NE(s.process->stderr_text().find("example.com.toml:"), std::string::npos);
  // Fixing it again (and SIGHUP as the other trigger) loads it.
  zones.write("example.com.toml", original);
  kill(s.process->pid(), SIGHUP);
  EXPECT_TRUE(wait_for_answer(s, "ns1.example.com", "198.51.100.53", 5s));
  EXPECT_EQ(s.process->stop(), 0);
}

// The COOKIE option of a response, as ldns decodes the OPT record (empty without one).
Bytes cookie_of(const Bytes& wire) {
  Packet p = decode(wire);
  return geodns::testing::edns_option(p.get(), 10);  // COOKIE, RFC 7873
}

TEST_F(ServeTest, CookiesAreIssuedAndKept) {
  QueryOptions o;
  o.edns_payload = 1232;
  o.edns_options = {0, 10, 0, 8, 0x24, 0x64, 0xc4, 0xab, 0xcf, 0x10, 0xc9, 0x57};
  auto first = udp_query(server_->port, make_query("ns1.example.com.", LDNS_RR_TYPE_A, o));
  ASSERT_TRUE(first);
  const Bytes cookie = cookie_of(*first);
  ASSERT_EQ(cookie.size(), 24u);  // our client cookie back, and a 16-byte server cookie
  EXPECT_TRUE(std::equal(o.edns_options.begin() + 4, o.edns_options.end(), cookie.begin()));
  EXPECT_EQ(cookie[8], 1);  // RFC 9018 version
  // Sent back, the fresh cookie is kept, over UDP and TCP alike.
  o.edns_options = {0, 10, 0, 24};
  o.edns_options.insert(o.edns_options.end(), cookie.begin(), cookie.end());
  for (bool tcp : {false, true}) {
    const Bytes q = make_query("ns1.example.com.", LDNS_RR_TYPE_A, o);
    auto again = tcp ? tcp_query(server_->port, q) : udp_query(server_->port, q);
    ASSERT_TRUE(again);
    EXPECT_EQ(cookie_of(*again), cookie) << (tcp ? "tcp" : "udp");
    Packet p = decode(*again);
    ASSERT_TRUE(p);
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
    EXPECT_EQ(ldns_pkt_ancount(p.get()), 1);
  }
  // A malformed cookie (7 bytes) is FORMERR.
  o.edns_options = {0, 10, 0, 7, 1, 2, 3, 4, 5, 6, 7};
  auto bad = udp_query(server_->port, make_query("ns1.example.com.", LDNS_RR_TYPE_A, o));
  ASSERT_TRUE(bad);
  Packet p = decode(*bad);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_FORMERR);
}

TEST_F(ServeTest, SecondServerOnTheSamePortIsRefused) {
  // Our sockets use SO_REUSEPORT, which alone would let a second server share the port and
  // take some of the queries: it must refuse to start, and the first keeps answering.
  TempDir state;
  ServerProcess second(GEODNS_BINARY, {"serve", "--zones", source_path("zones"), "--listen",
                                       "127.0.0.1:" + std::to_string(server_->port), "--control",
                                       "", "--state-dir", state.path(), "--threads", "1"});
  ASSERT_TRUE(second.wait_exit(10s)) << "the second server kept running";
  EXPECT_EQ(second.exit_code(), std::optional<int>(1));
  EXPECT_NE(second.stderr_text().find("Address already in use"), std::string::npos)
      << second.stderr_text();
  for (int i = 0; i < 20; ++i) {
    auto p = server_->udp("ns1.example.com", LDNS_RR_TYPE_A);
    ASSERT_TRUE(p) << "query " << i;
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  }
}

}  // namespace
}  // namespace geodns::test

namespace geodns::test {
namespace {

TEST(ServeReload, GeoipDatabaseSwapChangesAnswers) {
  TempDir geo;
  std::filesystem::copy_file(source_path("geoip/demo.mmdb"), geo.file("db.mmdb"));
  ServeOptions o;
  o.geoip = geo.file("db.mmdb");
  o.threads = 1;
  o.v6 = false;
  Server s(o);
  ASSERT_TRUE(s.ready) << s.process->stderr_text();
  auto ask = [&]() {
    QueryOptions q;
    q.edns_payload = 1232;
    q.edns_options = ecs_option("200.160.0.0/20");
    auto r = udp_query(s.port, make_query("www.example.com", LDNS_RR_TYPE_A, q));
    return r ? joined(section_strings(decode(*r).get(), LDNS_SECTION_ANSWER)) : std::string();
  };
  // The demo database places 200.160.0.0/20 in Brazil: gru answers.
  EXPECT_NE(ask().find("203.0.113.20"), std::string::npos);
  // A database without that network, renamed over the old one: the map's default (iad).
  std::filesystem::copy_file(source_path("tests/data/geo/flat.mmdb"), geo.file("new.mmdb"));
  std::filesystem::rename(geo.file("new.mmdb"), geo.file("db.mmdb"));
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  std::string answer;
  while (std::chrono::steady_clock::now() < deadline) {
    answer = ask();
    if (answer.find("198.51.100.1") != std::string::npos) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_NE(answer.find("198.51.100.1"), std::string::npos) << s.process->stderr_text();
  EXPECT_EQ(s.process->stop(), 0);
}

}  // namespace
}  // namespace geodns::test
