// geodns-loadgen: a closed-loop UDP DNS load generator for loopback benchmarks.
//
// Closed loop: at most --inflight queries are outstanding; every answer (or a query declared lost
// after --timeout-ms) frees a slot that is refilled at once. The rate measured is therefore what
// the server sustains at that concurrency, not a rate we impose. All queries are built in wire
// format before the clock starts so that the generator's own cost per query is one iovec and a
// 2-byte ID.
//
// Safety: it only ever sends to 127.0.0.0/8 or ::1, and stops after --duration (at most 600 s).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
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

struct QuerySpec {
  std::vector<uint8_t> qname;  // wire form, ends with the root label
  uint16_t qtype = 0;
};

std::optional<uint16_t> parse_qtype(std::string type) {
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  static const std::map<std::string, uint16_t> kTypes = {
      {"A", 1},      {"NS", 2},      {"CNAME", 5}, {"SOA", 6},    {"PTR", 12},   {"HINFO", 13},
      {"MX", 15},    {"TXT", 16},    {"AAAA", 28}, {"SRV", 33},   {"NAPTR", 35}, {"DS", 43},
      {"RRSIG", 46}, {"DNSKEY", 48}, {"SVCB", 64}, {"HTTPS", 65}, {"ANY", 255},  {"CAA", 257}};
  if (auto it = kTypes.find(type); it != kTypes.end()) return it->second;
  // RFC 3597 generic form, e.g. TYPE65280.
  if (type.size() > 4 && type.starts_with("TYPE")) {
    char* end = nullptr;
    unsigned long value = std::strtoul(type.c_str() + 4, &end, 10);
    if (*end == '\0' && value <= 65535) return static_cast<uint16_t>(value);
  }
  return std::nullopt;
}

// Names in dnsperf files are taken as absolute whether or not they end in a dot. Escapes
// (\DDD, \.) are not needed for benchmark data and are rejected rather than mis-encoded.
std::optional<std::vector<uint8_t>> encode_name(const std::string& name) {
  std::vector<uint8_t> wire;
  if (name != ".") {
    size_t start = 0;
    while (start < name.size()) {
      size_t dot = name.find('.', start);
      if (dot == std::string::npos) dot = name.size();
      size_t label_len = dot - start;
      if (label_len == 0 || label_len > 63) return std::nullopt;
      if (name.find('\\', start) < dot) return std::nullopt;
      wire.push_back(static_cast<uint8_t>(label_len));
      wire.insert(wire.end(), name.begin() + static_cast<std::ptrdiff_t>(start),
                  name.begin() + static_cast<std::ptrdiff_t>(dot));
      start = dot + 1;
    }
  }
  wire.push_back(0);
  if (wire.size() > 255) return std::nullopt;
  return wire;
}

std::vector<QuerySpec> read_query_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) die("cannot open query file " + path);
  std::vector<QuerySpec> specs;
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream fields(line);
    std::string name;
    std::string type;
    if (!(fields >> name)) continue;  // blank or comment-only line
    if (!(fields >> type))
      // A missing type means A, as in dnsperf. (push_back rather than = "A": the latter trips a
      // GCC 12 -Wrestrict false positive, GCC bug 105329.)
      if (!(fields >> type)) type.push_back('A');
    auto qname = encode_name(name);
    auto qtype = parse_qtype(type);
    if (!qname || !qtype) {
      die(path + ":" + std::to_string(line_no) + ": cannot parse query '" + line + "'");
    }
    specs.push_back({std::move(*qname), *qtype});
  }
  if (specs.empty()) die(path + ": no queries");
  return specs;
}

bool is_reserved_v4(uint32_t a) {
  struct Net {
    uint32_t prefix;
    int bits;
  };
  // IANA special-purpose registry (RFC 6890 and successors) plus multicast/class E.
  static constexpr std::array<Net, 15> kReserved = {{
      {0x00000000, 8},   // 0/8 "this network"
      {0x0A000000, 8},   // 10/8 private
      {0x64400000, 10},  // 100.64/10 shared address space
      {0x7F000000, 8},   // 127/8 loopback
      {0xA9FE0000, 16},  // 169.254/16 link local
      {0xAC100000, 12},  // 172.16/12 private
      {0xC0000000, 24},  // 192.0.0/24 IETF protocol assignments
      {0xC0000200, 24},  // 192.0.2/24 TEST-NET-1
      {0xC0586300, 24},  // 192.88.99/24 6to4 relay
      {0xC0A80000, 16},  // 192.168/16 private
      {0xC6120000, 15},  // 198.18/15 benchmarking
      {0xC6336400, 24},  // 198.51.100/24 TEST-NET-2
      {0xCB007100, 24},  // 203.0.113/24 TEST-NET-3
      {0xE0000000, 4},   // 224/4 multicast
      {0xF0000000, 4},   // 240/4 reserved
  }};
  for (const Net& net : kReserved) {
    uint32_t mask = ~uint32_t{0} << (32 - net.bits);
    if ((a & mask) == net.prefix) return true;
  }
  return false;
}

// N distinct /24s spread over the public v4 space: consecutive subnets take consecutive first
// octets (1..223), so even a small N touches many regions of a GeoIP database. The second and
// third octets come from a bijection on 16 bits, so pairs never repeat within one first octet.
std::vector<std::array<uint8_t, 3>> make_ecs_subnets(uint32_t count) {
  std::vector<uint8_t> first_octets;
  for (uint32_t a = 1; a <= 223; ++a) {
    if (a != 10 && a != 127) first_octets.push_back(static_cast<uint8_t>(a));
  }
  std::vector<std::array<uint8_t, 3>> subnets;
  subnets.reserve(count);
  const uint32_t n_first = static_cast<uint32_t>(first_octets.size());
  for (uint32_t k = 0; subnets.size() < count && k < n_first * 65536u; ++k) {
    uint8_t a = first_octets[k % n_first];
    uint32_t mixed = ((k / n_first) * 40503u) & 0xFFFFu;  // odd multiplier: a bijection mod 2^16
    uint8_t b = static_cast<uint8_t>(mixed >> 8);
    uint8_t c = static_cast<uint8_t>(mixed & 0xFFu);
    uint32_t addr = (uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8);
    if (!is_reserved_v4(addr)) subnets.push_back({a, b, c});
  }
  return subnets;
}

// Locale-free: DNS case-insensitivity is ASCII only (RFC 4343).
uint8_t ascii_lower(uint8_t c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<uint8_t>(c + 32) : c;
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
    // The question must echo ours (a server may change the name's case, so compare it
    // ASCII-case-insensitively); otherwise this is someone else's answer or a stale ID.
    const uint8_t* q = queries_.data(slot.query_index) + 12;
    size_t qlen = queries_.question_len[slot.query_index];
    uint16_t qdcount = static_cast<uint16_t>((p[4] << 8) | p[5]);
    if (qdcount == 1) {
      if (len < 12 + qlen) {
        ++stats_.mismatch;
        return;
      }
      for (size_t i = 0; i < qlen; ++i) {
        if (ascii_lower(p[12 + i]) != ascii_lower(q[i])) {
          ++stats_.mismatch;
          return;
        }
      }
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
  for (size_t r = 0; r < stats.rcodes.size(); ++r) {
    if (stats.rcodes[r] > 0 || r == 0 || r == 2 || r == 3 || r == 5) {
      std::printf(" rcode_%s=%llu", rcode_name(r),
                  static_cast<unsigned long long>(stats.rcodes[r]));
    }
  }
  std::printf("\n");
  return stats.answered > 0 ? 0 : 1;
}
