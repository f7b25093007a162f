// The immutable snapshot the workers answer from: every zone's records in wire format, its
// datacenters and steering rules, and the health targets they need. Built completely by the
// loader, then published; nothing reachable from a published ZoneSet is ever mutated.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dnssec/zone_signing.h"
#include "steer/rule.h"
#include "steer/target.h"
#include "zone/config.h"

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

// Names and RDATA live in one block of bytes per zone (Zone::storage); RRset and Node hold
// views into it. A million-name zone then costs about a hundred bytes per name instead of
// several separately allocated strings and vectors (docs/decisions.md, "Compact zones").
struct RRset {
  uint16_t type = 0;
  uint32_t ttl_s = 0;
  // RDATA in wire format, one entry per record, names uncompressed and as written (case
  // preserved). Order = file order; no duplicates.
  std::span<const std::string_view> rdatas;
};

struct Node {
  std::string_view name;            // wire format, lower case, absolute
  std::span<const RRset> rrsets;    // at most one per type, sorted by type
  int32_t rule = -1;                // index into Zone::rules: a steered name (A/AAAA from policy)
  int32_t cut = -1;                 // nearest delegation node at or above this one (below the
                                    // apex), or -1: everything at or below a cut is occluded
  bool is_delegation = false;       // has NS and is not the apex: a zone cut
  bool is_wildcard = false;         // first label is "*"
  bool has_wildcard_child = false;  // "*.<this name>" exists: lets NXDOMAIN skip a lookup
  bool may_cname = false;  // steered, and the rule can pick a target datacenter: then every
                           // query type is steered, since a CNAME answers for all of them
  bool has_dname = false;  // a DNAME RRset: names below are answered by synthesis (RFC 6672);
                           // the builder refuses names below it, so it is their encloser

  const RRset* find(uint16_t type) const noexcept {
    for (const auto& r : rrsets) {
      if (r.type == type) return &r;
    }
    return nullptr;
  }
  bool empty_nonterminal() const noexcept { return rrsets.empty() && rule < 0; }
};

// Inline: every query hashes its name at least once. Names are short (20-40 bytes typical): mix
// eight bytes at a time rather than one (FNV-1a did one multiply per byte, which was a visible
// share of a query). The keys come from the operator's zone files, not from clients, so a seeded
// hash buys nothing here.
inline uint64_t hash_name(std::string_view s) noexcept {
  constexpr uint64_t kMul1 = 0xbf58476d1ce4e5b9ULL;
  constexpr uint64_t kMul2 = 0x94d049bb133111ebULL;
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ s.size();
  const char* p = s.data();
  size_t n = s.size();
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    h = (h ^ v) * kMul1;
    h ^= h >> 31;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    // The last 1..7 bytes as the low bytes of a word (a memcpy of n bytes, which would be a
    // library call), from loads that stay inside the name.
    uint64_t v = 0;
    if (s.size() >= 8) {
      std::memcpy(&v, p + n - 8, 8);
      v >>= 8 * (8 - n);
    } else if (n >= 4) {
      uint32_t lo;
      uint32_t hi;
      std::memcpy(&lo, p, 4);
      std::memcpy(&hi, p + n - 4, 4);
      v = uint64_t{lo} | (uint64_t{hi} << (8 * (n - 4)));
    } else {
      for (size_t i = 0; i < n; ++i) v |= uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
    }
    h = (h ^ v) * kMul1;
    h ^= h >> 31;
  }
  h *= kMul2;
  return h ^ (h >> 29);
}

// Equality of two names' bytes without a library call (a memcmp of varying length is one,
// and each query compares a few names): eight bytes at a time, the last word overlapping.
inline bool same_bytes(const char* a, const char* b, size_t n) noexcept {
  if (n >= 8) {
    uint64_t x;
    uint64_t y;
    for (size_t i = 0; i + 8 <= n; i += 8) {
      std::memcpy(&x, a + i, 8);
      std::memcpy(&y, b + i, 8);
      if (x != y) return false;
    }
    std::memcpy(&x, a + n - 8, 8);
    std::memcpy(&y, b + n - 8, 8);
    return x == y;
  }
  if (n >= 4) {
    uint32_t x0;
    uint32_t y0;
    uint32_t x1;
    uint32_t y1;
    std::memcpy(&x0, a, 4);
    std::memcpy(&y0, b, 4);
    std::memcpy(&x1, a + n - 4, 4);
    std::memcpy(&y1, b + n - 4, 4);
    return x0 == y0 && x1 == y1;
  }
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}
inline bool same_name(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && same_bytes(a.data(), b.data(), a.size());
}

