#include "zone/zone_set.h"

#include <cstring>
#include <string>
#include <unordered_set>

#include "dns/wire.h"

namespace geodns::zone {

// Names are short (20-40 bytes typical): mix eight bytes at a time rather than one (FNV-1a
// did one multiply per byte, which was a visible share of a query). The keys come from the
// operator's zone files, not from clients, so a seeded hash buys nothing here.
uint64_t hash_name(std::string_view s) noexcept {
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
    uint64_t v = 0;
    std::memcpy(&v, p, n);
    h = (h ^ v) * kMul1;
    h ^= h >> 31;
  }
  h *= kMul2;
  return h ^ (h >> 29);
}

size_t NameHash::operator()(std::string_view s) const noexcept {
  return static_cast<size_t>(hash_name(s));
}

size_t Zone::memory_bytes() const noexcept {
  return storage.byte_count + storage.rdatas.capacity() * sizeof(std::string_view) +
         storage.rrsets.capacity() * sizeof(RRset) + nodes.capacity() * sizeof(Node) +
         index.memory_bytes() + storage.rrsig_byte_count +
         storage.rrsig_rdatas.capacity() * sizeof(std::string_view) +
         storage.rrsigs.capacity() * sizeof(std::span<const std::string_view>);
}

const Zone* ZoneSet::find_zone(std::string_view name) const noexcept {
  // Walk label by label from the full name towards the root; the first hit is the longest.
  // With a handful of zones, comparing the suffix against each origin of the same length is
  // cheaper than hashing every suffix (this runs for every query).
  const bool scan = zones.size() <= kScanZones;
  size_t pos = 0;
  while (pos < name.size()) {
    const std::string_view suffix = name.substr(pos);
    if (scan) {
      for (const auto& z : zones) {
        if (z->origin.size() == suffix.size() && z->origin == suffix) return z.get();
      }
    } else if (auto it = by_origin.find(suffix); it != by_origin.end()) {
      return zones[it->second].get();
    }
    const auto len = static_cast<unsigned char>(name[pos]);
    if (len == 0) break;
    pos += 1 + len;
  }
  return nullptr;
}

const Zone* ZoneSet::find_zone_for_ds(std::string_view name) const noexcept {
  static_assert(dns::rrtype::DS == 43);  // the constant find_zone_for() tests
  if (!name.empty() && name[0] != 0) {
    const auto len = static_cast<unsigned char>(name[0]);
    if (1U + len < name.size()) {
      if (const Zone* parent = find_zone(name.substr(1U + len))) return parent;
    }
  }
  return find_zone(name);
}

void ZoneSet::reindex() {
  by_origin.clear();
  targets.clear();
  std::unordered_set<steer::TargetId> seen;
  std::unordered_set<std::string> target_keys;
  std::unordered_set<std::string> dc_keys;
  for (uint32_t i = 0; i < zones.size(); ++i) {
    by_origin.emplace(zones[i]->origin, i);
    for (const auto& t : zones[i]->targets) {
      if (seen.insert(t.id).second) targets.push_back(t);
      target_keys.insert(t.key);
    }
    for (const auto& dc : zones[i]->datacenters) {
      dc_keys.insert(steer::dc_slot_key(zones[i]->origin_text, dc.name));
    }
  }
  // Zones a load built and then dropped (a clash, a second build) leave nothing behind.
  ids.targets.retain(target_keys);
  ids.datacenters.retain(dc_keys);
}

}  // namespace geodns::zone
