// geodns-xdp-floor: the AF_XDP floor, beside geodns-floor (the socket floor). It answers every
// UDP query that geodns's XDP program redirects by sending the frame back with its Ethernet,
// IP and UDP addresses swapped and QR set: no parsing beyond fixed offsets, no DNS work. One
// thread on one queue; its qps is the ceiling the AF_XDP path allows on this machine, so
// geodns XDP / this says what the DNS work costs there.
//
// The per-packet loop is written here, not taken from src/server/xdp/, so that a slow path in
// the server's transport cannot lower the floor it is measured against. Only the attach step
// (the same XDP program, which filters what reaches user space) is shared.
#include <linux/if_xdp.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <xdp/xsk.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "server/listen_config.h"
#include "server/xdp/xdp_program.h"
#include "tool_cli.h"
#include "xsk_copy_socket.h"

namespace {

using geodns::bench::die;
using geodns::bench::parse_int;
using geodns::bench::pin_to_cpu;

constexpr uint32_t kFrameBytes = XSK_UMEM__DEFAULT_FRAME_SIZE;
constexpr uint32_t kRing = 2048;
constexpr uint32_t kBatch = 64;

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

// RFC 1624 incremental update of a 16-bit one's complement checksum: field `old` -> `now`.
uint16_t checksum_update(uint16_t sum, uint16_t old, uint16_t now) {
  uint32_t s =
      static_cast<uint16_t>(~sum) + static_cast<uint32_t>(static_cast<uint16_t>(~old)) + now;
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s);
}

