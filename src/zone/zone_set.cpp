#include "zone/zone_set.h"

#include <cstring>
#include <string>
#include <unordered_set>

#include "dns/wire.h"

namespace geodns::zone {

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

namespace {

// Does a label start at `offset` of the wire name (a suffix there is a whole name)?
bool at_label_start(std::string_view name, size_t offset) noexcept {
  size_t pos = 0;
  while (pos < offset) {
    const auto len = static_cast<unsigned char>(name[pos]);
    if (len == 0) return false;
    pos += 1 + len;
  }
  return pos == offset;
}

}  // namespace

const Zone* ZoneSet::find_zone(std::string_view name) const noexcept {
  if (zones.size() <= kScanZones) {
    // With a handful of zones, testing each origin against the name's tail (and, on a match,
    // that it starts at a label) is cheaper than hashing or comparing every suffix (this
    // runs for every query). The longest origin that matches is the closest zone; among
    // equal origins the first, as before.
    const Zone* best = nullptr;
    size_t best_len = 0;
    for (const auto& z : zones) {
      const size_t len = z->origin.size();
      if (len > name.size() || len <= best_len) continue;
      const size_t offset = name.size() - len;
      if (!same_bytes(name.data() + offset, z->origin.data(), len)) continue;
      if (!at_label_start(name, offset)) continue;
      best = z.get();
      best_len = len;
    }
    return best;
  }
  // Walk label by label from the full name towards the root; the first hit is the longest.
  size_t pos = 0;
  while (pos < name.size()) {
    if (auto it = by_origin.find(name.substr(pos)); it != by_origin.end()) {
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
