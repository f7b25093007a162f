// The UDP/TCP transport (src/server/worker_pool.h) end to end, with the echo_server test
// binary: answers must come back over both families and both transports, pipelined TCP
// in order, and the TCP limits (stall, idle, connection cap, backpressure) must hold.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace geodns::test {
namespace {

struct EchoOptions {
  unsigned threads = 2;
  unsigned idle_ms = 10000;
  unsigned stall_ms = 3000;
  unsigned max_connections = 1024;
  unsigned max_per_client = 1024;  // every test client is 127.0.0.1
  unsigned pad_bytes = 0;
  bool v6 = true;
};

class EchoServer {
 public:
  explicit EchoServer(const EchoOptions& options = {}) : port_(free_port()) {
    std::vector<std::string> args = {"--listen", "127.0.0.1:" + std::to_string(port_)};
    if (options.v6 && has_ipv6_loopback()) {
      args.insert(args.end(), {"--listen", "[::1]:" + std::to_string(port_)});
    }
    args.insert(
        args.end(),
        {"--threads", std::to_string(options.threads), "--tcp-idle-ms",
         std::to_string(options.idle_ms), "--tcp-stall-ms", std::to_string(options.stall_ms),
         "--tcp-max-conn", std::to_string(options.max_connections), "--tcp-max-per-client",
         std::to_string(options.max_per_client), "--pad-bytes", std::to_string(options.pad_bytes)});
    process_ = std::make_unique<ServerProcess>(GEODNS_ECHO_SERVER_BINARY, args);
    ready_ = process_->wait_ready(port_);
  }
  uint16_t port() const { return port_; }
  bool ready() const { return ready_; }
  ServerProcess& process() { return *process_; }
  // Stops the server (SIGTERM) and returns the value of `key` on its stats line, or -1.
  long long stat_after_stop(const std::string& key) {
    process_->stop();
    const std::string text = process_->stderr_text();
    const size_t line = text.find("echo_server: stats ");
    if (line == std::string::npos) return -1;
    const size_t at = text.find(" " + key + "=", line);
    if (at == std::string::npos) return -1;
    return std::stoll(text.substr(at + key.size() + 2));
  }

