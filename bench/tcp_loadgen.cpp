// geodns-tcp-loadgen: many concurrent DNS-over-TCP clients for loopback benchmarks.
//
// Each of --clients clients connects (from one of --sources loopback source addresses, so the
// server sees many resolvers, not one), sends --per-conn queries (one at a time, or all at
// once with --pipeline), reads the answers, closes and connects again, until --duration ends.
// A client whose connection the server closes or resets with queries unanswered reconnects
// and sends them again, as RFC 7766 6.2.3 clients do; a query counts as lost only when it is
// still unanswered --timeout-ms after it was first sent. After --duration no new query starts,
// and the run waits (at most --timeout-ms) for those in flight.
//
// Counted: queries sent (first sends), answered, lost, resent; connects, connect failures,
// connections the server closed with queries pending (EOF) or reset; latency from first send
// to answer (so retries count in it), exact to 1 µs.
//
// Safety: it only ever connects to 127.0.0.0/8, and stops after --duration (at most 600 s).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tool_cli.h"

namespace {

using geodns::bench::die;
using geodns::bench::parse_int;
using Clock = std::chrono::steady_clock;

constexpr int kMaxClients = 60000;
constexpr int kMaxPerConn = 64;
constexpr int kMaxDurationS = 600;
constexpr int kMaxSources = 250;

struct Options {
  std::string server = "127.0.0.1";
  uint16_t port = 53;
  std::string queries_path;
  int clients = 1000;
  int per_conn = 3;
  int duration_s = 10;
  int timeout_ms = 3000;
  int sources = 100;
  bool pipeline = false;
  bool keepalive = false;
};

void usage() {
  std::fputs(
      "usage: geodns-tcp-loadgen --queries FILE [options]\n"
      "  --queries FILE     dnsperf format: 'name type' per line, # comments\n"
      "  --server ADDR      IPv4 loopback target (default 127.0.0.1)\n"
      "  --port N           target port (default 53)\n"
      "  --clients N        concurrent clients (connections), 1..60000 (default 1000)\n"
      "  --per-conn N       queries per connection before reconnecting, 1..64 (default 3)\n"
      "  --pipeline         send a connection's queries at once (default: one at a time)\n"
      "  --duration S       seconds, 1..600 (default 10)\n"
      "  --timeout-ms MS    a query unanswered this long after its first send is lost\n"
      "  --sources N        source addresses 127.0.0.2..127.0.0.(N+1), 1..250 (default 100)\n"
      "  --keepalive        add an empty edns-tcp-keepalive option (RFC 7828) to queries\n",
      stderr);
}

struct Query {
  std::vector<uint8_t> wire;  // with the 2-byte length prefix; ID at bytes 2..3
};

void put16(std::vector<uint8_t>& v, uint16_t x) {
  v.push_back(static_cast<uint8_t>(x >> 8));
  v.push_back(static_cast<uint8_t>(x));
}

uint16_t type_code(std::string_view t) {
  static const std::pair<const char*, uint16_t> kTypes[] = {
      {"A", 1},      {"NS", 2},    {"CNAME", 5}, {"SOA", 6},  {"PTR", 12},
      {"MX", 15},    {"TXT", 16},  {"AAAA", 28}, {"SRV", 33}, {"DS", 43},
      {"HTTPS", 65}, {"CAA", 257}, {"ANY", 255}};
  for (const auto& [name, code] : kTypes) {
    if (t == name) return code;
  }
  die("unknown query type '" + std::string(t) + "'");
}

std::vector<Query> load_queries(const Options& o) {
  std::ifstream in(o.queries_path);
  if (!in) die("cannot read " + o.queries_path);
  std::vector<Query> out;
  std::string line;
  while (std::getline(in, line)) {
    if (const size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream fields(line);
    std::string name;
    std::string type = "A";
    if (!(fields >> name)) continue;
    fields >> type;
    std::vector<uint8_t> m;
    put16(m, 0);       // length, set below
    put16(m, 0);       // ID
    put16(m, 0x0000);  // flags: RD clear, an authoritative server is asked
    put16(m, 1);
    put16(m, 0);
    put16(m, 0);
    put16(m, 1);  // ARCOUNT: OPT
    size_t start = 0;
    while (start < name.size()) {
      size_t dot = name.find('.', start);
      if (dot == std::string::npos) dot = name.size();
      if (dot - start > 63 || dot == start) die("bad name '" + name + "'");
      m.push_back(static_cast<uint8_t>(dot - start));
      m.insert(m.end(), name.begin() + static_cast<std::ptrdiff_t>(start),
               name.begin() + static_cast<std::ptrdiff_t>(dot));
      start = dot + 1;
    }
    m.push_back(0);
    put16(m, type_code(type));
    put16(m, 1);
    m.push_back(0);  // OPT: root, type 41, payload 1232, version 0
    put16(m, 41);
    put16(m, 1232);
    put16(m, 0);
    put16(m, 0);
    if (o.keepalive) {
      put16(m, 4);
      put16(m, 11);
      put16(m, 0);
    } else {
      put16(m, 0);
    }
    const size_t length = m.size() - 2;
    m[0] = static_cast<uint8_t>(length >> 8);
    m[1] = static_cast<uint8_t>(length);
    out.push_back(Query{std::move(m)});
  }
  if (out.empty()) die(o.queries_path + ": no queries");
  return out;
}

struct Pending {
  uint16_t id = 0;
  uint32_t query = 0;            // index into the query set
  Clock::time_point first_sent;  // for latency and the loss deadline
  bool was_sent = false;         // first_sent is set (a resend keeps it)
  bool done = false;             // answered, or given up as lost
};

struct Client {
  int fd = -1;
  int source = 0;
  bool connecting = false;
  std::vector<Pending> pending;  // this connection's queries, in order
  size_t next_to_send = 0;       // pending[] index
  std::vector<uint8_t> out;      // bytes not yet written
  size_t out_pos = 0;
  std::vector<uint8_t> in;  // bytes read, not yet a whole message
};

struct Stats {
  uint64_t sent = 0;
  uint64_t answered = 0;
  uint64_t lost = 0;
  uint64_t resent = 0;
  uint64_t connects = 0;
  uint64_t connect_failures = 0;
  uint64_t server_closed = 0;  // EOF with queries pending
  uint64_t resets = 0;         // ECONNRESET / EPIPE
  uint64_t unexpected = 0;     // answers with an unknown ID
  std::vector<uint32_t> latency_us;
};

class Runner {
 public:
  Runner(const Options& o, std::vector<Query> queries) : o_(o), queries_(std::move(queries)) {
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) die("epoll_create1: " + std::string(std::strerror(errno)));
    ::inet_pton(AF_INET, o.server.c_str(), &target_.sin_addr);
    target_.sin_family = AF_INET;
    target_.sin_port = htons(o.port);
    clients_.resize(static_cast<size_t>(o.clients));
    stats_.latency_us.reserve(1 << 22);
  }

  void run() {
    const auto start = Clock::now();
    end_ = start + std::chrono::seconds(o_.duration_s);
    for (size_t i = 0; i < clients_.size(); ++i) {
      clients_[i].source = static_cast<int>(i % static_cast<size_t>(o_.sources));
      begin_connection(i, Clock::now());
    }
    std::vector<epoll_event> events(4096);
    const auto hard_end = end_ + std::chrono::milliseconds(o_.timeout_ms + 500);
    auto last_sweep = start;
    while (true) {
      const auto now = Clock::now();
      if (now >= hard_end || (now >= end_ && open_pending() == 0)) break;
      const int n = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 20);
      const auto t = Clock::now();
      for (int k = 0; k < n; ++k)
        handle(events[static_cast<size_t>(k)].data.u64, events[k].events, t);
      if (t - last_sweep > std::chrono::milliseconds(50)) {
        sweep(t);
        last_sweep = t;
      }
    }
    elapsed_s_ = std::chrono::duration<double>(Clock::now() - start).count();
    for (auto& c : clients_) {
      for (const auto& p : c.pending) {
        if (!p.done && p.was_sent) ++stats_.lost;  // still unanswered at the hard end
      }
      if (c.fd >= 0) ::close(c.fd);
    }
  }

