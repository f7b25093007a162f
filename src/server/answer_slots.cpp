#include "server/answer_slots.h"

#include <algorithm>

namespace geodns::server {

const AnswerSlotMap::ZoneSlots* AnswerSlotMap::find(const zone::Zone* z) const noexcept {
  const auto it =
      std::lower_bound(zones.begin(), zones.end(), z, [](const ZoneSlots& s, const zone::Zone* p) {
        return std::less<const zone::Zone*>()(s.zone, p);
      });
  return it != zones.end() && it->zone == z ? &*it : nullptr;
}

uint16_t AnswerSlots::slot(std::map<std::string, uint16_t>& table, std::vector<std::string>& labels,
                           const std::string& key) {
  if (auto it = table.find(key); it != table.end()) return it->second;
  if (labels.size() >= kAnswerSlots) return 0;  // full: "other" from here on
  const auto s = static_cast<uint16_t>(labels.size());
  labels.push_back(key);
  table.emplace(key, s);
  return s;
}

AnswerSlotMap AnswerSlots::map_for(const zone::ZoneSet& zones) {
  std::lock_guard lock(mutex_);
  AnswerSlotMap m;
  m.generation = zones.generation;
  for (const auto& z : zones.zones) {
    AnswerSlotMap::ZoneSlots zs;
    zs.zone = z.get();
    zs.zone_slot = slot(zones_, zone_labels_, z->origin_text);
    for (const auto& rule : z->rules) zs.rule.push_back(slot(names_, name_labels_, rule.owner));
    for (const auto& dc : z->datacenters) {
      zs.dc.push_back(slot(dcs_, dc_keys_, z->origin_text + "\n" + dc.name));
    }
    m.zones.push_back(std::move(zs));
  }
  std::sort(m.zones.begin(), m.zones.end(), [](const auto& a, const auto& b) {
    return std::less<const zone::Zone*>()(a.zone, b.zone);
  });
  return m;
}

std::vector<std::string> AnswerSlots::name_labels() const {
  std::lock_guard lock(mutex_);
  return name_labels_;
}

std::vector<std::string> AnswerSlots::zone_labels() const {
  std::lock_guard lock(mutex_);
  return zone_labels_;
}

std::vector<std::pair<std::string, std::string>> AnswerSlots::datacenter_labels() const {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& key : dc_keys_) {
    const size_t nl = key.find('\n');
    out.emplace_back(key.substr(0, nl), key.substr(nl + 1));
  }
  return out;
}

}  // namespace geodns::server
