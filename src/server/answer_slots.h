// Bounded labels for the per-zone, per-name and per-datacenter answer counters. Each zone
// ("example.com."), steered name ("www.example.com.") and datacenter ("example.com.", "fra") gets a
// slot number the first time a load sees it, kept for the life of the process so that a counter
// keeps its label across reloads; slot 0 is "other", where everything beyond kAnswerSlots goes. The
// reload thread assigns slots and publishes, with each ZoneSet, the map from its zones' rule and
// datacenter indexes to slots: the packet path reads two array entries, no lock, no allocation.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "zone/zone_set.h"

namespace geodns::server {

inline constexpr size_t kAnswerSlots = 1024;  // per kind; slot 0 = "other"

// Per worker, in its counter block (worker_counters.h); indexed by slot.
struct AnswerCounters {
  std::array<std::atomic<uint64_t>, kAnswerSlots> by_name{};        // steered answers
  std::array<std::atomic<uint64_t>, kAnswerSlots> failed_open{};    // of those, failing open
  std::array<std::atomic<uint64_t>, kAnswerSlots> by_datacenter{};  // answered from it
  std::array<std::atomic<uint64_t>, kAnswerSlots> by_zone{};        // every query answered from it
};

// For one ZoneSet: rule index / datacenter index of each zone -> slot.
struct AnswerSlotMap {
  struct ZoneSlots {
    const zone::Zone* zone = nullptr;
    uint16_t zone_slot = 0;
    std::vector<uint16_t> rule;  // parallel to Zone::rules
    std::vector<uint16_t> dc;    // parallel to Zone::datacenters
  };
  uint64_t generation = 0;       // ZoneSet::generation this map indexes
  std::vector<ZoneSlots> zones;  // sorted by zone pointer

  const ZoneSlots* find(const zone::Zone* z) const noexcept;
};

// The slot of every label seen so far. The reload thread assigns; any thread reads labels.
class AnswerSlots {
 public:
  AnswerSlotMap map_for(const zone::ZoneSet& zones);
  // Index = slot; entry 0 is "other".
  std::vector<std::string> name_labels() const;
  std::vector<std::pair<std::string, std::string>> datacenter_labels() const;  // zone, name
  std::vector<std::string> zone_labels() const;

 private:
  uint16_t slot(std::map<std::string, uint16_t>& table, std::vector<std::string>& labels,
                const std::string& key);

  mutable std::mutex mutex_;
  std::map<std::string, uint16_t> names_;
  std::vector<std::string> name_labels_{"other"};
  std::map<std::string, uint16_t> dcs_;  // "zone\ndatacenter"
  std::vector<std::string> dc_keys_{"other\nother"};
  std::map<std::string, uint16_t> zones_;
  std::vector<std::string> zone_labels_{"other"};
};

}  // namespace geodns::server
