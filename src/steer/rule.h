// Steered names: datacenters and the rule that picks among them. Filled in by src/zone from
// TOML, then compile()d into lookup tables; immutable once published in a ZoneSet.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
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
  uint32_t weight = 1;  // its share of first places within the datacenter (address_weights)
};

struct Datacenter {
  std::string name;  // "fra"
  std::string key;   // its identity, datacenter_key(): "fra" (server's) or "example.com/fra"
  DcId id = 0;       // override slot of this zone's use of it (steer::DcSlot, target.h)
  std::vector<DcAddress> v4;
  std::vector<DcAddress> v6;
  bool has_location = false;
  double latitude = 0;
  double longitude = 0;
  std::string check;  // name of its check, "" = none
  // Up for a family only while at least this many of its addresses of that family are healthy
  // (gdnsd's up_thresh): the larger of the count and the percentage (rounded up), capped at the
  // family's address count, and never below 1.
  uint32_t min_up = 1;
  uint32_t min_up_percent = 0;       // 0..100
  uint32_t capacity = 1;             // share of a failed datacenter's clients it takes on spillover
  bool has_capacity = false;         // `capacity` was written (unset counts as 1)
  uint64_t hash_seed = 0;            // name_hash(name): rendezvous hashing, stable across restarts
  bool has_address_weights = false;  // some DcAddress::weight is not 1
  // A CDN hostname this datacenter answers with as a CNAME (wire format, case as written),
  // or "" for a datacenter of addresses. A target datacenter holds its probe address as the
  // one DcAddress of both v4 and v6, so that the policies and health treat it like any other.
  std::string target;
};

// 64-bit FNV-1a of a name. Rendezvous scores are seeded with it (not with DcId, which depends
// on interning order), so a client keeps its datacenter across restarts and reloads.
uint64_t name_hash(std::string_view name) noexcept;

enum class Policy : uint8_t { geo, nearest, failover, weighted, roundrobin, hashed };
std::string_view policy_name(Policy p);
std::optional<Policy> parse_policy(std::string_view text);

// What happens when every candidate datacenter is down.
enum class AllDown : uint8_t {
  all,       // fail open: answer as if every candidate were up, with the short TTL (default)
  fallback,  // answer from `fallback_dc` (a datacenter, or a pool by its policy) whatever its
             // health
  nodata,    // NOERROR with no answer (the operator asked for it explicitly)
};

// A map key's kind, in precedence order (most specific first; nets beat them all). An ASN
// (the client network's operator) is more specific than any place it serves.
enum class MapKeyKind : uint8_t { asn, subdivision, country, continent, fallback_default };

// "AS15169" (any case of "AS", 1..4294967295 without leading zeros) -> 15169, else nullopt.
std::optional<uint32_t> parse_asn_key(std::string_view key);

// Classifies a `map.KEY` key: "AS15169" ASN, "EU" continent, "DE" country, "US-CA"
// subdivision, "default".
// Returns nullopt (with a reason) for anything else, including unknown codes.
std::optional<MapKeyKind> classify_map_key(std::string_view key, std::string* why);

// A list member is a datacenter index, or kPoolBit | an index into the zone's pools. The
// encoding keeps a list a plain vector of integers, opaque to the compiled rule tables.
using DcList = std::vector<uint32_t>;
inline constexpr uint32_t kPoolBit = 0x80000000U;
inline constexpr bool is_pool(uint32_t member) noexcept {
  return (member & kPoolBit) != 0;
}
inline constexpr uint32_t pool_index(uint32_t member) noexcept {
  return member & ~kPoolBit;
}
inline constexpr uint32_t pool_member(uint32_t index) noexcept {
  return index | kPoolBit;
}

inline constexpr size_t kMaxPoolDepth = 4;     // a rule's list, then at most 4 nested pools
inline constexpr size_t kMaxPoolMembers = 64;  // per pool or list (stack arrays per query)

enum class PoolPolicy : uint8_t {
  failover,    // members in order: the first `pick` that are up
  nearest,     // members by distance from the client, then as failover
  weighted,    // `pick` members by weight, sticky per resolver (packet source address)
  roundrobin,  // every member that is up (a union)
  hashed,      // `pick` members by rendezvous hash of the client subnet (/24, /56), by weight
};
std::string_view pool_policy_name(PoolPolicy p);
std::optional<PoolPolicy> parse_pool_policy(std::string_view text);

