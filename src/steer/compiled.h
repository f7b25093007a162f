// A geo or nearest rule compiled against every network of the GeoIP database: one map from
// client address to the rule's candidate list, built at load time with the same map_list() /
// nearest_order() the query path uses, so the packet path of a compiled rule does no database
// lookup and no map matching. Immutable once built. Rules with identical targeting share one
// table (canonical_key()); rules whose map decides alike share the database part of it and
// differ only by the small patch their `nets` make (CompileCache).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "geo/mmdb_walk.h"
#include "geo/prefix_map.h"
#include "steer/rule.h"

namespace geodns::steer {

// The database runs of one class -> list function, with the lists its values index.
struct CompiledBase {
  std::string key;  // the function, as CompileCache keys it
  std::shared_ptr<const geo::PrefixMap::Base> runs;
  std::vector<DcList> lists;
};

// Bases built during one compile of a ZoneSet, keyed by the class -> list function (and the
// ASN class -> list function of a rule with ASN keys). `previous` (bases of the last compile
// against the same network indexes) is consulted first.
struct CompileCache {
  std::unordered_map<std::string, std::shared_ptr<const CompiledBase>> bases;
  const CompileCache* previous = nullptr;
};

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
  const std::shared_ptr<const CompiledBase>& base() const noexcept { return base_; }
  size_t own_bytes() const noexcept;  // without the (shared) base

  // Nullptr for a rule that does not depend on the client's location (failover, weighted,
  // roundrobin): those stay on the runtime path, which needs no lookup anyway. `cache` may
  // be nullptr. `asn_index` is the ASN database's networks ([server] asn_db; nullptr: none):
  // a rule with ASN keys gets them laid over its geography (ASN beats places, nets beat ASN).
  // Without an ASN database no client has an ASN, so such keys never match, as at runtime.
  static std::shared_ptr<const CompiledRule> compile(const Rule& rule,
                                                     std::span<const Datacenter> dcs,
                                                     const geo::NetworkIndex& index,
                                                     CompileCache* cache = nullptr,
                                                     const geo::NetworkIndex* asn_index = nullptr);

 private:
  std::shared_ptr<const CompiledBase> base_;
  geo::PrefixMap map_;
  std::vector<DcList> lists_;  // the base's lists, then the nets lists it lacks
};

// Everything a compiled table depends on, as bytes: two rules with equal keys compile to the
// same table (geo: the map, its ASN keys and nets lists; nearest: the candidates, their
// coordinates, nets).
// Empty for a rule that is not compiled.
std::string canonical_key(const Rule& rule, std::span<const Datacenter> dcs);

}  // namespace geodns::steer
