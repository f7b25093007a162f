// What the daemon knows about itself, copied into plain values on the control thread for the
// control endpoint: /metrics, /status and the status page all render from one DaemonState,
// so they always agree and can be unit-tested without a running server.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "fleet/fleet.h"
#include "health/overrides.h"
#include "health/prober.h"
#include "server/pipeline.h"
#include "server/serving_state.h"
#include "server/transport_stats.h"

namespace geodns::ops {

inline constexpr const char* kVersion = "0.1.0";

// The outcome of one (re)load, kept by the serving state (server/serving_state.h).
using ReloadRecord = server::ReloadRecord;

// The sum of every worker's Counters (plain numbers: a copy, not the atomics).
struct TrafficTotals {
  uint64_t queries_udp = 0;
  uint64_t queries_tcp = 0;
  uint64_t dropped = 0;
  uint64_t truncated = 0;
  uint64_t steered = 0;
  uint64_t failed_open = 0;
  uint64_t cookies_valid = 0;
  uint64_t cookies_new = 0;
  std::array<uint64_t, server::Counters::kRcodes> rcodes{};
  std::array<uint64_t, 256> qtypes{};
  uint64_t rrl_dropped = 0;
  uint64_t rrl_slipped = 0;
  uint64_t rrl_evicted = 0;
  uint64_t signature_cache_hits = 0;  // server/dnssec_counters.h
  uint64_t signature_cache_misses = 0;
  uint64_t signed_online = 0;
  uint64_t sign_failed = 0;
  // By answer slot (server/answer_slots.h); labels in DaemonState.
  std::vector<uint64_t> answers_by_name = std::vector<uint64_t>(server::kAnswerSlots);
  std::vector<uint64_t> failed_open_by_name = std::vector<uint64_t>(server::kAnswerSlots);
  std::vector<uint64_t> answers_by_datacenter = std::vector<uint64_t>(server::kAnswerSlots);
  std::vector<uint64_t> answers_by_zone = std::vector<uint64_t>(server::kAnswerSlots);

  // Relaxed loads: each counter is exact, the set is not one instant (good enough to scrape).
  void add(const server::Counters& c);
  void add(const server::RrlCounters& c);
  void add(const server::AnswerCounters& c);
  void add(const server::DnssecCounters& c);
};

struct AddressState {
  std::string address;
  steer::TargetId target = 0;
  bool up = true;  // effective: the prober's view of its target (overrides included)
};

struct DatacenterState {
  std::string name;       // "fra"
  std::string full_name;  // steer::Datacenter::key, "fra" or "example.com/fra": the override key
  std::string slot;       // "example.com/fra": this zone's use of it (steer::DcSlot), also a key
  std::string check;      // "" = none
  std::vector<AddressState> addresses;
  steer::Override override_mode = steer::Override::none;
  bool up = true;  // at least one address up and not drained
};

struct ZoneState {
  std::string origin;
  uint32_t serial = 0;
  std::string file;
  size_t records = 0;
  std::vector<std::string> steered;  // owner names of steered rules
  std::vector<DatacenterState> datacenters;
};

// One AF_XDP queue ([server] xdp): how it runs and its worker's counters.
struct XdpQueueState {
  std::string interface;
  uint32_t queue = 0;
  std::string mode;  // the program's attach mode: "native" or "generic"
  bool is_zero_copy = false;
  server::TransportStats counters;  // the xdp_* fields are this queue's
};

struct DaemonState {
  std::string version = kVersion;
  std::chrono::system_clock::time_point now{};
  std::chrono::system_clock::time_point started{};
  std::string geoip;  // database description, "" = none
  std::vector<ZoneState> zones;
  std::vector<health::TargetStatus> targets;
  std::vector<health::OverrideInfo> overrides;
  std::vector<health::Transition> transitions;  // newest last
  uint64_t transitions_total = 0;
  ReloadRecord last_reload;
  server::ReloadProgress reload_progress;  // a reload running now
  uint64_t reloads_total = 0;
  uint64_t reload_errors_total = 0;
  TrafficTotals traffic;
  server::TransportStats transport;       // the workers' sockets
  bool xdp_enabled = false;               // [server] xdp is on (the daemon runs XdpPool)
  std::vector<XdpQueueState> xdp_queues;  // one per interface and queue
  std::vector<std::string> answer_names;  // slot -> steered name ("other" at 0)
  std::vector<std::pair<std::string, std::string>> answer_datacenters;  // slot -> zone, dc
  std::vector<std::string> answer_zones;                                // slot -> zone
  bool rrl_enabled = false;                                             // what the workers run
  // True until the first round of health checks has completed (or state was restored):
  // answers may not reflect health yet.
  bool warming = false;
  std::optional<fleet::FleetStatus> fleet;  // [fleet] only (ops/fleet_state.h renders it)
};

// Builds the zone/datacenter part of a DaemonState from a zone set, the prober's status and
// the health view it publishes (the effective datacenter overrides, precedence applied).
std::vector<ZoneState> describe_zones(const zone::ZoneSet& zones,
                                      const std::vector<health::TargetStatus>& targets,
                                      const steer::HealthView& view);

// Prometheus text exposition format 0.0.4.
std::string render_metrics(const DaemonState& state);
// The JSON document served at /status.
std::string render_status_json(const DaemonState& state);
// The JSON of a reload result (POST /reload).
std::string render_reload_json(const ReloadRecord& reload);

// "A", "AAAA", "TYPE65280"; slot 0 of the counters is "other".
std::string qtype_name(size_t type);
// "NOERROR", "NXDOMAIN", ...
std::string rcode_name(size_t rcode);

// Seconds since the epoch (for JSON and metrics).
double unix_seconds(std::chrono::system_clock::time_point t);
// RFC 3339 UTC with milliseconds: "2026-11-25T14:03:07.120Z".
std::string iso8601(std::chrono::system_clock::time_point t);

}  // namespace geodns::ops
