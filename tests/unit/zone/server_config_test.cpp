// The server config file: defaults, every key, path resolution and its errors.
#include <gtest/gtest.h>

#include <string>

#include "zone/config.h"

namespace geodns::zone {
namespace {

TEST(ServerConfig, DefaultsAreUsable) {
  const ServerConfig c;
  EXPECT_EQ(c.listen.addresses, std::vector<std::string>{"127.0.0.1:5353"});
  EXPECT_EQ(c.listen.threads, 0u);
  EXPECT_EQ(c.zones_dir, "zones");
  EXPECT_EQ(c.pipeline.max_udp_payload, 1232u);
  EXPECT_TRUE(c.pipeline.chaos_enabled);
  EXPECT_EQ(c.listen.tcp_idle_timeout, std::chrono::milliseconds(10000));
  EXPECT_EQ(c.control.listen, "127.0.0.1:8053");
  EXPECT_EQ(c.logging.level, "info");
  EXPECT_FALSE(c.logging.query_log);
  EXPECT_TRUE(c.pipeline.cookies.enabled);
  EXPECT_FALSE(c.pipeline.cookies.secret);
  EXPECT_EQ(c.find_datacenter("fra"), nullptr);
}

TEST(ServerConfig, EmptyFileGivesDefaults) {
  auto c = load_server_config_text("", "geodns.toml", "/etc/geodns");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->source_file, "geodns.toml");
  EXPECT_EQ(c->zones_dir, "/etc/geodns/zones");
  EXPECT_EQ(c->geoip_path, "");
  EXPECT_EQ(c->listen.addresses.size(), 1u);
}

TEST(ServerConfig, EveryKey) {
  auto c = load_server_config_text(R"(
[server]
listen = ["192.0.2.1:53", "[2001:db8::1]:53", "127.0.0.1:0"]
threads = 4
zones = "/srv/zones"
geoip = "geo/db.mmdb"
state_dir = "state"
max_udp_payload = 4096
log_level = "debug"
query_log = true
[server.cookies]
enabled = false
secret = "e5e973e5a6b2a43f48e7dc849e37bfcf"
previous_secret = "445536BCD2513298075A5D379663C962"
[server.chaos]
enabled = false
id = "ns7"
version = "x 1"
[server.tcp]
idle_timeout = "30s"
stall_timeout = "500ms"
max_connections = 10
max_connections_per_client = 3
busy_idle_timeout = "1500ms"
threads = 3
[control]
listen = ""
token = "secret"
[checks.web]
type = "https"
verify_tls = false
host = "www.example.com"
body = "ok"
interval = "5s"
[datacenters.fra]
addresses = ["192.0.2.10", "2001:db8::10"]
check = "web"
)",
                                   "/etc/geodns/geodns.toml", "/etc/geodns");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->listen.addresses,
            (std::vector<std::string>{"192.0.2.1:53", "[2001:db8::1]:53", "127.0.0.1:0"}));
  EXPECT_EQ(c->listen.threads, 4u);
  EXPECT_EQ(c->zones_dir, "/srv/zones");
  EXPECT_EQ(c->geoip_path, "/etc/geodns/geo/db.mmdb");
  EXPECT_EQ(c->prober.state_dir, "/etc/geodns/state");
  EXPECT_EQ(c->pipeline.max_udp_payload, 4096u);
  EXPECT_EQ(c->logging.level, "debug");
  EXPECT_TRUE(c->logging.query_log);
  EXPECT_FALSE(c->pipeline.cookies.enabled);
  ASSERT_TRUE(c->pipeline.cookies.secret);
  EXPECT_EQ((*c->pipeline.cookies.secret)[0], 0xe5);
  EXPECT_EQ((*c->pipeline.cookies.secret)[15], 0xcf);
  ASSERT_TRUE(c->pipeline.cookies.previous_secret);
  EXPECT_EQ((*c->pipeline.cookies.previous_secret)[1], 0x55);
  EXPECT_EQ(c->pipeline.chaos_id, "ns7");
  EXPECT_EQ(c->pipeline.chaos_version, "x 1");
  EXPECT_EQ(c->listen.tcp_idle_timeout, std::chrono::milliseconds(30000));
  EXPECT_EQ(c->listen.tcp_stall_timeout, std::chrono::milliseconds(500));
  EXPECT_EQ(c->listen.tcp_max_connections, 10u);
  EXPECT_EQ(c->listen.tcp_max_per_client, 3u);
  EXPECT_EQ(c->listen.tcp_busy_idle_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(c->listen.tcp_threads, 3u);
  EXPECT_EQ(c->control.listen, "");
  EXPECT_EQ(c->control.token, "secret");
  const CheckDef* web = c->find_check("web");
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(web->spec.type, steer::CheckType::https);
  EXPECT_FALSE(web->spec.verify_tls);
  EXPECT_EQ(web->spec.host, "www.example.com");
  EXPECT_EQ(web->spec.body_match, "ok");
  EXPECT_EQ(web->spec.interval, std::chrono::milliseconds(5000));
  // The default: min(500ms, interval / 2).
  EXPECT_EQ(web->spec.timeout, std::chrono::milliseconds(500));
  const DatacenterDef* fra = c->find_datacenter("fra");
  ASSERT_NE(fra, nullptr);
  EXPECT_EQ(fra->addresses.size(), 2u);
  EXPECT_EQ(fra->check, "web");
  EXPECT_EQ(fra->check_pos.line, 37u);
}

