// The probes themselves, all driven by the prober's libuv loop (internal to src/health).
// A started check reports exactly once through its callback, always later on the loop
// thread (never from inside start_*), unless it is aborted first. Check objects own their
// handles and free themselves after the last close callback, so the caller only keeps a
// pointer for abort().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "common/result.h"
#include "steer/target.h"

typedef struct uv_loop_s uv_loop_t;
typedef struct uv_timer_s uv_timer_t;

namespace geodns::health {

struct CheckOutcome {
  bool ok = false;
  std::string text;  // "ok 200", "connected", "rcode NOERROR", "timeout", "status 503"...
};

using CheckDone = std::function<void(CheckOutcome)>;

class ActiveCheck {
 public:
  virtual ~ActiveCheck() = default;
  // Abandons the check: the callback will not run; the object frees itself.
  virtual void abort() = 0;
};

// The destination a target is probed at: probe_address/probe_port from the spec, else the
// answered address and the check's port or its type's default.
struct ProbeEndpoint {
  IpAddress address;
  uint16_t port = 0;
};
ProbeEndpoint probe_endpoint(const steer::TargetSpec& target);

// libcurl's multi interface bound to a uv loop (curl's multi-uv example): curl tells us
// which sockets to watch (uv_poll) and when to call it back (uv_timer).
class CurlDriver {
 public:
  CurlDriver() = default;
  ~CurlDriver();
  CurlDriver(const CurlDriver&) = delete;
  CurlDriver& operator=(const CurlDriver&) = delete;

  Status init(uv_loop_t* loop);
  // Every HTTP check must have completed or been aborted before. Closes curl's timer.
  void shutdown();

  // The CURLM*, kept as void* so that this header does not need curl.h.
  void* multi() const { return multi_; }
  uv_loop_t* loop() const { return loop_; }
  // Reads finished transfers and completes their checks.
  void process_done();

 private:
  uv_loop_t* loop_ = nullptr;
  void* multi_ = nullptr;
  uv_timer_t* timer_ = nullptr;
};

// Each returns nullptr (and sets *error) when the check could not even be set up; the
// caller counts that as a failed check. `source`, when given and of the endpoint's family, is
// the local address the probe is sent from ([fleet] probe_source: servers sharing a host
// must probe from their own addresses for their votes to be independent).
ActiveCheck* start_http_check(CurlDriver& curl, const steer::TargetSpec& target, CheckDone done,
                              std::string* error, const IpAddress* source = nullptr);
ActiveCheck* start_tcp_check(uv_loop_t* loop, const steer::TargetSpec& target, CheckDone done,
                             std::string* error, const IpAddress* source = nullptr);
ActiveCheck* start_dns_check(uv_loop_t* loop, const steer::TargetSpec& target, uint16_t query_id,
                             CheckDone done, std::string* error, const IpAddress* source = nullptr);

// The DNS query a dns check sends (exposed for tests): no recursion desired, class IN.
// Empty on a malformed name.
std::string build_dns_query(const std::string& name, uint16_t qtype, uint16_t id);

}  // namespace geodns::health
