// Steered names: datacenters and the rule that picks among them. Filled in by src/zone from
// TOML, then compile()d into lookup tables; immutable once published in a ZoneSet.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip.h"
#include "common/result.h"
#include "geo/cidr_table.h"
#include "steer/health_view.h"

namespace geodns::steer {

struct DcAddress {
  IpAddress ip;
  TargetId target = 0;  // every address has a target, "none" checks included (for overrides)
};

struct Datacenter {
  std::string name;  // "fra"
  std::string key;   // its identity, datacenter_key(): "fra" (server's) or "example.com/fra"
  DcId id = 0;       // dc_ids().intern(key): one id for a server datacenter in every zone
  std::vector<DcAddress> v4;
  std::vector<DcAddress> v6;
  bool has_location = false;
  double latitude = 0;
  double longitude = 0;
  std::string check;  // name of its check, "" = none
  // A CDN hostname this datacenter answers with as a CNAME (wire format, case as written),
  // or "" for a datacenter of addresses. A target datacenter holds its probe address as the
  // one DcAddress of both v4 and v6, so that the policies and health treat it like any other.
  std::string target;
};

enum class Policy : uint8_t { geo, nearest, failover, weighted, roundrobin };
std::string_view policy_name(Policy p);
std::optional<Policy> parse_policy(std::string_view text);

// What happens when every candidate datacenter is down.
enum class AllDown : uint8_t {
  all,       // fail open: answer as if every candidate were up, with the short TTL (default)
  fallback,  // answer from `fallback_dc` whatever its health
  nodata,    // NOERROR with no answer (the operator asked for it explicitly)
};

// A map key's kind, in precedence order (most specific first; nets beat them all).
enum class MapKeyKind : uint8_t { subdivision, country, continent, fallback_default };

// Classifies a `map.KEY` key: "EU" continent, "DE" country, "US-CA" subdivision, "default".
// Returns nullopt (with a reason) for anything else, including unknown codes.
std::optional<MapKeyKind> classify_map_key(std::string_view key, std::string* why);

using DcList = std::vector<uint32_t>;  // indexes into the zone's datacenter vector, in order

struct Rule {
  // --- as configured (src/zone fills these) ---
  std::string owner;  // "www.example.com." (text, for explain and logs)
  Policy policy = Policy::geo;
  uint32_t ttl_s = 30;
  uint32_t degraded_ttl_s = 10;  // used while degraded or failing open (<= ttl_s)
  uint32_t answers = 2;          // at most this many addresses per answer (>= 1)
  std::vector<std::pair<std::string, DcList>> map;  // geo: key as written -> ordered list
  std::vector<std::pair<IpPrefix, DcList>> nets;    // geo and nearest: CIDR overrides
  DcList datacenters;             // nearest / failover / weighted / roundrobin: the candidates
  std::vector<uint32_t> weights;  // weighted: parallel to `datacenters`, 1..1000
  AllDown on_all_down = AllDown::all;
  uint32_t fallback_dc = 0;  // AllDown::fallback

  // --- built by compile() ---
  // Country and continent keys packed as two ASCII letters (c0 << 8 | c1).
  std::vector<std::pair<uint16_t, uint32_t>> by_country;         // -> index into lists
  std::vector<std::pair<uint16_t, uint32_t>> by_continent;       // -> index into lists
  std::vector<std::pair<std::string, uint32_t>> by_subdivision;  // "US-CA" -> index
  std::optional<uint32_t> default_list;
  std::vector<DcList> lists;      // map lists, then nets lists
  geo::CidrTable net_table;       // prefix -> index into lists
  bool depends_on_client = true;  // false for failover/weighted/roundrobin (ECS scope 0)

  // Checks the configuration against `dc_count` datacenters and builds the lookup tables.
  Status compile(size_t dc_count);
};

}  // namespace geodns::steer
