// The control endpoint of the real `geodns serve`: metrics that move with traffic, reloads
// (a broken edit keeps the old answers and shows the error; fixing it loads), the loopback
// rule for the listen address, the bearer token, the cross-site rules and the page's
// headers, and `geodns ctl drain` changing answers.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "harness.h"
#include "ops/ctl.h"

namespace geodns::test {
namespace {

namespace fs = std::filesystem;

std::string zone_text(const std::string& fra_address, const std::string& first_dc) {
  return R"([zone]
name = "example.test."
ttl = 300
[zone.soa]
mname = "ns1.example.test."
rname = "hostmaster.example.test."
[records]
"@" = "NS ns1.example.test."
ns1 = "A 192.0.2.53"
[datacenters.fra]
addresses = [")" +
         fra_address + R"("]
[datacenters.iad]
addresses = ["198.51.100.10"]
[steer.www]
ttl = 30
policy = "failover"
datacenters = [")" +
         first_dc + R"(", "iad"]
)";
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::trunc);
  out << text;
}

class OpsServer {
 public:
  explicit OpsServer(std::vector<std::string> extra = {}, bool wait = true)
      : dir_(fs::temp_directory_path() /
             ("geodns-ops-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++))),
        port_(free_port()),
        control_port_(free_port()) {
    fs::create_directories(dir_ / "zones");
    write_file(zone_path(), zone_text("192.0.2.10", "fra"));
    std::vector<std::string> args = {"serve",
                                     "--zones",
                                     (dir_ / "zones").string(),
                                     "--listen",
                                     "127.0.0.1:" + std::to_string(port_),
                                     "--threads",
                                     "2",
                                     "--control",
                                     control(),
                                     "--state-dir",
                                     ""};
    for (auto& e : extra) args.push_back(std::move(e));
    process_ = std::make_unique<ServerProcess>(GEODNS_BINARY, args);
    if (wait) {
      EXPECT_TRUE(process_->wait_ready(port_)) << process_->stderr_text();
    }
  }
  ~OpsServer() {
    process_->stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string control() const { return "127.0.0.1:" + std::to_string(control_port_); }
  fs::path zone_path() const { return dir_ / "zones" / "example.test.toml"; }
  uint16_t port() const { return port_; }
  ServerProcess& process() { return *process_; }

  ops::HttpReply http(const std::string& method, const std::string& target,
                      const std::string& body = "", const std::string& token = "") {
    auto r = ops::http_call(control(), method, target, body, token, 5s);
    EXPECT_TRUE(r) << (r ? "" : r.error().to_string());
    return r ? r.value() : ops::HttpReply{};
  }

  // The A records of www.example.test, sorted.
  std::vector<std::string> www() {
    auto reply = udp_query(port_, make_query("www.example.test.", LDNS_RR_TYPE_A));
    if (!reply) return {"(timeout)"};
    auto pkt = decode(*reply);
    if (!pkt) return {"(undecodable)"};
    std::vector<std::string> out;
    for (const auto& rr : section_strings(pkt.get(), LDNS_SECTION_ANSWER)) {
      out.push_back(rr.substr(rr.find_last_of(" \t") + 1));
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  // Polls until www answers `want` (health/override changes are published asynchronously).
  bool wait_www(const std::vector<std::string>& want, std::chrono::milliseconds max = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + max;
    while (std::chrono::steady_clock::now() < deadline) {
      if (www() == want) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

 private:
  static inline int counter_ = 0;
  fs::path dir_;
  uint16_t port_;
  uint16_t control_port_;
  std::unique_ptr<ServerProcess> process_;
};

double metric(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  ADD_FAILURE() << "no series " << series;
  return -1;
}

TEST(OpsControl, MetricsParseAndCountersMove) {
  OpsServer s;
  auto before = s.http("GET", "/metrics");
  ASSERT_EQ(before.status, 200);
  // Every line is a comment or `name{labels} value`.
  static const std::regex kLine(
      R"re(^(# (HELP|TYPE) .*|[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? [0-9.eE+-]+)$)re");
  std::istringstream in(before.body);
  std::string line;
  while (std::getline(in, line)) EXPECT_TRUE(std::regex_match(line, kLine)) << line;
  const double udp0 = metric(before.body, R"(geodns_queries_total{protocol="udp"})");
  const double a0 = metric(before.body, R"(geodns_queries_by_type_total{qtype="A"})");
  const double steered0 = metric(before.body, "geodns_steered_answers_total");
  for (int i = 0; i < 5; ++i) ASSERT_EQ(s.www(), std::vector<std::string>{"192.0.2.10"});
  ASSERT_TRUE(tcp_query(s.port(), make_query("nope.example.test.", LDNS_RR_TYPE_MX)));
  auto after = s.http("GET", "/metrics");
  EXPECT_EQ(metric(after.body, R"(geodns_queries_total{protocol="udp"})"), udp0 + 5);
  EXPECT_EQ(metric(after.body, R"(geodns_queries_total{protocol="tcp"})"), 1);
  EXPECT_EQ(metric(after.body, R"(geodns_queries_by_type_total{qtype="A"})"), a0 + 5);
  EXPECT_EQ(metric(after.body, R"(geodns_queries_by_type_total{qtype="MX"})"), 1);
  EXPECT_EQ(metric(after.body, R"(geodns_responses_total{rcode="NXDOMAIN"})"), 1);
  EXPECT_EQ(metric(after.body, "geodns_steered_answers_total"), steered0 + 5);
  EXPECT_EQ(metric(after.body, R"(geodns_zone_serial{zone="example.test."})") > 0, true);
  EXPECT_EQ(metric(after.body, R"(geodns_build_info{version="0.1.0"})"), 1);
  EXPECT_EQ(s.http("GET", "/nothing").status, 404);
  EXPECT_EQ(s.http("PUT", "/metrics").status, 405);
}

TEST(OpsControl, BrokenEditKeepsOldAnswersAndIsReported) {
  OpsServer s;
  auto r = s.http("POST", "/reload");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["ok"], true);
  ASSERT_EQ(s.www(), std::vector<std::string>{"192.0.2.10"});

  // An unknown datacenter in the steering list: the whole file is rejected.
  write_file(s.zone_path(), zone_text("192.0.2.99", "fra2"));
  r = s.http("POST", "/reload");
  ASSERT_EQ(r.status, 422) << r.body;
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["ok"], false);
  ASSERT_FALSE(j["errors"].empty());
  const std::string err = j["errors"][0];
  EXPECT_NE(err.find("example.test.toml:"), std::string::npos) << err;
  EXPECT_NE(err.find("fra2"), std::string::npos) << err;
  EXPECT_EQ(s.www(), std::vector<std::string>{"192.0.2.10"});  // the old zone serves

  auto status = nlohmann::json::parse(s.http("GET", "/status").body);
  EXPECT_EQ(status["last_reload"]["ok"], false);
  EXPECT_NE(status["last_reload"]["errors"][0].get<std::string>().find("fra2"), std::string::npos);
  EXPECT_EQ(status["zones"][0]["origin"], "example.test.");
  const uint32_t old_serial = status["zones"][0]["serial"];
  auto m = s.http("GET", "/metrics").body;
  EXPECT_EQ(metric(m, "geodns_last_reload_success"), 0);
  EXPECT_GE(metric(m, "geodns_reload_errors_total"), 1);

  // Fixed: the new address is served, the error is gone, the serial moved.
  write_file(s.zone_path(), zone_text("192.0.2.99", "fra"));
  r = s.http("POST", "/reload");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(s.wait_www({"192.0.2.99"}));
  status = nlohmann::json::parse(s.http("GET", "/status").body);
  EXPECT_EQ(status["last_reload"]["ok"], true);
  EXPECT_TRUE(status["last_reload"]["errors"].empty());
  EXPECT_NE(status["zones"][0]["serial"].get<uint32_t>(), old_serial);
  EXPECT_EQ(metric(s.http("GET", "/metrics").body, "geodns_last_reload_success"), 1);
}

// Without [server] xdp, /status says the AF_XDP path is off (not just absent), while its UDP
// answers come from the kernel's sockets: counted there, none on the XDP counters.
TEST(OpsControl, StatusSaysXdpIsOffWithoutIt) {
  OpsServer s;
  ASSERT_EQ(s.www(), std::vector<std::string>{"192.0.2.10"});
  auto status = nlohmann::json::parse(s.http("GET", "/status").body);
  ASSERT_TRUE(status.contains("xdp")) << status.dump();
  EXPECT_EQ(status["xdp"]["enabled"], false);
  EXPECT_TRUE(status["xdp"]["queues"].empty());
  EXPECT_GE(status["transport"]["udp_received"].get<uint64_t>(), 1U);
  EXPECT_EQ(status["transport"]["xdp_received"], 0);
  EXPECT_EQ(status["transport"]["xdp_sent"], 0);
}

// The same through the file watcher alone: no signal, no POST.
TEST(OpsControl, WatchedEditIsReloadedAndReported) {
  OpsServer s;
  ASSERT_EQ(s.www(), std::vector<std::string>{"192.0.2.10"});
  auto wait_reload = [&](bool want_ok) {
    const auto deadline = std::chrono::steady_clock::now() + 8s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto j = nlohmann::json::parse(s.http("GET", "/status").body, nullptr, false);
      if (j.is_object() && j["last_reload"]["reason"] == "file change" &&
          j["last_reload"]["ok"] == want_ok) {
        return j;
      }
      std::this_thread::sleep_for(100ms);
    }
    return nlohmann::json();
  };
  write_file(s.zone_path(), zone_text("192.0.2.99", "fra2"));
  auto j = wait_reload(false);
  ASSERT_TRUE(j.is_object()) << "no failed reload reported after a broken edit";
  EXPECT_NE(j["last_reload"]["errors"][0].get<std::string>().find("fra2"), std::string::npos);
  EXPECT_EQ(s.www(), std::vector<std::string>{"192.0.2.10"});
  write_file(s.zone_path(), zone_text("192.0.2.99", "fra"));
  j = wait_reload(true);
  ASSERT_TRUE(j.is_object()) << "the fixed file was not reloaded";
  EXPECT_TRUE(s.wait_www({"192.0.2.99"}));
}

TEST(OpsControl, NonLoopbackListenNeedsAToken) {
  const std::string addr = "0.0.0.0:" + std::to_string(free_port());
  ServerProcess p(GEODNS_BINARY, {"serve", "--zones", GEODNS_SOURCE_DIR "/zones", "--listen",
                                  "127.0.0.1:" + std::to_string(free_port()), "--control", addr,
                                  "--threads", "1", "--geoip", ""});
  ASSERT_TRUE(p.wait_exit(10s)) << "must refuse to start";
  EXPECT_EQ(p.exit_code(), 1);
  EXPECT_NE(p.stderr_text().find("non-loopback"), std::string::npos) << p.stderr_text();
}

// `geodns check` is the systemd unit's ExecStartPre: what serve refuses, check refuses first
// (found running the unit: check said ok, then serve exited and systemd kept restarting it).
TEST(OpsControl, CheckRefusesANonLoopbackListenWithoutAToken) {
  const std::vector<std::string> base = {
      "check", "--zones", GEODNS_SOURCE_DIR "/zones", "--geoip", "", "--control", "0.0.0.0:8053"};
  ServerProcess refused(GEODNS_BINARY, base);
  ASSERT_TRUE(refused.wait_exit(10s));
  EXPECT_EQ(refused.exit_code(), 1);
  EXPECT_NE(refused.stderr_text().find("non-loopback"), std::string::npos) << refused.stderr_text();
  std::vector<std::string> with_token = base;
  with_token.insert(with_token.end(), {"--control-token", "s3cret"});
  ServerProcess accepted(GEODNS_BINARY, with_token);
  ASSERT_TRUE(accepted.wait_exit(10s));
  EXPECT_EQ(accepted.exit_code(), 0) << accepted.stderr_text();
}

TEST(OpsControl, TokenIsEnforced) {
  OpsServer s({"--control-token", "s3cret"});
  EXPECT_EQ(s.http("GET", "/status").status, 401);
  EXPECT_EQ(s.http("GET", "/status", "", "wrong").status, 401);
  EXPECT_EQ(s.http("GET", "/status", "", "s3cret").status, 200);
  EXPECT_EQ(s.http("POST", "/reload").status, 401);
}

// Sends raw bytes to the control port and reads until the server closes.
std::string raw_exchange(const std::string& control, const std::string& bytes) {
  const uint16_t port = static_cast<uint16_t>(std::stoi(control.substr(control.find(':') + 1)));
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) == 0) {
    (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) {
      out.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return out;
}

TEST(OpsControl, MalformedRequestsAreRefusedAndTheServerLives) {
  OpsServer s;
  EXPECT_TRUE(raw_exchange(s.control(), "GARBAGE\r\n\r\n").starts_with("HTTP/1.1 400"));
  EXPECT_TRUE(raw_exchange(s.control(), "GET / SPDY/9\r\n\r\n").starts_with("HTTP/1.1 505"));
  EXPECT_TRUE(
      raw_exchange(s.control(), "POST /reload HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n")
          .starts_with("HTTP/1.1 413"));
  EXPECT_TRUE(
      raw_exchange(s.control(), "GET / HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n")
          .starts_with("HTTP/1.1 431"));
  EXPECT_EQ(s.http("GET", "/explain?name=www.example.test.&client=192.0.2.1").status, 200);
  EXPECT_EQ(s.http("GET", "/explain?name=www.example.test.").status, 400);
  EXPECT_TRUE(s.process().running());
}

// A raw POST /override draining fra with these extra header lines, as another site could
// send it (no X-Geodns-Request unless given).
std::string drain_request(const OpsServer& s, const std::string& headers) {
  const std::string body = "datacenter=fra&state=down&reason=forged";
  return "POST /override HTTP/1.1\r\nHost: " + s.control() +
         "\r\nContent-Type: application/x-www-form-urlencoded\r\n" + headers +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

int status_of(const std::string& response) {
  return response.size() > 12 && response.starts_with("HTTP/1.1 ")
             ? std::stoi(response.substr(9, 3))
             : -1;
}

// The cross-site rules on the real binary: what a browser on another site can send is
// refused and changes no answer; geodns ctl's and the page's own requests pass.
TEST(OpsControl, CrossSiteStateChangesAreRefused) {
  OpsServer s;
  ASSERT_EQ(s.www(), std::vector<std::string>{"192.0.2.10"});
  const std::string origin = "Origin: http://" + s.control() + "\r\n";
  const std::pair<const char*, std::string> refused[] = {
      {"no request header (a form)", ""},
      {"foreign Origin", "X-Geodns-Request: 1\r\nOrigin: http://evil.example\r\n"},
      {"another port", "X-Geodns-Request: 1\r\nOrigin: http://127.0.0.1:1\r\n"},
      {"Sec-Fetch-Site", "X-Geodns-Request: 1\r\n" + origin + "Sec-Fetch-Site: same-site\r\n"},
  };
  for (const auto& [what, headers] : refused) {
    const std::string r = raw_exchange(s.control(), drain_request(s, headers));
    EXPECT_EQ(status_of(r), 403) << what << ": " << r;
    EXPECT_EQ(r.find("Access-Control-"), std::string::npos) << what << ": " << r;
  }
  const std::string reload =
      raw_exchange(s.control(), "POST /reload HTTP/1.1\r\nHost: " + s.control() + "\r\n\r\n");
  EXPECT_EQ(status_of(reload), 403) << reload;
  EXPECT_NE(reload.find("X-Geodns-Request"), std::string::npos) << reload;
  auto status = nlohmann::json::parse(s.http("GET", "/status").body);
  EXPECT_TRUE(status["overrides"].empty()) << status["overrides"];
  EXPECT_EQ(status["reloads_total"], 0) << "a refused POST /reload must not reload";
  EXPECT_EQ(s.www(), std::vector<std::string>{"192.0.2.10"});

  // The page's own request (same origin, as a browser sends it) drains.
  const std::string ok = raw_exchange(
      s.control(),
      drain_request(s, "X-Geodns-Request: 1\r\n" + origin + "Sec-Fetch-Site: same-origin\r\n"));
  EXPECT_EQ(status_of(ok), 200) << ok;
  EXPECT_TRUE(s.wait_www({"198.51.100.10"}));
  // A DNS-rebound name is refused even for reads.
  const std::string rebound =
      raw_exchange(s.control(), "GET /status HTTP/1.1\r\nHost: rebind.evil.example:" +
                                    s.control().substr(s.control().find(':') + 1) + "\r\n\r\n");
  EXPECT_EQ(status_of(rebound), 403) << rebound;
}

TEST(OpsControl, TokenAndCrossSiteRulesTogether) {
  OpsServer s({"--control-token", "s3cret"});
  const std::string bearer = "Authorization: Bearer s3cret\r\n";
  const std::string ours = "X-Geodns-Request: 1\r\n";
  // The token alone is not enough (a proxy may add it to forged requests too) ...
  std::string r = raw_exchange(s.control(), drain_request(s, bearer));
  EXPECT_EQ(status_of(r), 403) << r;
  // ... nor the request header without the token, nor both from another origin.
  r = raw_exchange(s.control(), drain_request(s, ours));
  EXPECT_EQ(status_of(r), 401) << r;
  r = raw_exchange(s.control(),
                   drain_request(s, ours + bearer + "Origin: http://evil.example\r\n"));
  EXPECT_EQ(status_of(r), 403) << r;
  EXPECT_EQ(s.www(), std::vector<std::string>{"192.0.2.10"});
  // Both, from here: drained.
  r = raw_exchange(s.control(), drain_request(s, ours + bearer));
  EXPECT_EQ(status_of(r), 200) << r;
  EXPECT_TRUE(s.wait_www({"198.51.100.10"}));
}

// The page itself: served without the token (it holds no data), with the headers that keep
// it from being framed, sniffed or extended by injected script.
TEST(OpsControl, StatusPageHeaders) {
  OpsServer s({"--control-token", "s3cret"});
  const std::string page =
      raw_exchange(s.control(), "GET / HTTP/1.1\r\nHost: " + s.control() + "\r\n\r\n");
  ASSERT_EQ(status_of(page), 200) << page.substr(0, 300);
  const std::string head = page.substr(0, page.find("\r\n\r\n"));
  for (const char* h :
       {"Content-Type: text/html",
        "Content-Security-Policy: default-src 'none'; script-src 'sha256-",
        "frame-ancestors 'none'", "X-Frame-Options: DENY", "X-Content-Type-Options: nosniff",
        "Referrer-Policy: no-referrer", "Cache-Control: no-store"}) {
    EXPECT_NE(head.find(h), std::string::npos) << h << " in\n" << head;
  }
  EXPECT_EQ(head.find("Access-Control-"), std::string::npos) << head;
  EXPECT_EQ(s.http("GET", "/status").status, 401) << "the data still needs the token";
}

std::pair<int, std::string> ctl(const OpsServer& s, std::vector<std::string> args) {
  args.insert(args.begin(), {"ctl", "--control", s.control()});
  ServerProcess p(GEODNS_BINARY, args);
  EXPECT_TRUE(p.wait_exit(10s));
  return {p.exit_code().value_or(-1), p.stdout_text() + p.stderr_text()};
}

// ctl's drain, undrain and reload are state changes: they pass the cross-site rules only
// because ctl sends X-Geodns-Request.
TEST(OpsControl, CtlDrainChangesAnswers) {
  OpsServer s;
  ASSERT_EQ(s.www(), std::vector<std::string>{"192.0.2.10"});
  auto [rc, out] = ctl(s, {"drain", "fra", "--for", "10m", "--reason", "test drain"});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_TRUE(s.wait_www({"198.51.100.10"})) << "drained fra still answers";
  std::tie(rc, out) = ctl(s, {"status"});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("example.test/fra"), std::string::npos) << out;
  EXPECT_NE(out.find("drained"), std::string::npos) << out;
  EXPECT_NE(out.find("test drain"), std::string::npos) << out;
  std::tie(rc, out) = ctl(s, {"explain", "www.example.test", "--client", "192.0.2.1"});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("(drained)"), std::string::npos) << out;
  std::tie(rc, out) = ctl(s, {"undrain", "example.test./fra"});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_TRUE(s.wait_www({"192.0.2.10"}));
  std::tie(rc, out) = ctl(s, {"drain", "lhr"});
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("unknown datacenter"), std::string::npos) << out;
  std::tie(rc, out) = ctl(s, {"reload"});
  EXPECT_EQ(rc, 0) << out;
}

TEST(OpsControl, CtlUnreachableIsAClearError) {
  ServerProcess p(GEODNS_BINARY,
                  {"ctl", "--control", "127.0.0.1:" + std::to_string(free_port()), "status"});
  ASSERT_TRUE(p.wait_exit(10s));
  EXPECT_EQ(p.exit_code(), 1);
  EXPECT_NE(p.stderr_text().find("cannot reach the control endpoint"), std::string::npos)
      << p.stderr_text();
}

}  // namespace
}  // namespace geodns::test
