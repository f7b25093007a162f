// The Prober against real listeners on loopback, opened and closed by the test: an HTTP
// server answering 200 or 500, a listener that accepts and never answers, one that sends an
// endless body, a tiny DNS responder, and ports nobody listens on. Every wait is bounded.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "health/prober.h"

namespace geodns::health {
namespace {

using namespace std::chrono_literals;

// --- loopback servers ------------------------------------------------------------------------

int bound_socket(int family, int type, uint16_t* port) {
  const int fd = ::socket(family, type, 0);
  if (fd < 0) return -1;
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_addr = in6addr_loopback;
    len = sizeof(sockaddr_in6);
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    ::close(fd);
    return -1;
  }
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  *port = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                  : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return fd;
}

// A port that was free a moment ago and has no listener now: connecting is refused.
uint16_t closed_port(int type) {
  uint16_t port = 0;
  const int fd = bound_socket(AF_INET, type, &port);
  ::close(fd);
  return port;
}

class TcpServer {
 public:
  enum class Mode { http, silent, endless };

  explicit TcpServer(Mode mode, int family = AF_INET) : mode_(mode) {
    fd_ = bound_socket(family, SOCK_STREAM, &port_);
    if (fd_ < 0 || ::listen(fd_, 64) != 0) return;
    thread_ = std::thread([this] { run(); });
  }
  ~TcpServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (auto& c : clients_) ::close(c.fd);
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return thread_.joinable(); }
  uint16_t port() const { return port_; }
  void set_status(int status) { status_ = status; }
  int requests() const { return requests_; }

 private:
  struct Client {
    int fd;
    std::string request;
    bool streaming = false;
  };

  void run() {
    const std::string chunk(16 * 1024, 'x');
    while (!stop_) {
      std::vector<pollfd> fds;
      fds.push_back({fd_, POLLIN, 0});
      for (const auto& c : clients_) {
        fds.push_back({c.fd, static_cast<short>(c.streaming ? POLLOUT : POLLIN), 0});
      }
      if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c >= 0) clients_.push_back({c, {}});
      }
      for (size_t i = 1; i < fds.size(); ++i) {
        Client& c = clients_[i - 1];
        if (fds[i].revents == 0) continue;
        if (c.streaming) {
          // An endless body: write until the peer goes away.
          if (::send(c.fd, chunk.data(), chunk.size(), MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
              errno != EAGAIN) {
            drop(c);
          }
          continue;
        }
        char buf[2048];
        const ssize_t n = ::recv(c.fd, buf, sizeof(buf), 0);
        if (n <= 0) {
          drop(c);
          continue;
        }
        c.request.append(buf, static_cast<size_t>(n));
        if (mode_ == Mode::silent || c.request.find("\r\n\r\n") == std::string::npos) continue;
        ++requests_;
        if (mode_ == Mode::endless) {
          const std::string head = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
          ::send(c.fd, head.data(), head.size(), MSG_NOSIGNAL);
          c.streaming = true;
          continue;
        }
        const int status = status_;
        const std::string body = status == 200 ? "all healthy here" : "sick";
        const std::string response = "HTTP/1.1 " + std::to_string(status) +
                                     " X\r\nContent-Length: " + std::to_string(body.size()) +
                                     "\r\nConnection: close\r\n\r\n" + body;
        ::send(c.fd, response.data(), response.size(), MSG_NOSIGNAL);
        drop(c);
      }
      std::erase_if(clients_, [](const Client& c) { return c.fd < 0; });
    }
  }
  static void drop(Client& c) {
    ::close(c.fd);
    c.fd = -1;
  }

  Mode mode_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<int> status_{200};
  std::atomic<int> requests_{0};
  std::atomic<bool> stop_{false};
  std::vector<Client> clients_;
  std::thread thread_;
};

// Answers every query with its own question, QR set and the configured rcode.
class DnsServer {
 public:
  explicit DnsServer(uint8_t rcode) : rcode_(rcode) {
    fd_ = bound_socket(AF_INET, SOCK_DGRAM, &port_);
    if (fd_ >= 0) thread_ = std::thread([this] { run(); });
  }
  ~DnsServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  uint16_t port() const { return port_; }

