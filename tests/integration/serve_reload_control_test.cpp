// The reload of the real binary, seen from outside: it runs off the control loop (scrapes and
// queries answered while a large zone rebuilds), rebuilds only the zone that changed, applies
// pipeline settings (RRL, chaos) and reports the settings that need a restart.
//
// The large zone has GEODNS_RELOAD_TEST_NAMES names (default 200000: about a second to build
// on a quiet machine); set it to 1000000 to reproduce the million-name figures.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "../support/edns_option.h"
#include "harness.h"
#include "ops/ctl.h"
#include "serve_fixture.h"

namespace geodns::test {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

size_t big_zone_names() {
  const char* env = std::getenv("GEODNS_RELOAD_TEST_NAMES");
  if (env == nullptr) return 200000;
  return std::max<size_t>(1000, std::strtoull(env, nullptr, 10));
}

constexpr const char* kSmallZone = R"([zone]
name = "small.test."
ttl = 300
[zone.soa]
mname = "ns1.small.test."
rname = "hostmaster.small.test."
[records]
"@" = "NS ns1.small.test."
ns1 = "A 192.0.2.53"
www = "A 192.0.2.80"
)";

// `names` A records under big.test.; `marker` is the address of `marker.big.test.`, the one
// record a test edits.
std::string big_zone(size_t names, const std::string& marker) {
  std::ostringstream z;
  z << "[zone]\nname = \"big.test.\"\nttl = 300\n[zone.soa]\nmname = \"ns1.big.test.\"\n"
       "rname = \"hostmaster.big.test.\"\n[records]\n\"@\" = \"NS ns1.big.test.\"\n"
       "ns1 = \"A 192.0.2.53\"\nmarker = \"A "
    << marker << "\"\n";
  for (size_t i = 0; i < names; ++i) {
    z << 'h' << i << " = \"A 10." << ((i >> 16) & 255) << '.' << ((i >> 8) & 255) << '.'
      << (i & 255) << "\"\n";
  }
  return z.str();
}

