// The steering policies: pure functions of (rule, client, health view) -> addresses. Called
// per query on the packet path: no allocation, no lock, no exception (unless a Trace is asked
// for, which only `geodns explain` does).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/ip.h"
#include "geo/location.h"
#include "steer/health_view.h"
#include "steer/rule.h"

namespace geodns::steer {

inline constexpr size_t kMaxAnswerAddresses = 64;
inline constexpr size_t kMaxChosen = 16;  // datacenters one answer may combine (unions)

// What a rule's lists point into: the zone's datacenters and pools (a list member with
// kPoolBit set indexes `pools`).
struct Fleet {
  std::span<const Datacenter> dcs;
  std::span<const Pool> pools;
};

struct ClientView {
  IpAddress address;  // the address that decides (ECS address, or packet source)
  IpAddress
      source;  // the packet's source (the resolver, v4-mapped or not); family 0: use `address`
  uint8_t max_scope = 0;  // the ECS scope may not exceed this (effective source prefix)
  const geo::Location* location = nullptr;  // nullptr: no database configured
  // Set when a compiled rule table (built at load time against the GeoIP database and the
  // rule's `nets`) has already decided: the candidate list for this client and the length of
  // the merged network that holds it. evaluate() then skips the nets/map/nearest lookups and
  // announces `list_scope` as the ECS scope (RFC 7871 7.2.1: it may exceed the source prefix).
  const DcList* list = nullptr;
  uint8_t list_scope = 0;
};

// Why an answer is what it is: only filled for `explain` (it allocates).
struct Trace {
  struct Candidate {
    uint32_t dc = 0;
    uint32_t up = 0;     // healthy addresses of the family looked at
    uint32_t total = 0;  // addresses of that family
    uint32_t need = 0;   // min_up in force for it (0: no address of the family)
    uint8_t family = 4;
    Override override_state = Override::none;
    double distance_km = -1;
    std::string via;   // the pools it was reached through: "eu > eu_main"
    std::string note;  // "weight 70/100, hash rank 1", "spillover share 30/60", ...
    bool chosen = false;
  };
  std::string matched;             // "nets 203.0.113.0/24", "map.EU", "map.default", "nearest", ...
  std::vector<std::string> steps;  // the chain: pools entered, spillover, A/AAAA pairing
  std::vector<Candidate> candidates;  // in the order they were considered
  std::string outcome;
  std::string scope_why;  // how the ECS scope was derived
};

struct Decision {
  const IpAddress* addresses[kMaxAnswerAddresses] = {};
  uint32_t count = 0;
  uint32_t ttl_s = 0;
  uint8_t scope = 0;              // ECS scope prefix for the response
  int32_t dc = -1;                // the datacenter that answered; -1 if several or none
  uint32_t dcs[kMaxChosen] = {};  // every datacenter that answered, in the order chosen
  uint32_t dc_count = 0;
  bool per_subnet = false;   // a hashed or spillover choice used the client's /24 or /56
  bool degraded = false;     // health changed this answer: short TTL
  bool failed_open = false;  // every candidate was down; answered per on_all_down
  bool nodata = false;       // nothing to answer with (no address of this family, or nodata)
};

inline constexpr size_t kMaxNearestCandidates = 256;

// The `map` list a geo rule gives a located client (subdivision > country > continent >
// default; `nets` are the caller's business). Also used at load time to compile the rule
// against every network of the database, so both paths decide alike.
const DcList& map_list(const Rule& rule, const geo::Location* location, Trace* trace) noexcept;

// A nearest rule's candidates ordered by great-circle distance from `location` (configured
// order when it has no coordinates; datacenters without coordinates last). Writes at most
// kMaxNearestCandidates entries to `order` and `dist` (km, -1 when unknown); returns the count.
size_t nearest_order(const Rule& rule, std::span<const Datacenter> dcs,
                     const geo::Location* location, uint32_t* order, double* dist,
                     Trace* trace) noexcept;

// `family` is 4 (A) or 6 (AAAA). `rotation` is a per-query counter: it rotates the addresses
// within the chosen datacenters. Which datacenters answer never depends on it: weighted picks
// are sticky per resolver and hashed ones per client subnet, so A and AAAA agree.
void evaluate(const Rule& rule, const Fleet& fleet, uint8_t family, const ClientView& client,
              const HealthView& health, uint64_t rotation, Decision* out,
              Trace* trace = nullptr) noexcept;
// A zone without pools.
inline void evaluate(const Rule& rule, std::span<const Datacenter> dcs, uint8_t family,
                     const ClientView& client, const HealthView& health, uint64_t rotation,
                     Decision* out, Trace* trace = nullptr) noexcept {
  evaluate(rule, Fleet{dcs, {}}, family, client, health, rotation, out, trace);
}

}  // namespace geodns::steer