  void report() {
    auto& l = stats_.latency_us;
    std::sort(l.begin(), l.end());
    auto pct = [&l](double p) -> uint32_t {
      if (l.empty()) return 0;
      return l[std::min(l.size() - 1, static_cast<size_t>(p * static_cast<double>(l.size())))];
    };
    const double qps = elapsed_s_ > 0 ? static_cast<double>(stats_.answered) / elapsed_s_ : 0;
    std::printf("clients=%d per_conn=%d pipeline=%d sources=%d duration_s=%.3f\n", o_.clients,
                o_.per_conn, o_.pipeline ? 1 : 0, o_.sources, elapsed_s_);
    std::printf(
        "result sent=%llu answered=%llu lost=%llu resent=%llu connects=%llu connect_failures=%llu "
        "server_closed=%llu resets=%llu unexpected=%llu qps=%.0f p50_us=%u p90_us=%u p99_us=%u "
        "p999_us=%u max_us=%u\n",
        static_cast<unsigned long long>(stats_.sent),
        static_cast<unsigned long long>(stats_.answered),
        static_cast<unsigned long long>(stats_.lost),
        static_cast<unsigned long long>(stats_.resent),
        static_cast<unsigned long long>(stats_.connects),
        static_cast<unsigned long long>(stats_.connect_failures),
        static_cast<unsigned long long>(stats_.server_closed),
        static_cast<unsigned long long>(stats_.resets),
        static_cast<unsigned long long>(stats_.unexpected), qps, pct(0.5), pct(0.9), pct(0.99),
        pct(0.999), l.empty() ? 0 : l.back());
  }