double metric(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

class ReloadServer {
 public:
  explicit ReloadServer(size_t big_names, std::string extra_config = "")
      : big_names_(big_names), extra_config_(std::move(extra_config)) {
    zones_.write("small.test.toml", kSmallZone);
    if (big_names_ > 0) zones_.write("big.test.toml", big_zone(big_names_, "192.0.2.1"));
    ServeOptions o;
    o.zones_dir = zones_.path();
    o.geoip = "";
    o.v6 = false;
    o.extra_config = extra_config_;
    server_ = std::make_unique<Server>(o);
  }

  Server& server() { return *server_; }
  std::string control() const { return "127.0.0.1:" + std::to_string(server_->control_port); }
  void edit_big(const std::string& marker) {
    zones_.write("big.test.toml", big_zone(big_names_, marker));
  }
  // Rewrites geodns.toml with `extra` in [server] in place of the start-up's extra config.
  void rewrite_config(const std::string& extra) {
    std::string text = read_text(server_->dir.file("geodns.toml"));
    const size_t at = text.find(extra_config_);
    ASSERT_NE(at, std::string::npos);
    text.replace(at, extra_config_.size(), extra);
    server_->dir.write("geodns.toml", text);
    extra_config_ = extra;
  }

  ops::HttpReply http(const std::string& method, const std::string& target,
                      std::chrono::milliseconds timeout = 5s) {
    auto r = ops::http_call(control(), method, target, "", "", timeout);
    EXPECT_TRUE(r) << (r ? "" : r.error().to_string());
    return r ? r.value() : ops::HttpReply{};
  }
  Json status() { return Json::parse(http("GET", "/status").body, nullptr, false); }

 private:
  size_t big_names_;
  std::string extra_config_;
  TempDir zones_;
  std::unique_ptr<Server> server_;
};

std::string first_address(const Packet& p) {
  if (!p) return "(no answer)";
  const auto rrs = section_strings(p.get(), LDNS_SECTION_ANSWER);
  if (rrs.empty()) return "(empty)";
  return rrs.front().substr(rrs.front().find_last_of(" \t") + 1);
}

TEST(ServeReloadControl, ScrapesAndQueriesAreAnsweredWhileALargeZoneReloads) {
  const size_t names = big_zone_names();
  ReloadServer rs(names);
  ASSERT_TRUE(rs.server().ready) << rs.server().process->stderr_text();
  ASSERT_EQ(first_address(rs.server().udp("marker.big.test.", LDNS_RR_TYPE_A)), "192.0.2.1");

  // Nothing changed: both zones are reused, none rebuilt.
  auto r = rs.http("POST", "/reload", 120s);
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = Json::parse(r.body);
  EXPECT_EQ(j["zones_rebuilt"], 0);
  EXPECT_EQ(j["zones_reused"], 2);

  // One edit of the large zone, reloaded through POST /reload on another thread.
  rs.edit_big("192.0.2.2");
  const auto reload_started = std::chrono::steady_clock::now();
  auto reload = std::async(std::launch::async, [&] { return rs.http("POST", "/reload", 120s); });
  size_t scrapes_during_reload = 0;
  size_t queries_during_reload = 0;
  size_t queries_lost = 0;
  std::chrono::nanoseconds slowest_scrape{0};
  while (reload.wait_for(0ms) != std::future_status::ready) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto metrics = rs.http("GET", "/metrics");
    const Json status = rs.status();
    slowest_scrape = std::max(slowest_scrape, std::chrono::steady_clock::now() - t0);
    ASSERT_EQ(metrics.status, 200);
    ASSERT_TRUE(status.is_object());
    if (status["reload"]["in_progress"] == true &&
        metric(metrics.body, "geodns_reload_in_progress") == 1) {
      ++scrapes_during_reload;
      // The zone that did not change answers throughout.
      ++queries_during_reload;
      if (first_address(rs.server().udp("www.small.test.", LDNS_RR_TYPE_A)) != "192.0.2.80") {
        ++queries_lost;
      }
    }
    std::this_thread::sleep_for(5ms);
  }
  const auto reload_took = std::chrono::steady_clock::now() - reload_started;
  r = reload.get();
  ASSERT_EQ(r.status, 200) << r.body;
  j = Json::parse(r.body);
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["zones_rebuilt"], 1);
  EXPECT_EQ(j["zones_reused"], 1);
  EXPECT_GT(j["duration_s"].get<double>(), 0);
  // The control loop answered while the reload was under way (the old code answered nothing
  // until it was over, so this count was 0).
  EXPECT_GE(scrapes_during_reload, 3U)
      << "reload took " << std::chrono::duration<double>(reload_took).count() << " s for " << names
      << " names";
  EXPECT_EQ(queries_lost, 0U) << "of " << queries_during_reload;
  EXPECT_EQ(first_address(rs.server().udp("marker.big.test.", LDNS_RR_TYPE_A)), "192.0.2.2");
  // The file watcher saw the edit too: its reload (one more, coalesced) finds nothing new.
  Json status;
  for (int i = 0; i < 200; ++i) {
    status = rs.status();
    if (status["reload"]["in_progress"] == false) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(status["reload"]["in_progress"], false);
  std::cout << "[ figures  ] " << names << " names: reload "
            << std::chrono::duration<double>(reload_took).count()
            << " s (server: " << j["duration_s"].get<double>() << " s); " << scrapes_during_reload
            << " scrape pairs answered during it, slowest /metrics+/status pair "
            << std::chrono::duration<double, std::milli>(slowest_scrape).count() << " ms\n";
}

