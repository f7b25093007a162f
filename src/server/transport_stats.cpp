#include "server/transport_stats.h"

namespace geodns::server {

TransportStats& TransportStats::operator+=(const TransportStats& other) noexcept {
  udp_received += other.udp_received;
  udp_sent += other.udp_sent;
  udp_send_dropped += other.udp_send_dropped;
  udp_truncated += other.udp_truncated;
  tcp_accepted += other.tcp_accepted;
  tcp_rejected += other.tcp_rejected;
  tcp_evicted += other.tcp_evicted;
  tcp_client_evicted += other.tcp_client_evicted;
  tcp_parked += other.tcp_parked;
  tcp_open += other.tcp_open;
  tcp_received += other.tcp_received;
  tcp_sent += other.tcp_sent;
  tcp_idle_closed += other.tcp_idle_closed;
  tcp_stall_closed += other.tcp_stall_closed;
  tcp_backpressure += other.tcp_backpressure;
  xdp_received += other.xdp_received;
  xdp_sent += other.xdp_sent;
  xdp_malformed += other.xdp_malformed;
  xdp_send_dropped += other.xdp_send_dropped;
  return *this;
}

TransportStats TransportCounters::snapshot() const noexcept {
  const auto get = [this](Id id) { return values_[id].load(std::memory_order_relaxed); };
  TransportStats out;
  out.udp_received = get(udp_received);
  out.udp_sent = get(udp_sent);
  out.udp_send_dropped = get(udp_send_dropped);
  out.udp_truncated = get(udp_truncated);
  out.tcp_accepted = get(tcp_accepted);
  out.tcp_rejected = get(tcp_rejected);
  out.tcp_evicted = get(tcp_evicted);
  out.tcp_client_evicted = get(tcp_client_evicted);
  out.tcp_parked = get(tcp_parked);
  out.tcp_open = get(tcp_open);
  out.tcp_received = get(tcp_received);
  out.tcp_sent = get(tcp_sent);
  out.tcp_idle_closed = get(tcp_idle_closed);
  out.tcp_stall_closed = get(tcp_stall_closed);
  out.tcp_backpressure = get(tcp_backpressure);
  out.xdp_received = get(xdp_received);
  out.xdp_sent = get(xdp_sent);
  out.xdp_malformed = get(xdp_malformed);
  out.xdp_send_dropped = get(xdp_send_dropped);
  return out;
}

}  // namespace geodns::server
