#include "health/checks.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <uv.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string_view>
#include <utility>

#include "common/socket_address.h"

namespace geodns::health {

namespace {

// Bodies are read only to look for body_match (or to notice the end of a small one); past
// this much a check stops reading, so a huge or endless body cannot hold a check open.
constexpr size_t kMaxBodyBytes = 64 * 1024;
// A tcp check's reply is searched for `expect` within this many bytes.
constexpr size_t kMaxTcpReplyBytes = 64 * 1024;

uint16_t default_port(steer::CheckType type) {
  switch (type) {
    case steer::CheckType::http:
      return 80;
    case steer::CheckType::https:
      return 443;
    case steer::CheckType::dns:
      return 53;
    case steer::CheckType::tcp:
    case steer::CheckType::none:
      return 0;
  }
  return 0;
}

std::string host_for_url(const IpAddress& a) {
  return a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string_view rcode_name(unsigned rcode) {
  static constexpr std::string_view kNames[] = {"NOERROR",  "FORMERR", "SERVFAIL",
                                                "NXDOMAIN", "NOTIMP",  "REFUSED"};
  return rcode < std::size(kNames) ? kNames[rcode] : std::string_view("rcode");
}

// ---------------------------------------------------------------------------------------
// Handle-owning checks share one shape: finish() records the outcome once and closes every
// handle; the last close callback reports (unless aborted) and deletes the object. Reporting
// from the close callback is what makes every report asynchronous.
class UvCheck : public ActiveCheck {
 public:
  void abort() override {
    aborted_ = true;
    finish(false, "aborted");
  }

 protected:
  explicit UvCheck(CheckDone done) : done_(std::move(done)) {}

  // Records the outcome (the first one wins) and closes every tracked handle.
  void finish(bool ok, std::string text) {
    if (finished_) return;
    finished_ = true;
    outcome_ = CheckOutcome{ok, std::move(text)};
    closing_left_ = open_;
    if (open_ == 0) return complete();
    for (int i = 0; i < open_; ++i) uv_close(handles_[i], &UvCheck::on_close);
  }
  void fail(int uv_error) { finish(false, lower(uv_strerror(uv_error))); }
  // Registers an initialised handle so that finish() closes it.
  void track(uv_handle_t* h) {
    h->data = this;
    handles_[open_++] = h;
  }
  bool finished() const { return finished_; }

 private:
  static void on_close(uv_handle_t* h) {
    auto* self = static_cast<UvCheck*>(h->data);
    if (--self->closing_left_ == 0) self->complete();
  }
  void complete() {
    if (!aborted_) done_(std::move(outcome_));
    delete this;
  }

  CheckDone done_;
  CheckOutcome outcome_;
  uv_handle_t* handles_[2] = {nullptr, nullptr};
  int open_ = 0;
  int closing_left_ = 0;
  bool finished_ = false;
  bool aborted_ = false;
};

// ---------------------------------------------------------------------------------------
class TcpCheck final : public UvCheck {
 public:
  TcpCheck(const steer::TargetSpec& t, CheckDone done)
      : UvCheck(std::move(done)), send_(t.check.send), expect_(t.check.expect) {}

  bool start(uv_loop_t* loop, const ProbeEndpoint& ep, std::chrono::milliseconds timeout,
             std::string* error, const IpAddress* source) {
    // On a setup failure abort() frees the object (after closing what was opened), so
    // nothing may touch it afterwards.
    int rc = uv_tcp_init(loop, &tcp_);
    if (rc == 0) {
      track(reinterpret_cast<uv_handle_t*>(&tcp_));
      rc = uv_timer_init(loop, &timer_);
    }
    if (rc != 0) {
      *error = uv_strerror(rc);
      abort();
      return false;
    }
    track(reinterpret_cast<uv_handle_t*>(&timer_));
    uv_timer_start(&timer_, &TcpCheck::on_timeout,
                   static_cast<uint64_t>(std::max<int64_t>(timeout.count(), 1)), 0);
    const SocketAddress addr = to_socket_address(ep.address, ep.port);
    if (source != nullptr && source->family == ep.address.family) {
      const SocketAddress local = to_socket_address(*source, 0);
      rc = uv_tcp_bind(&tcp_, local.get(), 0);
      if (rc != 0) {
        fail(rc);
        return true;
      }
    }
    connect_.data = this;
    rc = uv_tcp_connect(&connect_, &tcp_, addr.get(), &TcpCheck::on_connect);
    if (rc != 0) fail(rc);  // reported from the close callback, i.e. later
    return true;
  }

 private:
  void done(bool ok, std::string text) { finish(ok, std::move(text)); }

  static void on_timeout(uv_timer_t* t) { static_cast<TcpCheck*>(t->data)->done(false, "timeout"); }
  static void on_connect(uv_connect_t* req, int status) {
    auto* self = static_cast<TcpCheck*>(req->data);
    if (self->finished()) return;  // cancelled by close
    if (status < 0) return self->fail(status);
    if (self->send_.empty() && self->expect_.empty()) return self->done(true, "connected");
    if (!self->expect_.empty()) {
      uv_read_start(reinterpret_cast<uv_stream_t*>(&self->tcp_), &TcpCheck::on_alloc,
                    &TcpCheck::on_read);
    }
    if (!self->send_.empty()) {
      uv_buf_t buf = uv_buf_init(self->send_.data(), static_cast<unsigned>(self->send_.size()));
      self->write_.data = self;
      const int rc = uv_write(&self->write_, reinterpret_cast<uv_stream_t*>(&self->tcp_), &buf, 1,
                              &TcpCheck::on_write);
      if (rc != 0) self->fail(rc);
    }
  }
  static void on_write(uv_write_t* req, int status) {
    auto* self = static_cast<TcpCheck*>(req->data);
    if (self->finished()) return;
    if (status < 0) return self->fail(status);
    // Nothing to wait for: the peer accepted the connection and our bytes.
    if (self->expect_.empty()) self->done(true, "connected");
  }
  static void on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
    auto* self = static_cast<TcpCheck*>(h->data);
    *buf = uv_buf_init(self->read_buf_, sizeof(self->read_buf_));
  }
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
    auto* self = static_cast<TcpCheck*>(s->data);
    if (self->finished()) return;
    if (nread < 0) {
      return self->done(false, nread == UV_EOF ? "expect mismatch (closed)"
                                               : lower(uv_strerror(static_cast<int>(nread))));
    }
    const size_t room = kMaxTcpReplyBytes - self->reply_.size();
    self->reply_.append(buf->base, std::min(static_cast<size_t>(nread), room));
    if (self->reply_.find(self->expect_) != std::string::npos) return self->done(true, "expect ok");
    if (self->reply_.size() >= kMaxTcpReplyBytes) self->done(false, "expect mismatch");
  }

  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  uv_connect_t connect_{};
  uv_write_t write_{};
  std::string send_;
  std::string expect_;
  std::string reply_;
  char read_buf_[4096];
};

// ---------------------------------------------------------------------------------------
class DnsCheck final : public UvCheck {
 public:
  DnsCheck(const steer::TargetSpec& t, uint16_t id, CheckDone done)
      : UvCheck(std::move(done)),
        query_(build_dns_query(t.check.query_name, t.check.query_type, id)),
        id_(id),
        expect_rcode_(t.check.expect_rcode) {}

