// Where and how the transport listens: the endpoints and the per-worker limits of the UDP/TCP
// serving layer (worker_pool.h). Parsed from the command line / config file by main.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip.h"
#include "common/result.h"

namespace geodns::server {

struct Endpoint {
  IpAddress address;
  uint16_t port = 0;  // 0 = let the kernel choose (tests); WorkerPool::bound_port() tells which
  std::string text;   // "127.0.0.1:5353" / "[::1]:5353", used in messages
};

struct ListenConfig {
  std::vector<Endpoint> endpoints;
  unsigned threads = 1;
  // RFC 7766 6.2.3: close connections that carry no traffic for this long.
  std::chrono::milliseconds tcp_idle_timeout{10000};
  // A client that started a message and did not complete it within this time is cut off
  // (slowloris); the timer restarts only when a complete message arrives.
  std::chrono::milliseconds tcp_stall_timeout{3000};
  unsigned tcp_max_connections = 1024;  // per worker; beyond it, accepted and closed at once
  // Datagrams per recvmmsg/sendmmsg batch (the worker does its own batched I/O; at most 64).
  size_t udp_batch = 64;
};

// "127.0.0.1:5353", "[::1]:5353", "0.0.0.0:53", "[::]:53". IPv6 needs the brackets.
Result<Endpoint> parse_endpoint(std::string_view text);

// Formats an address and port the way parse_endpoint() reads them.
std::string format_endpoint(const IpAddress& address, uint16_t port);

}  // namespace geodns::server
