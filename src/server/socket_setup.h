// Socket creation for the workers, outside libuv: libuv 1.44 cannot set SO_REUSEPORT, so
// every socket is made here (non-blocking, close-on-exec, SO_REUSEPORT, IPV6_V6ONLY on v6)
// and handed to uv_udp_open / uv_tcp_open. Control path: errors are Results that name the
// endpoint, as in "listen 127.0.0.1:53: Address already in use".
#pragma once

#include <cstdint>

#include "common/ip.h"
#include "common/result.h"

namespace geodns::server {

enum class SocketKind : uint8_t { udp, tcp };

// The accept queue of a TCP listener. Clients past the connection cap wait there (worker.cpp
// parks the listener): their handshake is done and their query is kept by the kernel. A client
// that finds the queue full has its SYN dropped and retries after 1 s, 3 s, ..., all the dropped
// ones at once: with 10,000 clients against 1,024 slots such bursts overflowed the kernel's
// per-CPU input queue (net.core.netdev_max_backlog) and took UDP queries with them (bench/README,
// udp-under-tcp.sh). 4096 is the kernel's default net.core.somaxconn, which caps it anyway.
inline constexpr int kTcpListenBacklog = 4096;

// A bound socket; for TCP also listening. `port` 0 lets the kernel choose (see local_port).
Result<int> open_bound_socket(SocketKind kind, const IpAddress& address, uint16_t port);

// Fails when something else already holds `address`:`port` for UDP or TCP. Our own sockets
// set SO_REUSEPORT (one per worker), which would let a second server on the same port start
// and silently take half the queries; this probe, without that option, sees the first one.
Status check_port_unused(const IpAddress& address, uint16_t port);

// The port a bound socket got.
Result<uint16_t> local_port(int fd);

// Best effort: large kernel buffers absorb bursts between two loop iterations.
void set_socket_buffers(int fd, int bytes) noexcept;

}  // namespace geodns::server