 private:
  uint16_t port_;
  std::unique_ptr<ServerProcess> process_;
  bool ready_ = false;
};

// The echo responder's answer: same ID and question (case kept), QR set, REFUSED.
void expect_echo(const std::optional<Bytes>& wire, uint16_t id, const std::string& name) {
  ASSERT_TRUE(wire.has_value()) << "no answer for " << name;
  const Packet packet = decode(*wire);
  ASSERT_NE(packet, nullptr) << "ldns cannot decode the answer for " << name;
  EXPECT_EQ(ldns_pkt_id(packet.get()), id);
  EXPECT_TRUE(ldns_pkt_qr(packet.get()));
  EXPECT_EQ(ldns_pkt_get_rcode(packet.get()), LDNS_RCODE_REFUSED);
  EXPECT_EQ(question_name(packet.get()), name);
}

Bytes query_for(const std::string& name, uint16_t id) {
  QueryOptions options;
  options.id = id;
  return make_query(name, LDNS_RR_TYPE_A, options);
}

TEST(Transport, UdpIpv4) {
  EchoServer server;
  ASSERT_TRUE(server.ready()) << server.process().stderr_text();
  expect_echo(udp_query(server.port(), query_for("WwW.Example.COM.", 0x1001)), 0x1001,
              "WwW.Example.COM.");
}

TEST(Transport, UdpIpv6) {
  if (!has_ipv6_loopback()) GTEST_SKIP() << "no ::1";
  EchoServer server;
  ASSERT_TRUE(server.ready()) << server.process().stderr_text();
  expect_echo(udp_query(server.port(), query_for("v6.example.", 0x1002), 2s, true), 0x1002,
              "v6.example.");
  expect_echo(tcp_query(server.port(), query_for("tcp6.example.", 0x1003), 2s, true), 0x1003,
              "tcp6.example.");
}

TEST(Transport, UdpManyQueriesAllAnswered) {
  EchoServer server;
  ASSERT_TRUE(server.ready()) << server.process().stderr_text();
  for (uint16_t i = 0; i < 50; ++i) {
    const std::string name = "q" + std::to_string(i) + ".example.";
    expect_echo(udp_query(server.port(), query_for(name, static_cast<uint16_t>(0x2000 + i))),
                static_cast<uint16_t>(0x2000 + i), name);
  }
}

TEST(Transport, ResponsesAreNotAnswered) {
  EchoServer server;
  ASSERT_TRUE(server.ready()) << server.process().stderr_text();
  Bytes response = query_for("loop.example.", 0x3000);
  response[2] |= 0x80;  // QR: the responder returns 0, nothing is sent
  EXPECT_FALSE(udp_query(server.port(), response, 300ms).has_value());
  // Over TCP the message in the middle is skipped, the others answered in order.
  TcpClient client;
  ASSERT_TRUE(client.connect(server.port()));
  ASSERT_TRUE(client.send_message(query_for("a.example.", 1)));
  ASSERT_TRUE(client.send_message(response));
  ASSERT_TRUE(client.send_message(query_for("b.example.", 2)));
  expect_echo(client.read_message(), 1, "a.example.");
  expect_echo(client.read_message(), 2, "b.example.");
  EXPECT_FALSE(client.read_message(200ms).has_value());
}

TEST(Transport, MalformedQueryGetsFormErr) {
  EchoServer server;
  ASSERT_TRUE(server.ready()) << server.process().stderr_text();
  Bytes bad = query_for("x.example.", 0x3100);
  bad.resize(14);  // question cut short
  const auto answer = udp_query(server.port(), bad);
  ASSERT_TRUE(answer.has_value());
  const Packet packet = decode(*answer);
  ASSERT_NE(packet, nullptr);
  EXPECT_EQ(ldns_pkt_id(packet.get()), 0x3100);
  EXPECT_EQ(ldns_pkt_get_rcode(packet.get()), LDNS_RCODE_FORMERR);
}

TEST(Transport, TcpSingle) {
  EchoServer server;
  ASSERT_TRUE(server.ready()) << server.process().stderr_text();
  expect_echo(tcp_query(server.port(), query_for("Tcp.Example.", 0x4001)), 0x4001, "Tcp.Example.");
}

TEST(Transport, TcpPipelinedInOrder) {
  EchoServer server;
  ASSERT_TRUE(server.ready()) << server.process().stderr_text();
  std::vector<Bytes> queries;
  for (uint16_t i = 0; i < 10; ++i) {
    queries.push_back(query_for("p" + std::to_string(i) + ".example.", 0x5000 + i));
  }
  const auto answers = tcp_query_many(server.port(), queries);
  ASSERT_EQ(answers.size(), 10U);
  for (uint16_t i = 0; i < 10; ++i) {
    expect_echo(answers[i], static_cast<uint16_t>(0x5000 + i),
                "p" + std::to_string(i) + ".example.");
  }
}

TEST(Transport, TcpQueryByteByByteWithinStallTimeout) {
  EchoOptions options;
  options.stall_ms = 2000;
  EchoServer server(options);
  ASSERT_TRUE(server.ready()) << server.process().stderr_text();
  TcpClient client;
  ASSERT_TRUE(client.connect(server.port()));
  const Bytes query = query_for("slow.example.", 0x5100);
  Bytes framed = {static_cast<uint8_t>(query.size() >> 8), static_cast<uint8_t>(query.size())};
  framed.insert(framed.end(), query.begin(), query.end());
  for (const uint8_t byte : framed) ASSERT_TRUE(client.send_raw({byte}));
  expect_echo(client.read_message(), 0x5100, "slow.example.");
}

TEST(Transport, TcpStalledPartialMessageIsCut) {
  EchoOptions options;
  options.stall_ms = 300;
  EchoServer server(options);
  ASSERT_TRUE(server.ready()) << server.process().stderr_text();
  TcpClient client;
  ASSERT_TRUE(client.connect(server.port()));
  ASSERT_TRUE(client.send_raw({0}));  // half a length prefix, then nothing
  EXPECT_TRUE(client.wait_closed(5s)) << "stalled connection still open";
  EXPECT_EQ(server.stat_after_stop("tcp_stall_closed"), 1);
  EXPECT_EQ(server.stat_after_stop("tcp_idle_closed"), 0);
}

TEST(Transport, TcpSlowlorisIsCutDespiteDribbling) {
  EchoOptions options;
  options.stall_ms = 300;
  EchoServer server(options);
  ASSERT_TRUE(server.ready()) << server.process().stderr_text();
  TcpClient client;
  ASSERT_TRUE(client.connect(server.port()));
  // Announce 200 bytes and send one every 50 ms: each byte is traffic, but the message
  // never completes within the stall timeout.
  ASSERT_TRUE(client.send_raw({0, 200}));
  bool closed = false;
  for (int i = 0; i < 60 && !closed; ++i) {
    if (!client.send_raw({0x41})) {
      closed = true;
      break;
    }
    closed = client.wait_closed(50ms);
  }
  EXPECT_TRUE(closed) << "a dribbling client kept its connection for 3 s";
  EXPECT_EQ(server.stat_after_stop("tcp_stall_closed"), 1);
}

TEST(Transport, TcpIdleConnectionIsClosed) {
  EchoOptions options;
  options.idle_ms = 400;
  EchoServer server(options);
  ASSERT_TRUE(server.ready()) << server.process().stderr_text();
  TcpClient client;
  ASSERT_TRUE(client.connect(server.port()));
  ASSERT_TRUE(client.send_message(query_for("idle.example.", 0x6001)));
  expect_echo(client.read_message(), 0x6001, "idle.example.");
  EXPECT_TRUE(client.wait_closed(5s)) << "idle connection still open";
  EXPECT_EQ(server.stat_after_stop("tcp_idle_closed"), 1);
  EXPECT_EQ(server.stat_after_stop("tcp_stall_closed"), 0);
}

TEST(Transport, TcpEofAfterQueryStillAnswered) {
  EchoServer server;
  ASSERT_TRUE(server.ready()) << server.process().stderr_text();
  TcpClient client;
  ASSERT_TRUE(client.connect(server.port()));
  ASSERT_TRUE(client.send_message(query_for("halfclose.example.", 0x6101)));
  ASSERT_TRUE(client.shutdown_write());
  expect_echo(client.read_message(), 0x6101, "halfclose.example.");
  EXPECT_TRUE(client.wait_closed(2s));
}

// RFC 7766 6.2.3: at the cap, each new client closes the connection idle longest; the new
// ones are served, the newer idle one stays.
TEST(Transport, TcpConnectionCapClosesTheIdleLongest) {
  EchoOptions options;
  options.threads = 1;  // the cap is per worker
  options.max_connections = 4;
  EchoServer server(options);
  ASSERT_TRUE(server.ready()) << server.process().stderr_text();
  std::vector<TcpClient> kept(4);
  for (uint16_t i = 0; i < kept.size(); ++i) {
    ASSERT_TRUE(kept[i].connect(server.port()));
    // A round trip proves the server admitted this one, and sets the idle order 0, 1, 2, 3.
    ASSERT_TRUE(kept[i].send_message(query_for("kept.example.", i)));
    expect_echo(kept[i].read_message(), i, "kept.example.");
  }
  std::vector<TcpClient> extra(3);
  for (uint16_t i = 0; i < extra.size(); ++i) {
    ASSERT_TRUE(extra[i].connect(server.port()));
    ASSERT_TRUE(extra[i].send_message(query_for("extra.example.", static_cast<uint16_t>(50 + i))));
    expect_echo(extra[i].read_message(), static_cast<uint16_t>(50 + i), "extra.example.");
  }
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(kept[i].wait_closed(3s)) << "connection " << i << " idle longest, still open";
  }
  // The one idle the shortest before the newcomers is still served, and UDP is unaffected.
  ASSERT_TRUE(kept[3].send_message(query_for("again.example.", 103)));
  expect_echo(kept[3].read_message(), 103, "again.example.");
  for (uint16_t i = 0; i < extra.size(); ++i) {
    ASSERT_TRUE(extra[i].send_message(query_for("again.example.", static_cast<uint16_t>(60 + i))));
    expect_echo(extra[i].read_message(), static_cast<uint16_t>(60 + i), "again.example.");
  }
  expect_echo(udp_query(server.port(), query_for("udp.example.", 0x7001)), 0x7001, "udp.example.");
  EXPECT_EQ(server.stat_after_stop("tcp_evicted"), 3);
  EXPECT_EQ(server.stat_after_stop("tcp_rejected"), 0);
}

