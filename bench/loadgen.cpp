// geodns-loadgen: a UDP DNS load generator for loopback benchmarks, closed or open loop.
//
// Closed loop (the default): at most --inflight queries are outstanding; every answer (or a query
// declared lost after --timeout-ms) frees a slot that is refilled at once. The rate measured is
// therefore what the server sustains at that concurrency, not a rate we impose.
//
// Open loop (--rate QPS): queries leave on a fixed schedule whatever the server does, so a busy
// server shows up as loss and latency instead of as a lower send rate (a closed loop slows down
// with the server and hides exactly that). The generator reports the rate it achieved itself,
// so its own shortfall is never blamed on the server. All queries are built in wire
// format before the clock starts so that the generator's own cost per query is one iovec and a
// 2-byte ID.
//
// Safety: it only ever sends to 127.0.0.0/8 or ::1, and stops after --duration (at most 600 s).

#include <arpa/inet.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <numeric>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "query_file.h"
#include "tool_cli.h"

namespace {

using geodns::bench::die;
using geodns::bench::parse_int;
using geodns::bench::pin_to_cpu;

using Clock = std::chrono::steady_clock;

constexpr int kBatch = 64;              // sendmmsg/recvmmsg batch size
constexpr int kMaxSockets = 64;         // each socket is one source port
constexpr int kMaxInflight = 60000;     // must stay below the 16-bit ID space
constexpr int kMaxDurationS = 600;      // hard upper bound on one run
constexpr size_t kRecvBufBytes = 4096;  // larger than any EDNS payload we advertise
constexpr uint16_t kEdnsPayloadBytes = 1232;
constexpr uint16_t kOptType = 41;
constexpr uint16_t kEcsOptionCode = 8;  // RFC 7871 section 6
constexpr uint32_t kMaxEcsSubnets = 1000000;
constexpr size_t kMaxPrebuiltQueries = size_t{1} << 20;
constexpr uint32_t kLatencyBuckets = 1000000;  // 1 µs buckets up to 1 s
constexpr int kMaxRate = 2000000;
// Open loop: a socket's 16-bit IDs are handed out in sequence, so an ID comes back after 65536
// sends on that socket. Each must be answered or expired by then, else a late answer could match
// the newer query: a socket may send at most this many per timeout.
constexpr uint64_t kMaxOpenPerSocketPerTimeout = 32768;
constexpr int kMaxRecvBatchesPerPass = 16;  // then the schedule gets its turn again
// The open loop wakes every tick, sends what is due and reads what came. Answers carry the
// kernel's receive timestamp, so the tick adds nothing to the latency measured; it only sets how
// finely the schedule is followed, and it spares the generator one wake-up per answer.
constexpr auto kTick = std::chrono::microseconds(100);
constexpr auto kLateSend = std::chrono::milliseconds(1);
// A generator a little behind still sends the whole schedule; one further behind stops here and
// the queries it never sent show as sent < scheduled.
constexpr auto kSendGrace = std::chrono::milliseconds(100);

struct Options {
  std::string server = "127.0.0.1";
  uint16_t port = 53;
  std::string queries_path;
  int duration_s = 10;
  int inflight = 256;
  int sockets = 4;
  uint32_t ecs_subnets = 0;
  bool use_edns = false;
  bool dnssec_ok = false;
  int cpu = -1;
  int timeout_ms = 1000;
  int rate = 0;  // > 0: open loop at this many queries per second
  bool quiet = false;
};

void print_usage() {
  std::fputs(
      "usage: geodns-loadgen --queries FILE [options]\n"
      "  --queries, -d FILE   query file in dnsperf format: 'name type' per line, # comments\n"
      "  --server ADDR        target, loopback only: 127.0.0.0/8 or ::1 (default 127.0.0.1)\n"
      "  --port, -p N         target port (default 53)\n"
      "  --duration, -l S     seconds to run, 1..600 (default 10)\n"
      "  --inflight, -q N     outstanding queries kept in flight (default 256)\n"
      "  --rate QPS           open loop: send QPS queries/s on a fixed schedule whatever the\n"
      "                       answers (--inflight is then unused)\n"
      "  --sockets N          UDP sockets / source ports, 1..64 (default 4)\n"
      "  --ecs-subnets N      add EDNS Client Subnet, N distinct public /24s (query i: i mod N)\n"
      "  --edns               add a plain OPT record (payload 1232)\n"
      "  --dnssec-ok          set the DO bit (implies an OPT record): ask for signatures\n"
      "  --timeout-ms N       a query unanswered after N ms is lost (default 1000)\n"
      "  --cpu N              pin the generator to CPU N\n"
      "  --quiet              print only the machine-readable result line\n",
      stderr);
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) die(std::string(arg) + " needs a value");
      return argv[++i];
    };
    if (arg == "--server" || arg == "-s") {
      o.server = value();
    } else if (arg == "--port" || arg == "-p") {
      o.port = static_cast<uint16_t>(parse_int(arg, value(), 1, 65535));
    } else if (arg == "--queries" || arg == "-d") {
      o.queries_path = value();
    } else if (arg == "--duration" || arg == "-l") {
      o.duration_s = static_cast<int>(parse_int(arg, value(), 1, kMaxDurationS));
    } else if (arg == "--inflight" || arg == "-q") {
      o.inflight = static_cast<int>(parse_int(arg, value(), 1, kMaxInflight));
    } else if (arg == "--sockets") {
      o.sockets = static_cast<int>(parse_int(arg, value(), 1, kMaxSockets));
    } else if (arg == "--ecs-subnets") {
      o.ecs_subnets = static_cast<uint32_t>(parse_int(arg, value(), 1, kMaxEcsSubnets));
    } else if (arg == "--edns") {
      o.use_edns = true;
    } else if (arg == "--dnssec-ok") {
      o.dnssec_ok = true;
    } else if (arg == "--timeout-ms") {
      o.timeout_ms = static_cast<int>(parse_int(arg, value(), 1, 10000));
    } else if (arg == "--rate") {
      o.rate = static_cast<int>(parse_int(arg, value(), 1, kMaxRate));
    } else if (arg == "--cpu") {
      o.cpu = static_cast<int>(parse_int(arg, value(), 0, CPU_SETSIZE - 1));
    } else if (arg == "--quiet") {
      o.quiet = true;
    } else if (arg == "--help" || arg == "-h") {
      print_usage();
      std::exit(0);
    } else {
      print_usage();
      die("unknown argument '" + std::string(arg) + "'");
    }
  }
  if (o.queries_path.empty()) {
    print_usage();
    die("--queries is required");
  }
  if (o.rate > 0) {
    const uint64_t per_socket_per_timeout = static_cast<uint64_t>(o.rate) *
                                            static_cast<uint64_t>(o.timeout_ms) / 1000 /
                                            static_cast<uint64_t>(o.sockets);
    if (per_socket_per_timeout > kMaxOpenPerSocketPerTimeout) {
      die("--rate x --timeout-ms needs more than " + std::to_string(kMaxOpenPerSocketPerTimeout) +
          " IDs per socket in flight: raise --sockets or lower --timeout-ms");
    }
  }
  return o;
}

