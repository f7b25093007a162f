// The control endpoint's transport: an HTTP/1.1 listener on the daemon's control loop (the
// thread that owns the daemon's state, so handlers read it without locks). One request per
// connection; every connection has a deadline and bounded buffers, and at most
// kMaxConnections are open, so a slow or hostile client can neither block the loop nor
// exhaust memory.
#pragma once

#include <uv.h>

#include <chrono>
#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "common/ip.h"
#include "common/result.h"
#include "ops/http.h"

namespace geodns::ops {

class ControlServer {
 public:
  // Answers a request, at once or later (work done on another thread): called exactly once,
  // on the loop's thread. A reply for a connection closed meanwhile is dropped.
  using Reply = std::function<void(HttpResponse)>;
  using Handler = std::function<void(const HttpRequest&, Reply)>;
  static constexpr size_t kMaxConnections = 32;
  static constexpr std::chrono::milliseconds kRequestTimeout{10000};
  // A request whose answer is deferred (a reload of a large zone) may take this long.
  static constexpr std::chrono::milliseconds kDeferredTimeout{120000};

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
  // Connections waiting for a deferred reply, by serial number: a reply finds its connection
  // only while it is open (an address could be reused by a later connection, a number not).
  std::unordered_map<uint64_t, Connection*> waiting_;
  uint64_t next_serial_ = 0;
};

// True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104.
bool is_loopback(const IpAddress& address);

// The control endpoint's one rule beyond its syntax: a non-loopback address only with a token
// (it can drain datacenters). Checked by ControlServer::listen and by ops::check(), so that
// `geodns check` (the unit's ExecStartPre) refuses what `serve` would.
Status check_control_listen(const std::string& endpoint, bool has_token);

}  // namespace geodns::ops