// A connection with a query in progress is never closed for a newcomer; with every one busy
// the newcomer waits in the accept queue (parked) until one is answered and may go.
TEST(Transport, TcpConnectionCapSparesBusyConnections) {
  EchoOptions options;
  options.threads = 1;
  options.max_connections = 2;
  EchoServer server(options);
  ASSERT_TRUE(server.ready()) << server.process().stderr_text();
  TcpClient busy;
  TcpClient idle;
  ASSERT_TRUE(busy.connect(server.port()));
  ASSERT_TRUE(busy.send_message(query_for("busy.example.", 1)));
  expect_echo(busy.read_message(), 1, "busy.example.");
  ASSERT_TRUE(idle.connect(server.port()));
  ASSERT_TRUE(idle.send_message(query_for("idle.example.", 2)));
  expect_echo(idle.read_message(), 2, "idle.example.");
  // `busy` is idle longest, but starts a query (one byte of its length prefix).
  ASSERT_TRUE(busy.send_raw({0}));
  // A round trip on `idle` after that byte: the server has read it before the next accept.
  ASSERT_TRUE(idle.send_message(query_for("idle.example.", 3)));
  expect_echo(idle.read_message(), 3, "idle.example.");
  TcpClient newcomer;
  ASSERT_TRUE(newcomer.connect(server.port()));
  ASSERT_TRUE(newcomer.send_message(query_for("new.example.", 4)));
  expect_echo(newcomer.read_message(), 4, "new.example.");
  EXPECT_TRUE(idle.wait_closed(3s)) << "the idle connection should have made room";
  // `busy` finishes its query and is answered: it was not closed.
  const Bytes rest = [] {
    Bytes q = query_for("busy.example.", 5);
    Bytes out{static_cast<uint8_t>(q.size() & 0xFF)};
    out.insert(out.end(), q.begin(), q.end());
    return out;
  }();
  ASSERT_TRUE(busy.send_raw(rest));
  expect_echo(busy.read_message(), 5, "busy.example.");
  // Now both busy (each half-sent a query): a third client waits, it is not refused.
  ASSERT_TRUE(newcomer.send_raw({0}));
  ASSERT_TRUE(busy.send_raw({0}));
  expect_echo(udp_query(server.port(), query_for("sync.example.", 6)), 6, "sync.example.");
  TcpClient waiting;
  ASSERT_TRUE(waiting.connect(server.port()));  // the kernel completes the handshake
  ASSERT_TRUE(waiting.send_message(query_for("waiting.example.", 7)));
  // `busy` completes its query: answered, it is idle and goes for the waiting client.
  ASSERT_TRUE(busy.send_raw(rest));
  expect_echo(busy.read_message(), 5, "busy.example.");
  expect_echo(waiting.read_message(3s), 7, "waiting.example.");
  EXPECT_TRUE(busy.wait_closed(3s)) << "the idle connection should have made room";
  // The newcomer, still mid-query, was spared: it completes and is answered.
  ASSERT_TRUE(newcomer.send_raw(rest));
  expect_echo(newcomer.read_message(), 5, "busy.example.");
  EXPECT_EQ(server.stat_after_stop("tcp_rejected"), 0);
  EXPECT_GE(server.stat_after_stop("tcp_parked"), 1);
  EXPECT_EQ(server.stat_after_stop("tcp_evicted"), 2);
}

