// [fleet] in geodns.toml: every key, defaults, errors with positions; absent = off.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "fleet/fleet.h"
#include "zone/config.h"

namespace geodns::fleet {
namespace {

TEST(FleetConfig, AbsentMeansOff) {
  auto c = zone::load_server_config_text("[server]\nthreads = 1\n", "geodns.toml", "/etc/geodns");
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_FALSE(c->fleet.enabled);
}

TEST(FleetConfig, EveryKey) {
  auto c = zone::load_server_config_text(R"(
[fleet]
endpoints = ["http://10.0.0.1:2379/", "https://10.0.0.2:2379"]
name = "prod"
server = "ns1"
tls_ca = "ca.pem"
tls_cert = "/abs/cert.pem"
tls_key = "key.pem"
user = "geodns"
password_file = "etcd.pass"
lease_ttl = "15s"
quorum = 2
probers_per_target = 1
probe_source = "192.0.2.53"
)",
                                         "geodns.toml", "/etc/geodns");
  ASSERT_TRUE(c) << c.error().to_string();
  const auto& f = c->fleet;
  EXPECT_TRUE(f.enabled);
  EXPECT_EQ(f.endpoints,
            (std::vector<std::string>{"http://10.0.0.1:2379", "https://10.0.0.2:2379"}));
  EXPECT_EQ(f.name, "prod");
  EXPECT_EQ(f.server, "ns1");
  EXPECT_EQ(f.tls_ca, "/etc/geodns/ca.pem");
  EXPECT_EQ(f.tls_cert, "/abs/cert.pem");
  EXPECT_EQ(f.tls_key, "/etc/geodns/key.pem");
  EXPECT_EQ(f.user, "geodns");
  EXPECT_EQ(f.password_file, "/etc/geodns/etcd.pass");
  EXPECT_EQ(f.lease_ttl, std::chrono::seconds(15));
  EXPECT_FALSE(f.quorum_majority);
  EXPECT_EQ(f.quorum_count, 2u);
  EXPECT_EQ(f.probers_per_target, 1u);
  EXPECT_EQ(f.probe_source, "192.0.2.53");
}

TEST(FleetConfig, Defaults) {
  auto c = zone::load_server_config_text("[fleet]\n", "geodns.toml", "/etc/geodns");
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_TRUE(c->fleet.enabled);
  EXPECT_EQ(c->fleet.endpoints, std::vector<std::string>{"http://127.0.0.1:2379"});
  EXPECT_EQ(c->fleet.name, "default");
  EXPECT_TRUE(c->fleet.quorum_majority);
  EXPECT_EQ(c->fleet.lease_ttl, std::chrono::seconds(10));
  EXPECT_EQ(c->fleet.probers_per_target, 0u);
}

TEST(FleetConfig, ErrorsCarryPositions) {
  struct Case {
    const char* text;
    const char* expected;
  };
  for (const Case& c : {
           Case{"[fleet]\nendpoints = []\n", "geodns.toml:2:13: endpoints must be a non-empty"},
           Case{"[fleet]\nendpoints = [\"10.0.0.1:2379\"]\n", "geodns.toml:2:14: endpoint"},
           Case{"[fleet]\nname = \"a b\"\n", "geodns.toml:2:8: name must be"},
           Case{"[fleet]\nserver = \"x/y\"\n", "geodns.toml:2:10: server must be"},
           Case{"[fleet]\nquorum = \"most\"\n", "geodns.toml:2:10: quorum must be"},
           Case{"[fleet]\nquorum = 0\n", "geodns.toml:2:10: quorum must be"},
           Case{"[fleet]\nlease_ttl = \"1s\"\n", "geodns.toml:2:13: lease_ttl must be"},
           Case{"[fleet]\nprobe_source = \"nope\"\n", "geodns.toml:2:16: probe_source"},
           Case{"[fleet]\npassword_file = \"p\"\n", "geodns.toml:2:17: password_file needs user"},
           Case{"[fleet]\ncolour = 1\n", "geodns.toml:2:1: unknown key \"colour\""},
       }) {
    auto r = zone::load_server_config_text(c.text, "geodns.toml", "/etc/geodns");
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().to_string().rfind(c.expected, 0), 0u)
        << c.text << " -> " << r.error().to_string();
  }
}

TEST(FleetConfig, OptionsReadThePasswordFileAndCheckNames) {
  const std::string path = ::testing::TempDir() + "/fleet_pass";
  { std::ofstream(path) << "s3cret\n"; }
  zone::FleetSettings s;
  s.enabled = true;
  s.endpoints = {"http://127.0.0.1:2379"};
  s.server = "ns1";
  s.user = "geodns";
  s.password_file = path;
  auto o = fleet_options(s);
  ASSERT_TRUE(o) << o.error().to_string();
  EXPECT_EQ(o->etcd.password, "s3cret");
  EXPECT_EQ(o->server, "ns1");
  // Calls end well inside a lease period.
  EXPECT_LE(o->etcd.request_timeout, std::chrono::milliseconds(2000));
  s.password_file = path + ".missing";
  EXPECT_FALSE(fleet_options(s));
  std::remove(path.c_str());
}

}  // namespace
}  // namespace geodns::fleet
