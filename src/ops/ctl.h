// `geodns ctl`: a small HTTP client for the control endpoint of a running server.
//
//   geodns ctl [--control ADDR:PORT] [--token T] status
//   geodns ctl ... reload
//   geodns ctl ... drain TARGET [--for 30m] [--reason TEXT]     TARGET: fra, example.com./fra
//   geodns ctl ... undrain TARGET                                       or an IP address
//   geodns ctl ... explain NAME --client ADDR[/LEN] [--type A|AAAA]
//   geodns ctl ... metrics
//
// Defaults: $GEODNS_CONTROL or 127.0.0.1:8053; $GEODNS_CONTROL_TOKEN.
#pragma once

#include <chrono>
#include <iosfwd>
#include <string>
#include <vector>

#include "common/result.h"

namespace geodns::ops {

struct HttpReply {
  int status = 0;
  std::string body;
};

// One request on its own loopback/remote TCP connection (Connection: close), bounded by
// `timeout` for connect, send and the whole read. Always sends `X-Geodns-Request: 1`, the
// header the endpoint requires of state-changing requests (cross-site safety).
Result<HttpReply> http_call(const std::string& endpoint, const std::string& method,
                            const std::string& target, const std::string& body,
                            const std::string& token, std::chrono::milliseconds timeout);

// Runs `geodns ctl ARGS...` (args after "ctl"); returns the exit code (0 ok, 1 failure,
// 2 usage).
int run_ctl(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace geodns::ops
