// The fleet through a real etcd (Debian's etcd-server): three geodns servers on one machine,
// each probing from its own loopback source address (127.0.0.2-4), one etcd (or a cluster of
// three) on free loopback ports with its own data directory. Every process is stopped by PID
// and every directory removed, also when a test fails. Timings are printed, never asserted:
// the bounds below are only how long a test waits before it fails.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "serve_fixture.h"

namespace geodns::test {
namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

constexpr const char* kUp = "127.0.0.10";     // datacenter a: probed, its backend is ours
constexpr const char* kSpare = "192.0.2.20";  // datacenter b: no check, the failover

bool have_etcd() {
  return ::access("/usr/bin/etcd", X_OK) == 0 && ::access("/usr/bin/etcdctl", X_OK) == 0;
}

// One HTTP/1.0 exchange on 127.0.0.1:port; the body, or "" on failure.
std::string http(uint16_t port, const std::string& method, const std::string& path,
                 const std::string& body = "") {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {};
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0) {
    // An IP literal as Host: the control endpoint refuses names without a token (rebinding).
    const std::string req =
        method + " " + path + " HTTP/1.0\r\nHost: 127.0.0.1:" + std::to_string(port) +
        "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    if (::write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
      char buf[8192];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  const auto split = out.find("\r\n\r\n");
  return split == std::string::npos ? std::string() : out.substr(split + 4);
}

// Polls `ok` every 10 ms for at most `max`; the time it took, or nullopt.
std::optional<std::chrono::milliseconds> wait_for(const std::function<bool()>& ok,
                                                  std::chrono::milliseconds max) {
  const auto start = Clock::now();
  while (Clock::now() - start < max) {
    if (ok()) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

// An HTTP backend on 127.0.0.10 that answers 503 to the peer addresses it is told to refuse
// (a path problem near one server, not at the backend) and counts requests per peer.
class Backend {
 public:
  bool start(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    inet_pton(AF_INET, kUp, &sa.sin_addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 || ::listen(fd_, 64) != 0) {
      ::close(fd_);
      fd_ = -1;
      return false;
    }
    running_ = true;
    thread_ = std::thread([this] { serve(); });
    return true;
  }
  ~Backend() {
    running_ = false;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  void refuse(std::set<std::string> peers) {
    std::lock_guard lock(mu_);
    refused_ = std::move(peers);
  }
  std::map<std::string, uint64_t> hits() {
    std::lock_guard lock(mu_);
    return hits_;
  }

 private:
  void serve() {
    while (running_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      sockaddr_in peer{};
      socklen_t len = sizeof(peer);
      const int c = ::accept(fd_, reinterpret_cast<sockaddr*>(&peer), &len);
      if (c < 0) continue;
      char addr[INET_ADDRSTRLEN] = {};
      inet_ntop(AF_INET, &peer.sin_addr, addr, sizeof(addr));
      char buf[2048];
      pollfd cp{c, POLLIN, 0};
      if (::poll(&cp, 1, 300) > 0) (void)::read(c, buf, sizeof(buf));
      bool refused = false;
      {
        std::lock_guard lock(mu_);
        ++hits_[addr];
        refused = refused_.count(addr) != 0;
      }
      const std::string reply = refused ? "HTTP/1.0 503 No\r\nContent-Length: 2\r\n\r\nno"
                                        : "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok";
      (void)::write(c, reply.data(), reply.size());
      ::close(c);
    }
  }
  int fd_ = -1;
  std::atomic<bool> running_{false};
  std::thread thread_;
  std::mutex mu_;
  std::set<std::string> refused_;
  std::map<std::string, uint64_t> hits_;
};

// etcd members on free loopback ports, each with its own data directory under `dir`.
class Etcd {
 public:
  // `tls`: clients must come over https with a certificate of our CA (etcd
  // --client-cert-auth); the certificates are made with openssl in the data directory.
  explicit Etcd(size_t members, bool tls = false) : tls_(tls) {
    for (size_t i = 0; i < members; ++i) {
      client_.push_back(free_port());
      peer_.push_back(free_port());
    }
    for (size_t i = 0; i < members; ++i) {
      cluster_ += (i ? "," : "") + name(i) + "=http://127.0.0.1:" + std::to_string(peer_[i]);
    }
    procs_.resize(members);
  }
  std::string name(size_t i) const { return "e" + std::to_string(i); }
  std::string endpoint(size_t i) const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(client_[i]);
  }
  // Makes a CA, a server certificate for 127.0.0.1 and a client certificate; false on error.
  bool make_certificates() {
    const std::string cmd =
        "cd " + dir_.path() +
        " && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2"
        " -subj /CN=geodns-test-ca"
        " && printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth,clientAuth\\n'"
        " > ext.cnf"
        " && openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr"
        " -subj /CN=127.0.0.1"
        " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial"
        " -out server.pem -days 2 -extfile ext.cnf"
        " && openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr"
        " -subj /CN=geodns"
        " && openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial"
        " -out client.pem -days 2 -extfile ext.cnf";
    return std::system(("(" + cmd + ") >/dev/null 2>&1").c_str()) == 0;
  }
  std::string file(const std::string& name) const { return dir_.path() + "/" + name; }
  std::string endpoints_toml() const {
    std::string out = "[";
    for (size_t i = 0; i < client_.size(); ++i) out += (i ? ", \"" : "\"") + endpoint(i) + "\"";
    return out + "]";
  }
  std::string endpoints_csv() const {
    std::string out;
    for (size_t i = 0; i < client_.size(); ++i) out += (i ? "," : "") + endpoint(i);
    return out;
  }
  void start(size_t i) {
    const std::string peer = "http://127.0.0.1:" + std::to_string(peer_[i]);
    std::vector<std::string> args = {"--name", name(i), "--data-dir", dir_.path() + "/" + name(i)};
    for (const auto& [flag, value] : std::vector<std::pair<std::string, std::string>>{
             {"--listen-client-urls", endpoint(i)},
             {"--advertise-client-urls", endpoint(i)},
             {"--listen-peer-urls", peer},
             {"--initial-advertise-peer-urls", peer},
             {"--initial-cluster", cluster_},
             {"--initial-cluster-state", "new"},
             {"--initial-cluster-token", "geodns-test"},
             {"--log-level", "warn"}}) {
      args.push_back(flag);
      args.push_back(value);
    }
    if (tls_) {
      for (const auto& a :
           {std::string("--cert-file"), file("server.pem"), std::string("--key-file"),
            file("server.key"), std::string("--trusted-ca-file"), file("ca.pem"),
            std::string("--client-cert-auth")}) {
        args.push_back(a);
      }
    }
    procs_[i] = std::make_unique<ServerProcess>("/usr/bin/etcd", args);
  }
  void start_all() {
    for (size_t i = 0; i < client_.size(); ++i) start(i);
  }
  bool healthy(size_t i) const {
    if (tls_) return ctl("endpoint health -w json").find("\"health\":true") != std::string::npos;
    return http(client_[i], "GET", "/health").find("\"true\"") != std::string::npos;
  }
  bool wait_healthy(std::chrono::milliseconds max = std::chrono::seconds(20)) {
    return wait_for(
               [&] {
                 for (size_t i = 0; i < client_.size(); ++i) {
                   if (procs_[i] && !healthy(i)) return false;
                 }
                 return true;
               },
               max)
        .has_value();
  }
  void kill(size_t i) {
    if (procs_[i]) procs_[i]->stop(std::chrono::milliseconds(0));  // SIGKILL at once
    procs_[i].reset();
  }
  // `etcdctl args...`: its stdout.
  std::string ctl(const std::string& args) const {
    const std::string cmd =
        "ETCDCTL_API=3 /usr/bin/etcdctl --dial-timeout=2s --endpoints=" + endpoints_csv() +
        (user_.empty() ? "" : " --user=" + user_) +
        (tls_ ? " --cacert=" + file("ca.pem") + " --cert=" + file("client.pem") +
                    " --key=" + file("client.key")
              : std::string()) +
        " " + args + " 2>/dev/null";
    std::string out;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
      char buf[4096];
      size_t n;
      while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
      ::pclose(p);
    }
    return out;
  }
  // etcdctl's "--user name:password" from now on (after auth enable).
  void set_user(std::string user_colon_password) { user_ = std::move(user_colon_password); }
  const std::string& dir() const { return dir_.path(); }

 private:
  bool tls_ = false;
  std::string user_;
  TempDir dir_;
  std::vector<uint16_t> client_, peer_;
  std::string cluster_;
  std::vector<std::unique_ptr<ServerProcess>> procs_;
};

constexpr const char* kZone = R"([zone]
name = "fleet.test."
ttl = 300
[zone.soa]
mname = "ns1.fleet.test."
rname = "hostmaster.fleet.test."
[records]
"@" = ["NS ns1.fleet.test."]
ns1 = "A 192.0.2.53"
[datacenters.a]
addresses = ["127.0.0.10"]
check = "web"
[datacenters.b]
addresses = ["192.0.2.20"]
[checks.web]
type = "http"
port = PORT
path = "/h"
interval = "300ms"
timeout = "200ms"
fall = 2
rise = 1
[steer.www]
ttl = 30
policy = "failover"
answers = 1
datacenters = ["a", "b"]
)";

class FleetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_etcd()) GTEST_SKIP() << "etcd-server/etcd-client not installed (install-deps.sh)";
  }

  // One etcd (or `members`), the backend, and three servers s1..s3. `before_servers` runs
  // against the healthy etcd before any server starts (enabling auth, say).
  void start(size_t members, const std::string& extra_fleet = "",
             const std::function<void()>& before_servers = {}, bool tls = false) {
    etcd_ = std::make_unique<Etcd>(members, tls);
    if (tls) {
      ASSERT_TRUE(etcd_->make_certificates()) << "openssl could not make certificates";
    }
    etcd_->start_all();
    ASSERT_TRUE(etcd_->wait_healthy()) << "etcd did not become healthy";
    if (before_servers) before_servers();
    backend_port_ = free_port();
    ASSERT_TRUE(backend_.start(backend_port_));
    std::string zone = kZone;
    zone.replace(zone.find("PORT"), 4, std::to_string(backend_port_));
    zones_.write("fleet.test.toml", zone);
    for (int i = 0; i < 3; ++i) start_server(i, extra_fleet);
  }

  void start_server(int i, const std::string& extra_fleet = "") {
    ServeOptions o;
    o.zones_dir = zones_.path();
    o.geoip = "";
    o.threads = 1;
    o.v6 = false;
    o.extra_config = "\n[fleet]\nendpoints = " + etcd_->endpoints_toml() + "\nname = \"it\"\n" +
                     "server = \"s" + std::to_string(i + 1) + "\"\nprobe_source = \"127.0.0." +
                     std::to_string(i + 2) + "\"\nlease_ttl = \"3s\"\n" + extra_fleet;
    servers_[i] = std::make_unique<Server>(o);
    ASSERT_TRUE(servers_[i]->ready) << servers_[i]->process->stderr_text();
  }

  // The address server i answers www.fleet.test A with ("" on no answer).
  std::string answer(int i) {
    auto p = servers_[i]->udp("www.fleet.test.", LDNS_RR_TYPE_A);
    if (!p) return {};
    for (const auto& line : section_strings(p.get(), LDNS_SECTION_ANSWER)) {
      const auto space = line.find_last_of(" \t");
      return space == std::string::npos ? line : line.substr(space + 1);
    }
    return {};
  }
  bool all_answer(const std::string& address) {
    for (int i = 0; i < 3; ++i) {
      if (servers_[i] && answer(i) != address) return false;
    }
    return true;
  }
  Json status(int i) {
    const std::string body = http(servers_[i]->control_port, "GET", "/status");
    Json j = Json::parse(body, nullptr, false);
    // Anything but a status document (an error, a half answer) reads as an empty one.
    if (j.is_discarded() || !j.is_object() || !j.contains("targets")) {
      return Json{
          {"targets", Json::array()}, {"overrides", Json::array()}, {"fleet", Json::object()}};
    }
    return j;
  }
  bool all_connected(size_t members) {
    for (int i = 0; i < 3; ++i) {
      if (!servers_[i]) continue;
      auto f = status(i)["fleet"];
      if (!f.is_object() || f["connected"] != true || f["members"].size() != members) return false;
    }
    return true;
  }
  // Server i's own state of the probed target (the rise/fall state, not the effective one).
  std::string local_state(int i) {
    const Json st = status(i);  // the loop must not range over a dead temporary
    for (const auto& t : st["targets"]) {
      if (t["address"] == kUp) return t["state"].get<std::string>();
    }
    return {};
  }
  uint64_t checks_of(int i) {
    const Json st = status(i);
    for (const auto& t : st["targets"]) {
      if (t["address"] == kUp) return t["checks"].get<uint64_t>();
    }
    return 0;
  }
  int ctl(int i, const std::string& args) {
    const std::string cmd = std::string(GEODNS_BINARY) + " ctl --control 127.0.0.1:" +
                            std::to_string(servers_[i]->control_port) + " " + args +
                            " >/dev/null 2>&1";
    return std::system(cmd.c_str());
  }
  // Stays true for the whole window (sampled every 50 ms): answers that must not move.
  bool holds_for(const std::function<bool()>& ok, std::chrono::milliseconds window) {
    const auto end = Clock::now() + window;
    while (Clock::now() < end) {
      if (!ok()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
  }

  // What the servers say, for failure messages.
  std::string describe() {
    std::string out;
    for (int i = 0; i < 3; ++i) {
      if (!servers_[i]) continue;
      out += "s" + std::to_string(i + 1) + ": answer=" + answer(i) +
             " fleet=" + status(i)["fleet"].dump() + " local=" + local_state(i) + "\n";
    }
    return out;
  }

  TempDir zones_;
  Backend backend_;
  uint16_t backend_port_ = 0;
  std::unique_ptr<Etcd> etcd_;
  std::unique_ptr<Server> servers_[3];
};

TEST_F(FleetTest, DrainOnOneServerReachesAll) {
  start(1);
  ASSERT_TRUE(wait_for([&] { return all_connected(3) && all_answer(kUp); }, 10s)) << describe();
  const auto t0 = Clock::now();
  ASSERT_EQ(ctl(0, "drain a --reason it-test"), 0);
  auto took = wait_for([&] { return all_answer(kSpare); }, 5s);
  ASSERT_TRUE(took) << "drain did not reach every server";
  const auto total = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
  std::printf("[ figure ] drain on s1 -> all three answer without it: %lld ms (incl. ctl)\n",
              static_cast<long long>(total.count()));
  // etcd holds it, with the author; another server's status shows it.
  EXPECT_NE(etcd_->ctl("get /geodns/it/overrides/dc/fleet.test/a").find("\"author\":\"s1\""),
            std::string::npos);
  EXPECT_EQ(status(2)["overrides"].size(), 1u);
  // Undrain on another server: back everywhere.
  ASSERT_EQ(ctl(2, "undrain a"), 0);
  EXPECT_TRUE(wait_for([&] { return all_answer(kUp); }, 5s));
  // A plain etcdctl put drains too (README "Running several servers").
  const auto t1 = Clock::now();
  etcd_->ctl(
      "put /geodns/it/overrides/dc/fleet.test/a '{\"mode\":\"down\",\"reason\":\"etcdctl\"}'");
  auto by_put = wait_for([&] { return all_answer(kSpare); }, 5s);
  ASSERT_TRUE(by_put) << "an etcdctl put did not drain";
  std::printf(
      "[ figure ] etcdctl put -> all three drained: %lld ms (incl. etcdctl)\n",
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t1).count()));
  etcd_->ctl("del /geodns/it/overrides/dc/fleet.test/a");
  EXPECT_TRUE(wait_for([&] { return all_answer(kUp); }, 5s));
}

