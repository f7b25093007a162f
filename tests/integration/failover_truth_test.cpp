// Failover truth through the real binary: health state survives a check edit, new addresses
// are checked before they are served, broken zones at start-up fall back to their last good
// version, the automatic serial is a function of the files, https checks verify a host name,
// and the server says when it is still warming up.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "http_backend.h"
#include "ops/ctl.h"
#include "serve_fixture.h"

namespace geodns::test {
namespace {

void replace_file(const TempDir& dir, const std::string& name, const std::string& text) {
  dir.write(name + ".tmp", text);
  std::filesystem::rename(dir.file(name + ".tmp"), dir.file(name));
}

std::string run_command(const std::string& command, int* status) {
  std::string out;
  FILE* f = popen(command.c_str(), "r");
  if (f == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  *status = pclose(f);
  return out;
}

// One zone: datacenter a and b, both checked over HTTP on `port` with `path`.
std::string health_zone(uint16_t port, const std::string& a_addresses, const std::string& path,
                        const std::string& extra_check = "") {
  return R"([zone]
name = "truth.example."
[zone.soa]
mname = "ns1.truth.example."
rname = "hostmaster.truth.example."
[records]
"@" = "NS ns1.truth.example."
ns1 = "A 127.0.0.1"
[datacenters.a]
addresses = [)" +
         a_addresses + R"(]
check = "web"
[datacenters.b]
addresses = ["127.0.0.42"]
check = "web"
[checks.web]
type = "http"
port = )" +
         std::to_string(port) +
         R"(
path = ")" +
         path + R"("
interval = "1s"
fall = 1
rise = 1
)" + extra_check +
         R"(
[steer.www]
policy = "roundrobin"
datacenters = ["a", "b"]
answers = 4
ttl = 30
)";
}

std::string answers_of(Server& s) {
  auto p = s.udp("www.truth.example", LDNS_RR_TYPE_A);
  return p ? joined(section_strings(p.get(), LDNS_SECTION_ANSWER)) : std::string();
}

bool wait_until(Server& s, bool present, const std::string& address,
                std::chrono::milliseconds max) {
  const auto deadline = std::chrono::steady_clock::now() + max;
  while (std::chrono::steady_clock::now() < deadline) {
    if ((answers_of(s).find(address) != std::string::npos) == present) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

// Queries for `span`; returns how many answers contained `address` and the first of them.
struct Seen {
  int count = 0;
  std::string first;
};
Seen seen_during(Server& s, const std::string& address, std::chrono::milliseconds span) {
  const auto deadline = std::chrono::steady_clock::now() + span;
  Seen seen;
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string a = answers_of(s);
    if (a.find(address) != std::string::npos && seen.count++ == 0) {
      seen.first = "at " +
                   std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::steady_clock::now() - deadline + span)
                                      .count()) +
                   " ms: " + a;
    }
    std::this_thread::sleep_for(5ms);
  }
  return seen;
}

ServeOptions options_for(const TempDir& zones) {
  ServeOptions o;
  o.zones_dir = zones.path();
  o.geoip = "";
  o.threads = 1;
  o.v6 = false;
  return o;
}

// Datacenter b has no backend (connection refused: down). Editing the check's path gives
// every target a new key; b must stay out of the answers until the edited check says
// otherwise, not return as a fresh, unknown (hence up) target.
TEST(FailoverTruth, EditedCheckKeepsADownDatacenterOut) {
  const uint16_t port = free_port();
  HttpBackend a("127.0.0.41", port);
  ASSERT_TRUE(a.start());
  TempDir zones;
  zones.write("truth.example.toml", health_zone(port, "\"127.0.0.41\"", "/"));
  Server s(options_for(zones));
  ASSERT_TRUE(s.ready) << s.process->stderr_text();
  ASSERT_TRUE(wait_until(s, false, "127.0.0.42", 5s)) << answers_of(s);
  ASSERT_NE(answers_of(s).find("127.0.0.41"), std::string::npos);

  replace_file(zones, "truth.example.toml", health_zone(port, "\"127.0.0.41\"", "/edited"));
  kill(s.process->pid(), SIGHUP);
  const Seen seen = seen_during(s, "127.0.0.42", 2500ms);
  EXPECT_EQ(seen.count, 0) << seen.first << s.process->stderr_text();
  EXPECT_NE(answers_of(s).find("127.0.0.41"), std::string::npos);
  const std::string log = s.process->stderr_text();
  EXPECT_NE(log.find("event=reload_done"), std::string::npos) << log;
  EXPECT_EQ(log.find("event=reload_error"), std::string::npos) << log;
  EXPECT_EQ(s.process->stop(), 0);
}

