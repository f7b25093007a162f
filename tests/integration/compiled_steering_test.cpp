// Compiled steering through the real binary: the ECS scope is the merged network the compiled
// table found (not the database network), and swapping the GeoIP file under a running server
// recompiles and changes the answers.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "serve_fixture.h"

namespace geodns::test {
namespace {

using namespace std::chrono_literals;

struct Answer {
  std::vector<std::string> records;
  int scope = -1;
};

Answer ask(Server& s, const char* subnet, ldns_rr_type type = LDNS_RR_TYPE_A,
           const char* name = "www.example.com") {
  QueryOptions q;
  q.edns_payload = 1232;
  q.edns_options = ecs_option(subnet);
  Answer a;
  auto r = udp_query(s.port, make_query(name, type, q));
  if (!r) return a;
  auto p = decode(*r);
  if (!p) return a;
  a.records = section_strings(p.get(), LDNS_SECTION_ANSWER);
  // The ECS option ends the message: ... scope, then the address bytes of the source prefix.
  const std::string prefix(subnet);
  const int source = std::stoi(prefix.substr(prefix.find('/') + 1));
  const size_t addr_len = static_cast<size_t>((source + 7) / 8);
  a.scope = (*r)[r->size() - addr_len - 1];
  return a;
}

TEST(CompiledSteering, ScopeIsTheMergedNetwork) {
  Server s;
  ASSERT_TRUE(s.ready) << s.process->stderr_text();
  // demo.mmdb: 8.8.8.0/24 is US (map.NA = iad, fra), the same list as map.default that the
  // empty space around it gets, so the answer holds for all of 8.0.0.0/6.
  Answer a = ask(s, "8.8.8.0/24");
  EXPECT_TRUE(has_line(a.records, "198.51.100.1")) << joined(a.records);
  EXPECT_EQ(a.scope, 6);
  // 81.2.69.0/24 (GB, map.EU = fra, iad) is alone in its list: its own network.
  a = ask(s, "81.2.69.0/24");
  EXPECT_TRUE(has_line(a.records, "192.0.2.1")) << joined(a.records);
  EXPECT_EQ(a.scope, 24);
  // The nets entry 203.0.113.0/24 (sin) is its own network too.
  a = ask(s, "203.0.113.0/24");
  EXPECT_TRUE(has_line(a.records, "203.0.113.10")) << joined(a.records);
  EXPECT_EQ(a.scope, 24);
  // A /16 source whose first address lies in a /18 region (81.2.69.0/24 answers otherwise):
  // the scope is longer than the source prefix (RFC 7871 7.2.1), so a resolver does not
  // reuse the answer for the rest of the /16.
  a = ask(s, "81.2.0.0/16");
  EXPECT_EQ(a.scope, 18) << joined(a.records);
  // IPv6: 2001:4860::/32 (US) merges with the empty space around it.
  a = ask(s, "2001:4860::/32", LDNS_RR_TYPE_AAAA);
  EXPECT_TRUE(has_line(a.records, "2001:db8:a::10")) << joined(a.records);
  EXPECT_EQ(a.scope, 18);
  EXPECT_NE(s.process->stderr_text().find("steering_compiled"), std::string::npos);
}

TEST(CompiledSteering, GeoipSwapUnderARunningServerChangesAnswers) {
  TempDir geo;
  std::filesystem::copy_file(source_path("geoip/demo.mmdb"), geo.file("geo.mmdb"));
  ServeOptions o;
  o.geoip = geo.file("geo.mmdb");
  Server s(o);
  ASSERT_TRUE(s.ready) << s.process->stderr_text();
  // demo.mmdb: 200.160.0.0/20 is BR, map.SA = gru.
  Answer a = ask(s, "200.160.0.0/20");
  ASSERT_TRUE(has_line(a.records, "203.0.113.20")) << joined(a.records);
  EXPECT_EQ(a.scope, 20);
  // flat.mmdb has no record there: map.default (iad), merged with the empty space around it.
  std::filesystem::copy_file(source_path("tests/data/geo/flat.mmdb"), geo.file("next.mmdb"));
  std::filesystem::rename(geo.file("next.mmdb"), geo.file("geo.mmdb"));
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < deadline) {
    a = ask(s, "200.160.0.0/20");
    if (has_line(a.records, "198.51.100.1")) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(has_line(a.records, "198.51.100.1")) << joined(a.records) << s.process->stderr_text();
  EXPECT_LT(a.scope, 20);  // no longer a /20 database network: a wider default region
  // 1.1.1.0/24 is AU (OC -> sin) in both databases.
  a = ask(s, "1.1.1.0/24");
  EXPECT_TRUE(has_line(a.records, "203.0.113.10")) << joined(a.records);
}

}  // namespace
}  // namespace geodns::test
