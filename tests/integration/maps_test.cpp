// Named maps and nets files through the real binary: two names share one [maps.NAME] whose nets
// come from a file in a subdirectory; an edit of that file alone is picked up by the watcher.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "serve_fixture.h"

namespace geodns::test {
namespace {

constexpr const char* kZone = R"([zone]
name = "example.com."
[zone.soa]
mname = "ns1.example.com."
rname = "hostmaster.example.com."
[records]
"@" = "NS ns1"
ns1 = "A 192.0.2.53"
[datacenters.fra]
addresses = ["192.0.2.10"]
[datacenters.iad]
addresses = ["198.51.100.10"]
[maps.office]
map.default = ["iad"]
nets_file = "nets/office.txt"
[steer.www]
policy = "geo"
map = "office"
[steer.api]
policy = "geo"
map = "office"
)";

// The A record answered to a client in `subnet` (ECS), or "" when none.
std::string answer_for(Server& s, const std::string& name, const std::string& subnet) {
  QueryOptions q;
  q.edns_payload = 1232;
  q.edns_options = ecs_option(subnet);
  auto r = udp_query(s.port, make_query(name, LDNS_RR_TYPE_A, q));
  if (!r) return "";
  auto p = decode(*r);
  if (!p) return "";
  return joined(section_strings(p.get(), LDNS_SECTION_ANSWER));
}

bool wait_for(Server& s, const std::string& name, const std::string& subnet,
              const std::string& needle, std::chrono::milliseconds max) {
  const auto deadline = std::chrono::steady_clock::now() + max;
  while (std::chrono::steady_clock::now() < deadline) {
    if (answer_for(s, name, subnet).find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

TEST(Maps, NamesShareAMapAndANetsFileEditIsPickedUp) {
  using namespace std::chrono_literals;
  TempDir zones;
  std::filesystem::create_directories(zones.file("nets"));
  zones.write("nets/office.txt", "# offices\n10.1.0.0/16 fra\n");
  zones.write("example.com.toml", kZone);
  ServeOptions o;
  o.zones_dir = zones.path();
  o.threads = 1;
  o.v6 = false;
  Server s(o);
  ASSERT_TRUE(s.ready) << s.process->stderr_text();

  EXPECT_NE(answer_for(s, "www.example.com", "10.1.2.0/24").find("192.0.2.10"), std::string::npos);
  EXPECT_NE(answer_for(s, "api.example.com", "10.1.2.0/24").find("192.0.2.10"), std::string::npos);
  EXPECT_NE(answer_for(s, "www.example.com", "10.9.2.0/24").find("198.51.100.10"),
            std::string::npos);

  // Only the nets file changes: both names follow.
  zones.write("nets/office.txt", "10.1.0.0/16 iad\n10.9.0.0/16 fra\n");
  EXPECT_TRUE(wait_for(s, "www.example.com", "10.9.2.0/24", "192.0.2.10", 5s))
      << s.process->stderr_text();
  EXPECT_NE(answer_for(s, "api.example.com", "10.1.2.0/24").find("198.51.100.10"),
            std::string::npos);

  // A broken nets file keeps the zone serving and is reported at its own file:line:column.
  zones.write("nets/office.txt", "10.1.0.0/16 iad\n10.9.0.0/16 nowhere\n");
  const std::string needle = "office.txt:2:13";
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (s.process->stderr_text().find(needle) == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_NE(s.process->stderr_text().find(needle), std::string::npos) << s.process->stderr_text();
  EXPECT_NE(answer_for(s, "www.example.com", "10.9.2.0/24").find("192.0.2.10"), std::string::npos);
  EXPECT_EQ(s.process->stop(), 0);
}

}  // namespace
}  // namespace geodns::test

namespace geodns::test {
namespace {

// ASN keys through the binary: geoip/demo.mmdb places 8.8.8.0/24 in North America,
// geoip/demo-asn.mmdb gives it AS15169; map.AS15169 wins over map.NA.
TEST(Maps, AsnKeysBeatTheLocation) {
  TempDir zones;
  zones.write("example.com.toml", R"([zone]
name = "example.com."
[zone.soa]
mname = "ns1.example.com."
rname = "hostmaster.example.com."
[records]
"@" = "NS ns1"
ns1 = "A 192.0.2.53"
[datacenters.fra]
addresses = ["192.0.2.10"]
[datacenters.iad]
addresses = ["198.51.100.10"]
[steer.www]
policy = "geo"
map.AS15169 = ["fra"]
map.NA = ["iad"]
map.default = ["iad"]
)");
  ServeOptions o;
  o.zones_dir = zones.path();
  o.threads = 1;
  o.v6 = false;
  o.extra_config = "asn_db = \"" + source_path("geoip/demo-asn.mmdb") + "\"\n";
  Server s(o);
  ASSERT_TRUE(s.ready) << s.process->stderr_text();
  EXPECT_NE(answer_for(s, "www.example.com", "8.8.8.0/24").find("192.0.2.10"), std::string::npos);
  EXPECT_NE(answer_for(s, "www.example.com", "24.48.0.0/16").find("198.51.100.10"),
            std::string::npos);
  // Scope: the ASN network (/24) holds the decision.
  QueryOptions q;
  q.edns_payload = 1232;
  q.edns_options = ecs_option("8.8.8.0/24");
  auto r = udp_query(s.port, make_query("www.example.com", LDNS_RR_TYPE_A, q));
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)[r->size() - 3 - 1], 24);
  EXPECT_EQ(s.process->stop(), 0);
}

}  // namespace
}  // namespace geodns::test