// A [pools.NAME] table: a named set of datacenters and pools with its own policy. A pool is
// up while it yields at least one datacenter; that is what the list around it sees.
struct Pool {
  std::string name;
  PoolPolicy policy = PoolPolicy::failover;
  DcList members;
  std::vector<uint32_t> weights;  // parallel to members (weighted, hashed); 1..1000
  uint32_t pick = 1;              // members it answers with (not roundrobin: all)
  bool spillover = false;         // failover, nearest: spread a failed member's clients
  uint64_t hash_seed = 0;         // name_hash(name)
  // --- built by compile_pools() ---
  uint64_t capacity = 1;        // sum of its datacenters' capacities: its weight on spillover
  uint32_t height = 1;          // 1: only datacenters; n: contains a pool of height n-1
  bool needs_location = false;  // a nearest pool is reachable from it
  bool needs_client = false;    // a hashed pool or spillover is reachable (per-subnet answer)
};

// Checks every pool (members in range, weights, pick, no cycle, height <= kMaxPoolDepth) and
// fills the derived fields. Errors name the pool; src/zone adds positions.
Status compile_pools(std::vector<Pool>& pools, std::span<const Datacenter> dcs);

struct Rule {
  // --- as configured (src/zone fills these) ---
  std::string owner;  // "www.example.com." (text, for explain and logs)
  Policy policy = Policy::geo;
  uint32_t ttl_s = 30;
  uint32_t degraded_ttl_s = 10;  // used while degraded or failing open (<= ttl_s)
  uint32_t answers = 2;          // at most this many addresses per answer (>= 1; roundrobin: all)
  std::vector<std::pair<std::string, DcList>> map;  // geo: key as written -> ordered list
  std::vector<std::pair<IpPrefix, DcList>> nets;    // geo and nearest: CIDR overrides
  DcList datacenters;             // nearest / failover / weighted / roundrobin: the candidates
  std::vector<uint32_t> weights;  // weighted, hashed: parallel to `datacenters`, 1..1000
  // geo, nearest, failover: a failed first choice's clients are spread over the healthy rest
  // in proportion to capacity, per client subnet, instead of all landing on the next one.
  bool spillover = false;
  AllDown on_all_down = AllDown::all;
  uint32_t fallback_dc = 0;  // AllDown::fallback: a list member (datacenter, or kPoolBit | pool)

  // --- built by compile() ---
  // Country and continent keys packed as two ASCII letters (c0 << 8 | c1).
  std::vector<std::pair<uint16_t, uint32_t>> by_country;         // -> index into lists
  std::vector<std::pair<uint16_t, uint32_t>> by_continent;       // -> index into lists
  std::vector<std::pair<std::string, uint32_t>> by_subdivision;  // "US-CA" -> index
  // ASN keys, sorted. The compiler lays the ASN database's networks of these numbers over the
  // rule's geography (steer/compiled.h).
  std::vector<std::pair<uint32_t, uint32_t>> by_asn;  // -> index into lists
  std::optional<uint32_t> default_list;
  std::vector<DcList> lists;  // map lists, then nets lists
  geo::CidrTable net_table;   // prefix -> index into lists
  // True when the answer may depend on the client: geo, nearest, hashed, spillover, or a pool
  // reachable from the rule that needs the client's location or subnet. The pipeline then
  // locates the client; false gives ECS scope 0.
  bool depends_on_client = true;
  // A nearest pool is reachable from a map, nets or datacenters list: the answer depends on the
  // client's coordinates beyond the list itself, so a table compiled per list (one list ->
  // one merged network) must not decide such a rule alone.
  bool lists_need_location = false;

  // Checks the configuration against `dc_count` datacenters and the zone's (already compiled)
  // pools, and builds the lookup tables.
  Status compile(size_t dc_count, std::span<const Pool> pools = {});
};

// Spillover spreads a failed member's clients by capacity; an unset capacity counts as 1. A
// set spread over (one list of a spillover rule with the datacenters of the pools in it; a
// spillover pool's members are checked by compile_pools()) must have capacity on every
// datacenter or on none: `capacity = 300` beside an unset one would give the latter a share
// of 1 in 301, which is never what the operator meant. Call after Rule::compile().
Status check_spillover_capacity(const Rule& rule, std::span<const Datacenter> dcs,
                                std::span<const Pool> pools);

}  // namespace geodns::steer
