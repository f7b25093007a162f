// `geodns explain` on a steered CNAME chain shows every steered link, not only the last.
#include "ops/explain.h"

#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>

#include "server/pipeline.h"
#include "server/steer_compiler.h"
#include "zone/loader.h"

namespace geodns::ops {
namespace {

constexpr const char* kZone = R"(
[zone]
name = "chain.test."
[zone.soa]
mname = "ns1.chain.test."
rname = "hostmaster.chain.test."
[records]
"@" = "NS ns1.chain.test."
ns1 = "A 192.0.2.53"
[checks.edge]
type = "tcp"
port = 80
probe_address = "192.0.2.82"
[datacenters.fra]
addresses = ["192.0.2.10"]
[datacenters.iad]
addresses = ["198.51.100.10"]
[datacenters.sin]
addresses = ["203.0.113.10"]
[datacenters.to_edge]
target = "edge.chain.test."
check = "edge"
[steer.cdn]
policy = "geo"
map.EU = ["fra"]
map.default = ["to_edge"]
[steer.edge]
policy = "failover"
datacenters = ["iad", "sin"]
)";

TEST(Explain, ShowsEveryLinkOfASteeredCnameChain) {
  auto z = zone::load_zone_text(kZone, "chain.test.toml", zone::ServerConfig{}, nullptr);
  ASSERT_TRUE(z.ok()) << z.error().to_string();
  auto set = std::make_shared<zone::ZoneSet>();
  set->zones.push_back(z.value());
  set->reindex();
  server::Snapshots snapshots;
  snapshots.zones.publish(set);
  auto db = geo::Database::open(std::string(GEODNS_SOURCE_DIR) + "/geoip/demo.mmdb");
  ASSERT_TRUE(db.ok());
  snapshots.geoip.publish(db.value());
  Published<steer::HealthView> health;
  health.publish(std::make_shared<steer::HealthView>());
  snapshots.health = &health;
  auto compiled = server::compile_steering(snapshots.zones.load(), db.value(), nullptr);
  ASSERT_TRUE(compiled.ok());
  snapshots.steering.publish(compiled.value());

  ExplainRequest r;
  r.name = "cdn.chain.test";
  r.client = "8.8.8.0/24";  // North America in the demo database: map.default -> to_edge
  r.type = "A";
  std::ostringstream out;
  ASSERT_TRUE(explain_live(snapshots, r, out));
  const std::string text = out.str();
  const size_t first = text.find("link 1 of 2: cdn.chain.test.");
  const size_t cname = text.find("cname:      edge.chain.test. (datacenter to_edge)");
  const size_t second = text.find("link 2 of 2: edge.chain.test.");
  ASSERT_NE(first, std::string::npos) << text;
  ASSERT_NE(cname, std::string::npos) << text;
  ASSERT_NE(second, std::string::npos) << text;
  EXPECT_LT(first, cname);
  EXPECT_LT(cname, second);
  // Each link's own decision: the geo rule's map key, then the failover rule's candidates.
  EXPECT_NE(text.find("matched:    map.default"), std::string::npos) << text;
  EXPECT_NE(text.find("rule:       edge.chain.test. policy failover"), std::string::npos) << text;
  EXPECT_NE(text.find("iad answers"), std::string::npos) << text;
  EXPECT_NE(text.find("198.51.100.10"), std::string::npos) << text;

  // A name that is not a chain keeps the single-link layout.
  r.name = "edge.chain.test";
  std::ostringstream single;
  ASSERT_TRUE(explain_live(snapshots, r, single));
  EXPECT_EQ(single.str().find("link "), std::string::npos) << single.str();
  EXPECT_NE(single.str().find("rule:       edge.chain.test."), std::string::npos);
}

}  // namespace
}  // namespace geodns::ops