TEST_F(FleetTest, OneServersPathProblemDoesNotMoveTraffic) {
  start(1);
  ASSERT_TRUE(wait_for([&] { return all_connected(3) && all_answer(kUp); }, 10s)) << describe();
  backend_.refuse({"127.0.0.2"});  // only s1's probes fail
  ASSERT_TRUE(wait_for([&] { return local_state(0) == "down"; }, 5s)) << "s1 never saw it down";
  EXPECT_EQ(local_state(1), "up");
  // Majority (2 of 3) says up: every server keeps answering it, s1 included.
  EXPECT_TRUE(holds_for([&] { return all_answer(kUp); }, 1500ms));
  {
    const Json st = status(1);
    int observers = -1;
    for (const auto& t : st["targets"]) {
      if (t["address"] == kUp) observers = t["fleet"]["observers"].get<int>();
    }
    EXPECT_EQ(observers, 3);
  }
  // Refused by all: down by quorum everywhere.
  backend_.refuse({"127.0.0.2", "127.0.0.3", "127.0.0.4"});
  EXPECT_TRUE(wait_for([&] { return all_answer(kSpare); }, 5s));
  backend_.refuse({});
  EXPECT_TRUE(wait_for([&] { return all_answer(kUp); }, 5s));
}

TEST_F(FleetTest, EtcdDownKeepsServingAndConvergesWhenBack) {
  start(1);
  ASSERT_TRUE(wait_for([&] { return all_connected(3) && all_answer(kUp); }, 10s)) << describe();
  // An override that must outlive the outage (force-up of the unchecked b changes no answer).
  ASSERT_EQ(ctl(1, "force-up b --reason kept"), 0);
  ASSERT_TRUE(wait_for([&] { return status(0)["overrides"].size() == 1; }, 5s));
  etcd_->kill(0);
  ASSERT_TRUE(wait_for(
      [&] {
        for (int i = 0; i < 3; ++i) {
          if (status(i)["fleet"]["connected"] != false) return false;
        }
        return true;
      },
      10s));
  // Answers unchanged, the last known override kept, local probing goes on.
  EXPECT_TRUE(holds_for([&] { return all_answer(kUp); }, 1000ms)) << describe();
  EXPECT_EQ(status(0)["overrides"].size(), 1u);
  EXPECT_EQ(status(0)["fleet"]["deciding"], "local");
  const uint64_t before = checks_of(2);
  EXPECT_TRUE(wait_for([&] { return checks_of(2) > before + 2; }, 5s));
  // Alone, each server follows its own probes: refused by all -> gone everywhere.
  backend_.refuse({"127.0.0.2", "127.0.0.3", "127.0.0.4"});
  EXPECT_TRUE(wait_for([&] { return all_answer(kSpare); }, 5s)) << describe();
  backend_.refuse({});
  EXPECT_TRUE(wait_for([&] { return all_answer(kUp); }, 5s)) << describe();
  // A drain made while etcd is away applies there at once, and reaches etcd on reconnect.
  ASSERT_EQ(ctl(2, "drain a --reason offline"), 0);
  EXPECT_TRUE(wait_for([&] { return answer(2) == kSpare; }, 2s));
  EXPECT_EQ(answer(0), kUp);  // not shared while etcd is away
  const auto t0 = Clock::now();
  etcd_->start(0);
  ASSERT_TRUE(etcd_->wait_healthy());
  const auto healthy_after = Clock::now() - t0;
  auto took = wait_for([&] { return all_connected(3) && all_answer(kSpare); }, 15s);
  ASSERT_TRUE(took) << "did not converge after etcd came back\n" << describe();
  std::printf(
      "[ figure ] etcd back (healthy after %lld ms) -> all three reconnected and "
      "converged %lld ms later\n",
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(healthy_after).count()),
      static_cast<long long>(took->count()));
  EXPECT_EQ(status(0)["overrides"].size(), 2u);
}