  bool start(uv_loop_t* loop, const ProbeEndpoint& ep, std::chrono::milliseconds timeout,
             std::string* error, const IpAddress* source) {
    // On a setup failure abort() frees the object (after closing what was opened), so
    // nothing may touch it afterwards.
    if (query_.empty()) {
      *error = "bad query name";
      abort();
      return false;
    }
    int rc = uv_udp_init(loop, &udp_);
    if (rc == 0) {
      track(reinterpret_cast<uv_handle_t*>(&udp_));
      rc = uv_timer_init(loop, &timer_);
    }
    if (rc != 0) {
      *error = uv_strerror(rc);
      abort();
      return false;
    }
    track(reinterpret_cast<uv_handle_t*>(&timer_));
    uv_timer_start(&timer_, &DnsCheck::on_timeout,
                   static_cast<uint64_t>(std::max<int64_t>(timeout.count(), 1)), 0);
    const SocketAddress addr = to_socket_address(ep.address, ep.port);
    if (source != nullptr && source->family == ep.address.family) {
      const SocketAddress local = to_socket_address(*source, 0);
      rc = uv_udp_bind(&udp_, local.get(), 0);
    }
    // A connected socket only receives from the server we asked, and an ICMP port
    // unreachable comes back as ECONNREFUSED instead of a silent timeout.
    if (rc == 0) rc = uv_udp_connect(&udp_, addr.get());
    if (rc == 0) {
      rc = uv_udp_recv_start(&udp_, &DnsCheck::on_alloc, &DnsCheck::on_recv);
    }
    if (rc == 0) {
      uv_buf_t buf = uv_buf_init(query_.data(), static_cast<unsigned>(query_.size()));
      send_.data = this;
      rc = uv_udp_send(&send_, &udp_, &buf, 1, nullptr, &DnsCheck::on_send);
    }
    if (rc != 0) fail(rc);
    return true;
  }