// SIGTERM while a large zone rebuilds: the signal is taken at once (the DNS sockets close),
// the running reload is let finish, and the server exits cleanly rather than being killed.
TEST(ServeReloadControl, SigtermDuringAReloadStopsCleanly) {
  ReloadServer rs(big_zone_names());
  ASSERT_TRUE(rs.server().ready) << rs.server().process->stderr_text();
  rs.edit_big("192.0.2.4");
  ASSERT_EQ(::kill(rs.server().process->pid(), SIGHUP), 0);
  Json status;
  for (int i = 0; i < 500; ++i) {
    status = rs.status();
    if (status["reload"]["in_progress"] == true) break;
    std::this_thread::sleep_for(2ms);
  }
  ASSERT_EQ(status["reload"]["in_progress"], true) << "the reload was over before SIGTERM";
  ASSERT_EQ(::kill(rs.server().process->pid(), SIGTERM), 0);
  ASSERT_TRUE(rs.server().process->wait_exit(60s)) << rs.server().process->stderr_text();
  EXPECT_EQ(rs.server().process->exit_code(), 0);
  const std::string log = rs.server().process->stderr_text();
  EXPECT_NE(log.find("event=stopping_waits_for_reload"), std::string::npos) << log;
  EXPECT_NE(log.find("event=stopped"), std::string::npos) << log;
}

TEST(ServeReloadControl, RequestsDuringAReloadAreCoalesced) {
  ReloadServer rs(big_zone_names());
  ASSERT_TRUE(rs.server().ready) << rs.server().process->stderr_text();
  const double before = metric(rs.http("GET", "/metrics").body, "geodns_reloads_total");
  rs.edit_big("192.0.2.3");
  // Five requests at once, while the first one rebuilds the large zone.
  std::vector<std::future<ops::HttpReply>> replies;
  for (int i = 0; i < 5; ++i) {
    replies.push_back(
        std::async(std::launch::async, [&] { return rs.http("POST", "/reload", 120s); }));
  }
  for (auto& f : replies) EXPECT_EQ(f.get().status, 200);
  const double after = metric(rs.http("GET", "/metrics").body, "geodns_reloads_total");
  // The first request's reload, then at most one more for all that came meanwhile.
  EXPECT_GE(after - before, 1);
  EXPECT_LE(after - before, 2);
  EXPECT_EQ(first_address(rs.server().udp("marker.big.test.", LDNS_RR_TYPE_A)), "192.0.2.3");
}

std::string steered_zone(const std::string& fra_address) {
  return R"([zone]
name = "steer.test."
ttl = 300
[zone.soa]
mname = "ns1.steer.test."
rname = "hostmaster.steer.test."
[records]
"@" = "NS ns1.steer.test."
ns1 = "A 192.0.2.53"
[datacenters.fra]
addresses = [")" +
         fra_address + R"("]
[datacenters.iad]
addresses = ["198.51.100.10"]
[steer.www]
ttl = 30
policy = "failover"
datacenters = ["fra", "iad"]
)";
}