TEST_F(FleetTest, AKilledServersVotesLeaveWithItsLease) {
  start(1);
  ASSERT_TRUE(wait_for([&] { return all_connected(3) && all_answer(kUp); }, 10s)) << describe();
  ASSERT_NE(etcd_->ctl("get --prefix /geodns/it/votes --keys-only").find("/s3"), std::string::npos);
  const pid_t pid = servers_[2]->process->pid();
  ::kill(pid, SIGKILL);
  const auto t0 = Clock::now();
  auto took = wait_for(
      [&] {
        return etcd_->ctl("get --prefix /geodns/it/ --keys-only").find("/s3") == std::string::npos;
      },
      15s);
  ASSERT_TRUE(took) << "s3's votes outlived its lease";
  std::printf(
      "[ figure ] s3 killed -> its member key and votes gone after %lld ms (lease 3 s)\n",
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count()));
  servers_[2].reset();
  EXPECT_TRUE(wait_for([&] { return all_connected(2); }, 5s));
  // A stopped server (SIGTERM) revokes its lease: its votes go at once.
  servers_[1]->process->stop();
  servers_[1].reset();
  EXPECT_TRUE(wait_for(
      [&] {
        return etcd_->ctl("get --prefix /geodns/it/ --keys-only").find("/s2") == std::string::npos;
      },
      2s));
}