// A reload adds 127.0.0.43 (no backend) to datacenter a, which has a healthy address: the
// new address is checked before it is served, so it never shows up in an answer.
TEST(FailoverTruth, NewAddressIsCheckedBeforeItIsServed) {
  const uint16_t port = free_port();
  HttpBackend a("127.0.0.41", port);
  HttpBackend b("127.0.0.42", port);
  ASSERT_TRUE(a.start());
  ASSERT_TRUE(b.start());
  TempDir zones;
  zones.write("truth.example.toml", health_zone(port, "\"127.0.0.41\"", "/"));
  Server s(options_for(zones));
  ASSERT_TRUE(s.ready) << s.process->stderr_text();
  ASSERT_TRUE(wait_until(s, true, "127.0.0.42", 5s)) << answers_of(s);

  replace_file(zones, "truth.example.toml",
               health_zone(port, "\"127.0.0.41\", \"127.0.0.43\"", "/"));
  kill(s.process->pid(), SIGHUP);
  const Seen seen = seen_during(s, "127.0.0.43", 2500ms);
  EXPECT_EQ(seen.count, 0) << seen.first << s.process->stderr_text();
  const std::string after = answers_of(s);
  EXPECT_NE(after.find("127.0.0.41"), std::string::npos) << after;
  EXPECT_NE(after.find("127.0.0.42"), std::string::npos) << after;
  const std::string log = s.process->stderr_text();
  EXPECT_NE(log.find("event=reload_done"), std::string::npos) << log;
  EXPECT_EQ(s.process->stop(), 0);
}