TEST(ServerConfig, ChecksOfEveryType) {
  auto c = load_server_config_text(R"(
[checks.t]
type = "tcp"
port = 25
send = "PING\r\n"
expect_text = "PONG"
probe_address = "127.0.0.2"
probe_port = 8080
fall = 5
rise = 1
[checks.d]
type = "dns"
query = "example.com"
query_type = "A"
expect_rcode = "NXDOMAIN"
interval = "500ms"
[checks.h]
type = "http"
expect = "3xx"
[checks.n]
type = "none"
)",
                                   "g.toml", "");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  const auto& t = c->find_check("t")->spec;
  EXPECT_EQ(t.type, steer::CheckType::tcp);
  EXPECT_EQ(t.send, "PING\r\n");
  EXPECT_EQ(t.expect, "PONG");
  ASSERT_TRUE(t.probe_address.has_value());
  EXPECT_EQ(t.probe_address->to_string(), "127.0.0.2");
  EXPECT_EQ(t.probe_port, uint16_t{8080});
  EXPECT_EQ(t.fall, 5u);
  EXPECT_EQ(t.rise, 1u);
  const auto& d = c->find_check("d")->spec;
  EXPECT_EQ(d.query_name, "example.com.");
  EXPECT_EQ(d.query_type, 1);
  EXPECT_EQ(d.expect_rcode, 3);
  EXPECT_EQ(d.interval, std::chrono::milliseconds(500));
  EXPECT_EQ(d.timeout, std::chrono::milliseconds(250));  // default: min(500ms, interval / 2)
  const auto& h = c->find_check("h")->spec;
  EXPECT_EQ(h.expect_min, 300);
  EXPECT_EQ(h.expect_max, 399);
  EXPECT_EQ(c->find_check("n")->spec.type, steer::CheckType::none);
}

TEST(ServerConfig, ShippedConfigLoads) {
  auto c = load_server_config(GEODNS_SOURCE_DIR "/geodns.toml");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->listen.addresses, (std::vector<std::string>{"127.0.0.1:5353", "[::1]:5353"}));
  EXPECT_EQ(c->zones_dir, GEODNS_SOURCE_DIR "/zones");
  EXPECT_EQ(c->geoip_path, GEODNS_SOURCE_DIR "/geoip/demo.mmdb");
  EXPECT_EQ(c->control.listen, "127.0.0.1:8053");
}

