// The [fleet] part of /status and /metrics (render_status_json and render_metrics call these
// when the daemon runs with a fleet).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "fleet/fleet.h"
#include "health/prober.h"

namespace geodns::ops {

// {"connected": true, "server": "ns1", "members": [...], "votes_seen": 6, ...}
nlohmann::ordered_json fleet_status_json(const fleet::FleetStatus& fleet);
// A target's votes: {"probed_here": true, "observers": 3, "down_votes": 1}.
nlohmann::ordered_json fleet_target_json(const health::TargetStatus& target);
// geodns_fleet_connected, geodns_fleet_members, ... in Prometheus text format.
std::string fleet_metrics(const fleet::FleetStatus& fleet);

}  // namespace geodns::ops