TEST_F(FleetTest, ProbeRateWithAndWithoutKOfN) {
  start(1, "probers_per_target = 1\n");
  ASSERT_TRUE(wait_for([&] { return all_connected(3) && all_answer(kUp); }, 10s)) << describe();
  std::this_thread::sleep_for(1s);  // the assignment settles after everyone joined
  const auto h0 = backend_.hits();
  std::this_thread::sleep_for(3s);
  const auto h1 = backend_.hits();
  uint64_t total = 0;
  size_t probers = 0;
  for (const auto& [peer, n] : h1) {
    const uint64_t d = n - (h0.count(peer) ? h0.at(peer) : 0);
    total += d;
    if (d > 0) ++probers;
  }
  std::printf(
      "[ figure ] k=1 of 3, interval 300 ms: %.1f probes/s on the backend from %zu "
      "server(s) (without k: 3 x 3.3 = 10/s)\n",
      static_cast<double>(total) / 3.0, probers);
  EXPECT_EQ(probers, 1u);
  // Everyone still answers it (the prober's vote decides for all).
  EXPECT_TRUE(all_answer(kUp));
  backend_.refuse({"127.0.0.2", "127.0.0.3", "127.0.0.4"});
  EXPECT_TRUE(wait_for([&] { return all_answer(kSpare); }, 5s));
}

