#include "zone/zone_set.h"

#include <unordered_set>

namespace geodns::zone {

size_t NameHash::operator()(std::string_view s) const noexcept {
  // FNV-1a, 64 bit: names are short and already lower case.
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return static_cast<size_t>(h ^ (h >> 32));
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

void ZoneSet::reindex() {
  by_origin.clear();
  targets.clear();
  std::unordered_set<steer::TargetId> seen;
  for (uint32_t i = 0; i < zones.size(); ++i) {
    by_origin.emplace(zones[i]->origin, i);
    for (const auto& t : zones[i]->targets) {
      if (seen.insert(t.id).second) targets.push_back(t);
    }
  }
}

}  // namespace geodns::zone
