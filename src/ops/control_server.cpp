#include "ops/control_server.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include "common/log.h"
#include "common/socket_address.h"
#include "server/listen_config.h"

namespace geodns::ops {

// Owns a TCP handle and its deadline timer; freed when both close callbacks have run.
struct ControlServer::Connection {
  ControlServer* server = nullptr;
  uv_tcp_t tcp{};
  uv_timer_t timer{};
  uv_write_t write_req{};
  HttpParser parser;
  std::string out;
  int open_handles = 0;
  uint64_t serial = 0;
  bool closing = false;
  char read_buf[4096];

  void close() {
    if (closing) return;
    closing = true;
    server->connections_.erase(this);
    server->waiting_.erase(serial);
    auto on_closed = [](uv_handle_t* h) {
      auto* c = static_cast<Connection*>(h->data);
      if (--c->open_handles == 0) delete c;
    };
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp), on_closed);
    uv_close(reinterpret_cast<uv_handle_t*>(&timer), on_closed);
  }

  void respond(const HttpResponse& response) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp));
    out = serialize(response);
    uv_buf_t buf = uv_buf_init(out.data(), static_cast<unsigned>(out.size()));
    write_req.data = this;
    const int rc = uv_write(&write_req, reinterpret_cast<uv_stream_t*>(&tcp), &buf, 1,
                            [](uv_write_t* req, int) {
                              // Closing after the write lets the client read to EOF.
                              static_cast<Connection*>(req->data)->close();
                            });
    if (rc != 0) close();
  }
};

bool is_loopback(const IpAddress& address) {
  const IpAddress a = address.unmapped();
  if (a.is_v4()) return a.bytes[0] == 127;
  static constexpr std::array<uint8_t, 16> kV6Loopback{0, 0, 0, 0, 0, 0, 0, 0,
                                                       0, 0, 0, 0, 0, 0, 0, 1};
  return a.bytes == kV6Loopback;
}

ControlServer::ControlServer(uv_loop_t* loop, Handler handler)
    : loop_(loop), handler_(std::move(handler)) {}

ControlServer::~ControlServer() = default;

Status check_control_listen(const std::string& endpoint, bool has_token) {
  auto ep = server::parse_endpoint(endpoint);
  if (!ep) return make_error("control listen: " + ep.error().to_string());
  if (!is_loopback(ep->address) && !has_token) {
    return make_error("control listen " + endpoint +
                      ": refusing a non-loopback address without [control] token (the "
                      "endpoint can drain datacenters); set a token or listen on 127.0.0.1");
  }
  return {};
}

Status ControlServer::listen(const std::string& endpoint, bool has_token) {
  if (Status st = check_control_listen(endpoint, has_token); !st) return st;
  auto ep = server::parse_endpoint(endpoint);
  const SocketAddress sa = to_socket_address(ep->address, ep->port);
  uv_tcp_init(loop_, &listener_);
  listener_.data = this;
  listening_ = true;
  int rc = uv_tcp_bind(&listener_, sa.get(), 0);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 64, on_connection);
  if (rc != 0) return make_error("control listen " + endpoint + ": " + uv_strerror(rc));
  sockaddr_storage bound{};
  int len = sizeof(bound);
  if (uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&bound), &len) == 0) {
    port_ = port_of(reinterpret_cast<const sockaddr*>(&bound));
  }
  return {};
}

void ControlServer::close() {
  if (closed_) return;
  closed_ = true;
  if (listening_) uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
  // Copy: Connection::close() erases itself from the set.
  const std::vector<Connection*> open(connections_.begin(), connections_.end());
  for (Connection* c : open) c->close();
}

void ControlServer::on_connection(uv_stream_t* listener, int status) {
  auto* self = static_cast<ControlServer*>(listener->data);
  if (status < 0 || self->closed_) return;
  auto* c = new Connection;
  c->server = self;
  uv_tcp_init(self->loop_, &c->tcp);
  uv_timer_init(self->loop_, &c->timer);
  c->tcp.data = c;
  c->timer.data = c;
  c->open_handles = 2;
  c->serial = ++self->next_serial_;
  self->connections_.insert(c);
  if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
    c->close();
    return;
  }
  if (self->connections_.size() > kMaxConnections) {
    // Over the cap: say so and close, rather than queue work behind slow clients.
    c->respond(HttpResponse{503, "text/plain; charset=utf-8", "too many connections\n", {}});
    return;
  }
  uv_timer_start(
      &c->timer,
      [](uv_timer_t* t) {
        auto* conn = static_cast<Connection*>(t->data);
        if (conn->out.empty()) {
          conn->respond(HttpResponse{408, "text/plain; charset=utf-8", "request timeout\n", {}});
        } else {
          conn->close();  // the client does not read its response
        }
      },
      static_cast<uint64_t>(kRequestTimeout.count()), 0);
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&c->tcp),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        auto* conn = static_cast<Connection*>(h->data);
        *buf = uv_buf_init(conn->read_buf, sizeof(conn->read_buf));
      },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
        auto* conn = static_cast<Connection*>(s->data);
        if (n < 0) {
          conn->close();
          return;
        }
        if (n == 0) return;
        const auto st = conn->parser.feed(std::string_view(buf->base, static_cast<size_t>(n)));
        if (st == HttpParser::State::incomplete) return;
        if (st == HttpParser::State::error) {
          const int code = conn->parser.error_status();
          conn->respond(HttpResponse{
              code, "text/plain; charset=utf-8", conn->parser.error_message() + "\n", {}});
          return;
        }
        ControlServer* server = conn->server;
        const uint64_t serial = conn->serial;
        // Reads no more: one request per connection, and a deferred one waits for its reply.
        uv_read_stop(s);
        server->waiting_.emplace(serial, conn);
        auto reply = [server, serial](HttpResponse response) {
          auto it = server->waiting_.find(serial);
          if (it == server->waiting_.end()) return;  // closed meanwhile (timeout, shutdown)
          Connection* waiting = it->second;
          server->waiting_.erase(it);
          waiting->respond(response);
        };
        try {
          server->handler_(conn->parser.request(), reply);
        } catch (const std::exception& e) {
          // A handler bug must not take the daemon down with it.
          log::error("control_handler_error", {{"error", e.what()}});
          reply(HttpResponse{500, "text/plain; charset=utf-8", "internal error\n", {}});
        }
        if (server->waiting_.count(serial) != 0) {
          // Deferred: the request deadline becomes the (longer) deadline of the work.
          uv_timer_set_repeat(&conn->timer, static_cast<uint64_t>(kDeferredTimeout.count()));
          uv_timer_again(&conn->timer);
        }
      });
}

}  // namespace geodns::ops