// The target is resolved once; anything outside loopback is refused so that a typo can never
// turn a benchmark into traffic towards someone else's network.
struct Target {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family = AF_UNSPEC;
};

Target resolve_loopback_target(const std::string& server, uint16_t port) {
  Target t;
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, server.c_str(), &v4) == 1) {
    if ((ntohl(v4.s_addr) >> 24) != 127) die("refusing non-loopback target " + server);
    auto* sin = reinterpret_cast<sockaddr_in*>(&t.addr);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    sin->sin_addr = v4;
    t.len = sizeof(sockaddr_in);
    t.family = AF_INET;
  } else if (inet_pton(AF_INET6, server.c_str(), &v6) == 1) {
    if (!IN6_IS_ADDR_LOOPBACK(&v6)) die("refusing non-loopback target " + server);
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&t.addr);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    sin6->sin6_addr = v6;
    t.len = sizeof(sockaddr_in6);
    t.family = AF_INET6;
  } else {
    die("--server must be a numeric loopback address (127.0.0.0/8 or ::1), got " + server);
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
// Query file and wire format.

using geodns::bench::make_ecs_subnets;
using geodns::bench::QuerySpec;
using geodns::bench::read_query_file;

// Locale-free: DNS case-insensitivity is ASCII only (RFC 4343).
uint8_t ascii_lower(uint8_t c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<uint8_t>(c + 32) : c;
}

// Does the answer `p` (`len` bytes) echo our question `q` (`qlen` bytes)? A server may change
// the name's case, so it is compared ASCII-case-insensitively; an answer without a question
// section (QDCOUNT 0, e.g. some FORMERRs) passes. Otherwise it is someone else's answer or a
// stale ID.
bool echoes_question(const uint8_t* p, size_t len, const uint8_t* q, size_t qlen) {
  if (((p[4] << 8) | p[5]) != 1) return true;
  if (len < 12 + qlen) return false;
  for (size_t i = 0; i < qlen; ++i) {
    if (ascii_lower(p[12 + i]) != ascii_lower(q[i])) return false;
  }
  return true;
}

void put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v & 0xFF));
}

// All prebuilt packets live in one buffer; the first two bytes (the ID) of each are never sent
// from here: every send supplies its own ID through a separate iovec.
struct QuerySet {
  std::vector<uint8_t> bytes;
  std::vector<uint32_t> offsets;  // size() + 1 entries
  std::vector<uint16_t> question_len;

  size_t size() const { return offsets.size() - 1; }
  const uint8_t* data(size_t i) const { return bytes.data() + offsets[i]; }
  size_t length(size_t i) const { return offsets[i + 1] - offsets[i]; }
};

