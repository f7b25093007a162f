#include "steer/rule.h"

#include <algorithm>

#include "geo/countries.h"

namespace geodns::steer {

std::string_view policy_name(Policy p) {
  switch (p) {
    case Policy::geo:
      return "geo";
    case Policy::nearest:
      return "nearest";
    case Policy::failover:
      return "failover";
    case Policy::weighted:
      return "weighted";
    case Policy::roundrobin:
      return "roundrobin";
    case Policy::hashed:
      return "hashed";
  }
  return "?";
}

std::string_view pool_policy_name(PoolPolicy p) {
  switch (p) {
    case PoolPolicy::failover:
      return "failover";
    case PoolPolicy::nearest:
      return "nearest";
    case PoolPolicy::weighted:
      return "weighted";
    case PoolPolicy::roundrobin:
      return "roundrobin";
    case PoolPolicy::hashed:
      return "hashed";
  }
  return "?";
}

std::optional<PoolPolicy> parse_pool_policy(std::string_view text) {
  if (text == "failover") return PoolPolicy::failover;
  if (text == "nearest") return PoolPolicy::nearest;
  if (text == "weighted") return PoolPolicy::weighted;
  if (text == "roundrobin") return PoolPolicy::roundrobin;
  if (text == "hashed") return PoolPolicy::hashed;
  return std::nullopt;
}

uint64_t name_hash(std::string_view name) noexcept {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::optional<Policy> parse_policy(std::string_view text) {
  if (text == "geo") return Policy::geo;
  if (text == "nearest") return Policy::nearest;
  if (text == "failover") return Policy::failover;
  if (text == "weighted") return Policy::weighted;
  if (text == "roundrobin") return Policy::roundrobin;
  if (text == "hashed") return Policy::hashed;
  return std::nullopt;
}

std::optional<uint32_t> parse_asn_key(std::string_view key) {
  if (key.size() < 3 || key.size() > 12) return std::nullopt;
  if ((key[0] != 'A' && key[0] != 'a') || (key[1] != 'S' && key[1] != 's')) return std::nullopt;
  if (key[2] == '0') return std::nullopt;
  uint64_t v = 0;
  for (size_t i = 2; i < key.size(); ++i) {
    if (key[i] < '0' || key[i] > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(key[i] - '0');
  }
  if (v == 0 || v > 0xffffffffULL) return std::nullopt;
  return static_cast<uint32_t>(v);
}

std::optional<MapKeyKind> classify_map_key(std::string_view key, std::string* why) {
  auto fail = [&](std::string msg) -> std::optional<MapKeyKind> {
    if (why != nullptr) *why = std::move(msg);
    return std::nullopt;
  };
  if (key == "default") return MapKeyKind::fallback_default;
  if (parse_asn_key(key)) return MapKeyKind::asn;
  if (key.size() == 2) {
    // Continent codes and country codes never collide (ISO 3166 reserves none of AF AN AS EU
    // NA OC SA for countries... except that "AS" is American Samoa). We follow gdnsd and
    // GeoIP2: a two-letter key that is a continent code means the continent.
    if (geo::is_continent_code(key)) return MapKeyKind::continent;
    if (geo::is_country_code(key)) return MapKeyKind::country;
    return fail("map key \"" + std::string(key) +
                "\" is neither a continent (AF AN AS EU NA OC SA) nor an ISO 3166-1 country code");
  }
  if (key.find('-') != std::string_view::npos) {
    if (geo::is_subdivision_code(key)) return MapKeyKind::subdivision;
    return fail("map key \"" + std::string(key) +
                "\" is not an ISO 3166-2 subdivision code like \"US-CA\"");
  }
  return fail("map key \"" + std::string(key) +
              "\" must be a continent (\"EU\"), a country (\"DE\"), a subdivision (\"US-CA\"), "
              "an ASN (\"AS15169\") or \"default\"");
}

namespace {

uint16_t pack2(std::string_view code) {
  return static_cast<uint16_t>((static_cast<unsigned char>(code[0]) << 8) |
                               static_cast<unsigned char>(code[1]));
}

Status check_list(const DcList& list, size_t dc_count, size_t pool_count, const std::string& what) {
  if (list.empty()) return make_error(what + ": the datacenter list is empty");
  if (list.size() > kMaxPoolMembers) {
    return make_error(what + ": more than " + std::to_string(kMaxPoolMembers) + " members");
  }
  for (uint32_t m : list) {
    if (is_pool(m) ? pool_index(m) >= pool_count : m >= dc_count) {
      return make_error(what + ": member index out of range");
    }
  }
  for (size_t i = 0; i < list.size(); ++i) {
    for (size_t j = i + 1; j < list.size(); ++j) {
      if (list[i] == list[j]) return make_error(what + ": a member is listed twice");
    }
  }
  return {};
}

// Depth-first walk for cycles and height. `state`: 0 unvisited, 1 on the path, 2 done.
Status visit_pool(std::vector<Pool>& pools, std::span<const Datacenter> dcs, uint32_t p,
                  std::vector<uint8_t>& state, std::vector<uint32_t>& path) {
  if (state[p] == 2) return {};
  path.push_back(p);
  if (state[p] == 1) {
    std::string chain;  // from its first appearance on the path: the cycle itself
    size_t k = 0;
    while (path[k] != p) ++k;
    for (; k < path.size(); ++k) chain += (chain.empty() ? "" : " -> ") + pools[path[k]].name;
    return make_error("pool \"" + pools[p].name + "\" contains itself: " + chain);
  }
  state[p] = 1;
  Pool& pool = pools[p];
  uint32_t height = 1;
  uint64_t capacity = 0;
  bool needs_location = pool.policy == PoolPolicy::nearest;
  bool needs_client = pool.policy == PoolPolicy::hashed || pool.spillover;
  for (uint32_t m : pool.members) {
    if (!is_pool(m)) {
      capacity += dcs[m].capacity;
      continue;
    }
    if (auto st = visit_pool(pools, dcs, pool_index(m), state, path); !st) return st;
    const Pool& inner = pools[pool_index(m)];
    height = std::max(height, inner.height + 1);
    capacity += inner.capacity;
    needs_location = needs_location || inner.needs_location;
    needs_client = needs_client || inner.needs_client;
  }
  if (height > kMaxPoolDepth) {
    std::string chain;
    for (uint32_t k : path) chain += (chain.empty() ? "" : " -> ") + pools[k].name;
    return make_error("pool \"" + pool.name + "\" nests pools more than " +
                      std::to_string(kMaxPoolDepth) + " deep (" + chain + " -> ...)");
  }
  pool.height = height;
  pool.capacity = std::max<uint64_t>(capacity, 1);
  pool.needs_location = needs_location;
  pool.needs_client = needs_client;
  state[p] = 2;
  path.pop_back();
  return {};
}

}  // namespace

namespace {

// The datacenters of `list`, with those of the pools in it (acyclic once compile_pools passed).
void datacenters_of(const DcList& list, std::span<const Pool> pools, std::vector<uint32_t>* out) {
  for (uint32_t m : list) {
    if (!is_pool(m)) {
      out->push_back(m);
    } else if (pool_index(m) < pools.size()) {
      datacenters_of(pools[pool_index(m)].members, pools, out);
    }
  }
}

// Load spilled from member k is shared by members k+1..: capacities are compared among the
// members after the first (any of them for a nearest order, whose first depends on the
// client), and only where there are two of them or more.
Status check_capacity_set(const DcList& list, bool nearest, std::span<const Datacenter> dcs,
                          std::span<const Pool> pools, const std::string& what) {
  if (list.size() < 3) return {};
  std::vector<uint32_t> members;
  datacenters_of(DcList(list.begin() + (nearest ? 0 : 1), list.end()), pools, &members);
  const Datacenter* with = nullptr;
  const Datacenter* without = nullptr;
  for (uint32_t d : members) {
    if (d >= dcs.size()) continue;
    (dcs[d].has_capacity ? with : without) = &dcs[d];
  }
  if (with == nullptr || without == nullptr) return {};
  return make_error(what + " spills over by capacity, but datacenter \"" + with->name +
                    "\" sets capacity and \"" + without->name +
                    "\" does not: set it on every datacenter spilled over to, or on none "
                    "(equal shares)");
}

}  // namespace

Status compile_pools(std::vector<Pool>& pools, std::span<const Datacenter> dcs) {
  for (Pool& pool : pools) {
    const std::string what = "pool \"" + pool.name + "\"";
    if (pool.members.empty()) return make_error(what + " has no members");
    if (auto st = check_list(pool.members, dcs.size(), pools.size(), what); !st) return st;
    const bool by_weight = pool.policy == PoolPolicy::weighted || pool.policy == PoolPolicy::hashed;
    if (by_weight && pool.weights.empty()) pool.weights.assign(pool.members.size(), 1);
    if (!by_weight && !pool.weights.empty()) {
      return make_error(what + ": weights are only for policies weighted and hashed");
    }
    if (pool.weights.size() != (by_weight ? pool.members.size() : 0)) {
      return make_error(what + ": one weight per member");
    }
    for (uint32_t w : pool.weights) {
      if (w < 1 || w > 1000) return make_error(what + ": weight must be 1..1000");
    }
    if (pool.policy == PoolPolicy::roundrobin)
      pool.pick = static_cast<uint32_t>(pool.members.size());
    if (pool.pick < 1 || pool.pick > pool.members.size()) {
      return make_error(what + ": pick must be 1.." + std::to_string(pool.members.size()));
    }
    if (pool.spillover && pool.policy != PoolPolicy::failover &&
        pool.policy != PoolPolicy::nearest) {
      return make_error(what + ": spillover is only for policies failover and nearest");
    }
    if (pool.policy == PoolPolicy::nearest) {
      for (uint32_t m : pool.members) {
        if (is_pool(m)) return make_error(what + ": a nearest pool's members must be datacenters");
        if (!dcs[m].has_location) {
          return make_error(what + ": datacenter \"" + dcs[m].name + "\" has no location");
        }
      }
    }
    pool.hash_seed = name_hash(pool.name);
  }
  std::vector<uint8_t> state(pools.size(), 0);
  std::vector<uint32_t> path;
  for (uint32_t p = 0; p < pools.size(); ++p) {
    path.clear();
    if (auto st = visit_pool(pools, dcs, p, state, path); !st) return st;
  }
  for (const Pool& p : pools) {
    if (!p.spillover) continue;
    if (auto st = check_capacity_set(p.members, p.policy == PoolPolicy::nearest, dcs, pools,
                                     "pool \"" + p.name + "\"");
        !st)
      return st;
  }
  return {};
}

Status check_spillover_capacity(const Rule& rule, std::span<const Datacenter> dcs,
                                std::span<const Pool> pools) {
  if (!rule.spillover) return {};
  if (auto st = check_capacity_set(rule.datacenters, rule.policy == Policy::nearest, dcs, pools,
                                   "datacenters");
      !st)
    return st;
  for (const auto& [key, list] : rule.map) {
    if (auto st = check_capacity_set(list, false, dcs, pools, "map." + key); !st) return st;
  }
  for (const auto& [prefix, list] : rule.nets) {
    if (auto st = check_capacity_set(list, false, dcs, pools, "nets." + prefix.to_string()); !st)
      return st;
  }
  return {};
}

Status Rule::compile(size_t dc_count, std::span<const Pool> pools) {
  by_country.clear();
  by_continent.clear();
  by_subdivision.clear();
  by_asn.clear();
  default_list.reset();
  lists.clear();
  net_table = geo::CidrTable();

  if (answers == 0) return make_error("answers must be at least 1");
  if (degraded_ttl_s > ttl_s) degraded_ttl_s = ttl_s;
  if (on_all_down == AllDown::fallback &&
      (is_pool(fallback_dc) ? pool_index(fallback_dc) >= pools.size() : fallback_dc >= dc_count)) {
    return make_error("on_all_down: unknown datacenter or pool");
  }

  switch (policy) {
    case Policy::geo: {
      if (map.empty()) return make_error("policy \"geo\" needs a map");
      for (const auto& [key, list] : map) {
        if (auto st = check_list(list, dc_count, pools.size(), "map." + key); !st) return st;
        std::string why;
        auto kind = classify_map_key(key, &why);
        if (!kind) return make_error(why);
        const auto idx = static_cast<uint32_t>(lists.size());
        lists.push_back(list);
        switch (*kind) {
          case MapKeyKind::continent:
            by_continent.emplace_back(pack2(key), idx);
            break;
          case MapKeyKind::country:
            by_country.emplace_back(pack2(key), idx);
            break;
          case MapKeyKind::subdivision:
            by_subdivision.emplace_back(key, idx);
            break;
          case MapKeyKind::asn:
            by_asn.emplace_back(*parse_asn_key(key), idx);
            break;
          case MapKeyKind::fallback_default:
            default_list = idx;
            break;
        }
      }
      if (!default_list) return make_error("policy \"geo\" needs map.default");
      break;
    }
    case Policy::nearest:
      for (uint32_t m : datacenters) {
        if (is_pool(m)) return make_error("policy \"nearest\" ranks datacenters, not pools");
      }
      [[fallthrough]];
    case Policy::failover:
    case Policy::roundrobin:
      if (auto st = check_list(datacenters, dc_count, pools.size(), "datacenters"); !st) {
        return st;
      }
      break;
    case Policy::weighted:
    case Policy::hashed:
      if (auto st = check_list(datacenters, dc_count, pools.size(), "datacenters"); !st) {
        return st;
      }
      if (weights.empty()) weights.assign(datacenters.size(), 1);
      if (weights.size() != datacenters.size()) {
        return make_error("weights must give one weight per datacenter");
      }
      for (uint32_t w : weights) {
        if (w < 1 || w > 1000) return make_error("weight must be 1..1000");
      }
      break;
  }

  if (!nets.empty() && policy != Policy::geo && policy != Policy::nearest) {
    return make_error("nets overrides only apply to the geo and nearest policies");
  }
  for (const auto& [prefix, list] : nets) {
    if (auto st = check_list(list, dc_count, pools.size(), "nets." + prefix.to_string()); !st) {
      return st;
    }
    const auto idx = static_cast<uint32_t>(lists.size());
    lists.push_back(list);
    if (!net_table.insert(prefix, idx)) {
      return make_error("duplicate nets entry " + prefix.to_string());
    }
  }

  std::sort(by_country.begin(), by_country.end());
  std::sort(by_continent.begin(), by_continent.end());
  std::sort(by_subdivision.begin(), by_subdivision.end());
  std::sort(by_asn.begin(), by_asn.end());
  for (size_t i = 1; i < by_asn.size(); ++i) {
    if (by_asn[i].first == by_asn[i - 1].first) {
      return make_error("map key AS" + std::to_string(by_asn[i].first) + " is given twice");
    }
  }
  if (spillover && policy != Policy::geo && policy != Policy::nearest &&
      policy != Policy::failover) {
    return make_error("spillover is only for policies geo, nearest and failover");
  }
  depends_on_client =
      policy == Policy::geo || policy == Policy::nearest || policy == Policy::hashed || spillover;
  lists_need_location = false;
  auto reaches = [&](const DcList& list) {
    bool client = false;
    for (uint32_t m : list) {
      if (!is_pool(m)) continue;
      const Pool& p = pools[pool_index(m)];
      lists_need_location = lists_need_location || p.needs_location;
      client = client || p.needs_location || p.needs_client;
    }
    return client;
  };
  if (reaches(datacenters)) depends_on_client = true;
  // A fallback pool that hashes on the client subnet (or ranks by distance) makes the
  // all-down answer depend on the client too.
  if (on_all_down == AllDown::fallback && reaches(DcList{fallback_dc})) depends_on_client = true;
  for (const auto& l : lists) {
    if (reaches(l)) depends_on_client = true;
  }
  return {};
}

}  // namespace geodns::steer
