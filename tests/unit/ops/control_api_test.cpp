// Routing, authentication and override parsing of the control endpoint against a fake
// backend: no sockets.
#include "ops/control_api.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ops/state.h"
#include "server/serving_state.h"
#include "zone/loader.h"

namespace geodns::ops {
namespace {

class FakeBackend : public ControlBackend {
 public:
  DaemonState state() override {
    ++state_calls;
    DaemonState s;
    s.reloads_total = 7;
    return s;
  }
  void reload(std::function<void(const ReloadRecord&)> done) override {
    ++reload_calls;
    done(next_reload);
  }
  Status set_override(const OverrideRequest& r) override {
    last_set = r;
    ++set_calls;
    if (r.datacenter == "nope") return make_error("unknown datacenter \"nope\"");
    return {};
  }
  Status clear_override(const OverrideRequest& r) override {
    last_clear = r;
    ++clear_calls;
    return {};
  }
  Result<std::string> explain(const ExplainRequest& r) override {
    last_explain = r;
    return std::string("explained\n");
  }

  int state_calls = 0, reload_calls = 0, set_calls = 0, clear_calls = 0;
  ReloadRecord next_reload;
  OverrideRequest last_set, last_clear;
  ExplainRequest last_explain;
};

HttpRequest parse(const std::string& text) {
  HttpParser p;
  EXPECT_EQ(p.feed(text), HttpParser::State::complete) << text;
  return p.request();
}

HttpResponse call(FakeBackend& b, const std::string& text, std::string_view token = "") {
  return handle_control(parse(text), b, token);
}

std::string post(const std::string& path, const std::string& body,
                 const std::string& type = "application/json") {
  return "POST " + path + " HTTP/1.1\r\nContent-Type: " + type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

TEST(ControlApi, Routes) {
  FakeBackend b;
  auto r = call(b, "GET /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.content_type.find("version=0.0.4"), std::string::npos);
  EXPECT_NE(r.body.find("geodns_reloads_total 7\n"), std::string::npos);
  r = call(b, "GET /status HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(nlohmann::json::parse(r.body)["reloads_total"], 7);
  r = call(b, "GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("<html"), std::string::npos);
  EXPECT_EQ(r.body.find("http://"), std::string::npos) << "the page must be self-contained";
  EXPECT_EQ(call(b, "GET /nothing HTTP/1.1\r\n\r\n").status, 404);
  r = call(b, "POST /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers.at(0).first, "Allow");
  EXPECT_EQ(call(b, "GET /reload HTTP/1.1\r\n\r\n").status, 405);
  EXPECT_EQ(b.reload_calls, 0);
}

TEST(ControlApi, ReloadReportsErrorsAs422) {
  FakeBackend b;
  auto r = call(b, post("/reload", ""));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(nlohmann::json::parse(r.body)["ok"], true);
  b.next_reload.ok = false;
  b.next_reload.errors = {"zones/a.toml:3:1: boom"};
  r = call(b, post("/reload", ""));
  EXPECT_EQ(r.status, 422);
  const auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["errors"][0], "zones/a.toml:3:1: boom");
  EXPECT_EQ(b.reload_calls, 2);
}

TEST(ControlApi, TokenRequiredWhenSet) {
  FakeBackend b;
  EXPECT_EQ(call(b, "GET /status HTTP/1.1\r\n\r\n", "s3cret").status, 401);
  EXPECT_EQ(call(b, "GET /status HTTP/1.1\r\nAuthorization: Bearer wrong\r\n\r\n", "s3cret").status,
            401);
  EXPECT_EQ(call(b, "GET /status HTTP/1.1\r\nAuthorization: Bearer s3cre\r\n\r\n", "s3cret").status,
            401);
  EXPECT_EQ(call(b, "GET /status HTTP/1.1\r\nAuthorization: Basic s3cret\r\n\r\n", "s3cret").status,
            401);
  EXPECT_EQ(b.state_calls, 0);
  EXPECT_EQ(
      call(b, "GET /status HTTP/1.1\r\nAuthorization: Bearer s3cret\r\n\r\n", "s3cret").status,
      200);
  EXPECT_EQ(call(b, "GET /?token=s3cret HTTP/1.1\r\n\r\n", "s3cret").status, 200);
  EXPECT_EQ(call(b, post("/reload", ""), "s3cret").status, 401);
  EXPECT_EQ(b.reload_calls, 0);
}

TEST(ControlApi, OverrideJsonFormAndClear) {
  FakeBackend b;
  auto r = call(b, post("/override",
                        R"({"datacenter": "example.com./fra", "state": "down",
                            "expires": "30m", "reason": "maint"})"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(b.last_set.datacenter, "example.com./fra");
  EXPECT_EQ(b.last_set.mode, steer::Override::force_down);
  EXPECT_EQ(b.last_set.expires_in, std::chrono::seconds(1800));
  EXPECT_EQ(b.last_set.reason, "maint");

  r = call(b,
           post("/override", "address=192.0.2.10&state=up", "application/x-www-form-urlencoded"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(b.last_set.address, "192.0.2.10");
  EXPECT_EQ(b.last_set.mode, steer::Override::force_up);
  EXPECT_FALSE(b.last_set.expires_in);

  r = call(b, "DELETE /override?datacenter=fra HTTP/1.1\r\n\r\n");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(b.last_clear.datacenter, "fra");
  r = call(b, post("/override/clear", R"({"address": "192.0.2.10"})"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(b.last_clear.address, "192.0.2.10");
  EXPECT_EQ(b.clear_calls, 2);
}

TEST(ControlApi, OverrideErrors) {
  FakeBackend b;
  const char* bad[] = {
      R"({"state": "down"})",                                             // no target
      R"({"datacenter": "fra", "address": "1.2.3.4", "state": "down"})",  // both
      R"({"datacenter": "fra"})",                                         // no state
      R"({"datacenter": "fra", "state": "sideways"})",
      R"({"datacenter": "fra", "state": "down", "expires": "soon"})",
      R"({"datacenter": "fra", "state": "down", "colour": "red"})",
      R"({"datacenter": 5, "state": "down"})",
      R"({"datacenter": "fra", "state": "down")",  // truncated JSON
      R"([1, 2])",
  };
  for (const char* body : bad) {
    auto r = call(b, post("/override", body));
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_TRUE(nlohmann::json::parse(r.body).contains("error")) << body;
  }
  EXPECT_EQ(b.set_calls, 0);
  auto r = call(b, post("/override", R"({"datacenter": "nope", "state": "down"})"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("unknown datacenter"), std::string::npos);
  EXPECT_EQ(call(b, "GET /override HTTP/1.1\r\n\r\n").status, 405);
}

TEST(ControlApi, Explain) {
  FakeBackend b;
  auto r = call(b,
                "GET /explain?name=www.example.com&client=81.2.69.0%2F24&type=AAAA "
                "HTTP/1.1\r\n\r\n");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "explained\n");
  EXPECT_EQ(b.last_explain.name, "www.example.com");
  EXPECT_EQ(b.last_explain.client, "81.2.69.0/24");
  EXPECT_EQ(b.last_explain.type, "AAAA");
  EXPECT_EQ(call(b, "GET /explain?name=x HTTP/1.1\r\n\r\n").status, 400);
}

TEST(ControlApi, Durations) {
  EXPECT_EQ(parse_duration("30s"), std::chrono::seconds(30));
  EXPECT_EQ(parse_duration("15m"), std::chrono::seconds(900));
  EXPECT_EQ(parse_duration("1h30m"), std::chrono::seconds(5400));
  EXPECT_EQ(parse_duration("2d"), std::chrono::seconds(172800));
  EXPECT_EQ(parse_duration("90"), std::chrono::seconds(90));
  EXPECT_EQ(parse_duration(""), std::nullopt);
  EXPECT_EQ(parse_duration("0s"), std::nullopt);
  EXPECT_EQ(parse_duration("1h30"), std::nullopt);
  EXPECT_EQ(parse_duration("5w"), std::nullopt);
  EXPECT_EQ(parse_duration("-5m"), std::nullopt);
  EXPECT_EQ(parse_duration("999999999999m"), std::nullopt);
}

constexpr const char* kZoneA = R"(
[zone]
name = "a.test."
[zone.soa]
mname = "ns.a.test."
rname = "h.a.test."
[records]
"@" = "NS ns.a.test."
[datacenters.fra]
addresses = ["192.0.2.10"]
[datacenters.iad]
addresses = ["198.51.100.10"]
)";
constexpr const char* kZoneB = R"(
[zone]
name = "b.test."
[zone.soa]
mname = "ns.b.test."
rname = "h.b.test."
[records]
"@" = "NS ns.b.test."
[datacenters.fra]
addresses = ["192.0.2.20"]
)";

TEST(ControlApi, ResolveOverrideTargets) {
  zone::ServerConfig config;
  auto a = zone::load_zone_text(kZoneA, "a.test.toml", config, nullptr);
  auto b = zone::load_zone_text(kZoneB, "b.test.toml", config, nullptr);
  ASSERT_TRUE(a) << a.error().to_string();
  ASSERT_TRUE(b) << b.error().to_string();
  zone::ZoneSet zones;
  zones.zones = {a.value(), b.value()};
  zones.reindex();
  OverrideRequest r;
  r.datacenter = "iad";
  auto k = resolve_override_target(r, zones);
  ASSERT_TRUE(k) << k.error().to_string();
  EXPECT_EQ(k->datacenter, "a.test/iad");
  r.datacenter = "fra";
  k = resolve_override_target(r, zones);
  ASSERT_FALSE(k);
  EXPECT_NE(k.error().message.find("ambiguous"), std::string::npos);
  EXPECT_NE(k.error().message.find("b.test/fra"), std::string::npos);
  r.datacenter = "b.test./fra";  // the origin's final dot is optional, its case irrelevant
  k = resolve_override_target(r, zones);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->datacenter, "b.test/fra");
  r.datacenter = "B.Test/fra";
  k = resolve_override_target(r, zones);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->datacenter, "b.test/fra");
  r.datacenter = "lhr";
  EXPECT_FALSE(resolve_override_target(r, zones));
  r.datacenter.clear();
  r.address = "192.0.2.20";
  k = resolve_override_target(r, zones);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->kind, health::OverrideKey::Kind::address);
  r.address = "192.0.2.99";
  EXPECT_FALSE(resolve_override_target(r, zones));
  r.address = "not-an-ip";
  EXPECT_FALSE(resolve_override_target(r, zones));
}

// A datacenter of the server's config used by two zones is one datacenter, "lhr", with one
// override slot per zone: "a.test/lhr" names a.test's use of it only.
TEST(ControlApi, SharedDatacenterIsOneTargetWithOneSlotPerZone) {
  auto config = zone::load_server_config_text("[datacenters.lhr]\naddresses = [\"203.0.113.10\"]\n",
                                              "geodns.toml", "/");
  ASSERT_TRUE(config) << config.error().to_string();
  const std::string steer = "[steer.www]\npolicy = \"failover\"\ndatacenters = [\"lhr\"]\n";
  auto a = zone::load_zone_text(std::string(kZoneA) + steer, "a.test.toml", *config, nullptr);
  auto b = zone::load_zone_text(std::string(kZoneB) + steer, "b.test.toml", *config, nullptr);
  ASSERT_TRUE(a) << a.error().to_string();
  ASSERT_TRUE(b) << b.error().to_string();
  zone::ZoneSet zones;
  zones.zones = {a.value(), b.value()};
  zones.reindex();
  const auto lhr_of = [](const zone::Zone& z) {
    for (const auto& dc : z.datacenters) {
      if (dc.name == "lhr") return dc;
    }
    return steer::Datacenter{};
  };
  EXPECT_EQ(lhr_of(**a).key, "lhr");
  EXPECT_EQ(lhr_of(**b).key, "lhr");
  OverrideRequest r;
  r.datacenter = "lhr";
  auto k = resolve_override_target(r, zones);
  ASSERT_TRUE(k) << k.error().to_string();
  EXPECT_EQ(k->datacenter, "lhr");
  r.datacenter = "A.test./lhr";
  k = resolve_override_target(r, zones);
  ASSERT_TRUE(k) << k.error().to_string();
  EXPECT_EQ(k->datacenter, "a.test/lhr");
  EXPECT_EQ(k->dc_id, lhr_of(**a).id);

  // The prober gets both slots, each knowing its shared datacenter.
  const auto slots = server::datacenter_names(zones);
  const auto slot = [&](const std::string& key) {
    for (const auto& s : slots) {
      if (s.key == key) return s;
    }
    return steer::DcSlot{};
  };
  EXPECT_EQ(slot("a.test/lhr").shared, "lhr");
  EXPECT_EQ(slot("b.test/lhr").shared, "lhr");
  EXPECT_EQ(slot("a.test/iad").shared, "");
}

// /status reads the override the policies read: the view's, precedence applied by the prober.
TEST(ControlApi, DescribeZonesReadsTheEffectiveOverride) {
  zone::ServerConfig config;
  auto a = zone::load_zone_text(kZoneA, "a.test.toml", config, nullptr);
  ASSERT_TRUE(a) << a.error().to_string();
  zone::ZoneSet zones;
  zones.zones = {a.value()};
  zones.reindex();
  steer::HealthView view;
  const steer::Datacenter& iad = (*a)->datacenters[1];
  ASSERT_EQ(iad.name, "iad");
  view.set_dc_override(iad.id, steer::Override::force_down);
  const auto described = describe_zones(zones, {}, view);
  ASSERT_EQ(described.size(), 1u);
  ASSERT_EQ(described[0].datacenters.size(), 2u);
  EXPECT_EQ(described[0].datacenters[0].override_mode, steer::Override::none);
  EXPECT_TRUE(described[0].datacenters[0].up);
  EXPECT_EQ(described[0].datacenters[1].override_mode, steer::Override::force_down);
  EXPECT_EQ(described[0].datacenters[1].slot, "a.test/iad");
  EXPECT_FALSE(described[0].datacenters[1].up);
}

}  // namespace
}  // namespace geodns::ops