 private:
  void done(bool ok, std::string text) { finish(ok, std::move(text)); }

  static void on_timeout(uv_timer_t* t) { static_cast<DnsCheck*>(t->data)->done(false, "timeout"); }
  static void on_send(uv_udp_send_t* req, int status) {
    auto* self = static_cast<DnsCheck*>(req->data);
    if (!self->finished() && status < 0) self->fail(status);
  }
  static void on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
    auto* self = static_cast<DnsCheck*>(h->data);
    *buf = uv_buf_init(self->recv_buf_, sizeof(self->recv_buf_));
  }
  static void on_recv(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf, const sockaddr* addr,
                      unsigned) {
    auto* self = static_cast<DnsCheck*>(h->data);
    if (self->finished()) return;
    if (nread < 0) return self->fail(static_cast<int>(nread));
    if (nread == 0 && addr == nullptr) return;  // libuv: nothing more to read now
    const auto* p = reinterpret_cast<const uint8_t*>(buf->base);
    // Not a response to our query (short, wrong id, not QR): keep waiting; the timeout
    // bounds it.
    if (nread < 12) return;
    const auto id = static_cast<uint16_t>((p[0] << 8) | p[1]);
    if (id != self->id_ || (p[2] & 0x80) == 0) return;
    const unsigned rcode = p[3] & 0x0FU;
    std::string text = "rcode " + std::string(rcode_name(rcode));
    if (rcode >= 6) text += " " + std::to_string(rcode);
    self->done(rcode == self->expect_rcode_, std::move(text));
  }

  uv_udp_t udp_{};
  uv_timer_t timer_{};
  uv_udp_send_t send_{};
  std::string query_;
  uint16_t id_;
  uint8_t expect_rcode_;
  char recv_buf_[1500];
};

// ---------------------------------------------------------------------------------------
// One socket curl asked us to watch. Freed in its close callback.
struct CurlSocket {
  uv_poll_t poll{};
  curl_socket_t fd = CURL_SOCKET_BAD;
  CurlDriver* driver = nullptr;
};

class HttpCheck final : public ActiveCheck {
 public:
  HttpCheck(CurlDriver& driver, const steer::TargetSpec& t, CheckDone done)
      : driver_(&driver),
        done_(std::move(done)),
        expect_min_(t.check.expect_min),
        expect_max_(t.check.expect_max),
        body_match_(t.check.body_match) {}
  ~HttpCheck() override {
    if (easy_ != nullptr) curl_easy_cleanup(easy_);
    if (connect_to_ != nullptr) curl_slist_free_all(connect_to_);
  }

