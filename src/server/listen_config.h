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
#include "zone/config.h"

namespace geodns::server {

struct Endpoint {
  IpAddress address;
  uint16_t port = 0;  // 0 = let the kernel choose (tests); WorkerPool::bound_port() tells which
  std::string text;   // "127.0.0.1:5353" / "[::1]:5353", used in messages
};

struct ListenConfig {
  std::vector<Endpoint> endpoints;
  // Workers serving UDP; with tcp_threads 0 they serve TCP as well.
  unsigned threads = 1;
  // The defaults are the config file's (zone::ListenSettings), written there once.
  // Further workers serving TCP only (no UDP socket; the UDP workers then open no TCP
  // listener): accept and connection churn then cannot take loop time from UDP.
  unsigned tcp_threads = zone::ListenSettings{}.tcp_threads;
  // RFC 7766 6.2.3: close connections that carry no traffic for this long.
  std::chrono::milliseconds tcp_idle_timeout = zone::ListenSettings{}.tcp_idle_timeout;
  // A client that started a message and did not complete it within this time is cut off
  // (slowloris); the timer restarts only when a complete message arrives.
  std::chrono::milliseconds tcp_stall_timeout = zone::ListenSettings{}.tcp_stall_timeout;
  // Per TCP-serving worker; at the cap a new connection closes the one idle longest
  // (tcp_admission.h).
  unsigned tcp_max_connections = zone::ListenSettings{}.tcp_max_connections;
  // Per TCP-serving worker, per client key (server/tcp_admission.h); clamped to
  // tcp_max_connections.
  unsigned tcp_max_per_client = zone::ListenSettings{}.tcp_max_per_client;
  // Above 3/4 of tcp_max_connections, new idle periods use this (never longer than
  // tcp_idle_timeout), and edns-tcp-keepalive advertises it.
  std::chrono::milliseconds tcp_busy_idle_timeout = zone::ListenSettings{}.tcp_busy_idle_timeout;
  // Datagrams per recvmmsg/sendmmsg batch (the worker does its own batched I/O; at most 64).
  size_t udp_batch = 64;
};

// "127.0.0.1:5353", "[::1]:5353", "0.0.0.0:53", "[::]:53". IPv6 needs the brackets.
Result<Endpoint> parse_endpoint(std::string_view text);

// The one conversion from the file's [server] listen settings: endpoints parsed, threads 0
// resolved to `cores` (at least 1).
Result<ListenConfig> listen_config(const zone::ListenSettings& settings, unsigned cores);

// Formats an address and port the way parse_endpoint() reads them.
std::string format_endpoint(const IpAddress& address, uint16_t port);

}  // namespace geodns::server
