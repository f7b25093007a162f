// geodns-xdp-gun: an AF_XDP DNS load generator for bench/xdp.sh, beside Debian's kxdpgun,
// which cannot send EDNS Client Subnet. Every query frame (Ethernet, IPv4, UDP, DNS, with an
// ECS option when asked: N distinct public /24s, built as geodns-loadgen's --ecs-subnets) is
// built and checksummed before the clock starts and lives in the UMEM; sending is putting
// descriptors that point at them into the TX ring and kicking (copy mode copies each frame
// into an skb, so the same frame can go out again at once). Answers come back through
// geodns's own XDP program attached to our interface (UDP to our address and port into our
// socket, everything else, ARP among it, to the kernel) and are counted by rcode, with QR and
// the question's ID checked against what was sent.
//
// Its output ends with the two lines kxdpgun prints ("total queries: N (R pps)", "total
// replies: N (R pps) (P%)"), so bench/xdp.sh reads both generators alike, then a `result`
// line. One thread, one queue (queue 0: the veth rig has one). Needs root.
#include <linux/if_xdp.h>
#include <net/if.h>
#include <poll.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xdp/xsk.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <numeric>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "query_file.h"
#include "server/listen_config.h"
#include "server/xdp/xdp_program.h"
#include "tool_cli.h"
#include "xsk_copy_socket.h"

namespace {

using geodns::bench::die;
using geodns::bench::parse_int;
using geodns::bench::pin_to_cpu;

constexpr uint32_t kChunk = 2048;       // UMEM chunk (aligned mode)
constexpr uint32_t kRxFrames = 2048;    // chunks for answers, all in the fill ring
constexpr uint32_t kRing = 2048;        // every ring
constexpr uint32_t kBatch = 64;         // descriptors per kick, answers per RX peek
constexpr size_t kMaxFrames = 1 << 20;  // prebuilt queries at most
constexpr uint16_t kEcsOption = 8;      // RFC 7871
constexpr uint16_t kOptType = 41;
constexpr uint16_t kEdnsPayload = 1232;

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

struct Options {
  std::string interface;
  std::string source;       // our IPv4 address
  std::string destination;  // the server's
  std::string dst_mac;
  std::string queries;
  uint16_t port = 53;
  uint16_t source_port = 53053;
  uint32_t ecs_subnets = 0;
  bool edns = false;
  int duration_s = 5;
  long rate = 0;  // queries/s; 0 = as fast as we can
  int cpu = -1;
};

using geodns::bench::make_ecs_subnets;
using geodns::bench::QuerySpec;
using geodns::bench::read_query_file;

void put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

uint32_t sum16(const uint8_t* p, size_t n, uint32_t sum = 0) {
  for (; n >= 2; p += 2, n -= 2) sum += static_cast<uint32_t>(p[0] << 8 | p[1]);
  if (n == 1) sum += static_cast<uint32_t>(p[0] << 8);
  return sum;
}

uint16_t fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// One query frame: Ethernet, IPv4 (DF, TTL 64), UDP with its checksum, the DNS message.
std::vector<uint8_t> build_frame(const Options& o, const uint8_t* src_mac, const uint8_t* dst_mac,
                                 uint32_t src_ip, uint32_t dst_ip, uint16_t id, const QuerySpec& q,
                                 const std::array<uint8_t, 3>* subnet) {
  std::vector<uint8_t> dns;
  put16(dns, id);
  put16(dns, 0);  // a standard query, RD clear: we ask an authoritative server
  put16(dns, 1);
  put16(dns, 0);
  put16(dns, 0);
  const bool opt = o.edns || subnet != nullptr;
  put16(dns, opt ? 1 : 0);
  dns.insert(dns.end(), q.qname.begin(), q.qname.end());
  put16(dns, q.qtype);
  put16(dns, 1);
  if (opt) {
    dns.push_back(0);
    put16(dns, kOptType);
    put16(dns, kEdnsPayload);
    put16(dns, 0);
    put16(dns, 0);
    if (subnet != nullptr) {
      put16(dns, 11);
      put16(dns, kEcsOption);
      put16(dns, 7);
      put16(dns, 1);      // IPv4
      dns.push_back(24);  // source prefix
      dns.push_back(0);   // scope: 0 in queries
      dns.insert(dns.end(), subnet->begin(), subnet->end());
    } else {
      put16(dns, 0);
    }
  }
  // Sized once: growing it by insert() trips GCC 12's -Warray-bounds at -O3 (a false positive).
  std::vector<uint8_t> f(14 + 20 + 8 + dns.size());
  std::memcpy(f.data(), dst_mac, 6);
  std::memcpy(f.data() + 6, src_mac, 6);
  f[12] = 0x08;
  f[13] = 0x00;
  uint8_t* ip = f.data() + 14;
  const size_t udp_len = 8 + dns.size();
  ip[0] = 0x45;
  ip[2] = static_cast<uint8_t>((20 + udp_len) >> 8);
  ip[3] = static_cast<uint8_t>(20 + udp_len);
  ip[4] = static_cast<uint8_t>(id >> 8);  // identification: anything (DF)
  ip[5] = static_cast<uint8_t>(id);
  ip[6] = 0x40;
  ip[8] = 64;
  ip[9] = 17;
  for (int i = 0; i < 4; ++i) {
    ip[12 + i] = static_cast<uint8_t>(src_ip >> (24 - 8 * i));
    ip[16 + i] = static_cast<uint8_t>(dst_ip >> (24 - 8 * i));
  }
  const uint16_t ip_sum = fold(sum16(ip, 20));
  ip[10] = static_cast<uint8_t>(ip_sum >> 8);
  ip[11] = static_cast<uint8_t>(ip_sum);
  uint8_t* udp = ip + 20;
  udp[0] = static_cast<uint8_t>(o.source_port >> 8);
  udp[1] = static_cast<uint8_t>(o.source_port);
  udp[2] = static_cast<uint8_t>(o.port >> 8);
  udp[3] = static_cast<uint8_t>(o.port);
  udp[4] = static_cast<uint8_t>(udp_len >> 8);
  udp[5] = static_cast<uint8_t>(udp_len);
  std::memcpy(f.data() + 42, dns.data(), dns.size());
  uint32_t sum = sum16(ip + 12, 8) + 17 + static_cast<uint32_t>(udp_len);
  sum = sum16(f.data() + 34, udp_len, sum);
  uint16_t udp_sum = fold(sum);
  if (udp_sum == 0) udp_sum = 0xffff;
  f[34 + 6] = static_cast<uint8_t>(udp_sum >> 8);
  f[34 + 7] = static_cast<uint8_t>(udp_sum);
  return f;
}

uint32_t parse_ipv4(const std::string& text) {
  unsigned a = 0, b = 0, c = 0, d = 0;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4 || a > 255 ||
      b > 255 || c > 255 || d > 255) {
    die("not an IPv4 address: " + text);
  }
  return a << 24 | b << 16 | c << 8 | d;
}