QuerySet build_queries(const std::vector<QuerySpec>& specs, uint32_t ecs_count, bool use_edns,
                       bool dnssec_ok) {
  std::vector<std::array<uint8_t, 3>> subnets;
  if (ecs_count > 0) {
    subnets = make_ecs_subnets(ecs_count);
    if (subnets.size() < ecs_count) die("cannot make that many distinct ECS subnets");
  }
  // Query i pairs line (i mod L) with subnet (i mod N); lcm(L, N) packets make every pairing
  // exact. Past the cap, max(L, N) keeps every line and every subnet in use.
  size_t total = specs.size();
  if (ecs_count > 0) {
    size_t l = std::lcm(specs.size(), size_t{ecs_count});
    total = l <= kMaxPrebuiltQueries ? l : std::max(specs.size(), size_t{ecs_count});
  }
  QuerySet set;
  set.offsets.reserve(total + 1);
  set.question_len.reserve(total);
  for (size_t i = 0; i < total; ++i) {
    const QuerySpec& spec = specs[i % specs.size()];
    std::vector<uint8_t>& out = set.bytes;
    set.offsets.push_back(static_cast<uint32_t>(out.size()));
    bool has_opt = use_edns || dnssec_ok || ecs_count > 0;
    put16(out, 0);  // ID, supplied at send time
    put16(out, 0);  // flags: standard query, RD clear (we are asking an authoritative server)
    put16(out, 1);  // QDCOUNT
    put16(out, 0);  // ANCOUNT
    put16(out, 0);  // NSCOUNT
    put16(out, has_opt ? 1 : 0);  // ARCOUNT
    out.insert(out.end(), spec.qname.begin(), spec.qname.end());
    put16(out, spec.qtype);
    put16(out, 1);  // class IN
    set.question_len.push_back(static_cast<uint16_t>(spec.qname.size() + 4));
    if (has_opt) {
      out.push_back(0);  // root owner name
      put16(out, kOptType);
      put16(out, kEdnsPayloadBytes);
      put16(out, 0);                       // extended RCODE, version 0
      put16(out, dnssec_ok ? 0x8000 : 0);  // flags: DO (RFC 3225) or nothing
      if (ecs_count > 0) {
        const auto& subnet = subnets[i % ecs_count];
        put16(out, 11);  // RDLENGTH: one option, 4 + 7 bytes
        put16(out, kEcsOptionCode);
        put16(out, 7);      // FAMILY(2) + SOURCE(1) + SCOPE(1) + 3 address bytes for a /24
        put16(out, 1);      // family 1 = IPv4
        out.push_back(24);  // source prefix length
        out.push_back(0);   // scope prefix length: must be 0 in queries
        out.insert(out.end(), subnet.begin(), subnet.end());
      } else {
        put16(out, 0);
      }
    }
  }
  set.offsets.push_back(static_cast<uint32_t>(set.bytes.size()));
  return set;
}

// ---------------------------------------------------------------------------------------------
// Sockets.

int open_socket(const Target& target) {
  int fd = socket(target.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die(std::string("socket: ") + std::strerror(errno));
  // Big buffers absorb a full window per socket; the kernel caps these at rmem_max/wmem_max.
  int buf_bytes = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf_bytes, sizeof buf_bytes);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf_bytes, sizeof buf_bytes);
  // connect() fixes the peer: the kernel then drops datagrams from any other source, and we can
  // send without a per-message address.
  if (connect(fd, reinterpret_cast<const sockaddr*>(&target.addr), target.len) != 0) {
    die(std::string("connect: ") + std::strerror(errno));
  }
  return fd;
}

// ---------------------------------------------------------------------------------------------
// The run.

struct Slot {
  Clock::time_point sent_at;
  uint32_t query_index = 0;
  uint32_t generation = 0;  // distinguishes reuses of one ID in the timeout queue
  bool in_flight = false;
};

struct Outstanding {
  uint16_t id;
  uint32_t generation;
};

struct Stats {
  uint64_t sent = 0;
  uint64_t answered = 0;
  uint64_t lost = 0;
  uint64_t late = 0;      // answers after their query was declared lost
  uint64_t mismatch = 0;  // not a response to any query of ours (bad ID/question/length)
  uint64_t truncated = 0;
  uint64_t send_errors = 0;
  uint64_t recv_errors = 0;
  std::array<uint64_t, 16> rcodes{};
  std::vector<uint32_t> latency_us = std::vector<uint32_t>(kLatencyBuckets, 0);
  uint32_t max_latency_us = 0;
};

class LoadGenerator {
 public:
  LoadGenerator(const Options& options, const QuerySet& queries, std::vector<int> fds)
      : options_(options), queries_(queries), fds_(std::move(fds)), slots_(65536) {
    // IDs are handed out FIFO from a shuffled ring: an ID comes back into use only after
    // ~65536 - inflight others, which keeps a late answer from matching a newer query.
    std::vector<uint16_t> ids(65536);
    std::iota(ids.begin(), ids.end(), uint16_t{0});
    uint32_t state = 0x9E3779B9u;
    for (size_t i = ids.size() - 1; i > 0; --i) {
      state = state * 1664525u + 1013904223u;
      std::swap(ids[i], ids[state % (i + 1)]);
    }
    free_ids_.assign(ids.begin(), ids.end());
    timeout_ = std::chrono::milliseconds(options.timeout_ms);
    for (auto& b : recv_bufs_) b.resize(kRecvBufBytes);
  }

  Stats run(Clock::time_point start) {
    const Clock::time_point end = start + std::chrono::seconds(options_.duration_s);
    std::vector<pollfd> pfds;
    for (int fd : fds_) pfds.push_back({fd, POLLIN, 0});
    size_t next_socket = 0;
    // Bounded by time: every pass re-reads the clock and poll() waits at most 1 ms.
    for (;;) {
      Clock::time_point now = Clock::now();
      if (now >= end) break;
      bool progressed = false;
      // Slow start: the window opens from one batch by one query per answer. A full window sent
      // at once would overflow a server's default 208 KiB receive buffer (~190 small
      // datagrams), and every query dropped there holds a slot for the whole timeout.
      const int window = static_cast<int>(
          std::min<uint64_t>(static_cast<uint64_t>(options_.inflight), kBatch + stats_.answered));
      while (inflight_ < window) {
        int n = send_batch(fds_[next_socket], std::min(kBatch, window - inflight_), now);
        next_socket = (next_socket + 1) % fds_.size();
        if (n <= 0) break;
        progressed = true;
      }
      for (int fd : fds_) {
        if (receive_batch(fd) > 0) progressed = true;
      }
      expire(Clock::now());
      if (!progressed) poll(pfds.data(), pfds.size(), 1);
    }
    return stats_;
  }