// One address may hold at most max_per_client connections: over it, its own idle-longest
// connection goes, never another client's.
TEST(Transport, TcpPerClientLimitClosesTheClientsOwnIdleConnection) {
  if (!has_ipv6_loopback()) GTEST_SKIP() << "needs a second client address (::1)";
  EchoOptions options;
  options.threads = 1;
  options.max_connections = 10;
  options.max_per_client = 2;
  EchoServer server(options);
  ASSERT_TRUE(server.ready()) << server.process().stderr_text();
  TcpClient other;  // ::1, idle longest of the worker
  ASSERT_TRUE(other.connect(server.port(), true));
  ASSERT_TRUE(other.send_message(query_for("other.example.", 1)));
  expect_echo(other.read_message(), 1, "other.example.");
  std::vector<TcpClient> mine(3);  // 127.0.0.1
  for (uint16_t i = 0; i < mine.size(); ++i) {
    ASSERT_TRUE(mine[i].connect(server.port()));
    ASSERT_TRUE(mine[i].send_message(query_for("mine.example.", static_cast<uint16_t>(10 + i))));
    expect_echo(mine[i].read_message(), static_cast<uint16_t>(10 + i), "mine.example.");
  }
  EXPECT_TRUE(mine[0].wait_closed(3s)) << "the client's own idle-longest connection stays open";
  for (uint16_t i = 1; i < mine.size(); ++i) {
    ASSERT_TRUE(mine[i].send_message(query_for("again.example.", static_cast<uint16_t>(20 + i))));
    expect_echo(mine[i].read_message(), static_cast<uint16_t>(20 + i), "again.example.");
  }
  ASSERT_TRUE(other.send_message(query_for("again.example.", 30)));
  expect_echo(other.read_message(), 30, "again.example.");
  EXPECT_EQ(server.stat_after_stop("tcp_client_evicted"), 1);
  EXPECT_EQ(server.stat_after_stop("tcp_evicted"), 0);
}