// Answers by zone, steered name and datacenter: labels stay the same across a reload that
// rebuilds the zone, and the counts carry on from where they were.
TEST(ServeReloadControl, AnswersAreCountedByNameAndDatacenterAcrossReloads) {
  TempDir zones;
  zones.write("steer.test.toml", steered_zone("192.0.2.10"));
  ServeOptions o;
  o.zones_dir = zones.path();
  o.geoip = "";
  o.v6 = false;
  Server server(o);
  ASSERT_TRUE(server.ready) << server.process->stderr_text();
  auto scrape = [&] {
    auto r = ops::http_call("127.0.0.1:" + std::to_string(server.control_port), "GET", "/metrics",
                            "", "", 5s);
    return r ? r->body : std::string();
  };
  const std::string by_name = R"(geodns_steered_answers_by_name_total{name="www.steer.test."})";
  const std::string by_fra =
      R"(geodns_answers_by_datacenter_total{zone="steer.test.",datacenter="fra"})";
  const std::string by_zone = R"(geodns_answers_by_zone_total{zone="steer.test."})";
  // Every query answered from the zone counts, steered or not (readiness probes included).
  const double zone_before = std::max(0.0, metric(scrape(), by_zone));
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(first_address(server.udp("www.steer.test.", LDNS_RR_TYPE_A)), "192.0.2.10");
  }
  auto m = scrape();
  EXPECT_EQ(metric(m, by_name), 5) << m;
  EXPECT_EQ(metric(m, by_fra), 5);
  EXPECT_EQ(metric(m, by_zone), zone_before + 5) << m;
  EXPECT_EQ(metric(m, R"(geodns_fail_open_by_name_total{name="www.steer.test."})"), 0);

  zones.write("steer.test.toml", steered_zone("192.0.2.11"));
  auto r = ops::http_call("127.0.0.1:" + std::to_string(server.control_port), "POST", "/reload", "",
                          "", 60s);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(first_address(server.udp("www.steer.test.", LDNS_RR_TYPE_A)), "192.0.2.11");
  }
  m = scrape();
  EXPECT_EQ(metric(m, by_name), 8) << m;
  EXPECT_EQ(metric(m, by_fra), 8);
  // A static answer from the zone counts for it too, and the label survives the rebuild.
  ASSERT_TRUE(server.udp("steer.test.", LDNS_RR_TYPE_SOA));
  m = scrape();
  EXPECT_EQ(metric(m, by_zone), zone_before + 9) << m;
}

// Cookie secret rollover by reload: a cookie made with the secret that ran before the reload
// is still accepted after it (also after another reload that keeps the new secret), and no
// longer after the secret changes again.
TEST(ServeReloadControl, ACookieSecretChangedByReloadKeepsTheOldOneAccepted) {
  const std::string s1 = "11111111111111111111111111111111";
  const std::string s2 = "22222222222222222222222222222222";
  const std::string s3 = "33333333333333333333333333333333";
  auto cookies = [](const std::string& secret) {
    return "[server.cookies]\nsecret = \"" + secret + "\"\n";
  };
  ReloadServer rs(0, cookies(s1));
  ASSERT_TRUE(rs.server().ready) << rs.server().process->stderr_text();
  QueryOptions o;
  o.edns_payload = 1232;
  o.edns_options = {0, 10, 0, 8, 0x24, 0x64, 0xc4, 0xab, 0xcf, 0x10, 0xc9, 0x57};
  auto first = udp_query(rs.server().port, make_query("www.small.test.", LDNS_RR_TYPE_A, o));
  ASSERT_TRUE(first);
  Packet p = decode(*first);
  const std::vector<uint8_t> cookie = geodns::testing::edns_option(p.get(), 10);
  ASSERT_EQ(cookie.size(), 24u);
  o.edns_options = {0, 10, 0, 24};
  o.edns_options.insert(o.edns_options.end(), cookie.begin(), cookie.end());
  const auto with_cookie = make_query("www.small.test.", LDNS_RR_TYPE_A, o);
  const std::string valid = R"(geodns_cookie_queries_total{result="valid"})";
  const std::string fresh = R"(geodns_cookie_queries_total{result="new"})";
  auto count = [&](const std::string& series) {
    return metric(rs.http("GET", "/metrics").body, series);
  };
  auto reload = [&](const std::string& config) {
    rs.rewrite_config(config);
    auto r = rs.http("POST", "/reload", 60s);
    ASSERT_EQ(r.status, 200) << r.body;
  };

  reload(cookies(s2));
  const double valid0 = count(valid);
  ASSERT_TRUE(udp_query(rs.server().port, with_cookie));
  EXPECT_EQ(count(valid), valid0 + 1) << "the retired secret is not accepted";
  // A reload that keeps s2 keeps s1 accepted too.
  auto r = rs.http("POST", "/reload", 60s);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(udp_query(rs.server().port, with_cookie));
  EXPECT_EQ(count(valid), valid0 + 2);
  // s3 retires s2: s1 is gone.
  reload(cookies(s3));
  const double fresh0 = count(fresh);
  ASSERT_TRUE(udp_query(rs.server().port, with_cookie));
  EXPECT_EQ(count(valid), valid0 + 2);
  EXPECT_EQ(count(fresh), fresh0 + 1);
}