// Verified against the bare IP nearly every real certificate fails; `geodns check` must
// refuse the file with the position of the check instead.
TEST(FailoverTruth, VerifyingHttpsCheckWithoutHostIsALoadError) {
  TempDir zones;
  const std::string https = R"(
[checks.tls]
type = "https"
path = "/"
)";
  std::string text = health_zone(443, "\"127.0.0.41\"", "/", https);
  text.replace(text.find("check = \"web\"\n[datacenters.b]"), 13, "check = \"tls\"");
  zones.write("truth.example.toml", text);
  int status = 0;
  std::string out =
      run_command(std::string(GEODNS_BINARY) + " check --zones " + zones.path() + " 2>&1", &status);
  EXPECT_NE(WEXITSTATUS(status), 0) << out;
  const auto line =
      1 +
      std::count(text.begin(), text.begin() + static_cast<long>(text.find("[checks.tls]")), '\n');
  EXPECT_NE(out.find("truth.example.toml:" + std::to_string(line) + ":1: [checks.tls]"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("needs a host"), std::string::npos) << out;
  // With a host, or without verification, the same check loads.
  std::string with_host = text;
  with_host.replace(with_host.find("type = \"https\""), 14,
                    "type = \"https\"\nhost = \"www.truth.example\"");
  zones.write("truth.example.toml", with_host);
  out =
      run_command(std::string(GEODNS_BINARY) + " check --zones " + zones.path() + " 2>&1", &status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  std::string unverified = text;
  unverified.replace(unverified.find("type = \"https\""), 14,
                     "type = \"https\"\nverify_tls = false");
  zones.write("truth.example.toml", unverified);
  out =
      run_command(std::string(GEODNS_BINARY) + " check --zones " + zones.path() + " 2>&1", &status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
}

// A small static zone (no health checks), `address` for ns1.
std::string static_zone(const std::string& origin, const std::string& address) {
  return "[zone]\nname = \"" + origin + "\"\n[zone.soa]\nmname = \"ns1." + origin +
         "\"\nrname = \"hostmaster." + origin + "\"\n[records]\n\"@\" = \"NS ns1." + origin +
         "\"\nns1 = \"A " + address + "\"\n";
}

void set_mtime(const std::string& path, time_t seconds) {
  timespec times[2] = {{seconds, 0}, {seconds, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
}

// `geodns serve` on the given zones and state directory, with its control endpoint.
struct Daemon {
  Daemon(const std::string& zones, const std::string& state_dir)
      : port(free_port()), control_port(free_port()) {
    process = std::make_unique<ServerProcess>(
        GEODNS_BINARY,
        std::vector<std::string>{"serve", "--zones", zones, "--listen",
                                 "127.0.0.1:" + std::to_string(port), "--threads", "1", "--control",
                                 control(), "--state-dir", state_dir});
    ready = process->wait_ready(port);
  }
  std::string control() const { return "127.0.0.1:" + std::to_string(control_port); }
  std::string get(const std::string& target) {
    auto r = ops::http_call(control(), "GET", target, "", "", 5s);
    EXPECT_TRUE(r) << (r ? "" : r.error().to_string());
    return r ? r->body : std::string();
  }
  Packet query(const std::string& name, ldns_rr_type type) {
    auto r = udp_query(port, make_query(name, type));
    return r ? decode(*r) : nullptr;
  }
  // The SOA serial of `origin`, or 0.
  uint32_t serial(const std::string& origin) {
    auto p = query(origin, LDNS_RR_TYPE_SOA);
    if (!p || ldns_pkt_ancount(p.get()) == 0) return 0;
    ldns_rr* soa = ldns_rr_list_rr(ldns_pkt_answer(p.get()), 0);
    return ldns_rdf2native_int32(ldns_rr_rdf(soa, 2));
  }
  uint16_t port;
  uint16_t control_port;
  bool ready = false;
  std::unique_ptr<ServerProcess> process;
};

// An edit the running server refused (broken file) must not take the zone down at the next
// restart: it serves its last good version from state_dir, loudly; a broken zone with no last
// good version is not served, and the other zones are.
TEST(FailoverTruth, ZoneBrokenAtStartupServesItsLastGoodVersion) {
  TempDir zones;
  TempDir state;
  zones.write("truth.example.toml", static_zone("truth.example.", "192.0.2.1"));
  zones.write("other.example.toml", static_zone("other.example.", "192.0.2.2"));
  uint32_t good_serial = 0;
  {
    Daemon d(zones.path(), state.path());
    ASSERT_TRUE(d.ready) << d.process->stderr_text();
    good_serial = d.serial("truth.example.");
    ASSERT_NE(good_serial, 0u);
    EXPECT_EQ(d.process->stop(), 0);
  }
  zones.write("truth.example.toml", static_zone("truth.example.", "192.0.2.9") + "broken = [\n");
  zones.write("new.example.toml", static_zone("new.example.", "192.0.2.3") + "[records.x\n");

  Daemon d(zones.path(), state.path());
  ASSERT_TRUE(d.ready) << d.process->stderr_text();
  auto p = d.query("ns1.truth.example.", LDNS_RR_TYPE_A);
  ASSERT_TRUE(p);
  EXPECT_TRUE(has_line(section_strings(p.get(), LDNS_SECTION_ANSWER), "192.0.2.1"));
  EXPECT_EQ(d.serial("truth.example."), good_serial);
  p = d.query("ns1.other.example.", LDNS_RR_TYPE_A);
  ASSERT_TRUE(p);
  EXPECT_TRUE(has_line(section_strings(p.get(), LDNS_SECTION_ANSWER), "192.0.2.2"));
  p = d.query("ns1.new.example.", LDNS_RR_TYPE_A);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_REFUSED);  // not served
  // Loud: log, /status, metrics and the status page (which renders /status).
  const std::string log = d.process->stderr_text();
  EXPECT_NE(log.find("truth.example.toml:"), std::string::npos) << log;
  EXPECT_NE(log.find("serving its last good version"), std::string::npos) << log;
  EXPECT_NE(log.find("new.example.toml:"), std::string::npos) << log;
  EXPECT_NE(log.find("zone not served"), std::string::npos) << log;
  const std::string status = d.get("/status");
  EXPECT_NE(status.find("serving its last good version"), std::string::npos) << status;
  EXPECT_NE(status.find("zone not served"), std::string::npos) << status;
  const std::string metrics = d.get("/metrics");
  EXPECT_NE(metrics.find("geodns_last_reload_success 0"), std::string::npos) << metrics;
  EXPECT_NE(d.get("/").find("last_reload"), std::string::npos);
  // `geodns check` still refuses the files.
  ServerProcess check(GEODNS_BINARY, {"check", "--zones", zones.path()});
  ASSERT_TRUE(check.wait_exit(10s));
  EXPECT_NE(check.exit_code(), 0);
  EXPECT_EQ(d.process->stop(), 0);
}

// The automatic serial is the newest modification time of the zone's inputs: equal on every
// server given the same files, stable across restarts, and moving with every edit.
TEST(FailoverTruth, AutomaticSerialIsTheSameOnEveryServerAndRestart) {
  TempDir zones;
  TempDir state_a;
  TempDir state_b;
  zones.write("truth.example.toml", static_zone("truth.example.", "192.0.2.1"));
  set_mtime(zones.file("truth.example.toml"), 1'700'000'000);
  {
    Daemon a(zones.path(), state_a.path());
    ASSERT_TRUE(a.ready) << a.process->stderr_text();
    EXPECT_EQ(a.serial("truth.example."), 1'700'000'000u);
    EXPECT_EQ(a.process->stop(), 0);
  }
  std::this_thread::sleep_for(1100ms);  // a clock-based serial would move now
  {
    Daemon a(zones.path(), state_a.path());  // restart
    Daemon b(zones.path(), state_b.path());  // another server of the same NS set
    ASSERT_TRUE(a.ready && b.ready) << a.process->stderr_text() << b.process->stderr_text();
    EXPECT_EQ(a.serial("truth.example."), 1'700'000'000u);
    EXPECT_EQ(b.serial("truth.example."), 1'700'000'000u);
    // An edit moves it, on both.
    zones.write("truth.example.toml", static_zone("truth.example.", "192.0.2.7"));
    set_mtime(zones.file("truth.example.toml"), 1'700'000'500);
    kill(a.process->pid(), SIGHUP);
    kill(b.process->pid(), SIGHUP);
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline &&
           (a.serial("truth.example.") != 1'700'000'500u ||
            b.serial("truth.example.") != 1'700'000'500u)) {
      std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(a.serial("truth.example."), 1'700'000'500u);
    EXPECT_EQ(b.serial("truth.example."), 1'700'000'500u);
  }
}

// A backend that accepts connections and never answers: every check against it runs into
// its timeout, so the first round takes that long.
class SilentBackend {
 public:
  bool start(const std::string& address, uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    inet_pton(AF_INET, address.c_str(), &sa.sin_addr);
    return ::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0 && ::listen(fd_, 64) == 0;
  }
  ~SilentBackend() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  int fd_ = -1;  // the kernel completes handshakes into the backlog; nobody reads
};

// The sd_notify socket of a service manager, as systemd passes it in NOTIFY_SOCKET.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~NotifySocket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  bool bound() const { return bound_; }
  // Every message received so far, one per line.
  std::string drain() {
    char buf[512];
    ssize_t n;
    while ((n = ::recv(fd_, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
      received_.append(buf, static_cast<size_t>(n));
      received_ += "\n";
    }
    return received_;
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
  std::string received_;
};

// While the first round of checks runs, /status and the service manager hear "warming";
// once it completes, "ready" and "serving".
TEST(FailoverTruth, WarmingShowsUntilTheFirstRoundCompletes) {
  const uint16_t port = free_port();
  SilentBackend backend;
  ASSERT_TRUE(backend.start("127.0.0.44", port));
  TempDir zones;
  TempDir state;
  std::string text = health_zone(port, "\"127.0.0.44\"", "/");
  const std::string interval = "interval = \"1s\"";
  text.replace(text.find(interval), interval.size(), "interval = \"3s\"\ntimeout = \"2s\"");
  zones.write("truth.example.toml", text);
  NotifySocket notify(state.file("notify.sock"));
  ASSERT_TRUE(notify.bound());
  ::setenv("NOTIFY_SOCKET", state.file("notify.sock").c_str(), 1);
  const uint16_t dns_port = free_port();
  const uint16_t control_port = free_port();
  const std::string control = "127.0.0.1:" + std::to_string(control_port);
  ServerProcess p(GEODNS_BINARY, {"serve", "--zones", zones.path(), "--listen",
                                  "127.0.0.1:" + std::to_string(dns_port), "--threads", "1",
                                  "--control", control, "--state-dir", state.path()});
  ::unsetenv("NOTIFY_SOCKET");
  // The first /status that answers comes during the first round (it takes about 2 s).
  std::string first;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (first.empty() && std::chrono::steady_clock::now() < deadline && p.running()) {
    auto r = ops::http_call(control, "GET", "/status", "", "", 200ms);
    if (r && r->status == 200) first = r->body;
    if (first.empty()) std::this_thread::sleep_for(20ms);
  }
  EXPECT_NE(first.find("\"health\": \"warming\""), std::string::npos) << first;
  EXPECT_NE(notify.drain().find("STATUS=warming"), std::string::npos) << notify.drain();
  ASSERT_TRUE(p.wait_ready(dns_port, 10s)) << p.stderr_text();
  std::string later;
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (later.find("\"health\": \"ready\"") == std::string::npos &&
         std::chrono::steady_clock::now() < until) {
    auto r = ops::http_call(control, "GET", "/status", "", "", 1s);
    if (r) later = r->body;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_NE(later.find("\"health\": \"ready\""), std::string::npos) << later;
  const std::string messages = notify.drain();
  EXPECT_NE(messages.find("READY=1"), std::string::npos) << messages;
  EXPECT_NE(messages.find("STATUS=serving"), std::string::npos) << messages;
  EXPECT_GT(messages.find("STATUS=serving"), messages.find("STATUS=warming")) << messages;
  EXPECT_EQ(p.stop(), 0);
}

// `geodns ctl` against a Server; returns the exit code and everything it printed.
std::pair<int, std::string> ctl(const Server& s, std::vector<std::string> args) {
  args.insert(args.begin(), {"ctl", "--control", "127.0.0.1:" + std::to_string(s.control_port)});
  ServerProcess p(GEODNS_BINARY, args);
  EXPECT_TRUE(p.wait_exit(10s));
  return {p.exit_code().value_or(-1), p.stdout_text() + p.stderr_text()};
}

std::string a_records(Server& s, const std::string& name) {
  auto p = s.udp(name, LDNS_RR_TYPE_A);
  if (!p) return "(no reply)";
  std::string out;
  for (const auto& rr : section_strings(p.get(), LDNS_SECTION_ANSWER)) {
    out += rr.substr(rr.find_last_of(" \t") + 1) + " ";
  }
  return out;
}

bool wait_records(Server& s, const std::string& name, const std::string& want) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (a_records(s, name) == want) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

std::string steered_zone(const std::string& origin, const std::string& local_address) {
  return static_zone(origin, "192.0.2.1") + R"([datacenters.local]
addresses = [")" +
         local_address +
         R"("]
[datacenters.dead]
addresses = ["192.0.2.99"]
check = "closed"
[checks.closed]
type = "tcp"
port = 9
interval = "1s"
[steer.www]
policy = "failover"
datacenters = ["iad", "local"]
[steer.www2]
policy = "failover"
datacenters = ["dead", "local"]
)";
}

// A datacenter of geodns.toml is one datacenter in every zone that uses it: "iad" drains it
// everywhere. A zone's own is "zone/name"; force-up and force-down exist beside drain.
TEST(FailoverTruth, SharedDatacenterDrainsEverywhereAndForceUpDownExist) {
  TempDir zones;
  zones.write("a.example.toml", steered_zone("a.example.", "192.0.2.20"));
  zones.write("b.example.toml", steered_zone("b.example.", "192.0.2.30"));
  ServeOptions o = options_for(zones);
  o.extra_config = "[datacenters.iad]\naddresses = [\"192.0.2.10\"]\n";
  Server s(o);
  ASSERT_TRUE(s.ready) << s.process->stderr_text();
  ASSERT_EQ(a_records(s, "www.a.example"), "192.0.2.10 ");
  ASSERT_EQ(a_records(s, "www.b.example"), "192.0.2.10 ");

  auto [rc, out] = ctl(s, {"drain", "iad", "--for", "10m", "--reason", "maintenance"});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_TRUE(wait_records(s, "www.a.example", "192.0.2.20 ")) << a_records(s, "www.a.example");
  EXPECT_TRUE(wait_records(s, "www.b.example", "192.0.2.30 ")) << a_records(s, "www.b.example");
  std::tie(rc, out) = ctl(s, {"status"});
  EXPECT_NE(out.find("maintenance"), std::string::npos) << out;
  std::tie(rc, out) = ctl(s, {"undrain", "iad"});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_TRUE(wait_records(s, "www.a.example", "192.0.2.10 "));
  EXPECT_TRUE(wait_records(s, "www.b.example", "192.0.2.10 "));

  // A zone's own datacenter, for that zone only; the trailing dot of the origin is optional.
  ASSERT_TRUE(wait_records(s, "www2.a.example", "192.0.2.20 "));  // dead is down
  std::tie(rc, out) = ctl(s, {"force-up", "a.example/dead", "--reason", "trust me"});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("forced up a.example/dead"), std::string::npos) << out;
  EXPECT_TRUE(wait_records(s, "www2.a.example", "192.0.2.99 ")) << a_records(s, "www2.a.example");
  EXPECT_EQ(a_records(s, "www2.b.example"), "192.0.2.30 ");
  std::tie(rc, out) = ctl(s, {"clear", "a.example./dead"});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_TRUE(wait_records(s, "www2.a.example", "192.0.2.20 "));
  std::tie(rc, out) = ctl(s, {"force-down", "b.example/local", "--for", "5m"});
  ASSERT_EQ(rc, 0) << out;
  std::tie(rc, out) = ctl(s, {"drain", "iad"});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_TRUE(wait_records(s, "www.a.example", "192.0.2.20 "));
  // b.example: iad drained, local forced down: every candidate down, so it fails open.
  const std::string b = a_records(s, "www.b.example");
  EXPECT_NE(b.find("192.0.2.10"), std::string::npos) << b;
  // A bare "local" names two zones' own datacenters: refused, naming both.
  std::tie(rc, out) = ctl(s, {"drain", "local"});
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("a.example/local"), std::string::npos) << out;
  EXPECT_NE(out.find("b.example/local"), std::string::npos) << out;
  EXPECT_EQ(s.process->stop(), 0);
}

// "a.example/iad" drains the shared "iad" for a.example only; the more specific override wins
// over the shared one, in the answers and in /status (which reads the same published view).
TEST(FailoverTruth, ZoneDrainOfASharedDatacenterIsForThatZoneOnly) {
  TempDir zones;
  zones.write("a.example.toml", steered_zone("a.example.", "192.0.2.20"));
  zones.write("b.example.toml", steered_zone("b.example.", "192.0.2.30"));
  ServeOptions o = options_for(zones);
  o.extra_config = "[datacenters.iad]\naddresses = [\"192.0.2.10\"]\n";
  Server s(o);
  ASSERT_TRUE(s.ready) << s.process->stderr_text();
  ASSERT_EQ(a_records(s, "www.a.example"), "192.0.2.10 ");
  ASSERT_EQ(a_records(s, "www.b.example"), "192.0.2.10 ");

  auto [rc, out] = ctl(s, {"drain", "a.example./iad", "--reason", "one zone"});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_TRUE(wait_records(s, "www.a.example", "192.0.2.20 ")) << a_records(s, "www.a.example");
  EXPECT_EQ(a_records(s, "www.b.example"), "192.0.2.10 ");
  std::tie(rc, out) = ctl(s, {"status"});
  EXPECT_NE(out.find("one zone"), std::string::npos) << out;

  // Shared drain plus a zone's force-up: that zone keeps iad, the others lose it.
  std::tie(rc, out) = ctl(s, {"clear", "a.example/iad"});
  ASSERT_EQ(rc, 0) << out;
  std::tie(rc, out) = ctl(s, {"drain", "iad"});
  ASSERT_EQ(rc, 0) << out;
  std::tie(rc, out) = ctl(s, {"force-up", "b.example/iad"});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_TRUE(wait_records(s, "www.a.example", "192.0.2.20 ")) << a_records(s, "www.a.example");
  EXPECT_TRUE(wait_records(s, "www.b.example", "192.0.2.10 ")) << a_records(s, "www.b.example");
  // Without the exception, the shared drain applies to b.example too.
  std::tie(rc, out) = ctl(s, {"clear", "b.example/iad"});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_TRUE(wait_records(s, "www.b.example", "192.0.2.30 ")) << a_records(s, "www.b.example");
  EXPECT_EQ(a_records(s, "www.a.example"), "192.0.2.20 ");
  EXPECT_EQ(s.process->stop(), 0);
}

}  // namespace
}  // namespace geodns::test
