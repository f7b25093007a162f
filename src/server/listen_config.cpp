#include "server/listen_config.h"

#include <algorithm>

#include <charconv>

namespace geodns::server {

namespace {

Error endpoint_error(std::string_view text, std::string_view why) {
  return make_error("listen address \"" + std::string(text) + "\": " + std::string(why));
}

}  // namespace

std::string format_endpoint(const IpAddress& address, uint16_t port) {
  if (address.is_v6()) return "[" + address.to_string() + "]:" + std::to_string(port);
  return address.to_string() + ":" + std::to_string(port);
}

Result<Endpoint> parse_endpoint(std::string_view text) {
  if (text.empty()) return endpoint_error(text, "empty; expected ADDRESS:PORT");
  std::string_view host;
  std::string_view port_text;
  if (text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return endpoint_error(text, "missing ']'");
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      return endpoint_error(text, "missing port; expected [ADDRESS]:PORT");
    }
    port_text = rest.substr(1);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return endpoint_error(text, "missing port; expected ADDRESS:PORT");
    }
    host = text.substr(0, colon);
    // A second colon means a bare IPv6 address: "::1:53" is ambiguous.
    if (host.find(':') != std::string_view::npos) {
      return endpoint_error(text, "IPv6 addresses need brackets, as in [::1]:53");
    }
    port_text = text.substr(colon + 1);
  }
  if (port_text.empty()) return endpoint_error(text, "missing port");
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return endpoint_error(text, "port must be a number 0..65535");
  }
  const std::optional<IpAddress> address = IpAddress::parse(host);
  if (!address) return endpoint_error(text, "not an IP address: \"" + std::string(host) + "\"");
  if (text.front() == '[' && !address->is_v6()) {
    return endpoint_error(text, "brackets are for IPv6 addresses");
  }
  Endpoint endpoint;
  endpoint.address = *address;
  endpoint.port = static_cast<uint16_t>(port);
  endpoint.text = format_endpoint(endpoint.address, endpoint.port);
  return endpoint;
}

Result<ListenConfig> listen_config(const zone::ListenSettings& settings, unsigned cores) {
  ListenConfig lc;
  for (const auto& text : settings.addresses) {
    auto ep = parse_endpoint(text);
    if (!ep) return ep.error();
    lc.endpoints.push_back(ep.value());
  }
  lc.threads = settings.threads != 0 ? settings.threads : std::max(1U, cores);
  lc.tcp_threads = settings.tcp_threads;
  lc.tcp_idle_timeout = settings.tcp_idle_timeout;
  lc.tcp_stall_timeout = settings.tcp_stall_timeout;
  lc.tcp_max_connections = settings.tcp_max_connections;
  lc.tcp_max_per_client = settings.tcp_max_per_client;
  lc.tcp_busy_idle_timeout = settings.tcp_busy_idle_timeout;
  return lc;
}

}  // namespace geodns::server