std::array<uint8_t, 6> parse_mac(const std::string& text) {
  std::array<unsigned, 6> v{};
  char tail = 0;
  if (std::sscanf(text.c_str(), "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                  &tail) != 6) {
    die("not a MAC address: " + text);
  }
  std::array<uint8_t, 6> mac{};
  for (int i = 0; i < 6; ++i) mac[i] = static_cast<uint8_t>(v[i]);
  return mac;
}

std::array<uint8_t, 6> interface_mac(const std::string& interface) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) die("socket failed");
  ifreq req{};
  std::snprintf(req.ifr_name, sizeof req.ifr_name, "%s", interface.c_str());
  if (::ioctl(fd, SIOCGIFHWADDR, &req) != 0) die("cannot read the MAC address of " + interface);
  ::close(fd);
  std::array<uint8_t, 6> mac{};
  std::memcpy(mac.data(), req.ifr_hwaddr.sa_data, 6);
  return mac;
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) die(std::string(arg) + " needs a value");
      return argv[++i];
    };
    if (arg == "--interface") {
      o.interface = value();
    } else if (arg == "--source") {
      o.source = value();
    } else if (arg == "--destination") {
      o.destination = value();
    } else if (arg == "--dst-mac") {
      o.dst_mac = value();
    } else if (arg == "--queries") {
      o.queries = value();
    } else if (arg == "--port") {
      o.port = static_cast<uint16_t>(parse_int(arg, value(), 1, 65535));
    } else if (arg == "--source-port") {
      o.source_port = static_cast<uint16_t>(parse_int(arg, value(), 1, 65535));
    } else if (arg == "--ecs-subnets") {
      o.ecs_subnets = static_cast<uint32_t>(parse_int(arg, value(), 1, 1000000));
    } else if (arg == "--edns") {
      o.edns = true;
    } else if (arg == "--duration") {
      o.duration_s = static_cast<int>(parse_int(arg, value(), 1, 3600));
    } else if (arg == "--rate") {
      o.rate = parse_int(arg, value(), 0, 100000000);
    } else if (arg == "--cpu") {
      o.cpu = static_cast<int>(parse_int(arg, value(), 0, CPU_SETSIZE - 1));
    } else {
      std::fputs(
          "usage: geodns-xdp-gun --interface IF --source A --destination A --dst-mac MAC\n"
          "         --queries FILE [--port 53] [--source-port 53053] [--ecs-subnets N] [--edns]\n"
          "         [--duration 5] [--rate QPS (0: as fast as it can)] [--cpu N]\n"
          "  sends IPv4 UDP DNS queries over AF_XDP on queue 0 of IF and counts the answers;\n"
          "  --ecs-subnets N: EDNS Client Subnet with N distinct public /24s (query i: i mod N)\n",
          stderr);
      std::exit(arg == "--help" || arg == "-h" ? 0 : 2);
    }
  }
  if (o.interface.empty() || o.source.empty() || o.destination.empty() || o.dst_mac.empty() ||
      o.queries.empty()) {
    die("--interface, --source, --destination, --dst-mac and --queries are required");
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  geodns::bench::g_tool = "geodns-xdp-gun";
  const Options o = parse_options(argc, argv);
  const uint32_t src_ip = parse_ipv4(o.source);
  const uint32_t dst_ip = parse_ipv4(o.destination);
  const auto dst_mac = parse_mac(o.dst_mac);
  const auto src_mac = interface_mac(o.interface);
  const std::vector<QuerySpec> queries = read_query_file(o.queries);
  std::vector<std::array<uint8_t, 3>> subnets;
  if (o.ecs_subnets > 0) subnets = make_ecs_subnets(o.ecs_subnets);
  if (subnets.size() < o.ecs_subnets) die("cannot make that many distinct ECS subnets");
  // Frame i pairs line i mod L with subnet i mod N: lcm(L, N) frames pair every line with
  // every subnet (capped, then max(L, N) keeps every line and every subnet in use).
  size_t total = queries.size();
  if (o.ecs_subnets > 0) {
    const size_t l = std::lcm(queries.size(), size_t{o.ecs_subnets});
    total = l <= kMaxFrames ? l : std::max(queries.size(), size_t{o.ecs_subnets});
  }
  std::vector<std::vector<uint8_t>> frames;
  frames.reserve(total);
  size_t longest = 0;
  for (size_t i = 0; i < total; ++i) {
    frames.push_back(build_frame(o, src_mac.data(), dst_mac.data(), src_ip, dst_ip,
                                 static_cast<uint16_t>(i), queries[i % queries.size()],
                                 subnets.empty() ? nullptr : &subnets[i % subnets.size()]));
    longest = std::max(longest, frames.back().size());
  }
  // Slots of a power of two, so that none crosses a chunk (the kernel refuses a descriptor
  // that does, in aligned mode).
  uint32_t slot = 64;
  while (slot < longest) slot *= 2;
  if (slot > kChunk) die("a query frame is longer than a UMEM chunk");
  const size_t tx_bytes = (total * slot + kChunk - 1) / kChunk * kChunk;
  const size_t bytes = tx_bytes + static_cast<size_t>(kRxFrames) * kChunk;

  pin_to_cpu(o.cpu);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
  (void)setrlimit(RLIMIT_MEMLOCK, &unlimited);

  // Answers to our address and port come to our socket through geodns's XDP program.
  auto endpoint = geodns::server::parse_endpoint(o.source + ":" + std::to_string(o.source_port));
  if (!endpoint) die(endpoint.error().to_string());
  auto program = geodns::server::xdp::XdpProgram::attach(
      o.interface, geodns::server::xdp::AttachMode::native, {*endpoint}, /*state_dir=*/"");
  if (!program) die(program.error().to_string());

  void* area = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (area == MAP_FAILED) die("mmap failed");
  auto* mem = static_cast<uint8_t*>(area);
  for (size_t i = 0; i < total; ++i)
    std::memcpy(mem + i * slot, frames[i].data(), frames[i].size());
  std::vector<uint32_t> length(total);
  std::vector<uint16_t> question(total);  // 12 + qname + 4: what an answer must echo
  for (size_t i = 0; i < total; ++i) {
    length[i] = static_cast<uint32_t>(frames[i].size());
    question[i] = static_cast<uint16_t>(12 + queries[i % queries.size()].qname.size() + 4);
  }
  frames.clear();
  frames.shrink_to_fit();

  geodns::bench::CopyModeXsk x;
  geodns::bench::open_copy_mode_xsk(&x, o.interface, area, bytes, kRing, kChunk, kBatch, **program);
  xsk_ring_prod& fill = x.fill;
  xsk_ring_prod& tx = x.tx;
  xsk_ring_cons& comp = x.comp;
  xsk_ring_cons& rx = x.rx;
  const int fd = x.fd;
  uint32_t fi = 0;
  xsk_ring_prod__reserve(&fill, kRxFrames, &fi);
  for (uint32_t i = 0; i < kRxFrames; ++i) {
    *xsk_ring_prod__fill_addr(&fill, fi + i) = tx_bytes + static_cast<uint64_t>(i) * kChunk;
  }
  xsk_ring_prod__submit(&fill, kRxFrames);

  unsigned long long sent = 0, replies = 0, mismatched = 0;
  std::array<unsigned long long, 16> rcodes{};
  size_t next = 0;
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto stop_sending = start + std::chrono::seconds(o.duration_s);
  // Answers still on their way when sending stops count if they come within 200 ms.
  const auto stop_counting = stop_sending + std::chrono::milliseconds(200);
  std::array<uint64_t, kBatch> refill{};
  for (;;) {
    const auto now = Clock::now();
    if (g_stop != 0 || now >= stop_counting) break;
    // Frames are never written after start-up: a completion only frees its TX slot.
    uint32_t ci = 0;
    if (const uint32_t done = xsk_ring_cons__peek(&comp, kRing, &ci); done > 0) {
      xsk_ring_cons__release(&comp, done);
    }
    if (now < stop_sending) {
      uint64_t want = kBatch;
      if (o.rate > 0) {
        const double elapsed = std::chrono::duration<double>(now - start).count();
        const auto due = static_cast<unsigned long long>(elapsed * static_cast<double>(o.rate));
        want = due > sent ? std::min<uint64_t>(kBatch, due - sent) : 0;
      }
      uint32_t ti = 0;
      const auto n = static_cast<uint32_t>(want);
      if (n > 0 && xsk_ring_prod__reserve(&tx, n, &ti) == n) {
        for (uint32_t i = 0; i < n; ++i) {
          xdp_desc* d = xsk_ring_prod__tx_desc(&tx, ti + i);
          d->addr = next * slot;
          d->len = length[next];
          d->options = 0;
          if (++next == total) next = 0;
        }
        xsk_ring_prod__submit(&tx, n);
        sent += n;
      }
      // Copy mode: each sendto() sends up to the budget; kick while the ring holds some.
      for (int k = 0; k < 8 && tx.cached_prod != __atomic_load_n(tx.consumer, __ATOMIC_ACQUIRE);
           ++k) {
        sendto(fd, nullptr, 0, MSG_DONTWAIT, nullptr, 0);
      }
    }
    uint32_t ri = 0;
    const uint32_t got = xsk_ring_cons__peek(&rx, kBatch, &ri);
    for (uint32_t i = 0; i < got; ++i) {
      const xdp_desc* d = xsk_ring_cons__rx_desc(&rx, ri + i);
      const uint8_t* f = static_cast<const uint8_t*>(xsk_umem__get_data(area, d->addr));
      refill[i] = d->addr - d->addr % kChunk;
      // The program let through only IPv4/IPv6 UDP to our port; the server's is IPv4, no options.
      if (d->len < 14 + 20 + 8 + 12 || f[12] != 0x08 || f[13] != 0x00 || (f[14] & 0x0f) != 5) {
        ++mismatched;
        continue;
      }
      const uint8_t* dns = f + 42;
      const size_t dns_len = d->len - 42;
      const auto id = static_cast<uint16_t>(dns[0] << 8 | dns[1]);
      // Frame `id` asked it: its question must come back (with more than 65536 frames, IDs
      // repeat, and only QR is checked).
      const bool known = id < total && total <= 65536;
      if ((dns[2] & 0x80) == 0 || id >= total ||
          (known && (dns_len < question[id] ||
                     std::memcmp(dns + 12, mem + id * slot + 42 + 12, question[id] - 12u) != 0))) {
        ++mismatched;
        continue;
      }
      ++replies;
      ++rcodes[dns[3] & 0x0f];
    }
    if (got > 0) {
      xsk_ring_cons__release(&rx, got);
      if (xsk_ring_prod__reserve(&fill, got, &fi) == got) {
        for (uint32_t i = 0; i < got; ++i) *xsk_ring_prod__fill_addr(&fill, fi + i) = refill[i];
        xsk_ring_prod__submit(&fill, got);
      }
    }
  }
  const double seconds = o.duration_s;
  geodns::bench::close_copy_mode_xsk(&x);
  program->reset();
  std::printf("total queries:     %llu (%.0f pps)\n", sent, static_cast<double>(sent) / seconds);
  std::printf("total replies:     %llu (%.0f pps) (%.0f%%)\n", replies,
              static_cast<double>(replies) / seconds,
              sent > 0 ? 100.0 * static_cast<double>(replies) / static_cast<double>(sent) : 0.0);
  std::printf(
      "result sent=%llu replies=%llu mismatched=%llu frames=%zu duration_s=%d rcode_NOERROR=%llu "
      "rcode_SERVFAIL=%llu rcode_NXDOMAIN=%llu rcode_REFUSED=%llu\n",
      sent, replies, mismatched, total, o.duration_s, rcodes[0], rcodes[2], rcodes[3], rcodes[5]);
  return 0;
}
