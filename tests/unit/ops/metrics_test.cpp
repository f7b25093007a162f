// /metrics and /status render from a hand-built DaemonState: the output is parsed back and
// checked for shape, not compared as a golden string.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "ops/state.h"

namespace geodns::ops {
namespace {

DaemonState sample_state() {
  DaemonState s;
  s.now = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'100));
  s.started = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
  s.geoip = "GeoIP2-City test";
  ZoneState z;
  z.origin = "example.com.";
  z.serial = 2026112501;
  z.file = "zones/example.com.toml";
  z.records = 12;
  z.steered = {"www.example.com."};
  DatacenterState dc;
  dc.name = "fra";
  dc.full_name = "example.com./fra";
  dc.slot = "example.com/fra";
  dc.check = "web";
  dc.addresses = {{"192.0.2.10", 1, true}, {"192.0.2.11", 2, false}};
  dc.up = true;
  z.datacenters.push_back(dc);
  dc.name = "iad";
  dc.full_name = "example.com./iad";
  dc.addresses = {{"198.51.100.10", 3, false}};
  dc.override_mode = steer::Override::force_down;
  dc.up = false;
  z.datacenters.push_back(dc);
  s.zones.push_back(z);
  health::TargetStatus t;
  t.id = 1;
  t.key = "http|port=80@192.0.2.10";
  t.address = *IpAddress::parse("192.0.2.10");
  t.check_name = "web";
  t.check_type = steer::CheckType::http;
  t.state = health::HealthState::up;
  t.effective_up = true;
  t.last_result = "HTTP 200";
  t.last_latency = std::chrono::milliseconds(12);
  t.checks = 40;
  s.targets.push_back(t);
  t.id = 2;
  // Label values with every character the format escapes.
  t.key = "weird \"key\" with \\ and\nnewline";
  t.address = *IpAddress::parse("192.0.2.11");
  t.state = health::HealthState::down;
  t.effective_up = false;
  t.last_result = "connection refused";
  t.last_latency.reset();
  s.targets.push_back(t);
  health::OverrideInfo o;
  o.key = health::OverrideKey::for_datacenter("example.com./iad");
  o.mode = steer::Override::force_down;
  o.reason = "maintenance";
  o.expires = s.now + std::chrono::minutes(30);
  s.overrides.push_back(o);
  health::Transition tr;
  tr.key = "http|port=80@192.0.2.11";
  tr.address = t.address;
  tr.check_name = "web";
  tr.from = health::HealthState::up;
  tr.to = health::HealthState::down;
  tr.reason = "connection refused";
  tr.at = s.now - std::chrono::seconds(5);
  s.transitions.push_back(tr);
  s.transitions_total = 3;
  s.last_reload.at = s.now;
  s.last_reload.reason = "file change";
  s.last_reload.ok = false;
  s.last_reload.errors = {"zones/example.com.toml:12:9: unknown datacenter \"fra2\""};
  s.reloads_total = 4;
  s.reload_errors_total = 1;
  s.traffic.queries_udp = 100;
  s.traffic.queries_tcp = 7;
  s.traffic.qtypes[1] = 90;
  s.traffic.qtypes[28] = 10;
  s.traffic.qtypes[15] = 7;
  s.traffic.rcodes[0] = 104;
  s.traffic.rcodes[3] = 3;
  s.traffic.steered = 80;
  s.traffic.failed_open = 2;
  s.traffic.cookies_valid = 40;
  s.traffic.signature_cache_hits = 900;
  s.traffic.signature_cache_misses = 12;
  s.traffic.signed_online = 11;
  s.traffic.sign_failed = 1;
  s.traffic.cookies_new = 5;
  return s;
}

struct Sample {
  std::string name;
  std::string labels;
  double value = 0;
};

// Parses the exposition format strictly; fails the test on any line that does not fit.
std::vector<Sample> parse_exposition(const std::string& text,
                                     std::map<std::string, std::string>* types) {
  static const std::regex kHelp(R"(^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) \S.*$)");
  static const std::regex kType(
      R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$)");
  static const std::regex kSample(
      R"re(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*)\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)$)re");
  std::vector<Sample> out;
  std::set<std::string> helped;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::smatch m;
    if (std::regex_match(line, m, kHelp)) {
      EXPECT_TRUE(helped.insert(m[1]).second) << "second HELP for " << m[1];
    } else if (std::regex_match(line, m, kType)) {
      EXPECT_TRUE(helped.count(m[1])) << "TYPE before HELP: " << line;
      EXPECT_FALSE(types->count(m[1])) << "second TYPE: " << line;
      (*types)[m[1]] = m[2];
    } else if (std::regex_match(line, m, kSample)) {
      const std::string name = m[1];
      EXPECT_TRUE(types->count(name)) << "sample before its TYPE at line " << n << ": " << line;
      out.push_back({name, m[3], std::stod(m[4])});
    } else {
      ADD_FAILURE() << "line " << n << " is not valid exposition format: " << line;
    }
  }
  EXPECT_TRUE(text.empty() || text.back() == '\n');
  return out;
}

double value_of(const std::vector<Sample>& samples, const std::string& name,
                const std::string& labels = "") {
  for (const auto& s : samples) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  ADD_FAILURE() << "no sample " << name << "{" << labels << "}";
  return -1;
}

TEST(Metrics, ParsesAndCarriesTheNumbers) {
  std::map<std::string, std::string> types;
  const auto samples = parse_exposition(render_metrics(sample_state()), &types);
  ASSERT_FALSE(samples.empty());
  for (const auto& [name, type] : types) {
    if (type == "counter") {
      EXPECT_TRUE(name.ends_with("_total")) << name;
    }
  }
  EXPECT_EQ(value_of(samples, "geodns_build_info", R"(version="0.1.0")"), 1);
  EXPECT_EQ(value_of(samples, "geodns_queries_total", R"(protocol="udp")"), 100);
  EXPECT_EQ(value_of(samples, "geodns_queries_total", R"(protocol="tcp")"), 7);
  EXPECT_EQ(value_of(samples, "geodns_queries_by_type_total", R"(qtype="AAAA")"), 10);
  EXPECT_EQ(value_of(samples, "geodns_queries_by_type_total", R"(qtype="MX")"), 7);
  EXPECT_EQ(value_of(samples, "geodns_responses_total", R"(rcode="NXDOMAIN")"), 3);
  EXPECT_EQ(value_of(samples, "geodns_steered_answers_total"), 80);
  EXPECT_EQ(value_of(samples, "geodns_fail_open_total"), 2);
  EXPECT_EQ(value_of(samples, "geodns_cookie_queries_total", R"(result="valid")"), 40);
  EXPECT_EQ(value_of(samples, "geodns_cookie_queries_total", R"(result="new")"), 5);
  EXPECT_EQ(value_of(samples, "geodns_dnssec_signature_cache_total", R"(result="hit")"), 900);
  EXPECT_EQ(value_of(samples, "geodns_dnssec_signature_cache_total", R"(result="miss")"), 12);
  EXPECT_EQ(value_of(samples, "geodns_dnssec_signed_online_total"), 11);
  EXPECT_EQ(value_of(samples, "geodns_dnssec_sign_failed_total"), 1);
  EXPECT_EQ(value_of(samples, "geodns_reloads_total"), 4);
  EXPECT_EQ(value_of(samples, "geodns_reload_errors_total"), 1);
  EXPECT_EQ(value_of(samples, "geodns_last_reload_success"), 0);
  EXPECT_EQ(value_of(samples, "geodns_last_reload_timestamp_seconds"), 1'800'000'100);
  EXPECT_EQ(value_of(samples, "geodns_health_transitions_total"), 3);
  EXPECT_EQ(value_of(samples, "geodns_zone_serial", R"(zone="example.com.")"), 2026112501);
  EXPECT_EQ(value_of(samples, "geodns_health_target_up",
                     R"(target="http|port=80@192.0.2.10",address="192.0.2.10",check="web")"),
            1);
  EXPECT_EQ(
      value_of(samples, "geodns_health_target_up",
               R"(target="weird \"key\" with \\ and\nnewline",address="192.0.2.11",check="web")"),
      0);
  EXPECT_DOUBLE_EQ(value_of(samples, "geodns_health_check_latency_seconds",
                            R"(target="http|port=80@192.0.2.10",address="192.0.2.10",check="web")"),
                   0.012);
  EXPECT_EQ(value_of(samples, "geodns_datacenter_up", R"(zone="example.com.",datacenter="iad")"),
            0);
  EXPECT_EQ(value_of(samples, "geodns_datacenter_up", R"(zone="example.com.",datacenter="fra")"),
            1);
}

// Answers by zone: one series per label slot; "other" only once something counted there.
TEST(Metrics, AnswersByZone) {
  DaemonState s;
  s.answer_zones = {"other", "example.com.", "example.net."};
  s.traffic.answers_by_zone[1] = 12;
  s.traffic.answers_by_zone[2] = 3;
  std::map<std::string, std::string> types;
  auto samples = parse_exposition(render_metrics(s), &types);
  EXPECT_EQ(types["geodns_answers_by_zone_total"], "counter");
  EXPECT_EQ(value_of(samples, "geodns_answers_by_zone_total", R"(zone="example.com.")"), 12);
  EXPECT_EQ(value_of(samples, "geodns_answers_by_zone_total", R"(zone="example.net.")"), 3);
  EXPECT_EQ(render_metrics(s).find(R"(geodns_answers_by_zone_total{zone="other"})"),
            std::string::npos);
  s.traffic.answers_by_zone[0] = 7;
  std::map<std::string, std::string> types2;
  samples = parse_exposition(render_metrics(s), &types2);
  EXPECT_EQ(value_of(samples, "geodns_answers_by_zone_total", R"(zone="other")"), 7);
}

TEST(Metrics, EmptyStateStillValid) {
  std::map<std::string, std::string> types;
  const auto samples = parse_exposition(render_metrics(DaemonState{}), &types);
  EXPECT_EQ(value_of(samples, "geodns_queries_total", R"(protocol="udp")"), 0);
  EXPECT_EQ(value_of(samples, "geodns_last_reload_success"), 1);
}

TEST(StatusJson, Shape) {
  const auto j = nlohmann::json::parse(render_status_json(sample_state()));
  EXPECT_EQ(j["version"], "0.1.0");
  EXPECT_EQ(j["geoip"], "GeoIP2-City test");
  ASSERT_EQ(j["zones"].size(), 1U);
  const auto& z = j["zones"][0];
  EXPECT_EQ(z["origin"], "example.com.");
  EXPECT_EQ(z["serial"], 2026112501U);
  EXPECT_EQ(z["file"], "zones/example.com.toml");
  EXPECT_EQ(z["records"], 12);
  EXPECT_EQ(z["steered"][0], "www.example.com.");
  ASSERT_EQ(z["datacenters"].size(), 2U);
  EXPECT_EQ(z["datacenters"][0]["key"], "example.com./fra");
  EXPECT_EQ(z["datacenters"][0]["slot"], "example.com/fra");
  EXPECT_EQ(z["datacenters"][0]["addresses"][1]["address"], "192.0.2.11");
  EXPECT_EQ(z["datacenters"][0]["addresses"][1]["up"], false);
  EXPECT_EQ(z["datacenters"][1]["override"], "down");
  EXPECT_EQ(z["datacenters"][1]["up"], false);
  ASSERT_EQ(j["targets"].size(), 2U);
  const auto& t = j["targets"][0];
  EXPECT_EQ(t["address"], "192.0.2.10");
  EXPECT_EQ(t["check"], "web");
  EXPECT_EQ(t["type"], "http");
  EXPECT_EQ(t["state"], "up");
  EXPECT_EQ(t["last_result"], "HTTP 200");
  EXPECT_EQ(t["latency_ms"], 12);
  EXPECT_EQ(t["datacenters"][0], "example.com./fra");
  EXPECT_TRUE(j["targets"][1]["latency_ms"].is_null());
  ASSERT_EQ(j["overrides"].size(), 1U);
  EXPECT_EQ(j["overrides"][0]["datacenter"], "example.com/iad");
  EXPECT_EQ(j["overrides"][0]["state"], "down");
  EXPECT_EQ(j["overrides"][0]["reason"], "maintenance");
  EXPECT_EQ(j["overrides"][0]["expires"], "2027-01-15T08:31:40.000Z");
  ASSERT_EQ(j["transitions"].size(), 1U);
  EXPECT_EQ(j["transitions"][0]["from"], "up");
  EXPECT_EQ(j["transitions"][0]["to"], "down");
  EXPECT_EQ(j["last_reload"]["ok"], false);
  EXPECT_EQ(j["last_reload"]["errors"][0],
            "zones/example.com.toml:12:9: unknown datacenter \"fra2\"");
  EXPECT_EQ(j["last_reload"]["time"], "2027-01-15T08:01:40.000Z");
  EXPECT_EQ(j["queries"]["udp"], 100);
}

TEST(StatusJson, XdpOffSaysSo) {
  const auto j = nlohmann::json::parse(render_status_json(DaemonState{}));
  ASSERT_TRUE(j.contains("xdp"));
  EXPECT_EQ(j["xdp"]["enabled"], false);
  EXPECT_TRUE(j["xdp"]["queues"].is_array());
  EXPECT_TRUE(j["xdp"]["queues"].empty());
  EXPECT_EQ(j["transport"]["xdp_received"], 0);
}

TEST(StatusJson, XdpQueuesWithTheirOwnCounters) {
  DaemonState s;
  s.xdp_enabled = true;
  XdpQueueState q0{"eth0", 0, "native", true, {}};
  q0.counters.xdp_received = 10;
  q0.counters.xdp_sent = 9;
  q0.counters.xdp_send_dropped = 1;
  q0.counters.xdp_malformed = 2;
  XdpQueueState q1{"eth0", 1, "generic", false, {}};
  q1.counters.xdp_received = 5;
  s.xdp_queues = {q0, q1};
  s.transport.xdp_received = 15;
  const auto j = nlohmann::json::parse(render_status_json(s));
  EXPECT_EQ(j["xdp"]["enabled"], true);
  ASSERT_EQ(j["xdp"]["queues"].size(), 2U);
  const auto& a = j["xdp"]["queues"][0];
  EXPECT_EQ(a["interface"], "eth0");
  EXPECT_EQ(a["queue"], 0);
  EXPECT_EQ(a["mode"], "native");
  EXPECT_EQ(a["socket"], "zero-copy");
  EXPECT_EQ(a["received"], 10);
  EXPECT_EQ(a["sent"], 9);
  EXPECT_EQ(a["dropped"], 1);
  EXPECT_EQ(a["malformed"], 2);
  const auto& b = j["xdp"]["queues"][1];
  EXPECT_EQ(b["queue"], 1);
  EXPECT_EQ(b["mode"], "generic");
  EXPECT_EQ(b["socket"], "copy");
  EXPECT_EQ(b["received"], 5);
  EXPECT_EQ(b["dropped"], 0);
  EXPECT_EQ(j["transport"]["xdp_received"], 15);
}

TEST(StatusJson, InvalidUtf8DoesNotThrow) {
  DaemonState s;
  s.last_reload.errors = {std::string("bad \xff byte")};
  const auto j = nlohmann::json::parse(render_status_json(s));
  EXPECT_EQ(j["last_reload"]["errors"].size(), 1U);
}

}  // namespace
}  // namespace geodns::ops
