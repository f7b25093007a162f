#include "ops/state.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "dns/type_names.h"
#include "dns/wire.h"
#include "ops/fleet_state.h"
#include "steer/target.h"

namespace geodns::ops {
namespace {

using Json = nlohmann::ordered_json;

// Label values escape backslash, double quote and line feed (exposition format 0.0.4).
std::string label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  } else {
    std::snprintf(buf, sizeof(buf), "%.6f", v);
  }
  return buf;
}

class MetricWriter {
 public:
  void family(const char* name, const char* type, const char* help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  void sample(const char* name, std::initializer_list<std::pair<const char*, std::string>> labels,
              double value) {
    out_ += name;
    if (labels.size() != 0) {
      out_ += '{';
      bool first = true;
      for (const auto& [k, v] : labels) {
        if (!first) out_ += ',';
        first = false;
        out_ += k;
        out_ += "=\"";
        out_ += label_value(v);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += number(value);
    out_ += '\n';
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

const char* override_name(steer::Override o) {
  switch (o) {
    case steer::Override::force_up:
      return "up";
    case steer::Override::force_down:
      return "down";
    case steer::Override::none:
      break;
  }
  return "";
}

Json time_json(std::chrono::system_clock::time_point t) {
  if (t.time_since_epoch().count() == 0) return nullptr;
  return iso8601(t);
}

}  // namespace

std::string qtype_name(size_t type) {
  if (type == 0 || type > 0xFFFF) return "other";  // types >= 256 share slot 0 (Counters)
  return dns::type_name(static_cast<uint16_t>(type));
}

std::string rcode_name(size_t rcode) {
  return dns::rcode_name(static_cast<uint16_t>(std::min<size_t>(rcode, 0xFFFF)));
}

void TrafficTotals::add(const server::Counters& c) {
  constexpr auto r = std::memory_order_relaxed;
  queries_udp += c.queries_udp.load(r);
  queries_tcp += c.queries_tcp.load(r);
  dropped += c.dropped.load(r);
  truncated += c.truncated.load(r);
  steered += c.steered.load(r);
  failed_open += c.failed_open.load(r);
  cookies_valid += c.cookies_valid.load(r);
  cookies_new += c.cookies_new.load(r);
  for (size_t i = 0; i < rcodes.size(); ++i) rcodes[i] += c.rcodes[i].load(r);
  for (size_t i = 0; i < qtypes.size(); ++i) qtypes[i] += c.qtypes[i].load(r);
}

void TrafficTotals::add(const server::RrlCounters& c) {
  constexpr auto r = std::memory_order_relaxed;
  rrl_dropped += c.dropped.load(r);
  rrl_slipped += c.slipped.load(r);
  rrl_evicted += c.evicted.load(r);
}

void TrafficTotals::add(const server::DnssecCounters& c) {
  constexpr auto r = std::memory_order_relaxed;
  signature_cache_hits += c.cache_hits.load(r);
  signature_cache_misses += c.cache_misses.load(r);
  signed_online += c.signed_online.load(r);
  sign_failed += c.sign_failed.load(r);
}

void TrafficTotals::add(const server::AnswerCounters& c) {
  constexpr auto r = std::memory_order_relaxed;
  for (size_t i = 0; i < server::kAnswerSlots; ++i) {
    answers_by_name[i] += c.by_name[i].load(r);
    failed_open_by_name[i] += c.failed_open[i].load(r);
    answers_by_datacenter[i] += c.by_datacenter[i].load(r);
    answers_by_zone[i] += c.by_zone[i].load(r);
  }
}

double unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

std::string iso8601(std::chrono::system_clock::time_point t) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

std::vector<ZoneState> describe_zones(const zone::ZoneSet& zones,
                                      const std::vector<health::TargetStatus>& targets,
                                      const steer::HealthView& view) {
  std::unordered_map<steer::TargetId, const health::TargetStatus*> by_id;
  for (const auto& t : targets) by_id[t.id] = &t;
  std::vector<ZoneState> out;
  for (const auto& z : zones.zones) {
    ZoneState zs;
    zs.origin = z->origin_text;
    zs.serial = z->serial;
    zs.file = z->source_file;
    zs.records = z->record_count();
    for (const auto& rule : z->rules) zs.steered.push_back(rule.owner);
    for (const auto& dc : z->datacenters) {
      DatacenterState ds;
      ds.name = dc.name;
      ds.full_name = dc.key;
      ds.slot = steer::dc_slot_key(z->origin_text, dc.name);
      ds.check = dc.check;
      // What the policies read: the prober folds the overrides into the view, once.
      ds.override_mode = view.dc_override(dc.id);
      bool any_up = false;
      for (const auto* family : {&dc.v4, &dc.v6}) {
        for (const auto& a : *family) {
          AddressState as;
          as.address = a.ip.to_string();
          as.target = a.target;
          if (auto it = by_id.find(a.target); it != by_id.end()) as.up = it->second->effective_up;
          any_up = any_up || as.up;
          ds.addresses.push_back(std::move(as));
        }
      }
      ds.up = ds.override_mode == steer::Override::force_up ||
              (any_up && ds.override_mode != steer::Override::force_down);
      zs.datacenters.push_back(std::move(ds));
    }
    out.push_back(std::move(zs));
  }
  return out;
}

std::string render_metrics(const DaemonState& s) {
  MetricWriter m;
  m.family("geodns_build_info", "gauge", "Version of the running geodns.");
  m.sample("geodns_build_info", {{"version", s.version}}, 1);
  m.family("geodns_start_time_seconds", "gauge", "Start time of the process since the epoch.");
  m.sample("geodns_start_time_seconds", {}, std::floor(unix_seconds(s.started)));

  const auto& t = s.traffic;
  m.family("geodns_queries_total", "counter", "DNS queries received, by transport protocol.");
  m.sample("geodns_queries_total", {{"protocol", "udp"}}, static_cast<double>(t.queries_udp));
  m.sample("geodns_queries_total", {{"protocol", "tcp"}}, static_cast<double>(t.queries_tcp));
  m.family("geodns_queries_by_type_total", "counter",
           "DNS queries by query type (types above 255 count as \"other\").");
  for (size_t i = 0; i < t.qtypes.size(); ++i) {
    // A and AAAA always appear so that dashboards have a series from the start.
    if (t.qtypes[i] != 0 || i == dns::rrtype::A || i == dns::rrtype::AAAA) {
      m.sample("geodns_queries_by_type_total", {{"qtype", qtype_name(i)}},
               static_cast<double>(t.qtypes[i]));
    }
  }
  m.family("geodns_responses_total", "counter", "DNS responses by response code.");
  for (size_t i = 0; i < t.rcodes.size(); ++i) {
    if (t.rcodes[i] != 0 || i == 0 || i == 3 || i == 5) {
      m.sample("geodns_responses_total", {{"rcode", rcode_name(i)}},
               static_cast<double>(t.rcodes[i]));
    }
  }
  m.family("geodns_dropped_total", "counter", "Messages dropped without an answer.");
  m.sample("geodns_dropped_total", {}, static_cast<double>(t.dropped));
  m.family("geodns_truncated_total", "counter", "UDP responses sent truncated (TC).");
  m.sample("geodns_truncated_total", {}, static_cast<double>(t.truncated));
  m.family("geodns_steered_answers_total", "counter", "Answers decided by a steering policy.");
  m.sample("geodns_steered_answers_total", {}, static_cast<double>(t.steered));
  m.family("geodns_fail_open_total", "counter",
           "Steered answers given while every candidate was down (failing open).");
  m.sample("geodns_fail_open_total", {}, static_cast<double>(t.failed_open));
  // Bounded: one series per zone / steered name / datacenter ever loaded, at most
  // server::kAnswerSlots, the rest under "other" (server/answer_slots.h).
  m.family("geodns_steered_answers_by_name_total", "counter",
           "Steered answers by name (\"other\" beyond the label cap).");
  for (size_t i = 0; i < s.answer_names.size() && i < t.answers_by_name.size(); ++i) {
    if (i == 0 && t.answers_by_name[0] == 0) continue;
    m.sample("geodns_steered_answers_by_name_total", {{"name", s.answer_names[i]}},
             static_cast<double>(t.answers_by_name[i]));
  }
  m.family("geodns_fail_open_by_name_total", "counter",
           "Steered answers given failing open (every candidate down), by name.");
  for (size_t i = 0; i < s.answer_names.size() && i < t.failed_open_by_name.size(); ++i) {
    if (i == 0 && t.failed_open_by_name[0] == 0) continue;
    m.sample("geodns_fail_open_by_name_total", {{"name", s.answer_names[i]}},
             static_cast<double>(t.failed_open_by_name[i]));
  }
  m.family("geodns_answers_by_datacenter_total", "counter",
           "Steered answers served from each datacenter (answers mixing several count in none).");
  for (size_t i = 0; i < s.answer_datacenters.size() && i < t.answers_by_datacenter.size(); ++i) {
    if (i == 0 && t.answers_by_datacenter[0] == 0) continue;
    m.sample(
        "geodns_answers_by_datacenter_total",
        {{"zone", s.answer_datacenters[i].first}, {"datacenter", s.answer_datacenters[i].second}},
        static_cast<double>(t.answers_by_datacenter[i]));
  }
  m.family("geodns_answers_by_zone_total", "counter",
           "Queries answered from each zone, any rcode, before rate limiting (\"other\" beyond "
           "the label cap).");
  for (size_t i = 0; i < s.answer_zones.size() && i < t.answers_by_zone.size(); ++i) {
    if (i == 0 && t.answers_by_zone[0] == 0) continue;
    m.sample("geodns_answers_by_zone_total", {{"zone", s.answer_zones[i]}},
             static_cast<double>(t.answers_by_zone[i]));
  }

  m.family("geodns_cookie_queries_total", "counter",
           "Queries with a DNS cookie: result=valid (a server cookie of ours came back, the "
           "client's address is proven) or new (a server cookie was issued).");
  m.sample("geodns_cookie_queries_total", {{"result", "valid"}},
           static_cast<double>(t.cookies_valid));
  m.sample("geodns_cookie_queries_total", {{"result", "new"}}, static_cast<double>(t.cookies_new));

  m.family("geodns_dnssec_signature_cache_total", "counter",
           "Online RRSIGs of steered, synthesized and denial answers: result=hit (from the "
           "worker's signature cache) or miss (signed on the packet path).");
  m.sample("geodns_dnssec_signature_cache_total", {{"result", "hit"}},
           static_cast<double>(t.signature_cache_hits));
  m.sample("geodns_dnssec_signature_cache_total", {{"result", "miss"}},
           static_cast<double>(t.signature_cache_misses));
  m.family("geodns_dnssec_signed_online_total", "counter",
           "Signatures made on the packet path (a cache miss that signed).");
  m.sample("geodns_dnssec_signed_online_total", {}, static_cast<double>(t.signed_online));
  m.family("geodns_dnssec_sign_failed_total", "counter",
           "Online signatures that failed; those answers went out without the RRSIG.");
  m.sample("geodns_dnssec_sign_failed_total", {}, static_cast<double>(t.sign_failed));

  m.family("geodns_rrl_enabled", "gauge", "1 when UDP response rate limiting is on.");
  m.sample("geodns_rrl_enabled", {}, s.rrl_enabled ? 1 : 0);
  m.family("geodns_rrl_dropped_total", "counter", "UDP responses dropped by rate limiting.");
  m.sample("geodns_rrl_dropped_total", {}, static_cast<double>(t.rrl_dropped));
  m.family("geodns_rrl_slipped_total", "counter",
           "Rate-limited UDP responses sent truncated (TC) instead of dropped.");
  m.sample("geodns_rrl_slipped_total", {}, static_cast<double>(t.rrl_slipped));
  m.family("geodns_rrl_evicted_total", "counter",
           "Rate-limit buckets reused for another client while the table was full.");
  m.sample("geodns_rrl_evicted_total", {}, static_cast<double>(t.rrl_evicted));

  // The transport's own counters (server/transport_stats.h), summed over the workers.
  const auto& x = s.transport;
  m.family("geodns_udp_send_dropped_total", "counter",
           "UDP responses the kernel did not take (send buffer full, send error).");
  m.sample("geodns_udp_send_dropped_total", {}, static_cast<double>(x.udp_send_dropped));
  m.family("geodns_udp_oversized_total", "counter",
           "UDP datagrams too large for a receive slot, answered FORMERR.");
  m.sample("geodns_udp_oversized_total", {}, static_cast<double>(x.udp_truncated));
  m.family("geodns_tcp_connections_total", "counter",
           "TCP connections, by outcome: accepted, or rejected at the cap with none idle.");
  m.sample("geodns_tcp_connections_total", {{"result", "accepted"}},
           static_cast<double>(x.tcp_accepted));
  m.sample("geodns_tcp_connections_total", {{"result", "rejected"}},
           static_cast<double>(x.tcp_rejected));
  m.family("geodns_tcp_connections_open", "gauge", "TCP connections open now.");
  m.sample("geodns_tcp_connections_open", {}, static_cast<double>(x.tcp_open));
  m.family("geodns_tcp_closed_total", "counter",
           "TCP connections closed by the server, by reason: timeouts, or idle ones closed "
           "to admit a new connection (at the cap, or at the client's own limit).");
  m.sample("geodns_tcp_closed_total", {{"reason", "idle"}}, static_cast<double>(x.tcp_idle_closed));
  m.sample("geodns_tcp_closed_total", {{"reason", "evicted"}}, static_cast<double>(x.tcp_evicted));
  m.sample("geodns_tcp_closed_total", {{"reason", "client_limit"}},
           static_cast<double>(x.tcp_client_evicted));
  m.sample("geodns_tcp_closed_total", {{"reason", "stall"}},
           static_cast<double>(x.tcp_stall_closed));
  m.family("geodns_xdp_packets_total", "counter",
           "Frames on the AF_XDP path: received (handed to the pipeline), sent (answers the "
           "TX ring took), malformed (dropped: checksum, lengths), send_dropped (no frame free).");
  m.sample("geodns_xdp_packets_total", {{"result", "received"}},
           static_cast<double>(x.xdp_received));
  m.sample("geodns_xdp_packets_total", {{"result", "sent"}}, static_cast<double>(x.xdp_sent));
  m.sample("geodns_xdp_packets_total", {{"result", "malformed"}},
           static_cast<double>(x.xdp_malformed));
  m.sample("geodns_xdp_packets_total", {{"result", "send_dropped"}},
           static_cast<double>(x.xdp_send_dropped));
  m.family("geodns_tcp_parked_total", "counter",
           "Times a new TCP connection waited in the accept queue: full, none could be closed.");
  m.sample("geodns_tcp_parked_total", {}, static_cast<double>(x.tcp_parked));
  m.family("geodns_tcp_backpressure_total", "counter",
           "Times a TCP connection stopped reading because its client did not read.");
  m.sample("geodns_tcp_backpressure_total", {}, static_cast<double>(x.tcp_backpressure));

  m.family("geodns_health_target_up", "gauge",
           "1 when the target (address, check) answers as up, overrides included.");
  for (const auto& ts : s.targets) {
    m.sample("geodns_health_target_up",
             {{"target", ts.key}, {"address", ts.address.to_string()}, {"check", ts.check_name}},
             ts.effective_up ? 1 : 0);
  }
  m.family("geodns_health_check_latency_seconds", "gauge", "Duration of the last check.");
  for (const auto& ts : s.targets) {
    if (!ts.last_latency) continue;
    m.sample("geodns_health_check_latency_seconds",
             {{"target", ts.key}, {"address", ts.address.to_string()}, {"check", ts.check_name}},
             std::chrono::duration<double>(*ts.last_latency).count());
  }
  m.family("geodns_health_checks_total", "counter", "Checks run per target.");
  for (const auto& ts : s.targets) {
    m.sample("geodns_health_checks_total",
             {{"target", ts.key}, {"address", ts.address.to_string()}, {"check", ts.check_name}},
             static_cast<double>(ts.checks));
  }
  m.family("geodns_health_transitions_total", "counter", "Health state changes of targets.");
  m.sample("geodns_health_transitions_total", {}, static_cast<double>(s.transitions_total));
  m.family("geodns_health_overrides", "gauge", "Active admin overrides.");
  m.sample("geodns_health_overrides", {}, static_cast<double>(s.overrides.size()));
  m.family("geodns_datacenter_up", "gauge",
           "1 when the datacenter has an address up and is not drained.");
  for (const auto& z : s.zones) {
    for (const auto& dc : z.datacenters) {
      m.sample("geodns_datacenter_up", {{"zone", z.origin}, {"datacenter", dc.name}},
               dc.up ? 1 : 0);
    }
  }

  m.family("geodns_reloads_total", "counter", "Reloads run (signal, file change or control).");
  m.sample("geodns_reloads_total", {}, static_cast<double>(s.reloads_total));
  m.family("geodns_reload_errors_total", "counter", "Reloads that reported at least one error.");
  m.sample("geodns_reload_errors_total", {}, static_cast<double>(s.reload_errors_total));
  m.family("geodns_last_reload_success", "gauge", "1 when the last (re)load had no error.");
  m.sample("geodns_last_reload_success", {}, s.last_reload.ok ? 1 : 0);
  m.family("geodns_last_reload_timestamp_seconds", "gauge",
           "When the last (re)load ran, seconds since the epoch.");
  m.sample("geodns_last_reload_timestamp_seconds", {}, std::floor(unix_seconds(s.last_reload.at)));
  m.family("geodns_last_reload_duration_seconds", "gauge",
           "How long the last (re)load took, from reading the config to publishing.");
  m.sample("geodns_last_reload_duration_seconds", {},
           std::chrono::duration<double>(s.last_reload.duration).count());
  m.family("geodns_last_reload_zones", "gauge",
           "Zones of the last (re)load, rebuilt from their file or reused unchanged.");
  m.sample("geodns_last_reload_zones", {{"result", "rebuilt"}},
           static_cast<double>(s.last_reload.zones_rebuilt));
  m.sample("geodns_last_reload_zones", {{"result", "reused"}},
           static_cast<double>(s.last_reload.zones_reused));
  m.family("geodns_reload_in_progress", "gauge", "1 while a reload is running.");
  m.sample("geodns_reload_in_progress", {}, s.reload_progress.in_progress ? 1 : 0);
  m.family("geodns_config_restart_required", "gauge",
           "1 when the config file changes a setting that only a restart applies.");
  m.sample("geodns_config_restart_required", {}, s.last_reload.restart_required.empty() ? 0 : 1);
  m.family("geodns_zone_serial", "gauge", "SOA serial of each served zone.");
  for (const auto& z : s.zones) m.sample("geodns_zone_serial", {{"zone", z.origin}}, z.serial);
  m.family("geodns_zone_records", "gauge", "Static records of each served zone.");
  for (const auto& z : s.zones) {
    m.sample("geodns_zone_records", {{"zone", z.origin}}, static_cast<double>(z.records));
  }
  if (s.fleet) return m.take() + fleet_metrics(*s.fleet);
  return m.take();
}

static Json reload_json(const ReloadRecord& r) {
  Json j;
  j["ok"] = r.ok;
  j["time"] = time_json(r.at);
  j["reason"] = r.reason;
  j["zones"] = r.zones;
  j["zones_rebuilt"] = r.zones_rebuilt;
  j["zones_reused"] = r.zones_reused;
  j["duration_s"] = std::chrono::duration<double>(r.duration).count();
  j["restart_required"] = r.restart_required;
  j["sequence"] = r.sequence;
  j["errors"] = r.errors;
  return j;
}

// Invalid UTF-8 (a zone file's bytes in an error message) is replaced, never thrown.
static std::string dump(const Json& j) {
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string render_reload_json(const ReloadRecord& r) {
  return dump(reload_json(r));
}

// The AF_XDP path per interface and queue (README: "AF_XDP"); `enabled` false and no
// queues on a server without [server] xdp, so a reader need not guess from absent keys.
static Json xdp_json(const DaemonState& s) {
  Json queues = Json::array();
  for (const auto& q : s.xdp_queues) {
    queues.push_back({{"interface", q.interface},
                      {"queue", q.queue},
                      {"mode", q.mode},
                      {"socket", q.is_zero_copy ? "zero-copy" : "copy"},
                      {"received", q.counters.xdp_received},
                      {"sent", q.counters.xdp_sent},
                      {"dropped", q.counters.xdp_send_dropped},
                      {"malformed", q.counters.xdp_malformed}});
  }
  return {{"enabled", s.xdp_enabled}, {"queues", std::move(queues)}};
}

std::string render_status_json(const DaemonState& s) {
  Json j;
  j["version"] = s.version;
  j["now"] = time_json(s.now);
  j["started"] = time_json(s.started);
  j["geoip"] = s.geoip;
  Json zones = Json::array();
  std::map<steer::TargetId, std::vector<std::string>> dcs_of_target;
  for (const auto& z : s.zones) {
    Json dcs = Json::array();
    for (const auto& dc : z.datacenters) {
      Json addrs = Json::array();
      for (const auto& a : dc.addresses) {
        addrs.push_back({{"address", a.address}, {"up", a.up}});
        dcs_of_target[a.target].push_back(dc.full_name);
      }
      dcs.push_back({{"name", dc.name},
                     {"key", dc.full_name},
                     {"slot", dc.slot},
                     {"check", dc.check},
                     {"up", dc.up},
                     {"override", override_name(dc.override_mode)},
                     {"addresses", std::move(addrs)}});
    }
    zones.push_back({{"origin", z.origin},
                     {"serial", z.serial},
                     {"file", z.file},
                     {"records", z.records},
                     {"steered", z.steered},
                     {"datacenters", std::move(dcs)}});
  }
  j["zones"] = std::move(zones);
  Json targets = Json::array();
  for (const auto& t : s.targets) {
    Json tj;
    tj["key"] = t.key;
    tj["address"] = t.address.to_string();
    tj["check"] = t.check_name;
    tj["type"] = std::string(steer::check_type_name(t.check_type));
    tj["state"] = std::string(health::state_name(t.state));
    tj["up"] = t.effective_up;
    tj["last_result"] = t.last_result;
    tj["latency_ms"] = t.last_latency ? Json(t.last_latency->count()) : Json(nullptr);
    tj["since"] = time_json(t.since_wall);
    tj["checks"] = t.checks;
    tj["override"] = override_name(t.override_mode);
    tj["datacenters"] = dcs_of_target[t.id];
    if (s.fleet) tj["fleet"] = fleet_target_json(t);
    targets.push_back(std::move(tj));
  }
  j["targets"] = std::move(targets);
  Json overrides = Json::array();
  for (const auto& o : s.overrides) {
    Json oj;
    if (o.key.kind == health::OverrideKey::Kind::datacenter) {
      oj["datacenter"] = o.key.datacenter;
    } else {
      oj["address"] = o.key.address.to_string();
    }
    oj["state"] = override_name(o.mode);
    oj["expires"] = o.expires ? time_json(*o.expires) : Json(nullptr);
    oj["reason"] = o.reason;
    oj["created"] = time_json(o.created);
    if (!o.author.empty()) oj["author"] = o.author;
    overrides.push_back(std::move(oj));
  }
  j["overrides"] = std::move(overrides);
  Json transitions = Json::array();
  for (const auto& t : s.transitions) {
    transitions.push_back({{"time", time_json(t.at)},
                           {"key", t.key},
                           {"address", t.address.to_string()},
                           {"check", t.check_name},
                           {"from", std::string(health::state_name(t.from))},
                           {"to", std::string(health::state_name(t.to))},
                           {"reason", t.reason},
                           {"after_s", std::chrono::duration<double>(t.after).count()}});
  }
  j["transitions"] = std::move(transitions);
  if (s.fleet) j["fleet"] = fleet_status_json(*s.fleet);
  j["health"] = s.warming ? "warming" : "ready";
  j["last_reload"] = reload_json(s.last_reload);
  j["reload"] = {{"in_progress", s.reload_progress.in_progress},
                 {"reason", s.reload_progress.reason},
                 {"since", time_json(s.reload_progress.since)},
                 {"requested", s.reload_progress.requested}};
  j["reloads_total"] = s.reloads_total;
  j["reload_errors_total"] = s.reload_errors_total;
  const auto& t = s.traffic;
  j["queries"] = {{"udp", t.queries_udp},         {"tcp", t.queries_tcp},
                  {"dropped", t.dropped},         {"truncated", t.truncated},
                  {"steered", t.steered},         {"failed_open", t.failed_open},
                  {"rrl_dropped", t.rrl_dropped}, {"rrl_slipped", t.rrl_slipped}};
  const auto& x = s.transport;
  j["transport"] = {{"udp_received", x.udp_received},
                    {"udp_sent", x.udp_sent},
                    {"udp_send_dropped", x.udp_send_dropped},
                    {"udp_truncated", x.udp_truncated},
                    {"tcp_accepted", x.tcp_accepted},
                    {"tcp_rejected", x.tcp_rejected},
                    {"tcp_evicted", x.tcp_evicted},
                    {"tcp_client_evicted", x.tcp_client_evicted},
                    {"tcp_parked", x.tcp_parked},
                    {"tcp_open", x.tcp_open},
                    {"tcp_idle_closed", x.tcp_idle_closed},
                    {"tcp_stall_closed", x.tcp_stall_closed},
                    {"tcp_backpressure", x.tcp_backpressure},
                    {"xdp_received", x.xdp_received},
                    {"xdp_sent", x.xdp_sent},
                    {"xdp_send_dropped", x.xdp_send_dropped},
                    {"xdp_malformed", x.xdp_malformed}};
  j["xdp"] = xdp_json(s);
  return dump(j);
}

}  // namespace geodns::ops