TEST(Transport, TcpBackpressureClientReadsLate) {
  EchoOptions options;
  options.pad_bytes =
      60000;  // ~60 KB per answer: 400 answers (24 MB) outgrow socket buffers and the 256 KiB cap
  EchoServer server(options);
  ASSERT_TRUE(server.ready()) << server.process().stderr_text();
  TcpClient client;
  ASSERT_TRUE(client.connect(server.port()));
  Bytes stream;
  constexpr uint16_t kCount = 400;
  for (uint16_t i = 0; i < kCount; ++i) {
    const Bytes query = query_for("bp.example.", i);
    stream.push_back(static_cast<uint8_t>(query.size() >> 8));
    stream.push_back(static_cast<uint8_t>(query.size()));
    stream.insert(stream.end(), query.begin(), query.end());
  }
  ASSERT_TRUE(client.send_raw(stream));
  std::this_thread::sleep_for(300ms);  // not reading: the server must hold back
  for (uint16_t i = 0; i < kCount; ++i) {
    const auto answer = client.read_message(5s);
    ASSERT_TRUE(answer.has_value()) << "answer " << i << " missing";
    const Packet packet = decode(*answer);
    ASSERT_NE(packet, nullptr);
    ASSERT_EQ(ldns_pkt_id(packet.get()), i);
  }
  EXPECT_GT(server.stat_after_stop("tcp_backpressure"), 0);
  EXPECT_EQ(server.stat_after_stop("tcp_sent"), kCount);
}

TEST(Transport, StopsCleanlyOnSigtermWithOpenConnections) {
  EchoServer server;
  ASSERT_TRUE(server.ready()) << server.process().stderr_text();
  std::vector<TcpClient> clients(5);
  for (auto& client : clients) ASSERT_TRUE(client.connect(server.port()));
  clients[0].send_raw({0});  // one with a partial message
  ASSERT_TRUE(clients[1].send_message(query_for("open.example.", 1)));
  expect_echo(clients[1].read_message(), 1, "open.example.");
  // Well under the 3 s grace period before SIGKILL: stop() must not wait for clients.
  server.process().stop(3s);
  EXPECT_EQ(server.process().term_signal(), 0) << "had to be killed";
  EXPECT_EQ(server.process().exit_code(), std::optional<int>(0)) << server.process().stderr_text();
  for (auto& client : clients) EXPECT_TRUE(client.wait_closed(1s));
}