  int inflight() const { return inflight_; }

 private:
  int send_batch(int fd, int want, Clock::time_point now) {
    std::array<mmsghdr, kBatch> msgs{};
    std::array<std::array<iovec, 2>, kBatch> iovs{};
    std::array<uint16_t, kBatch> ids{};
    int n = 0;
    for (; n < want && !free_ids_.empty(); ++n) {
      uint16_t id = free_ids_.front();
      free_ids_.pop_front();
      size_t q = next_query_;
      next_query_ = (next_query_ + 1) % queries_.size();
      Slot& slot = slots_[id];
      slot.query_index = static_cast<uint32_t>(q);
      ids[static_cast<size_t>(n)] = id;
      id_wire_[static_cast<size_t>(n)] = htons(id);
      auto& iov = iovs[static_cast<size_t>(n)];
      iov[0] = {&id_wire_[static_cast<size_t>(n)], 2};
      iov[1] = {const_cast<uint8_t*>(queries_.data(q)) + 2, queries_.length(q) - 2};
      msgs[static_cast<size_t>(n)].msg_hdr.msg_iov = iov.data();
      msgs[static_cast<size_t>(n)].msg_hdr.msg_iovlen = 2;
    }
    if (n == 0) return 0;
    int sent = sendmmsg(fd, msgs.data(), static_cast<unsigned>(n), 0);
    if (sent < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) ++stats_.send_errors;
      sent = 0;
    }
    for (int i = 0; i < n; ++i) {
      uint16_t id = ids[static_cast<size_t>(i)];
      if (i < sent) {
        Slot& slot = slots_[id];
        slot.sent_at = now;
        slot.in_flight = true;
        ++slot.generation;
        sent_order_.push_back({id, slot.generation});
        ++inflight_;
        ++stats_.sent;
      } else {
        free_ids_.push_back(id);  // not sent (socket buffer full): retry later
      }
    }
    return sent;
  }

  int receive_batch(int fd) {
    std::array<mmsghdr, kBatch> msgs{};
    std::array<iovec, kBatch> iovs{};
    for (size_t i = 0; i < kBatch; ++i) {
      iovs[i] = {recv_bufs_[i].data(), recv_bufs_[i].size()};
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(fd, msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      // ECONNREFUSED reports an ICMP port unreachable: the server is not (yet) there.
      if (errno != EAGAIN && errno != EWOULDBLOCK) ++stats_.recv_errors;
      return 0;
    }
    Clock::time_point now = Clock::now();
    for (int i = 0; i < n; ++i) {
      account(recv_bufs_[static_cast<size_t>(i)].data(), msgs[static_cast<size_t>(i)].msg_len, now);
    }
    return n;
  }

  void account(const uint8_t* p, size_t len, Clock::time_point now) {
    if (len < 12 || (p[2] & 0x80) == 0) {
      ++stats_.mismatch;
      return;
    }
    uint16_t id = static_cast<uint16_t>((p[0] << 8) | p[1]);
    Slot& slot = slots_[id];
    if (!slot.in_flight) {
      ++stats_.late;
      return;
    }
    if (!echoes_question(p, len, queries_.data(slot.query_index) + 12,
                         queries_.question_len[slot.query_index])) {
      ++stats_.mismatch;
      return;
    }
    slot.in_flight = false;
    free_ids_.push_back(id);
    --inflight_;
    ++stats_.answered;
    ++stats_.rcodes[p[3] & 0x0F];
    if (p[2] & 0x02) ++stats_.truncated;
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - slot.sent_at).count();
    uint32_t bucket = static_cast<uint32_t>(std::clamp<int64_t>(us, 0, kLatencyBuckets - 1));
    ++stats_.latency_us[bucket];
    stats_.max_latency_us = std::max(stats_.max_latency_us, bucket);
  }

  // Queries are sent in order, so the oldest outstanding one is at the front of sent_order_;
  // entries already answered (or whose ID was reused) are skipped lazily.
  void expire(Clock::time_point now) {
    while (!sent_order_.empty()) {
      Outstanding front = sent_order_.front();
      Slot& slot = slots_[front.id];
      if (slot.in_flight && slot.generation == front.generation) {
        if (now - slot.sent_at < timeout_) break;
        slot.in_flight = false;
        free_ids_.push_back(front.id);
        --inflight_;
        ++stats_.lost;
      }
      sent_order_.pop_front();
    }
  }

  const Options& options_;
  const QuerySet& queries_;
  std::vector<int> fds_;
  std::vector<Slot> slots_;
  std::deque<uint16_t> free_ids_;
  std::deque<Outstanding> sent_order_;
  std::array<uint16_t, kBatch> id_wire_{};
  std::array<std::vector<uint8_t>, kBatch> recv_bufs_;
  size_t next_query_ = 0;
  int inflight_ = 0;
  Clock::duration timeout_{};
  Stats stats_;
};

// ---------------------------------------------------------------------------------------------
// Open loop.

// What only the open loop knows: the schedule and how well the generator kept it.
struct ScheduleStats {
  uint64_t scheduled = 0;       // rate x duration: what the schedule asked for
  uint64_t deferred = 0;        // sendmmsg calls cut short by a full socket buffer (EAGAIN)
  uint64_t late_sends = 0;      // batches that left more than kLateSend behind their schedule
  int64_t max_send_lag_us = 0;  // worst lag of a batch's first query behind its scheduled time
  double send_window_s = 0;     // from the first scheduled send to the end of sending
};