TEST_F(FleetTest, EtcdWithAuthentication) {
  std::string pass_file;
  start(1, "", [&] {
    // A root user and auth on: every call then needs a token (/v3/auth/authenticate).
    ASSERT_NE(etcd_->ctl("user add root --new-user-password=s3cret").find("created"),
              std::string::npos);
    etcd_->ctl("role add root");
    ASSERT_NE(etcd_->ctl("user grant-role root root").find("granted"), std::string::npos);
    ASSERT_NE(etcd_->ctl("auth enable").find("Enabled"), std::string::npos);
    etcd_->set_user("root:s3cret");
    pass_file = etcd_->dir() + "/etcd.pass";
    std::ofstream(pass_file) << "s3cret\n";
  });
  // start() gave the servers no user: they must be refused, and say so, yet serve.
  ASSERT_TRUE(wait_for([&] { return all_answer(kUp); }, 5s));
  EXPECT_TRUE(
      wait_for([&] { return !status(0)["fleet"]["last_error"].get<std::string>().empty(); }, 5s));
  EXPECT_EQ(status(0)["fleet"]["connected"], false);
  for (int i = 0; i < 3; ++i) {
    servers_[i].reset();
    start_server(i, "user = \"root\"\npassword_file = \"" + pass_file + "\"\n");
  }
  ASSERT_TRUE(wait_for([&] { return all_connected(3) && all_answer(kUp); }, 10s)) << describe();
  ASSERT_EQ(ctl(0, "drain a --reason auth"), 0);
  EXPECT_TRUE(wait_for([&] { return all_answer(kSpare); }, 5s)) << describe();
  EXPECT_NE(etcd_->ctl("get --prefix /geodns/it/overrides").find("auth"), std::string::npos);
}