// A UDP flood keeps the worker's socket busy (it is then drained outside epoll, between
// loop iterations): TCP must still be answered, and SIGTERM must still stop it promptly.
TEST(Transport, UdpFloodKeepsTcpAndStopResponsive) {
  EchoOptions options;
  options.threads = 1;
  options.v6 = false;
  EchoServer server(options);
  ASSERT_TRUE(server.ready()) << server.process().stderr_text();

  std::atomic<bool> done{false};
  std::atomic<uint64_t> answered{0};
  std::thread flood([&] {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd < 0) return;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(server.port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd);
      return;
    }
    constexpr size_t kBatch = 32;
    const Bytes query = query_for("flood.example.", 0x5151);
    std::array<mmsghdr, kBatch> out{};
    std::array<iovec, kBatch> out_iov{};
    for (size_t i = 0; i < kBatch; ++i) {
      out_iov[i] = {const_cast<uint8_t*>(query.data()), query.size()};
      out[i].msg_hdr.msg_iov = &out_iov[i];
      out[i].msg_hdr.msg_iovlen = 1;
    }
    std::array<std::array<uint8_t, 512>, kBatch> buffers{};
    std::array<mmsghdr, kBatch> in{};
    std::array<iovec, kBatch> in_iov{};
    // Bounded: at most 20 s even if nobody says stop.
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!done.load() && std::chrono::steady_clock::now() < deadline) {
      (void)::sendmmsg(fd, out.data(), kBatch, 0);
      for (size_t i = 0; i < kBatch; ++i) {
        in_iov[i] = {buffers[i].data(), buffers[i].size()};
        in[i].msg_hdr = msghdr{};
        in[i].msg_hdr.msg_iov = &in_iov[i];
        in[i].msg_hdr.msg_iovlen = 1;
      }
      const int n = ::recvmmsg(fd, in.data(), kBatch, MSG_DONTWAIT, nullptr);
      if (n > 0) answered += static_cast<uint64_t>(n);
    }
    ::close(fd);
  });

  // The flood is being answered ...
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (answered.load() < 20000 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_GE(answered.load(), 20000U) << "the UDP flood was not answered";
  // ... and TCP is served meanwhile, more than once.
  for (uint16_t i = 0; i < 5; ++i) {
    expect_echo(tcp_query(server.port(), query_for("tcp.example.", i), 2s), i, "tcp.example.");
  }
  // A stop in the middle of the flood takes effect at once.
  const auto t0 = std::chrono::steady_clock::now();
  server.process().stop(3s);
  const auto took = std::chrono::steady_clock::now() - t0;
  done = true;
  flood.join();
  EXPECT_EQ(server.process().term_signal(), 0) << "had to be killed";
  EXPECT_EQ(server.process().exit_code(), std::optional<int>(0)) << server.process().stderr_text();
  EXPECT_LT(took, 2s);
  EXPECT_GE(server.stat_after_stop("udp_sent"), 20000);
}

TEST(Transport, PortInUseIsReported) {
  const uint16_t port = free_port();
  // Hold the TCP port without SO_REUSEPORT: the server's bind must fail.
  const int holder = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(holder, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(holder, 1), 0);
  ServerProcess process(GEODNS_ECHO_SERVER_BINARY,
                        {"--listen", "127.0.0.1:" + std::to_string(port)});
  EXPECT_TRUE(process.wait_exit(5s));
  ::close(holder);
  EXPECT_EQ(process.exit_code(), std::optional<int>(1));
  EXPECT_NE(process.stderr_text().find("listen 127.0.0.1:" + std::to_string(port) +
                                       ": Address already in use"),
            std::string::npos)
      << process.stderr_text();
}

}  // namespace
}  // namespace geodns::test
