#include "steer/policy.h"

#include <algorithm>
#include <cstring>

#include "geo/countries.h"

namespace geodns::steer {
namespace {

uint64_t mix(uint64_t x) noexcept {  // splitmix64 finaliser: spreads a counter over 64 bits
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

const std::vector<DcAddress>& family_addresses(const Datacenter& dc, uint8_t family) noexcept {
  return family == 4 ? dc.v4 : dc.v6;
}

struct DcHealth {
  uint32_t up = 0;
  uint32_t total = 0;
  Override ov = Override::none;
};

DcHealth dc_health(const Datacenter& dc, uint8_t family, const HealthView& health) noexcept {
  DcHealth h;
  const auto& addrs = family_addresses(dc, family);
  h.total = static_cast<uint32_t>(addrs.size());
  h.ov = health.dc_override(dc.id);
  if (h.ov == Override::force_down) return h;  // drained: none of its addresses count
  if (h.ov == Override::force_up) {
    h.up = h.total;
    return h;
  }
  for (const auto& a : addrs) h.up += health.target_up(a.target) ? 1 : 0;
  return h;
}

bool address_up(const Datacenter& dc, const DcAddress& a, const HealthView& health) noexcept {
  const Override ov = health.dc_override(dc.id);
  if (ov == Override::force_down) return false;
  if (ov == Override::force_up) return true;
  return health.target_up(a.target);
}

// Appends the addresses of `dc` (healthy ones only unless `ignore_health`) to `out`, starting
// at a rotating offset so successive answers spread load, up to `cap` in total.
void take_addresses(const Datacenter& dc, uint8_t family, const HealthView& health,
                    bool ignore_health, uint64_t rotation, uint32_t cap, Decision* out) noexcept {
  const auto& addrs = family_addresses(dc, family);
  const size_t n = addrs.size();
  if (n == 0) return;
  const size_t start = static_cast<size_t>(rotation % n);
  for (size_t k = 0; k < n && out->count < cap; ++k) {
    const DcAddress& a = addrs[(start + k) % n];
    if (ignore_health || address_up(dc, a, health)) out->addresses[out->count++] = &a.ip;
  }
}

void trace_candidate(Trace* trace, uint32_t dc, const DcHealth& h, double distance = -1) {
  if (trace == nullptr) return;
  trace->candidates.push_back(Trace::Candidate{dc, h.up, h.total, h.ov, distance});
}

uint32_t cap_of(const Rule& rule) noexcept {
  return std::min<uint32_t>(rule.answers, static_cast<uint32_t>(kMaxAnswerAddresses));
}

// Every candidate is down (but some has addresses of the family): on_all_down decides.
void all_down(const Rule& rule, std::span<const Datacenter> dcs, uint8_t family,
              std::span<const uint32_t> order, const HealthView& health, uint64_t rotation,
              Decision* out, Trace* trace) noexcept {
  out->failed_open = true;
  out->degraded = true;
  const uint32_t cap = cap_of(rule);
  if (rule.on_all_down == AllDown::nodata) {
    out->nodata = true;
    if (trace != nullptr) trace->outcome = "every candidate is down: NODATA (on_all_down = nodata)";
    return;
  }
  if (rule.on_all_down == AllDown::fallback && rule.fallback_dc < dcs.size() &&
      !family_addresses(dcs[rule.fallback_dc], family).empty()) {
    take_addresses(dcs[rule.fallback_dc], family, health, true, rotation, cap, out);
    out->dc = static_cast<int32_t>(rule.fallback_dc);
    if (trace != nullptr) {
      trace->outcome = "every candidate is down: fallback datacenter " +
                       dcs[rule.fallback_dc].name + " (on_all_down)";
    }
    return;
  }
  // Fail open: answer as if everything were up, so health never empties an answer.
  if (rule.policy == Policy::roundrobin) {
    for (uint32_t i : order) {
      take_addresses(dcs[i], family, health, true, rotation + i, cap, out);
    }
    if (trace != nullptr) trace->outcome = "every candidate is down: failing open (all addresses)";
    return;
  }
  for (uint32_t i : order) {
    if (family_addresses(dcs[i], family).empty()) continue;
    take_addresses(dcs[i], family, health, true, rotation, cap, out);
    out->dc = static_cast<int32_t>(i);
    if (trace != nullptr) {
      trace->outcome = "every candidate is down: failing open with " + dcs[i].name;
    }
    return;
  }
}

// Ordered list semantics (geo, nearest, failover): the first datacenter with a healthy
// address of the family answers with its healthy addresses.
void pick_in_order(const Rule& rule, std::span<const Datacenter> dcs, uint8_t family,
                   std::span<const uint32_t> order, const double* distances,
                   const HealthView& health, uint64_t rotation, Decision* out,
                   Trace* trace) noexcept {
  bool any_family = false;
  int32_t chosen = -1;
  for (size_t k = 0; k < order.size(); ++k) {
    const uint32_t i = order[k];
    const DcHealth h = dc_health(dcs[i], family, health);
    trace_candidate(trace, i, h, distances != nullptr ? distances[k] : -1);
    if (h.total == 0) continue;  // no address of this family: skipped, not a failure
    any_family = true;
    if (h.up < h.total) out->degraded = true;
    if (chosen < 0 && h.up > 0) chosen = static_cast<int32_t>(i);
  }
  if (!any_family) {
    out->nodata = true;
    if (trace != nullptr) trace->outcome = "no candidate has an address of this family: NODATA";
    return;
  }
  if (chosen < 0) {
    all_down(rule, dcs, family, order, health, rotation, out, trace);
    return;
  }
  take_addresses(dcs[static_cast<size_t>(chosen)], family, health, false, rotation, cap_of(rule),
                 out);
  out->dc = chosen;
  if (trace != nullptr) trace->outcome = dcs[static_cast<size_t>(chosen)].name + " answers";
}

}  // namespace

const DcList& map_list(const Rule& rule, const geo::Location* loc, Trace* trace) noexcept {
  if (loc != nullptr && loc->found) {
    const std::string_view sub = loc->subdivision_code();
    if (!sub.empty() && loc->country[0] != 0 && !rule.by_subdivision.empty()) {
      char key[8];
      key[0] = loc->country[0];
      key[1] = loc->country[1];
      key[2] = '-';
      std::memcpy(key + 3, sub.data(), sub.size());
      const std::string_view k(key, 3 + sub.size());
      for (const auto& [name, idx] : rule.by_subdivision) {
        if (name == k) {
          if (trace != nullptr) trace->matched = "map." + name;
          return rule.lists[idx];
        }
      }
    }
    if (loc->country[0] != 0) {
      const auto packed = static_cast<uint16_t>((static_cast<unsigned char>(loc->country[0]) << 8) |
                                                static_cast<unsigned char>(loc->country[1]));
      auto it = std::lower_bound(rule.by_country.begin(), rule.by_country.end(),
                                 std::pair<uint16_t, uint32_t>{packed, 0});
      if (it != rule.by_country.end() && it->first == packed) {
        if (trace != nullptr) trace->matched = "map." + std::string(loc->country_code());
        return rule.lists[it->second];
      }
    }
    if (loc->continent[0] != 0) {
      const auto packed =
          static_cast<uint16_t>((static_cast<unsigned char>(loc->continent[0]) << 8) |
                                static_cast<unsigned char>(loc->continent[1]));
      auto it = std::lower_bound(rule.by_continent.begin(), rule.by_continent.end(),
                                 std::pair<uint16_t, uint32_t>{packed, 0});
      if (it != rule.by_continent.end() && it->first == packed) {
        if (trace != nullptr) trace->matched = "map." + std::string(loc->continent_code());
        return rule.lists[it->second];
      }
    }
  }
  if (trace != nullptr) trace->matched = "map.default";
  return rule.lists[*rule.default_list];
}

size_t nearest_order(const Rule& rule, std::span<const Datacenter> dcs, const geo::Location* loc,
                     uint32_t* order, double* dist, Trace* trace) noexcept {
  const size_t n = std::min(rule.datacenters.size(), kMaxNearestCandidates);
  for (size_t k = 0; k < n; ++k) {
    order[k] = rule.datacenters[k];
    dist[k] = -1;
  }
  if (loc != nullptr && loc->found && loc->has_coordinates) {
    for (size_t k = 0; k < n; ++k) {
      const Datacenter& dc = dcs[order[k]];
      dist[k] = dc.has_location
                    ? geo::great_circle_km(loc->latitude, loc->longitude, dc.latitude, dc.longitude)
                    : 1e9;  // no coordinates: after every located one
    }
    // Insertion sort: a handful of datacenters, stable for equal distances.
    for (size_t a = 1; a < n; ++a) {
      const uint32_t o = order[a];
      const double d = dist[a];
      size_t b = a;
      while (b > 0 && dist[b - 1] > d) {
        order[b] = order[b - 1];
        dist[b] = dist[b - 1];
        --b;
      }
      order[b] = o;
      dist[b] = d;
    }
    if (trace != nullptr) trace->matched = "nearest to the client's coordinates";
  } else if (trace != nullptr) {
    trace->matched = "nearest: client location unknown, configured order";
  }
  return n;
}

void evaluate(const Rule& rule, std::span<const Datacenter> dcs, uint8_t family,
              const ClientView& client, const HealthView& health, uint64_t rotation, Decision* out,
              Trace* trace) noexcept {
  out->count = 0;
  out->dc = -1;
  out->degraded = false;
  out->failed_open = false;
  out->nodata = false;
  out->scope = 0;
  const uint64_t r = mix(rotation);

  // nets overrides beat the database (geo and nearest).
  const DcList* list = client.list;
  uint8_t decided_len = client.list_scope;
  if (list == nullptr && rule.depends_on_client && !rule.net_table.empty()) {
    if (auto m = rule.net_table.lookup(client.address)) {
      list = &rule.lists[m->value];
      decided_len = m->prefix_length;
      if (trace != nullptr) {
        for (const auto& [prefix, l] : rule.nets) {
          if (prefix.length == m->prefix_length && prefix.contains(client.address.unmapped())) {
            trace->matched = "nets " + prefix.to_string();
          }
        }
        if (trace->matched.empty()) trace->matched = "nets";
      }
    }
  }

  switch (rule.policy) {
    case Policy::geo: {
      if (list == nullptr) {
        decided_len = client.location != nullptr ? client.location->prefix_length : 0;
        list = &map_list(rule, client.location, trace);
      }
      pick_in_order(rule, dcs, family, *list, nullptr, health, r, out, trace);
      break;
    }
    case Policy::nearest: {
      if (list != nullptr) {
        pick_in_order(rule, dcs, family, *list, nullptr, health, r, out, trace);
        break;
      }
      const geo::Location* loc = client.location;
      decided_len = loc != nullptr ? loc->prefix_length : 0;
      uint32_t order[kMaxNearestCandidates];
      double dist[kMaxNearestCandidates];
      const size_t n = nearest_order(rule, dcs, loc, order, dist, trace);
      pick_in_order(rule, dcs, family, std::span<const uint32_t>(order, n), dist, health, r, out,
                    trace);
      break;
    }
    case Policy::failover:
      if (trace != nullptr) trace->matched = "failover order";
      pick_in_order(rule, dcs, family, rule.datacenters, nullptr, health, r, out, trace);
      break;
    case Policy::weighted: {
      if (trace != nullptr) trace->matched = "weighted";
      uint64_t healthy_weight = 0;
      bool any_family = false;
      for (size_t k = 0; k < rule.datacenters.size(); ++k) {
        const DcHealth h = dc_health(dcs[rule.datacenters[k]], family, health);
        trace_candidate(trace, rule.datacenters[k], h);
        if (h.total == 0) continue;
        any_family = true;
        if (h.up < h.total) out->degraded = true;
        if (h.up > 0) healthy_weight += rule.weights[k];
      }
      if (!any_family) {
        out->nodata = true;
        if (trace != nullptr) trace->outcome = "no candidate has an address of this family";
        break;
      }
      const bool open = healthy_weight == 0;
      if (open && rule.on_all_down != AllDown::all) {
        all_down(rule, dcs, family, rule.datacenters, health, r, out, trace);
        break;
      }
      uint64_t pool = healthy_weight;
      if (open) {
        for (size_t k = 0; k < rule.datacenters.size(); ++k) {
          if (!family_addresses(dcs[rule.datacenters[k]], family).empty()) pool += rule.weights[k];
        }
        out->failed_open = true;
      }
      uint64_t pick = (r >> 16) % pool;
      for (size_t k = 0; k < rule.datacenters.size(); ++k) {
        const Datacenter& dc = dcs[rule.datacenters[k]];
        if (family_addresses(dc, family).empty()) continue;
        if (!open && dc_health(dc, family, health).up == 0) continue;
        if (pick < rule.weights[k]) {
          take_addresses(dc, family, health, open, r, cap_of(rule), out);
          out->dc = static_cast<int32_t>(rule.datacenters[k]);
          if (trace != nullptr) {
            trace->outcome = dc.name + " picked by weight" + (open ? " (failing open)" : "");
          }
          break;
        }
        pick -= rule.weights[k];
      }
      break;
    }
    case Policy::roundrobin: {
      if (trace != nullptr) trace->matched = "roundrobin";
      bool any_family = false;
      bool any_up = false;
      for (uint32_t i : rule.datacenters) {
        const DcHealth h = dc_health(dcs[i], family, health);
        trace_candidate(trace, i, h);
        if (h.total == 0) continue;
        any_family = true;
        if (h.up < h.total) out->degraded = true;
        if (h.up > 0) any_up = true;
      }
      if (!any_family) {
        out->nodata = true;
        break;
      }
      if (!any_up) {
        all_down(rule, dcs, family, rule.datacenters, health, r, out, trace);
        break;
      }
      // Gather every healthy address, then rotate the whole set.
      const IpAddress* all[kMaxAnswerAddresses * 4];
      size_t n = 0;
      for (uint32_t i : rule.datacenters) {
        for (const auto& a : family_addresses(dcs[i], family)) {
          if (n < std::size(all) && address_up(dcs[i], a, health)) all[n++] = &a.ip;
        }
      }
      const size_t start = static_cast<size_t>(rotation % n);
      for (size_t k = 0; k < n && out->count < cap_of(rule); ++k) {
        out->addresses[out->count++] = all[(start + k) % n];
      }
      if (trace != nullptr) trace->outcome = "every healthy address, rotated";
      break;
    }
  }

  out->ttl_s = (out->degraded || out->failed_open) ? rule.degraded_ttl_s : rule.ttl_s;
  if (rule.depends_on_client && client.list != nullptr) {
    out->scope = client.list_scope;  // the compiled table already accounts for nets entries
  } else if (rule.depends_on_client) {
    uint8_t scope = rule.net_table.empty()
                        ? decided_len
                        : rule.net_table.scope_excluding_inner(client.address, decided_len);
    out->scope = std::min(scope, client.max_scope);
  }
}

}  // namespace geodns::steer