TEST(ServerConfig, MissingFile) {
  auto c = load_server_config("/nonexistent/geodns.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().file, "/nonexistent/geodns.toml");
}

struct Case {
  const char* name;
  const char* text;
  uint32_t line;
  uint32_t column;
  const char* message;
};

class ServerConfigErrors : public ::testing::TestWithParam<Case> {};

TEST_P(ServerConfigErrors, ReportsPositionAndMessage) {
  const Case& c = GetParam();
  auto r = load_server_config_text(c.text, "geodns.toml", "");
  ASSERT_FALSE(r.ok()) << c.text;
  EXPECT_EQ(r.error().file, "geodns.toml");
  EXPECT_EQ(r.error().line, c.line) << r.error().to_string();
  EXPECT_EQ(r.error().column, c.column) << r.error().to_string();
  EXPECT_NE(r.error().message.find(c.message), std::string::npos) << r.error().message;
}

// clang-format off
const Case kCases[] = {
  {"Syntax", "[server\n", 1, 8, ""},
  {"UnknownTable", "[zone]\n", 1, 2, "unknown key \"zone\" in the server config"},
  {"UnknownServerKey", "[server]\nlisten = \"127.0.0.1:53\"\nlistne = \"x\"\n", 3, 1, "unknown key \"listne\" in [server]"},
  {"BadListen", "[server]\nlisten = [\"127.0.0.1\"]\n", 2, 11, "bad listen address \"127.0.0.1\""},
  {"BadListenV6", "[server]\nlisten = \"::1:53\"\n", 2, 10, "bad listen address"},
  {"BadListenPort", "[server]\nlisten = \"127.0.0.1:99999\"\n", 2, 10, "bad listen address"},
  {"EmptyListen", "[server]\nlisten = []\n", 2, 10, "empty list"},
  {"Payload", "[server]\nmax_udp_payload = 100\n", 2, 19, "max_udp_payload must be 512..4096"},
  {"Threads", "[server]\nthreads = -1\n", 2, 11, "threads must be 0..1024"},
  {"LogLevel", "[server]\nlog_level = \"loud\"\n", 2, 13, "unknown log_level \"loud\""},
  {"ChaosTypo", "[server.chaos]\nenable = true\n", 2, 1, "unknown key \"enable\" in [server.chaos]"},
  {"ChaosNotBool", "[server.chaos]\nenabled = \"yes\"\n", 2, 11, "enabled must be true or false"},
  {"TcpTimeout", "[server.tcp]\nidle_timeout = \"soon\"\n", 2, 16, "bad duration"},
  {"TcpMaxConnections", "[server.tcp]\nmax_connections = 0\n", 2, 19, "max_connections must be"},
  {"TcpMaxPerClient", "[server.tcp]\nmax_connections_per_client = 0\n", 2, 30,
   "max_connections_per_client must be"},
  {"TcpThreads", "[server.tcp]\nthreads = 2000\n", 2, 11, "threads must be 0..1024"},
  {"TcpBusyIdleTimeout", "[server.tcp]\nbusy_idle_timeout = \"10ms\"\n", 2, 21, "busy_idle_timeout"},
  {"CookieSecretShort", "[server.cookies]\nsecret = \"e5e973\"\n", 2, 10, "secret must be 32 hex digits"},
  {"CookieSecretNotHex", "[server.cookies]\nsecret = \"zz5e973e5a6b2a43f48e7dc849e37bfcf\"\n", 2, 10, "secret must be 32 hex digits"},
  {"CookiePreviousAlone", "[server.cookies]\nprevious_secret = \"e5e973e5a6b2a43f48e7dc849e37bfcf\"\n", 2, 19, "previous_secret needs secret"},
  {"CookieTypo", "[server.cookies]\nenable = true\n", 2, 1, "unknown key \"enable\" in [server.cookies]"},
  {"QueryLogNotBool", "[server]\nquery_log = 1\n", 2, 13, "query_log must be true or false"},
  {"ControlListen", "[control]\nlisten = \"localhost:8053\"\n", 2, 10, "bad listen address"},
  {"ControlTypo", "[control]\ntokn = \"x\"\n", 2, 1, "unknown key \"tokn\" in [control]"},
  {"SharedDcUnknownCheck", "[datacenters.fra]\naddresses = [\"192.0.2.1\"]\ncheck = \"web\"\n", 3, 9, "unknown check \"web\""},
  {"SharedDcBadAddress", "[datacenters.fra]\naddresses = [\"fra\"]\n", 2, 14, "bad address \"fra\""},
  {"SharedCheckTimeout", "[checks.web]\ntype = \"http\"\ninterval = \"1s\"\ntimeout = \"2s\"\n", 4, 11, "timeout must be shorter than interval"},
};
// clang-format on

INSTANTIATE_TEST_SUITE_P(All, ServerConfigErrors, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& param_info) {
                           return std::string(param_info.param.name);
                         });

}  // namespace
}  // namespace geodns::zone
