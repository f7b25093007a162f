// geodns-floor: the kernel-floor responder. It answers every datagram by setting QR and sending
// the bytes back: no parsing, no lookup, no encoding. Whatever qps it reaches with one thread on
// one core is the ceiling that the UDP socket path itself allows on this machine, so a real
// server's qps divided by this one says how much of the budget its DNS work takes.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "tool_cli.h"

namespace {

using geodns::bench::die;
using geodns::bench::parse_int;
using geodns::bench::pin_to_cpu;

constexpr int kBatch = 64;
constexpr size_t kBufBytes = 4096;
constexpr int kMaxDurationS = 86400;

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int) {
  g_stop = 1;
}

}  // namespace

int main(int argc, char** argv) {
  geodns::bench::g_tool = "geodns-floor";
  uint16_t port = 0;
  std::string address = "127.0.0.1";  // IPv4; bench/xdp.sh binds the veth rig's address
  int cpu = -1;
  // A safety net: the responder stops by itself even if whoever started it forgets to.
  int duration_s = 3600;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) die(std::string(arg) + " needs a value");
      return argv[++i];
    };
    if (arg == "--port" || arg == "-p") {
      port = static_cast<uint16_t>(parse_int(arg, value(), 1, 65535));
    } else if (arg == "--address") {
      address = value();
    } else if (arg == "--cpu") {
      cpu = static_cast<int>(parse_int(arg, value(), 0, CPU_SETSIZE - 1));
    } else if (arg == "--duration") {
      duration_s = static_cast<int>(parse_int(arg, value(), 1, kMaxDurationS));
    } else {
      std::fputs(
          "usage: geodns-floor --port N [--address A] [--cpu N] [--duration S]\n"
          "  answers every UDP datagram on A:N (default 127.0.0.1) with QR set; stops on\n"
          "  SIGINT/SIGTERM or after S seconds (default 3600)\n",
          stderr);
      return arg == "--help" || arg == "-h" ? 0 : 2;
    }
  }
  if (port == 0) die("--port is required");

  pin_to_cpu(cpu);

  // No SA_RESTART: a signal must interrupt the blocking recvmmsg so that we exit promptly.
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die(std::string("socket: ") + std::strerror(errno));
  int buf_bytes = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf_bytes, sizeof buf_bytes);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf_bytes, sizeof buf_bytes);
  // The timeout only bounds how long we go without checking the deadline when idle.
  timeval tv{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, address.c_str(), &addr.sin_addr) != 1) die("bad --address " + address);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    die("bind " + address + ":" + std::to_string(port) + ": " + std::strerror(errno));
  }

  static std::array<std::array<uint8_t, kBufBytes>, kBatch> bufs;
  std::array<sockaddr_storage, kBatch> peers{};
  std::array<iovec, kBatch> iovs{};
  std::array<mmsghdr, kBatch> msgs{};
  unsigned long long answered = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(duration_s);

  while (g_stop == 0 && std::chrono::steady_clock::now() < deadline) {
    for (size_t i = 0; i < kBatch; ++i) {
      iovs[i] = {bufs[i].data(), bufs[i].size()};
      msgs[i].msg_hdr = {};
      msgs[i].msg_hdr.msg_name = &peers[i];
      msgs[i].msg_hdr.msg_namelen = sizeof peers[i];
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    // MSG_WAITFORONE: block for the first datagram, then take whatever else is already queued.
    int n = recvmmsg(fd, msgs.data(), kBatch, MSG_WAITFORONE, nullptr);
    if (n <= 0) continue;  // timeout, EINTR: re-check stop flag and deadline
    int out = 0;
    for (int i = 0; i < n; ++i) {
      auto& m = msgs[static_cast<size_t>(i)];
      if (m.msg_len < 3) continue;  // too short to carry a flags byte: drop
      bufs[static_cast<size_t>(i)][2] |= 0x80;
      iovs[static_cast<size_t>(i)].iov_len = m.msg_len;
      if (out != i) msgs[static_cast<size_t>(out)] = m;
      ++out;
    }
    int sent = out > 0 ? sendmmsg(fd, msgs.data(), static_cast<unsigned>(out), 0) : 0;
    if (sent > 0) answered += static_cast<unsigned long long>(sent);
  }
  close(fd);
  std::fprintf(stderr, "geodns-floor: answered %llu datagrams\n", answered);
  return 0;
}