// name -> number (of a node, or of anything else with a name), open addressing with linear
// probing over a power-of-two table kept at most half full. A slot holds the upper half of the
// name's hash and the number + 1 (0 = empty), so a probe reads the name itself (through
// `name_at(number)`) only when the hash halves agree. The names live with their owner.
class NameIndex {
 public:
  // Room for `names` names without growing; only on an empty index.
  void reserve(size_t names) {
    if (count_ != 0) return;
    size_t capacity = 16;
    while (capacity < names * 2) capacity *= 2;
    slots_.assign(capacity, 0);
    mask_ = capacity - 1;
  }

  // Adds `name` as number `i` unless it is there already; returns the number it has.
  template <class NameAt>
  uint32_t insert(std::string_view name, uint32_t i, const NameAt& name_at) {
    if ((count_ + 1) * 2 > slots_.size()) grow(name_at);
    const uint64_t h = hash_name(name);
    for (size_t slot = static_cast<size_t>(h) & mask_;; slot = (slot + 1) & mask_) {
      const uint64_t v = slots_[slot];
      if (v == 0) {
        slots_[slot] = (h & kTagMask) | (uint64_t{i} + 1);
        ++count_;
        return i;
      }
      const auto other = static_cast<uint32_t>((v & ~kTagMask) - 1);
      if ((v & kTagMask) == (h & kTagMask) && name_at(other) == name) return other;
    }
  }

  // The number of `lower_wire_name`, or -1.
  template <class NameAt>
  int64_t find(std::string_view name, const NameAt& name_at) const noexcept {
    if (slots_.empty()) return -1;
    const uint64_t h = hash_name(name);
    // At most half full: an empty slot always ends the probe.
    for (size_t slot = static_cast<size_t>(h) & mask_;; slot = (slot + 1) & mask_) {
      const uint64_t v = slots_[slot];
      if (v == 0) return -1;
      if ((v & kTagMask) == (h & kTagMask)) {
        const auto i = static_cast<uint32_t>((v & ~kTagMask) - 1);
        if (same_name(name_at(i), name)) return i;
      }
    }
  }

  size_t size() const noexcept { return count_; }
  size_t memory_bytes() const noexcept { return slots_.capacity() * sizeof(uint64_t); }

 private:
  static constexpr uint64_t kTagMask = 0xffffffff00000000ULL;

  // Doubles the table. Slots keep only half of each hash, so the names are hashed again.
  template <class NameAt>
  void grow(const NameAt& name_at) {
    std::vector<uint64_t> old = std::move(slots_);
    const size_t capacity = std::max<size_t>(16, old.size() * 2);
    slots_.assign(capacity, 0);
    mask_ = capacity - 1;
    for (const uint64_t v : old) {
      if (v == 0) continue;
      const uint64_t h = hash_name(name_at(static_cast<uint32_t>((v & ~kTagMask) - 1)));
      size_t slot = static_cast<size_t>(h) & mask_;
      while (slots_[slot] != 0) slot = (slot + 1) & mask_;
      slots_[slot] = v;
    }
  }

  std::vector<uint64_t> slots_;
  size_t mask_ = 0;
  size_t count_ = 0;
};

// The memory the views of a Zone point into. Filled once by the builder, never resized after.
struct ZoneStorage {
  std::unique_ptr<char[]> bytes;  // every node name, then every RDATA
  size_t byte_count = 0;
  std::vector<std::string_view> rdatas;  // RRset::rdatas are slices of this
  std::vector<RRset> rrsets;             // Node::rrsets are slices of this
  // Signed zones only, empty otherwise (so an unsigned zone does not grow): parallel to
  // `rrsets`, the RRSIG RDATAs covering each (empty for NS at a cut and glue), as views into
  // rrsig_rdatas / rrsig_bytes.
  std::vector<std::span<const std::string_view>> rrsigs;
  std::vector<std::string_view> rrsig_rdatas;
  std::unique_ptr<char[]> rrsig_bytes;
  size_t rrsig_byte_count = 0;
};

struct Zone {
  Zone() = default;
  Zone(const Zone&) = delete;  // the views inside would point into the original
  Zone& operator=(const Zone&) = delete;

