// The immutable snapshot the workers answer from: every zone's records in wire format, its
// datacenters and steering rules, and the health targets they need. Built completely by the
// loader, then published; nothing reachable from a published ZoneSet is ever mutated.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "steer/rule.h"
#include "steer/target.h"

namespace geodns::zone {

// Hash/equality over wire-format names that are already lower case, usable with
// std::string_view keys without building a std::string (C++20 heterogeneous lookup).
struct NameHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept;
};
struct NameEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
};

struct RRset {
  uint16_t type = 0;
  uint32_t ttl_s = 0;
  // RDATA in wire format, one entry per record, names uncompressed and as written (case
  // preserved). Order = file order; no duplicates.
  std::vector<std::string> rdatas;
};

struct Node {
  std::string name;                 // wire format, lower case, absolute
  std::vector<RRset> rrsets;        // at most one per type, sorted by type
  int32_t rule = -1;                // index into Zone::rules: a steered name (A/AAAA from policy)
  bool is_delegation = false;       // has NS and is not the apex: a zone cut
  int32_t cut = -1;                 // nearest delegation node at or above this one (below the
                                    // apex), or -1: everything at or below a cut is occluded
  bool is_wildcard = false;         // first label is "*"
  bool has_wildcard_child = false;  // "*.<this name>" exists: lets NXDOMAIN skip a lookup

  const RRset* find(uint16_t type) const noexcept {
    for (const auto& r : rrsets) {
      if (r.type == type) return &r;
    }
    return nullptr;
  }
  bool empty_nonterminal() const noexcept { return rrsets.empty() && rule < 0; }
};

struct Zone {
  std::string origin;       // wire format, lower case ("\7example\3com\0")
  std::string origin_text;  // "example.com."
  std::string source_file;  // "zones/example.com.toml"
  uint32_t serial = 0;
  uint32_t negative_ttl_s = 0;  // min(SOA TTL, SOA MINIMUM), RFC 2308 section 5
  uint64_t content_hash = 0;    // of the source text: unchanged file -> unchanged serial
  std::vector<Node> nodes;      // nodes[0] is the apex; every ancestor of a node up to the
                                // apex exists (empty non-terminals included)
  std::unordered_map<std::string, uint32_t, NameHash, NameEq> index;  // name -> node
  std::vector<steer::Datacenter> datacenters;
  std::vector<steer::Rule> rules;
  std::vector<steer::TargetSpec> targets;  // every (address, check) of its datacenters

  const Node& apex() const noexcept { return nodes[0]; }
  const Node* find(std::string_view lower_wire_name) const noexcept {
    auto it = index.find(lower_wire_name);
    return it == index.end() ? nullptr : &nodes[it->second];
  }
};

using ZonePtr = std::shared_ptr<const Zone>;

struct ZoneSet {
  static constexpr size_t kScanZones = 8;  // up to this many zones, find_zone scans
  std::vector<ZonePtr> zones;
  std::unordered_map<std::string, uint32_t, NameHash, NameEq> by_origin;  // origin -> zones[i]
  std::vector<steer::TargetSpec> targets;  // deduplicated by id, across all zones
  uint64_t generation = 0;

  // The zone whose origin is the longest suffix of `lower_wire_name`, or nullptr.
  const Zone* find_zone(std::string_view lower_wire_name) const noexcept;
  // Rebuilds by_origin and the deduplicated targets from `zones`.
  void reindex();
};

using ZoneSetPtr = std::shared_ptr<const ZoneSet>;

}  // namespace geodns::zone
