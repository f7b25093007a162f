// The health prober: one thread running one libuv loop that checks every target (HTTP/HTTPS
// through libcurl's multi interface on that loop, TCP connects, DNS queries over UDP), runs
// each result through rise/fall, applies admin overrides and publishes an immutable
// steer::HealthView that the DNS workers read without locks.
//
// Threads: every public method is called from the control thread (any thread but the prober's
// own). Requests go through a mutex-protected inbox and uv_async_send; status reads copy
// under the same mutex. No thread per check.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/ip.h"
#include "common/published.h"
#include "common/result.h"
#include "fleet/fleet.h"
#include "health/overrides.h"
#include "health/rise_fall.h"
#include "steer/health_view.h"
#include "steer/target.h"

namespace geodns::health {

struct ProberOptions {
  std::string state_dir;  // empty = nothing persisted (health.state, overrides.state)
  uint64_t seed = 0;      // jitter of first checks and DNS query ids
  // [fleet]: overrides are shared and the published state of a target is the fleet's quorum
  // verdict (fleet/quorum.h) while etcd is reachable, this server's own otherwise. Not owned;
  // outlives the prober. nullptr = alone, as before.
  fleet::Fleet* fleet = nullptr;
  std::optional<IpAddress> probe_source = std::nullopt;  // local address probes are sent from
};

struct TargetStatus {
  steer::TargetId id = 0;
  std::string key;
  IpAddress address;
  std::string check_name;
  steer::CheckType check_type = steer::CheckType::none;
  HealthState state = HealthState::unknown;
  bool effective_up = true;  // what the published view says (state + address override)
  std::string last_result;
  std::optional<std::chrono::milliseconds> last_latency;
  Clock::time_point since{};
  std::chrono::system_clock::time_point since_wall{};
  uint32_t consecutive_ok = 0;
  uint32_t consecutive_fail = 0;
  uint64_t checks = 0;
  steer::Override override_mode = steer::Override::none;  // address override on this target
  // [fleet] only: whether this server probes it (k of n), and the live votes behind the
  // effective state (this server's included).
  bool probed_here = true;
  size_t fleet_observers = 0;
  size_t fleet_down_votes = 0;
};

struct Transition {
  steer::TargetId id = 0;
  std::string key;
  IpAddress address;
  std::string check_name;
  HealthState from = HealthState::unknown;
  HealthState to = HealthState::unknown;
  std::string reason;  // the result text that caused it
  std::chrono::system_clock::time_point at{};
  std::chrono::nanoseconds after{0};  // time spent in `from`
};

class Prober {
 public:
  Prober(const Clock& clock, ProberOptions options);
  ~Prober();  // stop()s
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;

  // Restores persisted state and overrides (errors are logged, never fatal), then starts the
  // thread. Fails only if the loop cannot be set up.
  Status start();
  // Idempotent; aborts in-flight checks, closes every handle and joins the thread.
  void stop();

  // A reload: new targets start checking, removed ones stop, unchanged ids keep their state.
  void set_targets(std::vector<steer::TargetSpec> targets);
  // The loaded zones' datacenter slots, for dc-level overrides (which are keyed by name): the
  // published view carries, per slot id, the effective override (the more specific wins).
  void set_datacenters(std::vector<steer::DcSlot> datacenters);

  // Returns true once every current target has a result (or a restored state); false if
  // `max` passed first.
  bool wait_first_round(std::chrono::milliseconds max);

  // Returns true once a published view covers the last set_targets() (false if `max` passed
  // first). A reload waits for it before publishing its zones: otherwise the new zones' new
  // target ids would be read, for a moment, against a view that has never heard of them
  // (which counts them up), ahead of the hold that keeps new targets out until checked.
  bool wait_targets_published(std::chrono::milliseconds max);

  const Published<steer::HealthView>& view() const;

  // Datacenter overrides must name a datacenter given to set_datacenters, shared ("iad") or
  // one zone's ("example.com/iad"; a key with only a DcId names that slot); address overrides
  // apply to every target answering with that address.
  Status set_override(OverrideKey key, steer::Override mode,
                      std::optional<std::chrono::system_clock::time_point> expires,
                      std::string reason);
  Status clear_override(const OverrideKey& key);
  std::vector<OverrideInfo> overrides() const;

  std::vector<TargetStatus> status() const;
  // Newest last; at most `max` (the ring keeps the last 256).
  std::vector<Transition> recent_transitions(size_t max) const;

  struct Impl;  // public only so that the C callbacks in prober.cpp can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace geodns::health
