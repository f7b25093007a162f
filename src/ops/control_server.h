// The control endpoint's transport: an HTTP/1.1 listener on the daemon's control loop (the
// thread that also reloads, so handlers read daemon state without locks). One request per
// connection; every connection has a deadline and bounded buffers, and at most
// kMaxConnections are open, so a slow or hostile client can neither block the loop nor
// exhaust memory.
#pragma once

#include <uv.h>

#include <chrono>
#include <functional>
#include <string>
#include <unordered_set>

#include "common/ip.h"
#include "common/result.h"
#include "ops/http.h"

namespace geodns::ops {

class ControlServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  static constexpr size_t kMaxConnections = 32;
  static constexpr std::chrono::milliseconds kRequestTimeout{10000};

  ControlServer(uv_loop_t* loop, Handler handler);
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;
  ~ControlServer();  // the loop must have run close() to completion first

  // Binds "addr:port". A non-loopback address is refused unless `has_token`: the endpoint
  // can drain datacenters, so it is never open to the network unauthenticated.
  Status listen(const std::string& endpoint, bool has_token);
  uint16_t port() const noexcept { return port_; }
  // Closes the listener and every connection (handles are freed by their close callbacks).
  void close();

  struct Connection;  // public for the C callbacks

 private:
  static void on_connection(uv_stream_t* server, int status);

  uv_loop_t* loop_;
  Handler handler_;
  uv_tcp_t listener_{};
  bool listening_ = false;
  bool closed_ = false;
  uint16_t port_ = 0;
  std::unordered_set<Connection*> connections_;
};

// True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104.
bool is_loopback(const IpAddress& address);

}  // namespace geodns::ops