 private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      uint8_t buf[512];
      sockaddr_storage from{};
      socklen_t len = sizeof(from);
      const ssize_t n =
          ::recvfrom(fd_, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 12) continue;
      buf[2] |= 0x80;
      buf[3] = static_cast<uint8_t>((buf[3] & 0xF0) | rcode_);
      ::sendto(fd_, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  }
  uint8_t rcode_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// --- helpers ---------------------------------------------------------------------------------

steer::TargetSpec target(steer::TargetId id, const char* address, steer::CheckSpec check) {
  steer::TargetSpec t;
  t.id = id;
  t.address = *IpAddress::parse(address);
  check.interval = check.interval == 1000ms ? 200ms : check.interval;
  check.timeout = check.timeout == 500ms ? 300ms : check.timeout;
  t.check = std::move(check);
  t.key = t.check.key() + "@" + t.address.to_string();
  return t;
}

steer::CheckSpec http(uint16_t port, std::string body_match = {}) {
  steer::CheckSpec c;
  c.name = "web";
  c.type = steer::CheckType::http;
  c.port = port;
  c.path = "/healthz";
  c.body_match = std::move(body_match);
  c.fall = 2;
  c.rise = 2;
  return c;
}

steer::CheckSpec tcp(uint16_t port) {
  steer::CheckSpec c;
  c.name = "port";
  c.type = steer::CheckType::tcp;
  c.port = port;
  return c;
}

steer::CheckSpec dns(uint16_t port, uint8_t expect_rcode = 0) {
  steer::CheckSpec c;
  c.name = "dns";
  c.type = steer::CheckType::dns;
  c.port = port;
  c.query_name = "example.com.";
  c.expect_rcode = expect_rcode;
  return c;
}

const TargetStatus* find(const std::vector<TargetStatus>& all, steer::TargetId id) {
  for (const auto& s : all) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

// Polls `pred` every 10 ms until it holds or `max` passes.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds max = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + max;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

HealthState state_of(const Prober& p, steer::TargetId id) {
  const auto all = p.status();
  const auto* s = find(all, id);
  return s == nullptr ? HealthState::unknown : s->state;
}

std::string temp_state_dir(const char* name) {
  auto p = std::filesystem::temp_directory_path() /
           (std::string("geodns-health-it-") + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

// --- tests -----------------------------------------------------------------------------------

TEST(ProberIntegration, FirstRoundClassifiesEveryKindOfTarget) {
  TcpServer healthy(TcpServer::Mode::http);
  TcpServer silent(TcpServer::Mode::silent);
  TcpServer endless(TcpServer::Mode::endless);
  DnsServer dns_ok(0);
  DnsServer dns_refused(5);
  ASSERT_TRUE(healthy.ok() && silent.ok() && endless.ok());
  const uint16_t refused = closed_port(SOCK_STREAM);
  const uint16_t udp_closed = closed_port(SOCK_DGRAM);

  SystemClock clock;
  Prober prober(clock, ProberOptions{"", 42});
  EXPECT_FALSE(prober.view().load()->ready());
  steer::CheckSpec none;
  none.name = "always";
  prober.set_targets({
      target(1, "127.0.0.1", http(healthy.port())),
      target(2, "127.0.0.1", http(healthy.port(), "healthy")),
      target(3, "127.0.0.1", http(healthy.port(), "no such text")),
      target(4, "127.0.0.1", http(refused)),
      target(5, "127.0.0.1", http(silent.port())),
      target(6, "127.0.0.1", http(endless.port())),
      target(7, "127.0.0.1", http(endless.port(), "never there")),
      target(8, "127.0.0.1", tcp(healthy.port())),
      target(9, "127.0.0.1", tcp(refused)),
      target(10, "127.0.0.1", dns(dns_ok.port())),
      target(11, "127.0.0.1", dns(dns_refused.port())),
      target(12, "127.0.0.1", dns(udp_closed)),
      target(13, "192.0.2.99", none),
  });
  ASSERT_TRUE(prober.start());
  ASSERT_TRUE(prober.wait_first_round(5s));

  Published<steer::HealthView>::Reader reader(prober.view());
  reader.refresh();
  const steer::HealthView* v = reader.get();
  ASSERT_NE(v, nullptr);
  EXPECT_TRUE(v->ready());
  const auto all = prober.status();
  ASSERT_EQ(all.size(), 13u);
  auto expect_target = [&](steer::TargetId id, bool up, const std::string& text_prefix) {
    const auto* s = find(all, id);
    ASSERT_NE(s, nullptr) << id;
    EXPECT_EQ(s->state, up ? HealthState::up : HealthState::down) << id << " " << s->last_result;
    EXPECT_EQ(v->target_up(id), up) << id;
    EXPECT_EQ(s->last_result.rfind(text_prefix, 0), 0u) << id << ": " << s->last_result;
  };
  expect_target(1, true, "ok 200 in ");
  expect_target(2, true, "ok 200");
  expect_target(3, false, "body mismatch");
  expect_target(4, false, "connection refused");
  expect_target(5, false, "timeout");
  expect_target(6, true, "ok 200");  // an endless body does not hold the check open
  expect_target(7, false, "body mismatch");
  expect_target(8, true, "connected");
  expect_target(9, false, "connection refused");
  expect_target(10, true, "rcode NOERROR");
  expect_target(11, false, "rcode REFUSED");
  expect_target(12, false, "connection refused");
  expect_target(13, true, "no check");
  EXPECT_GE(healthy.requests(), 3);
  prober.stop();
  prober.stop();  // idempotent
}

TEST(ProberIntegration, Ipv6LoopbackHttp) {
  TcpServer healthy(TcpServer::Mode::http, AF_INET6);
  if (!healthy.ok()) GTEST_SKIP() << "no IPv6 loopback";
  SystemClock clock;
  Prober prober(clock, ProberOptions{"", 1});
  prober.set_targets({target(1, "::1", http(healthy.port()))});
  ASSERT_TRUE(prober.start());
  ASSERT_TRUE(prober.wait_first_round(5s));
  EXPECT_EQ(state_of(prober, 1), HealthState::up) << prober.status()[0].last_result;
}

TEST(ProberIntegration, FollowsBackendGoingDownAndUp) {
  TcpServer backend(TcpServer::Mode::http);
  ASSERT_TRUE(backend.ok());
  SystemClock clock;
  Prober prober(clock, ProberOptions{"", 7});
  prober.set_targets({target(1, "127.0.0.1", http(backend.port()))});
  ASSERT_TRUE(prober.start());
  ASSERT_TRUE(prober.wait_first_round(5s));
  ASSERT_EQ(state_of(prober, 1), HealthState::up);
  const uint64_t gen_up = prober.view().generation();

  backend.set_status(500);
  ASSERT_TRUE(eventually([&] { return state_of(prober, 1) == HealthState::down; }));
  // The view is published once per prober loop iteration, just after the state changes.
  EXPECT_TRUE(eventually([&] { return !prober.view().load()->target_up(1); }));
  EXPECT_GT(prober.view().generation(), gen_up);
  auto tr = prober.recent_transitions(10);
  ASSERT_FALSE(tr.empty());
  EXPECT_EQ(tr.back().from, HealthState::up);
  EXPECT_EQ(tr.back().to, HealthState::down);
  EXPECT_EQ(tr.back().reason, "status 500");

  backend.set_status(200);
  ASSERT_TRUE(eventually([&] { return state_of(prober, 1) == HealthState::up; }));
  EXPECT_TRUE(eventually([&] { return prober.view().load()->target_up(1); }));
  tr = prober.recent_transitions(10);
  ASSERT_EQ(tr.size(), 3u);  // unknown->up, up->down, down->up
  EXPECT_EQ(tr[0].from, HealthState::unknown);
  EXPECT_EQ(tr.back().to, HealthState::up);
  EXPECT_EQ(prober.recent_transitions(1).size(), 1u);
}

TEST(ProberIntegration, OverridesReachTheView) {
  TcpServer backend(TcpServer::Mode::http);
  ASSERT_TRUE(backend.ok());
  SystemClock clock;
  Prober prober(clock, ProberOptions{"", 3});
  prober.set_datacenters({{5, "fra", ""}, {6, "iad", ""}});
  prober.set_targets(
      {target(1, "127.0.0.1", http(backend.port())), target(2, "127.0.0.1", tcp(backend.port()))});
  ASSERT_TRUE(prober.start());
  ASSERT_TRUE(prober.wait_first_round(5s));

  // Forcing the address down affects both targets that answer with it.
  ASSERT_TRUE(prober.set_override(OverrideKey::for_address(*IpAddress::parse("127.0.0.1")),
                                  steer::Override::force_down, std::nullopt, "test"));
  ASSERT_TRUE(eventually([&] {
    auto v = prober.view().load();
    return !v->target_up(1) && !v->target_up(2);
  }));
  EXPECT_EQ(state_of(prober, 1), HealthState::up);  // the check result itself is unchanged
  EXPECT_EQ(prober.status()[0].override_mode, steer::Override::force_down);

  ASSERT_TRUE(prober.set_override(OverrideKey::for_datacenter("iad"), steer::Override::force_up,
                                  std::nullopt, "pin"));
  EXPECT_FALSE(prober.set_override(OverrideKey::for_datacenter("nowhere"),
                                   steer::Override::force_up, std::nullopt, ""));
  ASSERT_TRUE(eventually(
      [&] { return prober.view().load()->dc_override(6) == steer::Override::force_up; }));
  EXPECT_EQ(prober.view().load()->dc_override(5), steer::Override::none);
  EXPECT_EQ(prober.overrides().size(), 2u);

  ASSERT_TRUE(prober.clear_override(OverrideKey::for_address(*IpAddress::parse("127.0.0.1"))));
  EXPECT_FALSE(prober.clear_override(OverrideKey::for_address(*IpAddress::parse("127.0.0.1"))));
  ASSERT_TRUE(eventually([&] {
    auto v = prober.view().load();
    return v->target_up(1) && v->target_up(2);
  }));
}

TEST(ProberIntegration, ReloadKeepsStateOfUnchangedTargets) {
  TcpServer backend(TcpServer::Mode::http);
  ASSERT_TRUE(backend.ok());
  const uint16_t refused = closed_port(SOCK_STREAM);
  SystemClock clock;
  Prober prober(clock, ProberOptions{"", 9});
  const auto kept = target(1, "127.0.0.1", http(backend.port()));
  prober.set_targets({kept, target(2, "127.0.0.1", tcp(refused))});
  ASSERT_TRUE(prober.start());
  ASSERT_TRUE(prober.wait_first_round(5s));
  const auto before = prober.status();
  ASSERT_EQ(before.size(), 2u);
  const auto since = find(before, 1)->since;

  prober.set_targets({kept, target(3, "127.0.0.1", tcp(backend.port()))});
  ASSERT_TRUE(prober.wait_first_round(5s));
  const auto after = prober.status();
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(find(after, 2), nullptr);
  ASSERT_NE(find(after, 1), nullptr);
  EXPECT_EQ(find(after, 1)->since, since);
  EXPECT_EQ(find(after, 1)->state, HealthState::up);
  // Target 3 replaces 2 (same address and check name: an edited check). It starts from 2's
  // state (down), never unknown, and its first result decides.
  ASSERT_NE(find(after, 3), nullptr);
  EXPECT_NE(find(after, 3)->state, HealthState::unknown);
  EXPECT_TRUE(eventually([&] { return state_of(prober, 3) == HealthState::up; }));
}

TEST(ProberIntegration, RestartRestoresStateAndOverrides) {
  const std::string dir = temp_state_dir("restore");
  TcpServer silent(TcpServer::Mode::silent);
  TcpServer backend(TcpServer::Mode::http);
  ASSERT_TRUE(silent.ok() && backend.ok());
  auto slow = http(silent.port());
  slow.timeout = 2000ms;
  slow.interval = 3000ms;
  const auto t_slow = target(1, "127.0.0.1", slow);
  const auto t_ok = target(2, "127.0.0.1", http(backend.port()));
  SystemClock clock;
  {
    Prober prober(clock, ProberOptions{dir, 1});
    prober.set_datacenters({{4, "fra", ""}});
    prober.set_targets({t_slow, t_ok});
    ASSERT_TRUE(prober.start());
    ASSERT_TRUE(prober.wait_first_round(6s));
    ASSERT_EQ(state_of(prober, 1), HealthState::down);
    ASSERT_TRUE(prober.set_override(OverrideKey::for_datacenter("fra"), steer::Override::force_down,
                                    std::nullopt, "drain"));
    const auto t0 = std::chrono::steady_clock::now();
    prober.stop();  // with a check in flight or scheduled: returns at once
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  }
  ASSERT_TRUE(std::filesystem::exists(dir + "/health.state"));
  {
    Prober prober(clock, ProberOptions{dir, 2});
    prober.set_datacenters({{4, "fra", ""}});
    prober.set_targets({t_slow, t_ok});
    ASSERT_TRUE(prober.start());
    // The slow target cannot have a fresh result within 2 s: ready comes from the restore.
    ASSERT_TRUE(prober.wait_first_round(500ms));
    auto v = prober.view().load();
    ASSERT_TRUE(eventually(
        [&] {
          v = prober.view().load();
          return v->ready();
        },
        500ms));
    EXPECT_FALSE(v->target_up(1));
    EXPECT_EQ(v->dc_override(4), steer::Override::force_down);
    EXPECT_EQ(find(prober.status(), 1)->last_result, "restored");
    ASSERT_EQ(prober.overrides().size(), 1u);
    EXPECT_EQ(prober.overrides()[0].reason, "drain");
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace geodns::health