// Turns the query frame into its echo in place; false: not IPv4/IPv6 UDP (dropped). Swapping
// addresses and ports leaves both checksums valid (the sums are commutative); only the flags
// word changes, updated incrementally.
bool echo(uint8_t* f, uint32_t len) {
  if (len < 14) return false;
  uint8_t mac[6];
  std::memcpy(mac, f, 6);
  std::memcpy(f, f + 6, 6);
  std::memcpy(f + 6, mac, 6);
  size_t udp = 0;
  const uint16_t type = static_cast<uint16_t>(f[12] << 8 | f[13]);
  if (type == 0x0800 && len >= 14 + 20 + 8 + 12) {
    uint8_t a[4];
    std::memcpy(a, f + 26, 4);
    std::memcpy(f + 26, f + 30, 4);
    std::memcpy(f + 30, a, 4);
    udp = 14 + static_cast<size_t>((f[14] & 0x0f) * 4);
  } else if (type == 0x86dd && len >= 14 + 40 + 8 + 12) {
    uint8_t a[16];
    std::memcpy(a, f + 22, 16);
    std::memcpy(f + 22, f + 38, 16);
    std::memcpy(f + 38, a, 16);
    udp = 54;
  } else {
    return false;
  }
  if (udp + 8 + 12 > len) return false;
  uint8_t p[2] = {f[udp], f[udp + 1]};
  f[udp] = f[udp + 2];
  f[udp + 1] = f[udp + 3];
  f[udp + 2] = p[0];
  f[udp + 3] = p[1];
  uint8_t* flags = f + udp + 8 + 2;
  const uint16_t old_word = static_cast<uint16_t>(flags[0] << 8 | flags[1]);
  flags[0] |= 0x80;
  const uint16_t new_word = static_cast<uint16_t>(flags[0] << 8 | flags[1]);
  const uint16_t sum = static_cast<uint16_t>(f[udp + 6] << 8 | f[udp + 7]);
  if (sum != 0) {  // IPv4 may carry none
    const uint16_t updated = checksum_update(sum, old_word, new_word);
    f[udp + 6] = static_cast<uint8_t>(updated >> 8);
    f[udp + 7] = static_cast<uint8_t>(updated);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  geodns::bench::g_tool = "geodns-xdp-floor";
  std::string interface;
  std::vector<std::string> listen;
  int cpu = -1;
  int duration_s = 3600;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) die(std::string(arg) + " needs a value");
      return argv[++i];
    };
    if (arg == "--interface") {
      interface = value();
    } else if (arg == "--listen") {
      listen.emplace_back(value());
    } else if (arg == "--cpu") {
      cpu = static_cast<int>(parse_int(arg, value(), 0, CPU_SETSIZE - 1));
    } else if (arg == "--duration") {
      duration_s = static_cast<int>(parse_int(arg, value(), 1, 86400));
    } else {
      std::fputs(
          "usage: geodns-xdp-floor --interface IF --listen ADDR:PORT... [--cpu N] [--duration S]\n"
          "  echoes UDP queries to ADDR:PORT arriving on queue 0 of IF over AF_XDP (QR set);\n"
          "  needs root; stops on SIGINT/SIGTERM or after S seconds (default 3600)\n",
          stderr);
      return arg == "--help" || arg == "-h" ? 0 : 2;
    }
  }
  if (interface.empty() || listen.empty()) die("--interface and --listen are required");
  std::vector<geodns::server::Endpoint> endpoints;
  for (const auto& text : listen) {
    auto e = geodns::server::parse_endpoint(text);
    if (!e) die(e.error().to_string());
    endpoints.push_back(*e);
  }
  pin_to_cpu(cpu);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  auto program = geodns::server::xdp::XdpProgram::attach(
      interface, geodns::server::xdp::AttachMode::native, endpoints, /*state_dir=*/"");
  if (!program) die(program.error().to_string());

  const size_t bytes = static_cast<size_t>(kRing) * kFrameBytes;
  void* area = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (area == MAP_FAILED) die("mmap failed");
  geodns::bench::CopyModeXsk x;
  geodns::bench::open_copy_mode_xsk(&x, interface, area, bytes, kRing, kFrameBytes, kBatch,
                                    **program);
  xsk_ring_prod& fill = x.fill;
  xsk_ring_prod& tx = x.tx;
  xsk_ring_cons& comp = x.comp;
  xsk_ring_cons& rx = x.rx;
  // Echo in place: every frame starts in the fill ring (as large as the frame count, so it
  // never overflows), goes out as TX, and comes back through the completion ring.
  uint32_t idx = 0;
  xsk_ring_prod__reserve(&fill, kRing, &idx);
  for (uint32_t i = 0; i < kRing; ++i) *xsk_ring_prod__fill_addr(&fill, idx + i) = i * kFrameBytes;
  xsk_ring_prod__submit(&fill, kRing);
  std::vector<uint64_t> spare;  // frames dropped as not-UDP, back to the fill ring
  spare.reserve(kRing);

  const int fd = x.fd;
  pollfd pfd{fd, POLLIN, 0};
  unsigned long long answered = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(duration_s);
  while (g_stop == 0) {
    uint32_t ri = 0;
    const uint32_t n = xsk_ring_cons__peek(&rx, kBatch, &ri);
    if (n == 0) {
      if (std::chrono::steady_clock::now() >= deadline) break;
      poll(&pfd, 1, 100);
    } else {
      uint32_t ti = 0;
      // Cannot fail: the TX ring holds as many descriptors as there are frames.
      if (xsk_ring_prod__reserve(&tx, n, &ti) != n) die("TX ring full");
      uint32_t sent = 0;
      for (uint32_t i = 0; i < n; ++i) {
        const xdp_desc* d = xsk_ring_cons__rx_desc(&rx, ri + i);
        uint8_t* frame = static_cast<uint8_t*>(xsk_umem__get_data(area, d->addr));
        xdp_desc* t = xsk_ring_prod__tx_desc(&tx, ti + sent);
        if (!echo(frame, d->len)) {
          spare.push_back(d->addr - d->addr % kFrameBytes);
          continue;
        }
        t->addr = d->addr;
        t->len = d->len;
        t->options = 0;
        ++sent;
      }
      // Give back the slots of dropped frames (what libxdp's later xsk_ring_prod__cancel does).
      if (sent < n) tx.cached_prod -= n - sent;
      xsk_ring_prod__submit(&tx, sent);
      xsk_ring_cons__release(&rx, n);
      answered += sent;
    }
    // Copy mode sends up to the budget per kick: kick while the TX ring holds frames (the
    // kernel's consumer index says), not until they complete: completions come back on their
    // own and are read without a syscall. (The server's worker does the same: the floor must
    // not pay for a transport policy the server does not.)
    for (int k = 0; k < 8 && tx.cached_prod != __atomic_load_n(tx.consumer, __ATOMIC_ACQUIRE);
         ++k) {
      sendto(fd, nullptr, 0, MSG_DONTWAIT, nullptr, 0);
    }
    uint32_t ci = 0;
    if (const uint32_t done = xsk_ring_cons__peek(&comp, kRing, &ci); done > 0) {
      uint32_t fi = 0;
      if (xsk_ring_prod__reserve(&fill, done, &fi) == done) {
        for (uint32_t i = 0; i < done; ++i) {
          *xsk_ring_prod__fill_addr(&fill, fi + i) = *xsk_ring_cons__comp_addr(&comp, ci + i);
        }
        xsk_ring_prod__submit(&fill, done);
      }
      xsk_ring_cons__release(&comp, done);
    }
    if (!spare.empty()) {
      uint32_t fi = 0;
      const auto m = static_cast<uint32_t>(spare.size());
      if (xsk_ring_prod__reserve(&fill, m, &fi) == m) {
        for (uint32_t i = 0; i < m; ++i) *xsk_ring_prod__fill_addr(&fill, fi + i) = spare[i];
        xsk_ring_prod__submit(&fill, m);
        spare.clear();
      }
    }
  }
  geodns::bench::close_copy_mode_xsk(&x);
  program->reset();  // detach before exit
  std::fprintf(stderr, "geodns-xdp-floor: answered %llu queries\n", answered);
  return 0;
}