  bool start(const steer::TargetSpec& t, const ProbeEndpoint& ep, std::string* error,
             const IpAddress* source) {
    easy_ = curl_easy_init();
    if (easy_ == nullptr) {
      *error = "curl_easy_init failed";
      return false;
    }
    const bool https = t.check.type == steer::CheckType::https;
    std::string path = t.check.path.empty() ? "/" : t.check.path;
    if (path[0] != '/') path.insert(path.begin(), '/');
    const std::string port = std::to_string(ep.port);
    const std::string scheme = https ? "https://" : "http://";
    std::string url;
    if (t.check.host.empty()) {
      url = scheme + host_for_url(ep.address) + ":" + port + path;
    } else {
      // The URL names the host so that curl sends it as Host and as TLS SNI (and verifies
      // the certificate against it); CONNECT_TO sends the connection to our address
      // without any DNS lookup.
      url = scheme + t.check.host + ":" + port + path;
      const std::string rule =
          t.check.host + ":" + port + ":" + host_for_url(ep.address) + ":" + port;
      connect_to_ = curl_slist_append(nullptr, rule.c_str());
      curl_easy_setopt(easy_, CURLOPT_CONNECT_TO, connect_to_);
    }
    curl_easy_setopt(easy_, CURLOPT_URL, url.c_str());
    if (source != nullptr && source->family == ep.address.family) {
      // "host!" = a local address to bind, never an interface name lookup.
      // (curl copies string options.)
      const std::string local = "host!" + source->to_string();
      curl_easy_setopt(easy_, CURLOPT_INTERFACE, local.c_str());
    }
    curl_easy_setopt(easy_, CURLOPT_PRIVATE, this);
    curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, errbuf_);
    // 0 would mean "no timeout" to curl: never let a check run unbounded.
    curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS,
                     std::max(1L, static_cast<long>(t.check.timeout.count())));
    curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy_, CURLOPT_NOPROXY, "*");
    // A fresh connection per check: a kept-alive one would hide a backend that no longer
    // accepts connections.
    curl_easy_setopt(easy_, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(easy_, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(easy_, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy_, CURLOPT_USERAGENT, "geodns-health/0.1");
    curl_easy_setopt(easy_, CURLOPT_SSL_VERIFYPEER, t.check.verify_tls ? 1L : 0L);
    curl_easy_setopt(easy_, CURLOPT_SSL_VERIFYHOST, t.check.verify_tls ? 2L : 0L);
    curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &HttpCheck::on_body);
    curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
    const CURLMcode mc = curl_multi_add_handle(static_cast<CURLM*>(driver_->multi()), easy_);
    if (mc != CURLM_OK) {
      *error = curl_multi_strerror(mc);
      return false;
    }
    added_ = true;
    return true;
  }

  void abort() override {
    detach();
    delete this;
  }

  // A finished transfer (from CurlDriver::process_done).
  void complete(CURLcode code) {
    CheckOutcome outcome = evaluate(code);
    detach();
    CheckDone done = std::move(done_);
    delete this;
    done(std::move(outcome));
  }

 private:
  void detach() {
    if (added_) curl_multi_remove_handle(static_cast<CURLM*>(driver_->multi()), easy_);
    added_ = false;
  }

  CheckOutcome evaluate(CURLcode code) const {
    // Our write callback stopping the transfer on purpose still means a full answer.
    if (code == CURLE_OK || (code == CURLE_WRITE_ERROR && stopped_early_)) {
      long status = 0;
      curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
      if (status < expect_min_ || status > expect_max_) {
        return {false, "status " + std::to_string(status)};
      }
      if (!body_match_.empty() && !body_found_) return {false, "body mismatch"};
      return {true, "ok " + std::to_string(status)};
    }
    if (code == CURLE_OPERATION_TIMEDOUT) return {false, "timeout"};
    if (code == CURLE_COULDNT_CONNECT) {
      long os_errno = 0;
      curl_easy_getinfo(easy_, CURLINFO_OS_ERRNO, &os_errno);
      if (os_errno != 0) return {false, lower(std::strerror(static_cast<int>(os_errno)))};
    }
    std::string text = curl_easy_strerror(code);
    if (errbuf_[0] != '\0') text += std::string(": ") + errbuf_;
    return {false, lower(std::move(text))};
  }

  static size_t on_body(char* data, size_t size, size_t nmemb, void* user) {
    auto* self = static_cast<HttpCheck*>(user);
    const size_t n = size * nmemb;
    if (self->body_match_.empty()) {
      // Only the status matters; read a little, then stop rather than drain a huge body.
      self->body_seen_ += n;
      if (self->body_seen_ > kMaxBodyBytes) {
        self->stopped_early_ = true;
        return 0;
      }
      return n;
    }
    // Search from just before the new bytes, so a match split across chunks is found.
    const size_t from = self->body_.size() >= self->body_match_.size()
                            ? self->body_.size() - self->body_match_.size() + 1
                            : 0;
    self->body_.append(data, std::min(n, kMaxBodyBytes - self->body_.size()));
    if (self->body_.find(self->body_match_, from) != std::string::npos) {
      self->body_found_ = true;
      self->stopped_early_ = true;
      return 0;
    }
    if (self->body_.size() >= kMaxBodyBytes) {
      self->stopped_early_ = true;  // not found within the cap: a mismatch, decided now
      return 0;
    }
    return n;
  }

  CurlDriver* driver_;
  CheckDone done_;
  CURL* easy_ = nullptr;
  curl_slist* connect_to_ = nullptr;
  long expect_min_;
  long expect_max_;
  std::string body_match_;
  std::string body_;
  size_t body_seen_ = 0;
  bool body_found_ = false;
  bool stopped_early_ = false;
  bool added_ = false;
  char errbuf_[CURL_ERROR_SIZE] = {};
};