class OpenLoopGenerator {
 public:
  OpenLoopGenerator(const Options& options, const QuerySet& queries, std::vector<int> fds)
      : options_(options),
        queries_(queries),
        fds_(std::move(fds)),
        sockets_(fds_.size()),
        slots_(fds_.size() * 65536) {
    timeout_ = std::chrono::milliseconds(options.timeout_ms);
    for (int fd : fds_) {
      const int on = 1;
      if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) != 0) {
        die(std::string("SO_TIMESTAMPNS: ") + std::strerror(errno));
      }
    }
    for (auto& b : recv_bufs_) b.resize(kRecvBufBytes);
  }

  // Sends rate x duration queries, query n due at start + n / rate, then waits up to the timeout
  // for the last answers: at the end sent = answered + lost, nothing is left in flight.
  Stats run(Clock::time_point start) {
    const auto duration = std::chrono::seconds(options_.duration_s);
    const Clock::time_point send_end = start + duration;
    schedule_.scheduled =
        static_cast<uint64_t>(options_.rate) * static_cast<uint64_t>(options_.duration_s);
    size_t next_socket = 0;
    Clock::time_point next_tick = start;
    uint64_t issued = 0;  // queries accepted by the kernel, in schedule order
    for (;;) {
      Clock::time_point now = Clock::now();
      const bool sending = now < send_end + kSendGrace && issued < schedule_.scheduled;
      if (sending) {
        const uint64_t due = std::min(schedule_.scheduled, due_by(now - start));
        while (issued < due) {
          const int want = static_cast<int>(std::min<uint64_t>(kBatch, due - issued));
          const Clock::time_point scheduled_at = start + send_time(issued);
          const Clock::time_point send_at = Clock::now();
          const int sent = send_batch(next_socket, want, send_at);
          next_socket = (next_socket + 1) % fds_.size();
          if (sent > 0) note_lag(send_at - scheduled_at);
          issued += static_cast<uint64_t>(std::max(sent, 0));
          if (sent < want) {
            ++schedule_.deferred;  // socket buffer full: the rest waits for the next pass
            break;
          }
        }
      } else if (schedule_.send_window_s == 0) {
        schedule_.send_window_s = std::chrono::duration<double>(now - start).count();
      }
      for (size_t k = 0; k < fds_.size(); ++k) {
        for (int b = 0; b < kMaxRecvBatchesPerPass && receive_batch(k) == kBatch; ++b) {
        }
      }
      now = Clock::now();
      expire(now);
      if (!sending && (inflight_ == 0 || now >= send_end + timeout_ + timeout_)) break;
      next_tick += kTick;
      if (next_tick < now) next_tick = now;  // behind: go on at once, but never in a burst
      sleep_until(next_tick);
    }
    // Anything still outstanding here had two timeouts to answer: lost.
    expire(Clock::time_point::max());
    if (schedule_.send_window_s == 0) {
      schedule_.send_window_s = std::chrono::duration<double>(Clock::now() - start).count();
    }
    return stats_;
  }

  const ScheduleStats& schedule() const { return schedule_; }

 private:
  struct Slot {
    Clock::time_point sent_at;  // for the timeout
    int64_t sent_wall_ns = 0;   // for the latency: the kernel stamps answers in CLOCK_REALTIME
    uint64_t sequence = 0;      // the socket's send counter when this ID went out
    uint32_t query_index = 0;
    bool in_flight = false;
  };

  struct Socket {
    uint64_t next_sequence = 0;  // ID = sequence mod 65536
    uint64_t oldest = 0;         // sequences below it are answered or expired
  };

  static void sleep_until(Clock::time_point t) {
    // steady_clock is CLOCK_MONOTONIC on Linux; an absolute deadline does not drift with the
    // time spent working between sleeps.
    const auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    const timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
  }

  static int64_t wall_ns() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
  }

  uint64_t due_by(Clock::duration elapsed) const {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count();
    if (ns <= 0) return 1;  // query 0 is due at the start
    return static_cast<uint64_t>(ns) * static_cast<uint64_t>(options_.rate) / 1000000000u + 1;
  }

  Clock::duration send_time(uint64_t n) const {
    return std::chrono::nanoseconds(
        static_cast<int64_t>(n * 1000000000u / static_cast<uint64_t>(options_.rate)));
  }

  void note_lag(Clock::duration lag) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(lag).count();
    schedule_.max_send_lag_us = std::max(schedule_.max_send_lag_us, static_cast<int64_t>(us));
    if (lag > kLateSend) ++schedule_.late_sends;
  }

  Slot& slot(size_t socket, uint64_t sequence) {
    return slots_[socket * 65536 + static_cast<uint16_t>(sequence)];
  }

  int send_batch(size_t socket, int want, Clock::time_point now) {
    Socket& s = sockets_[socket];
    // An ID still in flight when its turn comes again (the send rate per socket outran the
    // timeout bound checked at start-up, e.g. catching up after a stall) is given up as lost
    // rather than letting its late answer match the newer query.
    expire_socket(socket,
                  s.next_sequence + static_cast<uint64_t>(want) > 65536
                      ? s.next_sequence + static_cast<uint64_t>(want) - 65536
                      : 0,
                  Clock::time_point::max());
    std::array<mmsghdr, kBatch> msgs{};
    std::array<std::array<iovec, 2>, kBatch> iovs{};
    std::array<uint32_t, kBatch> query_of{};
    for (int i = 0; i < want; ++i) {
      const auto n = static_cast<size_t>(i);
      const uint64_t sequence = s.next_sequence + n;
      const size_t q = next_query_;
      next_query_ = (next_query_ + 1) % queries_.size();
      query_of[n] = static_cast<uint32_t>(q);
      id_wire_[n] = htons(static_cast<uint16_t>(sequence));
      iovs[n][0] = {&id_wire_[n], 2};
      iovs[n][1] = {const_cast<uint8_t*>(queries_.data(q)) + 2, queries_.length(q) - 2};
      msgs[n].msg_hdr.msg_iov = iovs[n].data();
      msgs[n].msg_hdr.msg_iovlen = 2;
    }
    const int64_t sent_wall = wall_ns();
    int sent = sendmmsg(fds_[socket], msgs.data(), static_cast<unsigned>(want), 0);
    if (sent < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) ++stats_.send_errors;
      sent = 0;
    }
    // Queries not taken are not sent: the schedule moves back by them, so the next pass sends
    // them (with the same query lines, for the mix's sake) after what is due then.
    next_query_ =
        (next_query_ + queries_.size() - static_cast<size_t>(want - sent) % queries_.size()) %
        queries_.size();
    for (int i = 0; i < sent; ++i) {
      const auto n = static_cast<size_t>(i);
      Slot& sl = slot(socket, s.next_sequence + n);
      sl.sent_at = now;
      sl.sent_wall_ns = sent_wall;
      sl.sequence = s.next_sequence + n;
      sl.query_index = query_of[n];
      sl.in_flight = true;
    }
    s.next_sequence += static_cast<uint64_t>(sent);
    stats_.sent += static_cast<uint64_t>(sent);
    inflight_ += static_cast<uint64_t>(sent);
    return sent;
  }

  int receive_batch(size_t socket) {
    std::array<mmsghdr, kBatch> msgs{};
    std::array<iovec, kBatch> iovs{};
    for (size_t i = 0; i < kBatch; ++i) {
      iovs[i] = {recv_bufs_[i].data(), recv_bufs_[i].size()};
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_control = control_bufs_[i].data();
      msgs[i].msg_hdr.msg_controllen = control_bufs_[i].size();
    }
    const int n = recvmmsg(fds_[socket], msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) ++stats_.recv_errors;
      return 0;
    }
    const int64_t fallback_ns = wall_ns();
    for (int i = 0; i < n; ++i) {
      const auto m = static_cast<size_t>(i);
      account(socket, recv_bufs_[m].data(), msgs[m].msg_len,
              received_at(msgs[m].msg_hdr, fallback_ns));
    }
    return n;
  }

  // The kernel's receive time of a datagram (SO_TIMESTAMPNS): when the answer reached our socket,
  // however late this thread got to read it.
  static int64_t received_at(msghdr& hdr, int64_t fallback_ns) {
    for (cmsghdr* c = CMSG_FIRSTHDR(&hdr); c != nullptr; c = CMSG_NXTHDR(&hdr, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
        timespec ts{};
        std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
        return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
      }
    }
    return fallback_ns;
  }

  void account(size_t socket, const uint8_t* p, size_t len, int64_t received_ns) {
    if (len < 12 || (p[2] & 0x80) == 0) {
      ++stats_.mismatch;
      return;
    }
    Slot& sl = slots_[socket * 65536 + static_cast<uint16_t>((p[0] << 8) | p[1])];
    if (!sl.in_flight) {
      ++stats_.late;  // expired before it came, or a duplicate
      return;
    }
    if (!echoes_question(p, len, queries_.data(sl.query_index) + 12,
                         queries_.question_len[sl.query_index])) {
      ++stats_.mismatch;
      return;
    }
    sl.in_flight = false;
    --inflight_;
    ++stats_.answered;
    ++stats_.rcodes[p[3] & 0x0F];
    if (p[2] & 0x02) ++stats_.truncated;
    const int64_t us = (received_ns - sl.sent_wall_ns) / 1000;
    const uint32_t bucket = static_cast<uint32_t>(std::clamp<int64_t>(us, 0, kLatencyBuckets - 1));
    ++stats_.latency_us[bucket];
    stats_.max_latency_us = std::max(stats_.max_latency_us, bucket);
  }

  // A socket's sequences go out in order, so its oldest outstanding query is at `oldest`; the
  // scan stops at the first one still within its timeout. Each sequence is passed once: the
  // work is bounded by the sends, and no queue of outstanding queries is kept.
  void expire(Clock::time_point now) {
    for (size_t k = 0; k < sockets_.size(); ++k) expire_socket(k, sockets_[k].next_sequence, now);
  }

  void expire_socket(size_t socket, uint64_t up_to, Clock::time_point now) {
    Socket& s = sockets_[socket];
    up_to = std::min(up_to, s.next_sequence);
    while (s.oldest < up_to) {
      Slot& sl = slot(socket, s.oldest);
      if (sl.in_flight && sl.sequence == s.oldest) {
        if (now != Clock::time_point::max() && now - sl.sent_at < timeout_) break;
        sl.in_flight = false;
        --inflight_;
        ++stats_.lost;
      }
      ++s.oldest;
    }
  }

  const Options& options_;
  const QuerySet& queries_;
  std::vector<int> fds_;
  std::vector<Socket> sockets_;
  std::vector<Slot> slots_;  // 65536 per socket, indexed by socket and ID
  std::array<uint16_t, kBatch> id_wire_{};
  std::array<std::vector<uint8_t>, kBatch> recv_bufs_;
  std::array<std::array<uint8_t, CMSG_SPACE(sizeof(timespec))>, kBatch> control_bufs_{};
  size_t next_query_ = 0;
  uint64_t inflight_ = 0;
  Clock::duration timeout_{};
  Stats stats_;
  ScheduleStats schedule_;
};

