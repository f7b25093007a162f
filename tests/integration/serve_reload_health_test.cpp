// The real binary under reloads and health changes: queries never fail while zones are
// reloaded 100 times, and an HTTP backend that stops leaves the answers and comes back.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "http_backend.h"
#include "serve_fixture.h"

namespace geodns::test {
namespace {

// Writes via a temporary file and rename, as editors and deploy tools do, so the server never
// reads a half-written file.
void replace_file(const TempDir& dir, const std::string& name, const std::string& text) {
  dir.write(name + ".tmp", text);
  std::filesystem::rename(dir.file(name + ".tmp"), dir.file(name));
}

TEST(ServeReload, HundredReloadsUnderContinuousUdpAndTcpQueries) {
  TempDir zones;
  copy_demo_zones(zones);
  ServeOptions o;
  o.zones_dir = zones.path();
  o.threads = 2;
  o.v6 = false;
  Server s(o);
  ASSERT_TRUE(s.ready) << s.process->stderr_text();
  const std::string original = read_text(zones.file("example.com.toml"));
  std::string edited = original;
  edited.replace(edited.find("A 198.51.100.53"), 15, "A 198.51.100.99");

  std::atomic<bool> done{false};
  std::atomic<int> answered{0};
  std::atomic<int> failures{0};
  std::atomic<int> unexpected{0};
  auto check = [&](const std::optional<Bytes>& r) {
    if (!r) {
      ++failures;
      return;
    }
    auto p = decode(*r);
    const auto ans = p ? section_strings(p.get(), LDNS_SECTION_ANSWER) : std::vector<std::string>{};
    if (ans.size() != 1 || (ans[0].find("198.51.100.53") == std::string::npos &&
                            ans[0].find("198.51.100.99") == std::string::npos)) {
      ++unexpected;  // every answer comes from the old or the new zone, never neither
    }
    ++answered;
  };
  std::thread udp([&] {
    while (!done) check(udp_query(s.port, make_query("ns1.example.com", LDNS_RR_TYPE_A), 2s));
  });
  std::thread tcp([&] {
    while (!done) check(tcp_query(s.port, make_query("ns1.example.com", LDNS_RR_TYPE_A), 2s));
  });
  for (int i = 0; i < 100; ++i) {
    replace_file(zones, "example.com.toml", i % 2 == 0 ? edited : original);
    kill(s.process->pid(), SIGHUP);
    std::this_thread::sleep_for(20ms);
  }
  std::this_thread::sleep_for(500ms);
  done = true;
  udp.join();
  tcp.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_GT(answered.load(), 100);
  // The last version written (original) is what serves at the end.
  auto p = s.udp("ns1.example.com", LDNS_RR_TYPE_A);
  ASSERT_TRUE(p);
  EXPECT_TRUE(has_line(section_strings(p.get(), LDNS_SECTION_ANSWER), "198.51.100.53"));
  const std::string log = s.process->stderr_text();
  EXPECT_EQ(log.find("reload_error"), std::string::npos) << log;
  // A sanitizer's report (TSan exits 66) is in the log: show it.
  EXPECT_EQ(s.process->stop(), 0) << s.process->stderr_text();
}

std::string answers_of(Server& s) {
  auto p = s.udp("www.health.example", LDNS_RR_TYPE_A);
  return p ? joined(section_strings(p.get(), LDNS_SECTION_ANSWER)) : std::string();
}

bool wait_until(Server& s, bool present, const std::string& address,
                std::chrono::milliseconds max) {
  const auto deadline = std::chrono::steady_clock::now() + max;
  while (std::chrono::steady_clock::now() < deadline) {
    const bool has = answers_of(s).find(address) != std::string::npos;
    if (has == present) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

TEST(ServeHealth, StoppedBackendLeavesTheAnswersAndComesBack) {
  const uint16_t port = free_port();
  HttpBackend a("127.0.0.31", port);
  HttpBackend b("127.0.0.32", port);
  ASSERT_TRUE(a.start());
  ASSERT_TRUE(b.start());
  TempDir zones;
  zones.write("health.example.toml", R"(
[zone]
name = "health.example."
[zone.soa]
mname = "ns1.health.example."
rname = "hostmaster.health.example."
[records]
"@" = "NS ns1.health.example."
ns1 = "A 127.0.0.1"
[datacenters.a]
addresses = ["127.0.0.31"]
check = "web"
[datacenters.b]
addresses = ["127.0.0.32"]
check = "web"
[checks.web]
type = "http"
port = )" + std::to_string(port) + R"(
path = "/"
interval = "300ms"
fall = 3
rise = 2
[steer.www]
policy = "roundrobin"
datacenters = ["a", "b"]
answers = 2
ttl = 30
)");
  ServeOptions o;
  o.zones_dir = zones.path();
  o.geoip = "";
  o.threads = 1;
  o.v6 = false;
  Server s(o);
  ASSERT_TRUE(s.ready) << s.process->stderr_text();
  // Before: both up, the configured TTL.
  EXPECT_TRUE(wait_until(s, true, "127.0.0.32", 3s));
  EXPECT_NE(answers_of(s).find("127.0.0.31"), std::string::npos);
  // During: b refuses connections -> gone, a still answers with the short (degraded) TTL.
  b.stop();
  EXPECT_TRUE(wait_until(s, false, "127.0.0.32", 5s)) << s.process->stderr_text();
  const std::string during = answers_of(s);
  EXPECT_NE(during.find("127.0.0.31"), std::string::npos);
  EXPECT_NE(during.find(" 10 IN A"), std::string::npos) << during;
  // Both down: fail open (never an empty answer), still the short TTL.
  a.stop();
  std::this_thread::sleep_for(2s);
  const std::string all_down = answers_of(s);
  EXPECT_NE(all_down.find("127.0.0.31"), std::string::npos) << all_down;
  EXPECT_NE(all_down.find("127.0.0.32"), std::string::npos) << all_down;
  // After: both back. (While everything is down the answer already lists both, failing
  // open, so recovery shows as the configured TTL coming back.)
  ASSERT_TRUE(a.start());
  ASSERT_TRUE(b.start());
  // rise = 2 at 300 ms takes about a second; the margin is for a loaded CI machine.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  std::string after;
  while (std::chrono::steady_clock::now() < deadline) {
    after = answers_of(s);
    if (after.find(" 30 IN A") != std::string::npos) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_NE(after.find(" 30 IN A 127.0.0.31"), std::string::npos) << after;
  EXPECT_NE(after.find(" 30 IN A 127.0.0.32"), std::string::npos) << after;
  const std::string log = s.process->stderr_text();
  EXPECT_NE(log.find("event=health_change"), std::string::npos);
  EXPECT_NE(log.find("from=up to=down reason="), std::string::npos) << log;
  EXPECT_NE(log.find("from=down to=up"), std::string::npos) << log;
  EXPECT_EQ(s.process->stop(), 0);
}

}  // namespace
}  // namespace geodns::test