  bool answered_any() const { return stats_.answered > 0; }

 private:
  size_t open_pending() const {
    size_t n = 0;
    for (const auto& c : clients_) {
      for (const auto& p : c.pending) n += p.done || !p.was_sent ? 0 : 1;
    }
    return n;
  }

  // A new connection for client i: its unanswered queries (if any) are resent on it, else it
  // starts --per-conn fresh ones (none after --duration).
  void begin_connection(size_t i, Clock::time_point now) {
    Client& c = clients_[i];
    if (c.fd >= 0) {
      ::epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
      ::close(c.fd);
      c.fd = -1;
    }
    std::erase_if(c.pending, [](const Pending& p) { return p.done; });
    if (c.pending.empty()) {
      if (now >= end_) return;
      for (int q = 0; q < o_.per_conn; ++q) {
        Pending p;
        p.id = next_id_++;
        p.query = static_cast<uint32_t>(next_query_++ % queries_.size());
        c.pending.push_back(p);
      }
    } else {
      for (const auto& p : c.pending) stats_.resent += p.was_sent ? 1 : 0;
    }
    c.next_to_send = 0;
    c.out.clear();
    c.out_pos = 0;
    c.in.clear();
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) die("socket: " + std::string(std::strerror(errno)) + " (raise RLIMIT_NOFILE)");
    const int one = 1;
    ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    sockaddr_in from{};
    from.sin_family = AF_INET;
    from.sin_addr.s_addr = htonl(0x7F000002U + static_cast<uint32_t>(c.source));
    if (::bind(c.fd, reinterpret_cast<const sockaddr*>(&from), sizeof(from)) != 0) {
      die("bind 127.0.0.x: " + std::string(std::strerror(errno)));
    }
    ++stats_.connects;
    const int rc = ::connect(c.fd, reinterpret_cast<const sockaddr*>(&target_), sizeof(target_));
    if (rc != 0 && errno != EINPROGRESS) {
      ++stats_.connect_failures;
      ::close(c.fd);
      c.fd = -1;
      return;  // retried by the sweep
    }
    c.connecting = rc != 0;
    epoll_event ev{};
    // Edge-triggered: every read and write goes on until EAGAIN, and a writable socket with
    // nothing to write does not wake the loop.
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = i;
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev);
    queue_sends(c, now);
  }

  // Sequential: the next query once the previous one is answered; pipelined: all at once.
  void queue_sends(Client& c, Clock::time_point now) {
    while (c.next_to_send < c.pending.size()) {
      if (!o_.pipeline && c.next_to_send > 0 && !c.pending[c.next_to_send - 1].done) break;
      Pending& p = c.pending[c.next_to_send++];
      if (!p.was_sent) {
        // The clock starts when the client means to send: connecting counts in the latency.
        p.was_sent = true;
        p.first_sent = now;
        ++stats_.sent;
      }
      const std::vector<uint8_t>& wire = queries_[p.query].wire;
      const size_t at = c.out.size();
      c.out.insert(c.out.end(), wire.begin(), wire.end());
      c.out[at + 2] = static_cast<uint8_t>(p.id >> 8);
      c.out[at + 3] = static_cast<uint8_t>(p.id);
    }
  }

  void lost_connection(size_t i, bool reset, Clock::time_point now) {
    Client& c = clients_[i];
    const bool has_pending =
        std::any_of(c.pending.begin(), c.pending.end(), [](const Pending& p) { return !p.done; });
    if (has_pending) ++(reset ? stats_.resets : stats_.server_closed);
    begin_connection(i, now);
  }

  void handle(uint64_t index, uint32_t events, Clock::time_point now) {
    const size_t i = static_cast<size_t>(index);
    Client& c = clients_[i];
    if (c.fd < 0) return;
    if (c.connecting && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) {
      int err = 0;
      socklen_t len = sizeof(err);
      ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        ++stats_.connect_failures;
        begin_connection(i, now);
        return;
      }
      c.connecting = false;
    }
    if ((events & EPOLLIN) != 0 || (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
      uint8_t buf[16384];
      while (true) {
        const ssize_t n = ::recv(c.fd, buf, sizeof(buf), 0);
        if (n > 0) {
          c.in.insert(c.in.end(), buf, buf + n);
          continue;
        }
        if (n == 0) {
          consume(c, now);
          if (finished(c)) {
            begin_connection(i, now);
          } else {
            lost_connection(i, false, now);
          }
          return;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR) continue;
        consume(c, now);
        lost_connection(i, true, now);
        return;
      }
      consume(c, now);
      if (finished(c)) {
        begin_connection(i, now);  // done: close and connect again
        return;
      }
      queue_sends(c, now);
    }
    flush(i, now);
  }

  bool finished(const Client& c) const {
    return !c.pending.empty() &&
           std::all_of(c.pending.begin(), c.pending.end(), [](const Pending& p) { return p.done; });
  }

  void consume(Client& c, Clock::time_point now) {
    size_t pos = 0;
    while (c.in.size() - pos >= 2) {
      const size_t length = static_cast<size_t>(c.in[pos]) << 8 | c.in[pos + 1];
      if (c.in.size() - pos - 2 < length) break;
      if (length >= 2) {
        const uint16_t id = static_cast<uint16_t>(c.in[pos + 2] << 8 | c.in[pos + 3]);
        bool matched = false;
        for (auto& p : c.pending) {
          if (p.id == id && !p.done) {
            p.done = true;
            matched = true;
            ++stats_.answered;
            const auto us =
                std::chrono::duration_cast<std::chrono::microseconds>(now - p.first_sent).count();
            stats_.latency_us.push_back(static_cast<uint32_t>(std::min<int64_t>(us, UINT32_MAX)));
            break;
          }
        }
        if (!matched) ++stats_.unexpected;
      }
      pos += 2 + length;
    }
    c.in.erase(c.in.begin(), c.in.begin() + static_cast<std::ptrdiff_t>(pos));
  }

  void flush(size_t i, Clock::time_point now) {
    Client& c = clients_[i];
    if (c.fd < 0 || c.connecting) return;
    while (c.out_pos < c.out.size()) {
      const ssize_t n =
          ::send(c.fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos, MSG_NOSIGNAL);
      if (n > 0) {
        c.out_pos += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n < 0 && errno == EINTR) continue;
      lost_connection(i, true, now);
      return;
    }
    c.out.clear();
    c.out_pos = 0;
  }

  // Queries past their deadline are lost (and dropped); clients without a connection retry.
  void sweep(Clock::time_point now) {
    const auto timeout = std::chrono::milliseconds(o_.timeout_ms);
    for (size_t i = 0; i < clients_.size(); ++i) {
      Client& c = clients_[i];
      bool expired = false;
      for (auto& p : c.pending) {
        if (!p.done && p.was_sent && now - p.first_sent > timeout) {
          p.done = true;  // given up
          ++stats_.lost;
          expired = true;
        }
      }
      if (expired || c.fd < 0) begin_connection(i, now);
    }
  }

  const Options& o_;
  std::vector<Query> queries_;
  int epoll_ = -1;
  sockaddr_in target_{};
  std::vector<Client> clients_;
  Stats stats_;
  Clock::time_point end_;
  double elapsed_s_ = 0;
  uint16_t next_id_ = 1;
  uint64_t next_query_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  geodns::bench::g_tool = "geodns-tcp-loadgen";
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) die(std::string(flag) + ": missing value");
      return argv[++i];
    };
    if (flag == "--queries") {
      o.queries_path = value();
    } else if (flag == "--server") {
      o.server = value();
    } else if (flag == "--port") {
      o.port = static_cast<uint16_t>(parse_int(flag, value(), 1, 65535));
    } else if (flag == "--clients") {
      o.clients = static_cast<int>(parse_int(flag, value(), 1, kMaxClients));
    } else if (flag == "--per-conn") {
      o.per_conn = static_cast<int>(parse_int(flag, value(), 1, kMaxPerConn));
    } else if (flag == "--duration") {
      o.duration_s = static_cast<int>(parse_int(flag, value(), 1, kMaxDurationS));
    } else if (flag == "--timeout-ms") {
      o.timeout_ms = static_cast<int>(parse_int(flag, value(), 10, 60000));
    } else if (flag == "--sources") {
      o.sources = static_cast<int>(parse_int(flag, value(), 1, kMaxSources));
    } else if (flag == "--pipeline") {
      o.pipeline = true;
    } else if (flag == "--keepalive") {
      o.keepalive = true;
    } else if (flag == "--help" || flag == "-h") {
      usage();
      return 0;
    } else {
      usage();
      die("unknown flag " + std::string(flag));
    }
  }
  if (o.queries_path.empty()) {
    usage();
    die("--queries is required");
  }
  in_addr addr{};
  if (::inet_pton(AF_INET, o.server.c_str(), &addr) != 1 || (ntohl(addr.s_addr) >> 24) != 127) {
    die("--server must be an IPv4 loopback address (127.0.0.0/8)");
  }
  // One descriptor per client, plus a margin for reconnects in flight and stdio.
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  const rlim_t need = static_cast<rlim_t>(o.clients) + 64;
  if (limit.rlim_cur < need) {
    limit.rlim_cur = std::min(limit.rlim_max, std::max(need, limit.rlim_cur));
    ::setrlimit(RLIMIT_NOFILE, &limit);
    if (limit.rlim_cur < need) die("RLIMIT_NOFILE hard limit too low for --clients");
  }
  Runner runner(o, load_queries(o));
  runner.run();
  runner.report();
  return runner.answered_any() ? 0 : 1;
}