// --- curl <-> uv glue (see curl's docs/examples/multi-uv.c) ----------------------------

void on_curl_socket_close(uv_handle_t* h) {
  delete static_cast<CurlSocket*>(h->data);
}

void on_curl_poll(uv_poll_t* poll, int status, int events) {
  auto* sock = static_cast<CurlSocket*>(poll->data);
  int flags = 0;
  if (status < 0) flags = CURL_CSELECT_ERR;
  if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
  if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
  CurlDriver* driver = sock->driver;
  int running = 0;
  // `sock` may be freed inside this call (CURL_POLL_REMOVE): do not touch it afterwards.
  curl_multi_socket_action(static_cast<CURLM*>(driver->multi()), sock->fd, flags, &running);
  driver->process_done();
}

int curl_socket_cb(CURL*, curl_socket_t fd, int action, void* userp, void* socketp) {
  auto* driver = static_cast<CurlDriver*>(userp);
  auto* sock = static_cast<CurlSocket*>(socketp);
  auto* multi = static_cast<CURLM*>(driver->multi());
  if (action == CURL_POLL_REMOVE) {
    if (sock != nullptr) {
      uv_poll_stop(&sock->poll);
      uv_close(reinterpret_cast<uv_handle_t*>(&sock->poll), &on_curl_socket_close);
      curl_multi_assign(multi, fd, nullptr);
    }
    return 0;
  }
  if (sock == nullptr) {
    sock = new CurlSocket;
    sock->fd = fd;
    sock->driver = driver;
    if (uv_poll_init_socket(driver->loop(), &sock->poll, fd) != 0) {
      delete sock;
      return -1;  // curl fails this transfer
    }
    sock->poll.data = sock;
    curl_multi_assign(multi, fd, sock);
  }
  int events = 0;
  if (action == CURL_POLL_IN || action == CURL_POLL_INOUT) events |= UV_READABLE;
  if (action == CURL_POLL_OUT || action == CURL_POLL_INOUT) events |= UV_WRITABLE;
  uv_poll_start(&sock->poll, events, &on_curl_poll);
  return 0;
}

void on_curl_timer(uv_timer_t* timer) {
  auto* driver = static_cast<CurlDriver*>(timer->data);
  if (driver->multi() == nullptr) return;
  int running = 0;
  curl_multi_socket_action(static_cast<CURLM*>(driver->multi()), CURL_SOCKET_TIMEOUT, 0, &running);
  driver->process_done();
}

int curl_timer_cb(CURLM*, long timeout_ms, void* userp) {
  auto* timer = static_cast<uv_timer_t*>(userp);
  if (timeout_ms < 0) {
    uv_timer_stop(timer);
  } else {
    // 0 means "as soon as possible"; going through the loop avoids re-entering curl from
    // inside one of its own calls.
    uv_timer_start(timer, &on_curl_timer, timeout_ms == 0 ? 1 : static_cast<uint64_t>(timeout_ms),
                   0);
  }
  return 0;
}

void on_curl_timer_close(uv_handle_t* h) {
  delete reinterpret_cast<uv_timer_t*>(h);
}

}  // namespace

