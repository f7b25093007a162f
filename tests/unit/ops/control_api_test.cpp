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

// A POST as geodns ctl and the status page send it: with the request header.
std::string post(const std::string& path, const std::string& body,
                 const std::string& type = "application/json", const std::string& extra = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:8053\r\nX-Geodns-Request: 1\r\n" + extra +
         "Content-Type: " + type + "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

// A POST with only the given headers (besides Content-Length): what another site can forge.
std::string bare_post(const std::string& path, const std::string& headers,
                      const std::string& body = R"({"datacenter": "fra", "state": "down"})") {
  return "POST " + path + " HTTP/1.1\r\n" + headers +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::optional<std::string> header_of(const HttpResponse& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return std::nullopt;
}

bool has_cors_header(const HttpResponse& r) {
  for (const auto& [n, v] : r.headers) {
    if (n.rfind("Access-Control-", 0) == 0) return true;
  }
  return false;
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
  r = call(b, "POST /metrics HTTP/1.1\r\nX-Geodns-Request: 1\r\n\r\n");
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
  // The token is never read from the URL (history, logs, Referer); the page, which holds no
  // data, is served without it and asks for it.
  EXPECT_EQ(call(b, "GET /status?token=s3cret HTTP/1.1\r\n\r\n", "s3cret").status, 401);
  EXPECT_EQ(call(b, "GET / HTTP/1.1\r\n\r\n", "s3cret").status, 200);
  EXPECT_EQ(b.state_calls, 1);
  EXPECT_EQ(call(b, post("/reload", ""), "s3cret").status, 401);
  EXPECT_EQ(
      call(b, post("/override", R"({"datacenter": "fra", "state": "down"})"), "s3cret").status,
      401);
  EXPECT_EQ(b.reload_calls, 0);
  EXPECT_EQ(b.set_calls, 0);
  EXPECT_EQ(
      call(b, post("/reload", "", "application/json", "Authorization: Bearer s3cret\r\n"), "s3cret")
          .status,
      200);
  EXPECT_EQ(b.reload_calls, 1);
}

// A state-changing request from another site is refused with 403 before it reaches the
// backend; geodns ctl's and the page's own requests pass.
TEST(ControlApi, CrossSiteRequestsAreRefused) {
  FakeBackend b;
  const std::string host = "Host: 127.0.0.1:8053\r\n";
  const std::string ours = host + "X-Geodns-Request: 1\r\n";
  struct Case {
    const char* what;
    std::string headers;
    const char* says;
  };
  const Case refused[] = {
      {"no request header (a cross-site form)", host + "Content-Type: text/plain\r\n",
       "X-Geodns-Request"},
      {"empty request header", host + "X-Geodns-Request: \r\n", "X-Geodns-Request"},
      {"foreign Origin", ours + "Origin: http://evil.example\r\n", "cross-origin"},
      {"another port of this host", ours + "Origin: http://127.0.0.1:9999\r\n", "cross-origin"},
      {"opaque Origin", ours + "Origin: null\r\n", "cross-origin"},
      {"Origin without Host", "X-Geodns-Request: 1\r\nOrigin: http://127.0.0.1:8053\r\n",
       "cross-origin"},
      {"Sec-Fetch-Site cross-site", ours + "Sec-Fetch-Site: cross-site\r\n", "cross-site"},
      {"Sec-Fetch-Site same-site", ours + "Sec-Fetch-Site: same-site\r\n", "cross-site"},
  };
  for (const auto& c : refused) {
    for (const char* path : {"/override", "/override/clear", "/reload"}) {
      auto r = call(b, bare_post(path, c.headers));
      EXPECT_EQ(r.status, 403) << c.what << " " << path;
      EXPECT_NE(r.body.find(c.says), std::string::npos) << c.what << ": " << r.body;
      EXPECT_FALSE(has_cors_header(r)) << c.what;
    }
    auto r = call(b, "DELETE /override?datacenter=fra HTTP/1.1\r\n" + c.headers + "\r\n");
    EXPECT_EQ(r.status, 403) << c.what << " DELETE";
  }
  EXPECT_EQ(b.set_calls + b.clear_calls + b.reload_calls, 0);

  // The page's own requests (same origin, as Chromium sends them) and geodns ctl's.
  auto r = call(b, bare_post("/override", ours + "Origin: http://127.0.0.1:8053\r\n" +
                                              "Sec-Fetch-Site: same-origin\r\n"));
  EXPECT_EQ(r.status, 200) << r.body;
  r = call(b, bare_post("/override",
                        "Host: [::1]:80\r\nX-Geodns-Request: 1\r\n"
                        "Origin: http://[::1]\r\n"));
  EXPECT_EQ(r.status, 200) << "the default port is implied: " << r.body;
  r = call(b,
           bare_post("/override",
                     "Host: Status.Example.com\r\nX-Geodns-Request: 1\r\n"
                     "Authorization: Bearer s3cret\r\n"
                     "Origin: https://status.example.com\r\n"),
           "s3cret");
  EXPECT_EQ(r.status, 200) << "behind a TLS proxy that passes Host: " << r.body;
  r = call(b, bare_post("/reload", ours));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(b.set_calls, 3);
  EXPECT_EQ(b.reload_calls, 1);

  // The bearer token does not stand in for the header: a reverse proxy may add it to every
  // request, a forged form's included. Nor does any other Authorization (a proxy's Basic
  // credentials go with a forged form too).
  r = call(b, bare_post("/override", host + "Authorization: Bearer s3cret\r\n"), "s3cret");
  EXPECT_EQ(r.status, 403) << r.body;
  r = call(b, bare_post("/override", host + "Authorization: Basic dTpw\r\n"));
  EXPECT_EQ(r.status, 403) << r.body;
  // With the token, another origin is refused all the same.
  r = call(b,
           bare_post("/override",
                     ours + "Authorization: Bearer s3cret\r\n" + "Origin: http://evil.example\r\n"),
           "s3cret");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(b.set_calls, 3);

  // Reads need nothing (they change nothing), and a CORS preflight is never granted.
  EXPECT_EQ(call(b, "GET /status HTTP/1.1\r\nOrigin: http://evil.example\r\n\r\n").status, 200);
  r = call(b,
           "OPTIONS /override HTTP/1.1\r\nHost: 127.0.0.1:8053\r\nOrigin: http://evil.example\r\n"
           "Access-Control-Request-Method: POST\r\n"
           "Access-Control-Request-Headers: x-geodns-request\r\n\r\n");
  EXPECT_EQ(r.status, 405);
  EXPECT_FALSE(has_cors_header(r));
}

// Without a token, a Host that is a name means DNS rebinding: refused for every route.
TEST(ControlApi, HostNamesNeedAToken) {
  FakeBackend b;
  for (const char* host :
       {"127.0.0.1:8053", "127.0.0.1", "[::1]:8053", "localhost:8053", "LOCALHOST"}) {
    EXPECT_EQ(call(b, std::string("GET /status HTTP/1.1\r\nHost: ") + host + "\r\n\r\n").status,
              200)
        << host;
  }
  for (const char* host : {"rebind.evil.example:8053", "geodns.example.com", "[evil]:8053",
                           "localhost.evil.example"}) {
    for (const char* target : {"/status", "/", "/metrics"}) {
      auto r = call(b, std::string("GET ") + target + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
      EXPECT_EQ(r.status, 403) << host << target;
      EXPECT_NE(r.body.find("DNS rebinding"), std::string::npos) << r.body;
    }
    auto r = call(
        b, bare_post("/override", std::string("Host: ") + host + "\r\nX-Geodns-Request: 1\r\n"));
    EXPECT_EQ(r.status, 403) << host;
  }
  EXPECT_EQ(b.set_calls, 0);
  // With a token (needed for a non-loopback listener, and behind a proxy) names are fine.
  EXPECT_EQ(call(b,
                 "GET /status HTTP/1.1\r\nHost: geodns.example.com\r\n"
                 "Authorization: Bearer s3cret\r\n\r\n",
                 "s3cret")
                .status,
            200);
}

TEST(ControlApi, SecurityHeaders) {
  FakeBackend b;
  auto page = call(b, "GET / HTTP/1.1\r\nHost: 127.0.0.1:8053\r\n\r\n");
  ASSERT_EQ(page.status, 200);
  const auto csp = header_of(page, "Content-Security-Policy");
  ASSERT_TRUE(csp);
  EXPECT_EQ(*csp, status_page_csp());
  for (const char* part :
       {"default-src 'none'", "script-src 'sha256-", "style-src 'sha256-", "connect-src 'self'",
        "frame-ancestors 'none'", "form-action 'none'", "base-uri 'none'"}) {
    EXPECT_NE(csp->find(part), std::string::npos) << part << " in " << *csp;
  }
  EXPECT_EQ(csp->find("unsafe"), std::string::npos) << *csp;
  EXPECT_EQ(header_of(page, "X-Frame-Options"), "DENY");
  // Inline style attributes would be blocked by the hash-only style-src.
  EXPECT_EQ(page.body.find(" style=\""), std::string::npos);
  EXPECT_NE(page.body.find("sessionStorage"), std::string::npos)
      << "where the page keeps the token";
  EXPECT_NE(page.body.find("X-Geodns-Request"), std::string::npos);
  // Every response, errors included: no sniffing, no Referer, no cross-origin embedding,
  // and no CORS permission for anyone.
  for (const std::string& req :
       {std::string("GET / HTTP/1.1\r\n\r\n"), std::string("GET /status HTTP/1.1\r\n\r\n"),
        std::string("GET /nothing HTTP/1.1\r\n\r\n"), post("/reload", ""),
        bare_post("/override", "Origin: http://evil.example\r\n")}) {
    auto r = call(b, req);
    EXPECT_EQ(header_of(r, "X-Content-Type-Options"), "nosniff") << req;
    EXPECT_EQ(header_of(r, "Referrer-Policy"), "no-referrer") << req;
    EXPECT_EQ(header_of(r, "Cross-Origin-Resource-Policy"), "same-origin") << req;
    EXPECT_FALSE(has_cors_header(r)) << req;
  }
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

  r = call(b, "DELETE /override?datacenter=fra HTTP/1.1\r\nX-Geodns-Request: 1\r\n\r\n");
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
