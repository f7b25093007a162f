#include "ops/fleet_state.h"

#include <cmath>
#include <cstdio>

#include "ops/state.h"

namespace geodns::ops {

namespace {

void gauge(std::string& out, const char* name, const char* type, const char* help, double v) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
  out += name;
  out += ' ';
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.0f", v);
  out += buf;
  out += '\n';
}

}  // namespace

nlohmann::ordered_json fleet_status_json(const fleet::FleetStatus& f) {
  nlohmann::ordered_json j;
  j["fleet"] = f.fleet;
  j["server"] = f.server;
  j["connected"] = f.connected;
  j["endpoint"] = f.endpoint;
  j["last_contact"] = f.last_contact ? nlohmann::ordered_json(iso8601(*f.last_contact))
                                     : nlohmann::ordered_json(nullptr);
  j["last_error"] = f.last_error;
  j["members"] = f.members;
  j["votes_seen"] = f.votes_seen;
  j["overrides"] = f.overrides;
  j["pending_writes"] = f.pending_writes;
  j["connects"] = f.connects;
  j["errors"] = f.errors;
  j["quorum"] = f.quorum.majority ? nlohmann::ordered_json("majority")
                                  : nlohmann::ordered_json(f.quorum.count);
  j["probers_per_target"] = f.probers_per_target;
  // What answers follow now: the fleet's verdicts, or this server alone (etcd unreachable).
  j["deciding"] = f.connected ? "quorum" : "local";
  return j;
}

nlohmann::ordered_json fleet_target_json(const health::TargetStatus& t) {
  return {{"probed_here", t.probed_here},
          {"observers", t.fleet_observers},
          {"down_votes", t.fleet_down_votes}};
}

std::string fleet_metrics(const fleet::FleetStatus& f) {
  std::string out;
  gauge(out, "geodns_fleet_connected", "gauge",
        "1 while etcd is reachable (health by quorum); 0 = serving from local probes.",
        f.connected ? 1 : 0);
  gauge(out, "geodns_fleet_members", "gauge", "Live servers of the fleet seen in etcd.",
        static_cast<double>(f.members.size()));
  gauge(out, "geodns_fleet_votes", "gauge", "Live health votes of all servers seen in etcd.",
        static_cast<double>(f.votes_seen));
  gauge(out, "geodns_fleet_overrides", "gauge", "Overrides (drains) stored in etcd.",
        static_cast<double>(f.overrides));
  gauge(out, "geodns_fleet_pending_writes", "gauge",
        "Override changes and votes waiting to be written to etcd.",
        static_cast<double>(f.pending_writes));
  gauge(out, "geodns_fleet_connects_total", "counter", "Sessions established with etcd.",
        static_cast<double>(f.connects));
  gauge(out, "geodns_fleet_errors_total", "counter", "Failed etcd sessions or calls.",
        static_cast<double>(f.errors));
  gauge(out, "geodns_fleet_last_contact_seconds", "gauge",
        "Last successful exchange with etcd, seconds since the epoch (0 = never).",
        f.last_contact ? std::floor(unix_seconds(*f.last_contact)) : 0);
  return out;
}

}  // namespace geodns::ops