ProbeEndpoint probe_endpoint(const steer::TargetSpec& target) {
  ProbeEndpoint ep;
  ep.address = target.check.probe_address.value_or(target.address).unmapped();
  ep.port = target.check.probe_port.value_or(target.check.port);
  if (ep.port == 0) ep.port = default_port(target.check.type);
  return ep;
}

std::string build_dns_query(const std::string& name, uint16_t qtype, uint16_t id) {
  std::string q;
  q += static_cast<char>(id >> 8);
  q += static_cast<char>(id & 0xFF);
  q.append("\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00", 10);  // flags 0 (no RD), QDCOUNT 1
  std::string_view rest = name;
  if (!rest.empty() && rest.back() == '.') rest.remove_suffix(1);
  size_t name_len = 1;
  while (!rest.empty()) {
    const size_t dot = rest.find('.');
    const std::string_view label = rest.substr(0, dot);
    if (label.empty() || label.size() > 63) return {};
    name_len += label.size() + 1;
    q += static_cast<char>(label.size());
    q.append(label);
    rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    if (dot != std::string_view::npos && rest.empty()) return {};  // "a..b" or trailing ".."
  }
  if (name_len > 255) return {};
  q += '\0';
  q += static_cast<char>(qtype >> 8);
  q += static_cast<char>(qtype & 0xFF);
  q.append("\x00\x01", 2);  // class IN
  return q;
}

CurlDriver::~CurlDriver() {
  shutdown();
}

Status CurlDriver::init(uv_loop_t* loop) {
  loop_ = loop;
  CURLM* multi = curl_multi_init();
  if (multi == nullptr) return make_error("curl_multi_init failed");
  timer_ = new uv_timer_t;
  uv_timer_init(loop, timer_);
  timer_->data = this;
  curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &curl_socket_cb);
  curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &curl_timer_cb);
  curl_multi_setopt(multi, CURLMOPT_TIMERDATA, timer_);
  multi_ = multi;
  return {};
}

void CurlDriver::shutdown() {
  if (multi_ != nullptr) {
    curl_multi_cleanup(static_cast<CURLM*>(multi_));
    multi_ = nullptr;
  }
  if (timer_ != nullptr) {
    uv_timer_stop(timer_);
    uv_close(reinterpret_cast<uv_handle_t*>(timer_), &on_curl_timer_close);
    timer_ = nullptr;
  }
}

void CurlDriver::process_done() {
  if (multi_ == nullptr) return;
  int pending = 0;
  while (CURLMsg* msg = curl_multi_info_read(static_cast<CURLM*>(multi_), &pending)) {
    if (msg->msg != CURLMSG_DONE) continue;
    HttpCheck* check = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &check);
    // `msg` is invalid once the handle is removed: read the result first.
    const CURLcode code = msg->data.result;
    if (check != nullptr) check->complete(code);
  }
}

ActiveCheck* start_http_check(CurlDriver& curl, const steer::TargetSpec& target, CheckDone done,
                              std::string* error, const IpAddress* source) {
  if (curl.multi() == nullptr) {
    *error = "http checks unavailable";
    return nullptr;
  }
  auto* check = new HttpCheck(curl, target, std::move(done));
  if (!check->start(target, probe_endpoint(target), error, source)) {
    delete check;
    return nullptr;
  }
  return check;
}

ActiveCheck* start_tcp_check(uv_loop_t* loop, const steer::TargetSpec& target, CheckDone done,
                             std::string* error, const IpAddress* source) {
  auto* check = new TcpCheck(target, std::move(done));
  if (!check->start(loop, probe_endpoint(target), target.check.timeout, error, source)) {
    return nullptr;  // it frees itself once its handles are closed (or at once if none)
  }
  return check;
}

ActiveCheck* start_dns_check(uv_loop_t* loop, const steer::TargetSpec& target, uint16_t query_id,
                             CheckDone done, std::string* error, const IpAddress* source) {
  auto* check = new DnsCheck(target, query_id, std::move(done));
  if (!check->start(loop, probe_endpoint(target), target.check.timeout, error, source)) {
    return nullptr;
  }
  return check;
}

}  // namespace geodns::health