uint32_t percentile(const Stats& stats, double fraction) {
  if (stats.answered == 0) return 0;
  auto rank = static_cast<uint64_t>(fraction * static_cast<double>(stats.answered));
  if (rank >= stats.answered) rank = stats.answered - 1;
  uint64_t seen = 0;
  for (uint32_t us = 0; us < kLatencyBuckets; ++us) {
    seen += stats.latency_us[us];
    if (seen > rank) return us;
  }
  return kLatencyBuckets - 1;
}

const char* rcode_name(size_t rcode) {
  static constexpr std::array<const char*, 16> kNames = {
      "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
      "NXRRSET", "NOTAUTH", "NOTZONE",  "RCODE11",  "RCODE12", "RCODE13", "RCODE14",  "RCODE15"};
  return kNames[rcode];
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto tv = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return tv(usage.ru_utime) + tv(usage.ru_stime);
}

void print_rcodes(const Stats& stats) {
  for (size_t r = 0; r < stats.rcodes.size(); ++r) {
    if (stats.rcodes[r] > 0 || r == 0 || r == 2 || r == 3 || r == 5) {
      std::printf(" rcode_%s=%llu", rcode_name(r),
                  static_cast<unsigned long long>(stats.rcodes[r]));
    }
  }
}

// The open loop's report: what the schedule asked for, what the generator achieved (send_qps:
// below rate means the generator, not the server, fell short), and what came back.
int run_open_loop(const Options& options, const QuerySet& queries, size_t lines,
                  std::vector<int> fds) {
  // Sleeps are to the microsecond: the default 50 µs timer slack would bunch sends together.
  prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
  OpenLoopGenerator generator(options, queries, fds);
  const double cpu_before = cpu_seconds();
  const Clock::time_point start = Clock::now();
  const Stats stats = generator.run(start);
  const double wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpu_used = cpu_seconds() - cpu_before;
  // Answers the kernel dropped at our own sockets (receive buffer full) would look like the
  // server's loss; SO_MEMINFO tells them apart.
  uint64_t own_drops = 0;
  for (int fd : fds) {
    std::array<uint32_t, SK_MEMINFO_VARS> meminfo{};
    socklen_t len = sizeof meminfo;
    if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, meminfo.data(), &len) == 0) {
      own_drops += meminfo[SK_MEMINFO_DROPS];
    }
    close(fd);
  }
  const ScheduleStats& schedule = generator.schedule();

  const double send_qps = static_cast<double>(stats.sent) / schedule.send_window_s;
  const double answered_qps = static_cast<double>(stats.answered) / schedule.send_window_s;
  const uint32_t p50 = percentile(stats, 0.50);
  const uint32_t p90 = percentile(stats, 0.90);
  const uint32_t p99 = percentile(stats, 0.99);
  const uint32_t p999 = percentile(stats, 0.999);
  if (!options.quiet) {
    std::printf("target          %s port %u, %zu prebuilt queries (%zu lines), %d sockets\n",
                options.server.c_str(), static_cast<unsigned>(options.port), queries.size(), lines,
                options.sockets);
    std::printf("open loop       %d q/s for %d s: %llu scheduled, %llu sent (%.0f q/s achieved)\n",
                options.rate, options.duration_s,
                static_cast<unsigned long long>(schedule.scheduled),
                static_cast<unsigned long long>(stats.sent), send_qps);
    std::printf("schedule        worst lag %lld us, %llu batches > 1 ms late, %llu EAGAIN\n",
                static_cast<long long>(schedule.max_send_lag_us),
                static_cast<unsigned long long>(schedule.late_sends),
                static_cast<unsigned long long>(schedule.deferred));
    std::printf("answered        %llu (%.0f q/s)\n",
                static_cast<unsigned long long>(stats.answered), answered_qps);
    std::printf("lost            %llu (no answer within %d ms), %llu dropped at our sockets\n",
                static_cast<unsigned long long>(stats.lost), options.timeout_ms,
                static_cast<unsigned long long>(own_drops));
    if (stats.late + stats.mismatch + stats.send_errors + stats.recv_errors > 0) {
      std::printf(
          "anomalies       late %llu, mismatched %llu, send errors %llu, recv errors %llu\n",
          static_cast<unsigned long long>(stats.late),
          static_cast<unsigned long long>(stats.mismatch),
          static_cast<unsigned long long>(stats.send_errors),
          static_cast<unsigned long long>(stats.recv_errors));
    }
    std::printf("latency (us)    p50 %u, p90 %u, p99 %u, p99.9 %u, max %u\n", p50, p90, p99, p999,
                stats.max_latency_us);
    std::printf(
        "generator cpu   %.0f%% of one core%s\n", 100.0 * cpu_used / wall_s,
        send_qps < 0.99 * options.rate ? " (behind schedule: the generator is the limit)" : "");
  }
  std::printf(
      "result mode=open rate=%d scheduled=%llu sent=%llu answered=%llu lost=%llu late=%llu "
      "mismatched=%llu send_errors=%llu send_eagain=%llu recv_errors=%llu truncated=%llu "
      "duration_s=%.3f send_qps=%.0f qps=%.0f p50_us=%u p90_us=%u p99_us=%u p999_us=%u max_us=%u "
      "max_send_lag_us=%lld late_batches=%llu own_rcv_drops=%llu gen_cpu_pct=%.0f",
      options.rate, static_cast<unsigned long long>(schedule.scheduled),
      static_cast<unsigned long long>(stats.sent), static_cast<unsigned long long>(stats.answered),
      static_cast<unsigned long long>(stats.lost), static_cast<unsigned long long>(stats.late),
      static_cast<unsigned long long>(stats.mismatch),
      static_cast<unsigned long long>(stats.send_errors),
      static_cast<unsigned long long>(schedule.deferred),
      static_cast<unsigned long long>(stats.recv_errors),
      static_cast<unsigned long long>(stats.truncated), schedule.send_window_s, send_qps,
      answered_qps, p50, p90, p99, p999, stats.max_latency_us,
      static_cast<long long>(schedule.max_send_lag_us),
      static_cast<unsigned long long>(schedule.late_sends),
      static_cast<unsigned long long>(own_drops), 100.0 * cpu_used / wall_s);
  print_rcodes(stats);
  std::printf("\n");
  return stats.answered > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  geodns::bench::g_tool = "geodns-loadgen";
  Options options = parse_options(argc, argv);
  Target target = resolve_loopback_target(options.server, options.port);

  pin_to_cpu(options.cpu);

  std::vector<QuerySpec> specs = read_query_file(options.queries_path);
  QuerySet queries = build_queries(specs, options.ecs_subnets, options.use_edns, options.dnssec_ok);

  std::vector<int> fds;
  for (int i = 0; i < options.sockets; ++i) fds.push_back(open_socket(target));

  if (options.rate > 0) return run_open_loop(options, queries, specs.size(), std::move(fds));

  LoadGenerator generator(options, queries, fds);
  double cpu_before = cpu_seconds();
  Clock::time_point start = Clock::now();
  Stats stats = generator.run(start);
  double wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  double cpu_used = cpu_seconds() - cpu_before;
  for (int fd : fds) close(fd);

  double qps = static_cast<double>(stats.answered) / wall_s;
  uint32_t p50 = percentile(stats, 0.50);
  uint32_t p90 = percentile(stats, 0.90);
  uint32_t p99 = percentile(stats, 0.99);
  int unanswered = generator.inflight();

  if (!options.quiet) {
    std::printf("target          %s port %u, %zu prebuilt queries (%zu lines), %d sockets\n",
                options.server.c_str(), static_cast<unsigned>(options.port), queries.size(),
                specs.size(), options.sockets);
    std::printf("duration        %.2f s, inflight %d, ecs subnets %u, edns %s%s\n", wall_s,
                options.inflight, options.ecs_subnets,
                (options.use_edns || options.dnssec_ok || options.ecs_subnets > 0) ? "yes" : "no",
                options.dnssec_ok ? " (DO)" : "");
    std::printf("sent            %llu\n", static_cast<unsigned long long>(stats.sent));
    std::printf("answered        %llu (%.0f qps)\n",
                static_cast<unsigned long long>(stats.answered), qps);
    std::printf("lost            %llu (no answer within %d ms), %d still in flight at the end\n",
                static_cast<unsigned long long>(stats.lost), options.timeout_ms, unanswered);
    if (stats.late + stats.mismatch + stats.send_errors + stats.recv_errors > 0) {
      std::printf(
          "anomalies       late %llu, mismatched %llu, send errors %llu, recv errors %llu\n",
          static_cast<unsigned long long>(stats.late),
          static_cast<unsigned long long>(stats.mismatch),
          static_cast<unsigned long long>(stats.send_errors),
          static_cast<unsigned long long>(stats.recv_errors));
    }
    std::printf("rcodes         ");
    for (size_t r = 0; r < stats.rcodes.size(); ++r) {
      if (stats.rcodes[r] > 0) {
        std::printf(" %s %llu", rcode_name(r), static_cast<unsigned long long>(stats.rcodes[r]));
      }
    }
    std::printf("%s\n", stats.truncated > 0 ? " (some with TC set)" : "");
    std::printf("latency (us)    p50 %u, p90 %u, p99 %u, max %u\n", p50, p90, p99,
                stats.max_latency_us);
    std::printf("generator cpu   %.0f%% of one core%s\n", 100.0 * cpu_used / wall_s,
                cpu_used / wall_s > 0.95 ? " (saturated: the generator may be the limit)" : "");
  }
  std::printf(
      "result sent=%llu answered=%llu lost=%llu inflight_at_end=%d late=%llu mismatched=%llu "
      "send_errors=%llu recv_errors=%llu truncated=%llu duration_s=%.3f qps=%.0f p50_us=%u "
      "p90_us=%u p99_us=%u max_us=%u gen_cpu_pct=%.0f",
      static_cast<unsigned long long>(stats.sent), static_cast<unsigned long long>(stats.answered),
      static_cast<unsigned long long>(stats.lost), unanswered,
      static_cast<unsigned long long>(stats.late), static_cast<unsigned long long>(stats.mismatch),
      static_cast<unsigned long long>(stats.send_errors),
      static_cast<unsigned long long>(stats.recv_errors),
      static_cast<unsigned long long>(stats.truncated), wall_s, qps, p50, p90, p99,
      stats.max_latency_us, 100.0 * cpu_used / wall_s);
  print_rcodes(stats);
  std::printf("\n");
  return stats.answered > 0 ? 0 : 1;
}
