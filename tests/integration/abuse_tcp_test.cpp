// TCP abuse against the real geodns binary (RFC 7766 section 6.2's advice on resource limits):
// thousands of idle connections must not starve UDP or go past the connection cap (newcomers
// close the connections idle longest), a client
// dribbling one byte every 200 ms is cut off by the stall timeout, a pipelined flood of 2,000
// queries in one write is answered completely and in order, and afterwards the server still
// answers and exits 0 on SIGTERM. One server for the whole scenario, bounded well under 30 s.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace geodns::test {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kMaxConnections = 2000;  // [server.tcp] max_connections below
constexpr auto kStallTimeout = 1s;     // [server.tcp] stall_timeout below

// The addresses the demo zone serves statically, to check answers by content.
struct Expected {
  const char* name;
  const char* address;
};
constexpr Expected kStatic[] = {
    {"ns1.example.com.", "198.51.100.53"},
    {"ns2.example.com.", "203.0.113.53"},
    {"mail2.example.com.", "203.0.113.25"},
};

std::string temp_dir() {
  char pattern[] = "/tmp/geodns-abuse-XXXXXX";
  const char* dir = ::mkdtemp(pattern);
  return dir != nullptr ? dir : "";
}

// An idle client: connected, never sends. Plain fds so that thousands can be polled at once.
int open_idle(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{2, 0};  // a connect that the backlog cannot take fails instead of hanging
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// How many of `fds` the server has closed (EOF or reset pending), waiting up to `timeout` for
// at least `want` of them.
size_t closed_count(const std::vector<int>& fds, size_t want, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::vector<pollfd> polls;
  for (int fd : fds) polls.push_back(pollfd{fd, POLLIN | POLLRDHUP, 0});
  size_t closed = 0;
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    ::poll(polls.data(), polls.size(), static_cast<int>(std::max<int64_t>(0, left.count())));
    closed = 0;
    for (const auto& p : polls) {
      if ((p.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)) != 0) ++closed;
    }
    if (closed >= want || Clock::now() >= deadline) return closed;
    std::this_thread::sleep_for(20ms);
  }
}

// Asks `name` A over UDP and checks the answer holds `address`.
::testing::AssertionResult udp_answers(uint16_t port, const Expected& e, uint16_t id) {
  QueryOptions o;
  o.id = id;
  const auto response = udp_query(port, make_query(e.name, LDNS_RR_TYPE_A, o), 2s);
  if (!response) return ::testing::AssertionFailure() << "no UDP answer for " << e.name;
  const Packet p = decode(*response);
  if (!p) return ::testing::AssertionFailure() << "ldns cannot decode the answer";
  if (ldns_pkt_id(p.get()) != id) return ::testing::AssertionFailure() << "wrong ID";
  for (const auto& rr : section_strings(p.get(), LDNS_SECTION_ANSWER)) {
    if (rr.find(e.address) != std::string::npos) return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << e.name << " answered without " << e.address;
}

class AbuseTcpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Thousands of sockets in this process; the server inherits the raised limit too.
    rlimit limit{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
    if (limit.rlim_cur < limit.rlim_max) {
      limit.rlim_cur = limit.rlim_max;
      ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &limit), 0);
    }
    if (limit.rlim_cur < kMaxConnections + 500) {
      GTEST_SKIP() << "RLIMIT_NOFILE hard limit " << limit.rlim_max << " is too low";
    }
    dir_ = temp_dir();
    ASSERT_FALSE(dir_.empty());
    config_path_ = dir_ + "/geodns.toml";
    std::ofstream(config_path_) << "[server.tcp]\n"
                                << "idle_timeout = \"60s\"\n"       // idle clients stay put
                                << "busy_idle_timeout = \"60s\"\n"  // also near the cap
                                << "stall_timeout = \"1s\"\n"
                                << "max_connections = " << kMaxConnections
                                << "\n"
                                // every client here is 127.0.0.1
                                << "max_connections_per_client = " << kMaxConnections << "\n";
    port_ = free_port();
    ASSERT_NE(port_, 0);
    const uint16_t control_port = free_port();
    ASSERT_NE(control_port, 0);
    const std::string src = GEODNS_SOURCE_DIR;
    server_ = std::make_unique<ServerProcess>(
        GEODNS_BINARY,
        std::vector<std::string>{
            "serve", "--config", config_path_, "--zones", src + "/zones", "--geoip",
            src + "/geoip/demo.mmdb", "--listen", "127.0.0.1:" + std::to_string(port_), "--threads",
            "1", "--log-level", "warn", "--control", "127.0.0.1:" + std::to_string(control_port)});
    ASSERT_TRUE(server_->wait_ready(port_, 10s)) << server_->stderr_text();
  }

  void TearDown() override {
    for (int fd : idle_) ::close(fd);
    if (server_) server_->stop();
    if (!dir_.empty()) {
      std::remove(config_path_.c_str());
      ::rmdir(dir_.c_str());
    }
  }

  std::string dir_;
  std::string config_path_;
  uint16_t port_ = 0;
  std::unique_ptr<ServerProcess> server_;
  std::vector<int> idle_;
};

