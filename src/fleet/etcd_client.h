// A small etcd v3 client over the JSON gRPC gateway (HTTP/1.1 POST, JSON bodies, base64 keys
// and values) with libcurl's easy interface. Blocking by design: it runs on the fleet's own
// threads (fleet.h), never on the packet path or the prober's loop. Every call has a
// timeout, tries the endpoints in turn with a bounded number of attempts and a growing pause,
// and caps the size of what it reads, so a slow, dead or hostile endpoint costs bounded time
// and memory. Not thread-safe: one client per thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "fleet/etcd_json.h"

namespace geodns::fleet {

struct EtcdOptions {
  std::vector<std::string> endpoints;  // "http://127.0.0.1:2379"
  std::string ca_file;                 // TLS: the CA that signed etcd's certificate
  std::string cert_file, key_file;     // TLS client certificate (etcd --client-cert-auth)
  std::string user, password;          // etcd auth; empty user = none
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds request_timeout{2000};
  unsigned attempts = 3;                     // per call, over the endpoints in turn
  std::chrono::milliseconds backoff{100};    // after a failed attempt; doubles each time
  size_t max_body_bytes = 16 * 1024 * 1024;  // a bigger response is an error
};

class EtcdClient {
 public:
  explicit EtcdClient(EtcdOptions options);
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  // Gets a token when a user is configured (also done on demand after "invalid token").
  Status authenticate();
  Result<RangeResult> range_prefix(std::string_view prefix);
  Status put(std::string_view key, std::string_view value, int64_t lease = 0);
  Status remove(std::string_view key);
  Result<LeaseResult> grant_lease(std::chrono::seconds ttl);
  Result<LeaseResult> keepalive(int64_t lease);
  Status revoke(int64_t lease);

  // Streams a watch of every key under `prefix` from `start_revision`, calling on_message for
  // each message, until the stream fails, the server ends it, or `stop` becomes true (checked
  // at least every 200 ms). One endpoint, no retries: the caller re-syncs and watches again.
  // Returns why it ended.
  Status watch(std::string_view prefix, int64_t start_revision,
               const std::function<Status(const WatchMessage&)>& on_message,
               const std::atomic<bool>& stop);

  // The endpoint of the last successful call.
  const std::string& endpoint() const { return options_.endpoints[current_]; }

 private:
  // One POST with retries over the endpoints; the body of a 200 response.
  Result<std::string> call(const char* path, const std::string& body);
  Result<std::string> post_once(const std::string& url, const std::string& body);
  void setup_common(void* easy, const std::string& url);

  EtcdOptions options_;
  size_t current_ = 0;
  std::string token_;
  void* easy_ = nullptr;  // CURL*, reused so that connections are kept alive
};

}  // namespace geodns::fleet
