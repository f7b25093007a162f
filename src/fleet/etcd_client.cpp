#include "fleet/etcd_client.h"

#include <curl/curl.h>

#include <mutex>
#include <thread>

namespace geodns::fleet {

namespace {

std::once_flag g_curl_once;

struct Body {
  std::string data;
  size_t max = 0;
  bool too_large = false;
};

size_t on_body(char* ptr, size_t size, size_t nmemb, void* user) {
  auto* b = static_cast<Body*>(user);
  const size_t n = size * nmemb;
  if (b->data.size() + n > b->max) {
    b->too_large = true;
    return 0;  // makes curl fail the transfer with CURLE_WRITE_ERROR
  }
  b->data.append(ptr, n);
  return n;
}

struct Slist {
  curl_slist* list = nullptr;
  ~Slist() { curl_slist_free_all(list); }
  void add(const std::string& h) { list = curl_slist_append(list, h.c_str()); }
};

bool is_auth_error(const Error& e) {
  // etcd's gateway: code 16 Unauthenticated / "invalid auth token", "user name is empty".
  return e.message.find("invalid auth token") != std::string::npos ||
         e.message.find("code 16") != std::string::npos;
}

}  // namespace

EtcdClient::EtcdClient(EtcdOptions options) : options_(std::move(options)) {
  std::call_once(g_curl_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (options_.endpoints.empty()) options_.endpoints.push_back("http://127.0.0.1:2379");
  if (options_.attempts == 0) options_.attempts = 1;
}

EtcdClient::~EtcdClient() {
  if (easy_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(easy_));
}

void EtcdClient::setup_common(void* handle, const std::string& url) {
  auto* easy = static_cast<CURL*>(handle);
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);  // a thread of a server: no SIGALRM
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  if (!options_.ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (!options_.cert_file.empty())
    curl_easy_setopt(easy, CURLOPT_SSLCERT, options_.cert_file.c_str());
  if (!options_.key_file.empty()) curl_easy_setopt(easy, CURLOPT_SSLKEY, options_.key_file.c_str());
}

Result<std::string> EtcdClient::post_once(const std::string& url, const std::string& body) {
  if (easy_ == nullptr) easy_ = curl_easy_init();
  if (easy_ == nullptr) return make_error("curl_easy_init failed");
  auto* easy = static_cast<CURL*>(easy_);
  curl_easy_reset(easy);
  setup_common(easy, url);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout.count()));
  curl_easy_setopt(easy, CURLOPT_POST, 1L);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  Slist headers;
  headers.add("Content-Type: application/json");
  if (!token_.empty()) headers.add("Authorization: " + token_);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers.list);
  Body out;
  out.max = options_.max_body_bytes;
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &out);
  const CURLcode rc = curl_easy_perform(easy);
  if (out.too_large) return make_error(url + ": response larger than the limit");
  if (rc != CURLE_OK) return make_error(url + ": " + curl_easy_strerror(rc));
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) {
    // The gateway's errors are JSON; parse_ok turns them into their message.
    auto st = parse_ok(out.data);
    return make_error(url + ": HTTP " + std::to_string(status) +
                      (st ? std::string() : " " + st.error().message));
  }
  return std::move(out.data);
}

Result<std::string> EtcdClient::call(const char* path, const std::string& body) {
  Error last = make_error("no etcd endpoint");
  auto pause = options_.backoff;
  bool reauthenticated = false;
  for (unsigned attempt = 0; attempt < options_.attempts; ++attempt) {
    if (attempt > 0) {
      std::this_thread::sleep_for(pause);
      pause *= 2;
    }
    const std::string url = options_.endpoints[current_] + path;
    auto r = post_once(url, body);
    if (r) {
      // A 200 may still carry the gateway's error object.
      auto st = parse_ok(*r);
      if (st || !is_auth_error(st.error())) return r;
      last = st.error();
    } else {
      last = r.error();
    }
    if (is_auth_error(last) && !options_.user.empty() && !reauthenticated) {
      // Tokens expire (etcd's simple tokens after 5 minutes idle): get a new one once.
      reauthenticated = true;
      token_.clear();
      if (auto st = authenticate(); !st) last = st.error();
      continue;
    }
    // Another member may be reachable: next endpoint on the next attempt.
    current_ = (current_ + 1) % options_.endpoints.size();
  }
  return last;
}

Status EtcdClient::authenticate() {
  if (options_.user.empty()) return {};
  token_.clear();
  Error last = make_error("no etcd endpoint");
  for (size_t i = 0; i < options_.endpoints.size(); ++i) {
    auto r = post_once(options_.endpoints[current_] + "/v3/auth/authenticate",
                       auth_request(options_.user, options_.password));
    if (r) {
      auto token = parse_auth(*r);
      if (token) {
        token_ = std::move(*token);
        return {};
      }
      last = token.error();
    } else {
      last = r.error();
    }
    current_ = (current_ + 1) % options_.endpoints.size();
  }
  return last;
}