TEST(ServeReloadControl, PipelineSettingsApplyAndRestartOnlyOnesAreReported) {
  ReloadServer rs(0, "[server.chaos]\nversion = \"before\"\n");
  ASSERT_TRUE(rs.server().ready) << rs.server().process->stderr_text();
  auto version = [&] {
    QueryOptions q;
    q.qclass = LDNS_RR_CLASS_CH;
    auto p = rs.server().udp("version.bind.", LDNS_RR_TYPE_TXT, q);
    if (!p) return std::string("(no answer)");
    const auto rrs = section_strings(p.get(), LDNS_SECTION_ANSWER);
    return rrs.empty() ? std::string("(empty)") : rrs.front();
  };
  EXPECT_NE(version().find("\"before\""), std::string::npos) << version();
  ASSERT_TRUE(rs.server().tcp("www.small.test.", LDNS_RR_TYPE_A));
  auto m = rs.http("GET", "/metrics").body;
  EXPECT_EQ(metric(m, "geodns_rrl_enabled"), 0);
  EXPECT_EQ(metric(m, "geodns_config_restart_required"), 0);
  // The transport's counters reach /metrics through the worker's counter block.
  EXPECT_GE(metric(m, R"(geodns_tcp_connections_total{result="accepted"})"), 1);
  EXPECT_EQ(metric(m, R"(geodns_tcp_connections_total{result="rejected"})"), 0);

  // RRL on at one response per second, a new chaos version, and a TCP limit (restart-only).
  rs.rewrite_config(
      "[server.chaos]\nversion = \"after\"\n[server.tcp]\nmax_connections = 50\n"
      "[server.rrl]\nenabled = true\nresponses_per_second = 1\nslip = 0\n");
  auto r = rs.http("POST", "/reload", 60s);
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = Json::parse(r.body);
  ASSERT_EQ(j["restart_required"].size(), 1U) << r.body;
  EXPECT_EQ(j["restart_required"][0], "server.tcp.max_connections");

  // The workers pick the settings up with their next batch.
  std::string v;
  for (int i = 0; i < 50 && v.find("\"after\"") == std::string::npos; ++i) {
    v = version();
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_NE(v.find("\"after\""), std::string::npos) << v;
  // One response per second and no slip: a burst of identical queries is mostly dropped.
  size_t answered = 0;
  const auto query = make_query("www.small.test.", LDNS_RR_TYPE_A);
  for (int i = 0; i < 10; ++i) {
    if (udp_query(rs.server().port, query, 200ms)) ++answered;
  }
  EXPECT_LT(answered, 10U);
  m = rs.http("GET", "/metrics").body;
  EXPECT_EQ(metric(m, "geodns_rrl_enabled"), 1);
  EXPECT_GT(metric(m, "geodns_rrl_dropped_total"), 0);
  EXPECT_EQ(metric(m, "geodns_config_restart_required"), 1);
  EXPECT_EQ(rs.status()["last_reload"]["restart_required"][0], "server.tcp.max_connections");
  EXPECT_NE(rs.server().process->stderr_text().find("restart_required"), std::string::npos);

  // Back to the start-up TCP limit: nothing needs a restart any more; RRL off again.
  rs.rewrite_config("[server.chaos]\nversion = \"after\"\n");
  r = rs.http("POST", "/reload", 60s);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(Json::parse(r.body)["restart_required"].empty()) << r.body;
  m = rs.http("GET", "/metrics").body;
  EXPECT_EQ(metric(m, "geodns_config_restart_required"), 0);
  EXPECT_EQ(metric(m, "geodns_rrl_enabled"), 0);
}

}  // namespace
}  // namespace geodns::test