TEST_F(FleetTest, EtcdOverTlsWithClientCertificates) {
  if (::access("/usr/bin/openssl", X_OK) != 0) GTEST_SKIP() << "openssl not installed";
  start(1, "", {}, /*tls=*/true);
  // start() gave the servers no certificates: refused by etcd, serving anyway.
  ASSERT_TRUE(wait_for([&] { return all_answer(kUp); }, 5s));
  EXPECT_EQ(status(0)["fleet"]["connected"], false);
  const std::string tls = "tls_ca = \"" + etcd_->file("ca.pem") + "\"\ntls_cert = \"" +
                          etcd_->file("client.pem") + "\"\ntls_key = \"" +
                          etcd_->file("client.key") + "\"\n";
  for (int i = 0; i < 3; ++i) {
    servers_[i].reset();
    start_server(i, tls);
  }
  ASSERT_TRUE(wait_for([&] { return all_connected(3) && all_answer(kUp); }, 10s)) << describe();
  ASSERT_EQ(ctl(1, "drain a --reason tls"), 0);
  EXPECT_TRUE(wait_for([&] { return all_answer(kSpare); }, 5s)) << describe();
}

TEST_F(FleetTest, ThreeMemberEtcdCluster) {
  start(3);
  ASSERT_TRUE(wait_for([&] { return all_connected(3) && all_answer(kUp); }, 15s));
  const auto t0 = Clock::now();
  ASSERT_EQ(ctl(0, "drain a --reason cluster"), 0);
  ASSERT_TRUE(wait_for([&] { return all_answer(kSpare); }, 5s)) << describe();
  std::printf(
      "[ figure ] 3-member etcd: drain on s1 reached all three in %lld ms (incl. ctl)\n",
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count()));
  // One member gone: the others keep the cluster; servers move to another endpoint.
  etcd_->kill(0);
  ASSERT_EQ(ctl(1, "undrain a"), 0);
  auto after = wait_for([&] { return all_answer(kUp) && all_connected(3); }, 15s);
  ASSERT_TRUE(after) << "the fleet did not survive losing one etcd member";
  std::printf("[ figure ] 3-member etcd, one member killed: undrain reached all in %lld ms\n",
              static_cast<long long>(after->count()));
}

}  // namespace
}  // namespace geodns::test
