// A geo or nearest rule compiled against every network of the GeoIP database: one prefix map
// from client address to the rule's candidate list, built at load time with the same
// map_list() / nearest_order() the query path uses, so the packet path of a compiled rule does
// no database lookup and no map matching. Immutable once built; rules with identical targeting
// share one table (see canonical_key()).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "geo/mmdb_walk.h"
#include "geo/prefix_map.h"
#include "steer/rule.h"

namespace geodns::steer {

class CompiledRule {
 public:
  // The candidate list for `addr` and the length of the merged network that holds it (the
  // widest prefix over which the list is the same). A v4-mapped address counts IPv4 bits.
  bool lookup(const IpAddress& addr, const DcList** list, uint8_t* length) const noexcept {
    geo::PrefixMap::Match m;
    if (!map_.lookup(addr, &m)) return false;
    *list = &lists_[m.value];
    *length = m.length;
    return true;
  }

  const geo::PrefixMap& map() const noexcept { return map_; }
  std::span<const DcList> lists() const noexcept { return lists_; }
  size_t bytes() const noexcept;

  // Nullptr for a rule that does not depend on the client's location (failover, weighted,
  // roundrobin): those stay on the runtime path, which needs no lookup anyway.
  static std::shared_ptr<const CompiledRule> compile(const Rule& rule,
                                                     std::span<const Datacenter> dcs,
                                                     const geo::NetworkIndex& index);

 private:
  geo::PrefixMap map_;
  std::vector<DcList> lists_;  // interned: each distinct list once
};

// Everything a compiled table depends on, as bytes: two rules with equal keys compile to the
// same table (geo: the map and nets lists; nearest: the candidates, their coordinates, nets).
// Empty for a rule that is not compiled.
std::string canonical_key(const Rule& rule, std::span<const Datacenter> dcs);

}  // namespace geodns::steer
