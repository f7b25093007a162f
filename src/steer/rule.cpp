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
  }
  return "?";
}

std::optional<Policy> parse_policy(std::string_view text) {
  if (text == "geo") return Policy::geo;
  if (text == "nearest") return Policy::nearest;
  if (text == "failover") return Policy::failover;
  if (text == "weighted") return Policy::weighted;
  if (text == "roundrobin") return Policy::roundrobin;
  return std::nullopt;
}

std::optional<MapKeyKind> classify_map_key(std::string_view key, std::string* why) {
  auto fail = [&](std::string msg) -> std::optional<MapKeyKind> {
    if (why != nullptr) *why = std::move(msg);
    return std::nullopt;
  };
  if (key == "default") return MapKeyKind::fallback_default;
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
              "\" must be a continent (\"EU\"), a country (\"DE\"), a subdivision (\"US-CA\") "
              "or \"default\"");
}

namespace {

uint16_t pack2(std::string_view code) {
  return static_cast<uint16_t>((static_cast<unsigned char>(code[0]) << 8) |
                               static_cast<unsigned char>(code[1]));
}

Status check_list(const DcList& list, size_t dc_count, const std::string& what) {
  if (list.empty()) return make_error(what + ": the datacenter list is empty");
  for (uint32_t dc : list) {
    if (dc >= dc_count) return make_error(what + ": datacenter index out of range");
  }
  return {};
}

}  // namespace

Status Rule::compile(size_t dc_count) {
  by_country.clear();
  by_continent.clear();
  by_subdivision.clear();
  default_list.reset();
  lists.clear();
  net_table = geo::CidrTable();

  if (answers == 0) return make_error("answers must be at least 1");
  if (degraded_ttl_s > ttl_s) degraded_ttl_s = ttl_s;
  if (on_all_down == AllDown::fallback && fallback_dc >= dc_count) {
    return make_error("on_all_down: unknown datacenter");
  }

  switch (policy) {
    case Policy::geo: {
      if (map.empty()) return make_error("policy \"geo\" needs a map");
      for (const auto& [key, list] : map) {
        if (auto st = check_list(list, dc_count, "map." + key); !st) return st;
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
          case MapKeyKind::fallback_default:
            default_list = idx;
            break;
        }
      }
      if (!default_list) return make_error("policy \"geo\" needs map.default");
      break;
    }
    case Policy::nearest:
    case Policy::failover:
    case Policy::roundrobin:
      if (auto st = check_list(datacenters, dc_count, "datacenters"); !st) return st;
      break;
    case Policy::weighted:
      if (auto st = check_list(datacenters, dc_count, "datacenters"); !st) return st;
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
    if (auto st = check_list(list, dc_count, "nets." + prefix.to_string()); !st) return st;
    const auto idx = static_cast<uint32_t>(lists.size());
    lists.push_back(list);
    if (!net_table.insert(prefix, idx)) {
      return make_error("duplicate nets entry " + prefix.to_string());
    }
  }

  std::sort(by_country.begin(), by_country.end());
  std::sort(by_continent.begin(), by_continent.end());
  std::sort(by_subdivision.begin(), by_subdivision.end());
  depends_on_client = policy == Policy::geo || policy == Policy::nearest;
  return {};
}

}  // namespace geodns::steer
