// What the policies know of health: an immutable snapshot published by the prober thread
// (src/health) and read by the workers without locks. Indexed by the small integer ids that
// the loaded ZoneSet's steer::IdTables hand out, so a per-query lookup is one array read.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace geodns::steer {

using TargetId = uint32_t;  // one (address, check) pair; see target.h
using DcId = uint32_t;      // one zone's use of a datacenter (steer::DcSlot); see target.h

enum class Override : uint8_t { none = 0, force_up = 1, force_down = 2 };

class HealthView {
 public:
  // An id this view has never heard of counts as up: a target that was just added by a
  // reload is answered (fail open) until the prober publishes its first result.
  bool target_up(TargetId id) const noexcept {
    return id >= targets_up_.size() || targets_up_[id] != 0;
  }
  Override dc_override(DcId id) const noexcept {
    return id < dc_overrides_.size() ? static_cast<Override>(dc_overrides_[id]) : Override::none;
  }
  // False until the first round of checks has finished (or state was restored from disk).
  bool ready() const noexcept { return ready_; }
  uint64_t generation() const noexcept { return generation_; }

  // Builders (health thread only, before publishing).
  void set_target_up(TargetId id, bool up) {
    if (id >= targets_up_.size()) targets_up_.resize(id + 1, 1);
    targets_up_[id] = up ? 1 : 0;
  }
  void set_dc_override(DcId id, Override o) {
    if (id >= dc_overrides_.size()) dc_overrides_.resize(id + 1, 0);
    dc_overrides_[id] = static_cast<uint8_t>(o);
  }
  void set_ready(bool ready) { ready_ = ready; }
  void set_generation(uint64_t g) { generation_ = g; }

 private:
  std::vector<uint8_t> targets_up_;
  std::vector<uint8_t> dc_overrides_;
  uint64_t generation_ = 0;
  bool ready_ = true;
};

using HealthViewPtr = std::shared_ptr<const HealthView>;

}  // namespace geodns::steer