  std::string origin;       // wire format, lower case ("\7example\3com\0")
  std::string origin_text;  // "example.com."
  std::string source_file;  // "zones/example.com.toml"
  uint32_t serial = 0;
  uint32_t negative_ttl_s = 0;  // min(SOA TTL, SOA MINIMUM), RFC 2308 section 5
  uint64_t content_hash = 0;    // of the source text: unchanged file -> unchanged serial
  uint64_t text_hash = 0;       // of the file's text alone: a reload reuses an unchanged zone
  // Other files it was built from (nets_file): path and content hash, for the reuse check.
  std::vector<std::pair<std::string, uint64_t>> input_files;
  ZoneStorage storage;
  std::vector<Node> nodes;  // in canonical order (RFC 4034 6.1), so nodes[0] is the apex and
                            // every ancestor of a node (empty non-terminals included) exists
                            // and comes before it
  NameIndex index;
  std::vector<steer::Datacenter> datacenters;
  std::vector<steer::Pool> pools;  // list members with steer::kPoolBit index these
  std::vector<steer::Rule> rules;
  std::vector<steer::TargetSpec> targets;  // every (address, check) of its datacenters
  // [[zone.secondary]]: who may transfer it and whom to NOTIFY (server/transfer.h). Only a
  // zone without steered names has any (docs/decisions.md, "Zone transfers").
  std::vector<SecondaryDef> secondaries;
  // DNSSEC (issue 13): null = an unsigned zone. Keys, validity and the re-sign time.
  std::shared_ptr<const dnssec::ZoneSigning> signing;

  const Node& apex() const noexcept { return nodes[0]; }
  std::string_view node_name(uint32_t i) const noexcept { return nodes[i].name; }
  int64_t node_number(std::string_view lower_wire_name) const noexcept {
    return index.find(lower_wire_name, [this](uint32_t i) { return nodes[i].name; });
  }
  const Node* find(std::string_view lower_wire_name) const noexcept {
    const int64_t i = node_number(lower_wire_name);
    return i < 0 ? nullptr : &nodes[static_cast<size_t>(i)];
  }
  size_t record_count() const noexcept { return storage.rdatas.size(); }
  // The static RRSIG RDATAs covering `rrset` (one of this zone's nodes' RRsets); empty when
  // the zone is unsigned or the RRset is not signed (NS at a cut, glue) or not the zone's.
  std::span<const std::string_view> rrsigs(const RRset& rrset) const noexcept {
    if (storage.rrsigs.empty()) return {};
    const RRset* first = storage.rrsets.data();
    const RRset* end = first + storage.rrsets.size();
    // std::less gives a total order even over pointers into different arrays.
    if (std::less<const RRset*>()(&rrset, first) || !std::less<const RRset*>()(&rrset, end)) {
      return {};
    }
    return storage.rrsigs[static_cast<size_t>(&rrset - first)];
  }
  // Bytes held by the zone's names, records and index (not rules and datacenters).
  size_t memory_bytes() const noexcept;
};

using ZonePtr = std::shared_ptr<const Zone>;

struct ZoneSet {
  static constexpr size_t kScanZones = 8;  // up to this many zones, find_zone scans
  std::vector<ZonePtr> zones;
  std::unordered_map<std::string, uint32_t, NameHash, NameEq> by_origin;  // origin -> zones[i]
  std::vector<steer::TargetSpec> targets;  // deduplicated by id, across all zones
  // Where the ids in `zones` come from; the next load continues it (steer::IdTable).
  steer::IdTables ids;
  uint64_t generation = 0;

  // The zone whose origin is the longest suffix of `lower_wire_name`, or nullptr.
  const Zone* find_zone(std::string_view lower_wire_name) const noexcept;
  // The zone that answers `qtype` for the name: find_zone(), except that DS is looked up from
  // the parent name (RFC 4035 3.1.4.1: DS lives on the parent side of a cut), so that a
  // child apex served beside its parent gets the parent's DS or NODATA, as Knot and NSD do.
  const Zone* find_zone_for(std::string_view lower_wire_name, uint16_t qtype) const noexcept {
    constexpr uint16_t kTypeDs = 43;  // inline for every query: dns/wire.h is not included here
    return qtype == kTypeDs ? find_zone_for_ds(lower_wire_name) : find_zone(lower_wire_name);
  }
  const Zone* find_zone_for_ds(std::string_view lower_wire_name) const noexcept;
  // Rebuilds by_origin and the deduplicated targets from `zones`, and drops from `ids` the
  // keys they no longer use.
  void reindex();
};

using ZoneSetPtr = std::shared_ptr<const ZoneSet>;

}  // namespace geodns::zone