Result<RangeResult> EtcdClient::range_prefix(std::string_view prefix) {
  auto r = call("/v3/kv/range", range_request(prefix));
  if (!r) return r.error();
  return parse_range(*r);
}

Status EtcdClient::put(std::string_view key, std::string_view value, int64_t lease) {
  auto r = call("/v3/kv/put", put_request(key, value, lease));
  if (!r) return r.error();
  return parse_ok(*r);
}

Status EtcdClient::remove(std::string_view key) {
  auto r = call("/v3/kv/deleterange", delete_request(key));
  if (!r) return r.error();
  return parse_ok(*r);
}

Result<LeaseResult> EtcdClient::grant_lease(std::chrono::seconds ttl) {
  auto r = call("/v3/lease/grant", lease_grant_request(ttl.count()));
  if (!r) return r.error();
  return parse_lease_grant(*r);
}

Result<LeaseResult> EtcdClient::keepalive(int64_t lease) {
  auto r = call("/v3/lease/keepalive", lease_id_request(lease));
  if (!r) return r.error();
  return parse_keepalive(*r);
}

Status EtcdClient::revoke(int64_t lease) {
  auto r = call("/v3/lease/revoke", lease_id_request(lease));
  if (!r) return r.error();
  return parse_ok(*r);
}

namespace {

struct WatchState {
  JsonStreamSplitter splitter;
  const std::function<Status(const WatchMessage&)>* on_message = nullptr;
  const std::atomic<bool>* stop = nullptr;
  Status failure;
  long status = 0;
  CURL* easy = nullptr;
  std::string error_body;  // a non-200 answer, for the error
};

size_t on_watch_data(char* ptr, size_t size, size_t nmemb, void* user) {
  auto* w = static_cast<WatchState*>(user);
  const size_t n = size * nmemb;
  if (w->status == 0) curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &w->status);
  if (w->status != 200) {
    if (w->error_body.size() < 4096) w->error_body.append(ptr, std::min<size_t>(n, 4096));
    return n;
  }
  std::vector<std::string> messages;
  if (auto st = w->splitter.feed(std::string_view(ptr, n), &messages); !st) {
    w->failure = st;
    return 0;
  }
  for (const auto& m : messages) {
    auto parsed = parse_watch_message(m);
    if (!parsed) {
      w->failure = parsed.error();
      return 0;
    }
    if (auto st = (*w->on_message)(*parsed); !st) {
      w->failure = st;
      return 0;
    }
  }
  return n;
}

int on_watch_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* w = static_cast<WatchState*>(user);
  return w->stop->load(std::memory_order_relaxed) ? 1 : 0;  // non-zero aborts the transfer
}

}  // namespace

Status EtcdClient::watch(std::string_view prefix, int64_t start_revision,
                         const std::function<Status(const WatchMessage&)>& on_message,
                         const std::atomic<bool>& stop) {
  if (!options_.user.empty() && token_.empty()) {
    if (auto st = authenticate(); !st) return st;
  }
  CURL* easy = curl_easy_init();
  if (easy == nullptr) return make_error("curl_easy_init failed");
  const std::string url = options_.endpoints[current_] + "/v3/watch";
  setup_common(easy, url);
  const std::string body = watch_request(prefix, start_revision);
  curl_easy_setopt(easy, CURLOPT_POST, 1L);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  Slist headers;
  headers.add("Content-Type: application/json");
  if (!token_.empty()) headers.add("Authorization: " + token_);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers.list);
  // A watch lasts as long as it is wanted: no total timeout, but a dead peer is noticed by
  // TCP keepalive (and by the session's lease keepalives, which fail first).
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPIDLE, 5L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPINTVL, 2L);
  WatchState w{JsonStreamSplitter(options_.max_body_bytes), &on_message, &stop, {}, 0, easy, {}};
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &on_watch_data);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &w);
  curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, &on_watch_progress);
  curl_easy_setopt(easy, CURLOPT_XFERINFODATA, &w);
  const CURLcode rc = curl_easy_perform(easy);
  curl_easy_cleanup(easy);
  if (!w.failure) return w.failure;
  if (stop.load()) return make_error("watch stopped");
  if (w.status != 0 && w.status != 200) {
    auto st = parse_ok(w.error_body);
    if (!st && is_auth_error(st.error())) token_.clear();
    return make_error(url + ": HTTP " + std::to_string(w.status) +
                      (st ? std::string() : " " + st.error().message));
  }
  if (rc != CURLE_OK) {
    current_ = (current_ + 1) % options_.endpoints.size();
    return make_error(url + ": " + curl_easy_strerror(rc));
  }
  return make_error(url + ": the watch stream ended");
}

}  // namespace geodns::fleet