TEST_F(AbuseTcpTest, IdleFloodSlowlorisAndPipelining) {
  const auto started = Clock::now();

  // 1. Idle connections up to the cap. A UDP round trip every 100 connects keeps the accept
  //    queue short, and shows UDP is answered throughout.
  uint16_t id = 1;
  for (int i = 0; i < kMaxConnections; ++i) {
    const int fd = open_idle(port_);
    ASSERT_GE(fd, 0) << "connect " << i << " failed";
    idle_.push_back(fd);
    if (i % 100 == 99) {
      ASSERT_TRUE(udp_answers(port_, kStatic[id % 3], id)) << "with " << i + 1 << " idle";
      ++id;
    }
  }
  for (int i = 0; i < 20; ++i, ++id) EXPECT_TRUE(udp_answers(port_, kStatic[id % 3], id));
  EXPECT_EQ(closed_count(idle_, 1, 200ms), 0U) << "idle connections within the cap were closed";

  // 2. Over the cap: each newcomer closes the connection idle longest (RFC 7766 6.2.3), here
  //    the first ones opened; the newcomers and the rest stay.
  //    A connection never answered is spared for its first second (tcp_admission.h).
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  std::vector<int> extra;
  for (int i = 0; i < 20; ++i) {
    const int fd = open_idle(port_);
    if (fd >= 0) extra.push_back(fd);
  }
  ASSERT_EQ(extra.size(), 20U);
  const std::vector<int> oldest(idle_.begin(), idle_.begin() + 20);
  EXPECT_EQ(closed_count(oldest, oldest.size(), 3s), oldest.size());
  EXPECT_EQ(closed_count(extra, 1, 100ms), 0U) << "a newcomer was closed";
  for (int fd : oldest) ::close(fd);
  idle_.erase(idle_.begin(), idle_.begin() + 20);
  EXPECT_EQ(closed_count(idle_, 1, 100ms), 0U) << "more than the idle-longest were closed";
  idle_.insert(idle_.end(), extra.begin(), extra.end());

  // Free some room for the next clients; the server notices the EOFs and frees their slots.
  for (int i = 0; i < 200; ++i) {
    ::close(idle_.back());
    idle_.pop_back();
  }
  ASSERT_TRUE(udp_answers(port_, kStatic[0], id++));
  std::this_thread::sleep_for(200ms);

  // 3. Slowloris: a valid query, one byte every 200 ms. Complete it would take ~7 s; the stall
  //    timeout must cut it off after about 1 s, before it is complete.
  {
    Bytes framed = make_query("ns1.example.com.", LDNS_RR_TYPE_A);
    const auto length = static_cast<uint16_t>(framed.size());
    framed.insert(framed.begin(),
                  {static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length & 0xFF)});
    TcpClient slow;
    ASSERT_TRUE(slow.connect(port_));
    const auto t0 = Clock::now();
    bool closed = false;
    size_t sent = 0;
    while (sent < framed.size() && !closed) {
      if (!slow.send_raw(Bytes{framed[sent]})) {
        closed = true;  // reset by the server
        break;
      }
      ++sent;
      closed = slow.wait_closed(200ms);
    }
    const auto elapsed = Clock::now() - t0;
    EXPECT_TRUE(closed) << "sent the whole query at 5 bytes/s without being cut off";
    EXPECT_LT(sent, framed.size());
    EXPECT_GE(elapsed, kStallTimeout - 100ms) << "cut off before the stall timeout";
    EXPECT_LT(elapsed, kStallTimeout + 2s);
    // Meanwhile the idle clients stay (their own timeout is 60 s) and UDP is answered.
    EXPECT_TRUE(udp_answers(port_, kStatic[1], id++));
  }

  // 4. Pipelining flood: 2,000 queries in one write, answered completely and in order.
  {
    constexpr size_t kQueries = 2000;
    std::vector<Bytes> queries;
    for (size_t i = 0; i < kQueries; ++i) {
      QueryOptions o;
      o.id = static_cast<uint16_t>(i + 1);
      queries.push_back(make_query(kStatic[i % 3].name, LDNS_RR_TYPE_A, o));
    }
    const auto responses = tcp_query_many(port_, queries, 10s);
    ASSERT_EQ(responses.size(), kQueries);
    for (size_t i = 0; i < kQueries; ++i) {
      const Packet p = decode(responses[i]);
      ASSERT_TRUE(p) << "response " << i;
      ASSERT_EQ(ldns_pkt_id(p.get()), i + 1) << "response " << i << " out of order";
      ASSERT_EQ(question_name(p.get()), kStatic[i % 3].name);
      const auto answer = section_strings(p.get(), LDNS_SECTION_ANSWER);
      ASSERT_EQ(answer.size(), 1U) << "response " << i;
      ASSERT_NE(answer[0].find(kStatic[i % 3].address), std::string::npos) << answer[0];
    }
  }

  // 5. Still healthy: UDP and a fresh TCP connection answer; then a clean exit with 1,800 idle
  //    connections still open.
  EXPECT_TRUE(udp_answers(port_, kStatic[2], id++));
  const auto tcp = tcp_query(port_, make_query("ns1.example.com.", LDNS_RR_TYPE_A), 2s);
  ASSERT_TRUE(tcp.has_value());
  ASSERT_TRUE(decode(*tcp));
  EXPECT_EQ(closed_count(idle_, 1, 50ms), 0U);
  server_->stop(5s);
  EXPECT_EQ(server_->exit_code(), std::optional<int>(0))
      << "signal " << server_->term_signal() << "\n"
      << server_->stderr_text();
  EXPECT_LT(Clock::now() - started, 30s);
}

}  // namespace
}  // namespace geodns::test
