// The per-target health state machine: consecutive success/failure counting with rise/fall
// hysteresis, and the time the scheduler should run the next check. Pure: no I/O, no clock of
// its own (the caller passes check start/end times from the injected geodns::Clock), so every
// branch is unit-tested without sleeping.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace geodns::health {

enum class HealthState : uint8_t { unknown = 0, up = 1, down = 2 };

std::string_view state_name(HealthState s);

struct RiseFallConfig {
  uint32_t rise = 2;  // consecutive successes that bring a down target up
  uint32_t fall = 3;  // consecutive failures that bring an up target down
  std::chrono::milliseconds interval{1000};
  std::chrono::milliseconds timeout{500};
  // Delay of the re-check after a failure while still up (see RiseFall::record).
  std::chrono::milliseconds fast_recheck{100};
};

// What one recorded result did.
struct RiseFallOutcome {
  bool changed = false;  // the state moved (unknown -> up/down counts)
  HealthState from = HealthState::unknown;
  HealthState to = HealthState::unknown;
  // How long the target had been in `from` (for unknown: since the machine was created or
  // restored) when it changed; zero when !changed.
  std::chrono::nanoseconds after{0};
  Clock::time_point next_check{};  // when the scheduler should start the next check
};

class RiseFall {
 public:
  // `created` starts the "unknown" period, so the first transition's `after` is meaningful.
  RiseFall(RiseFallConfig config, Clock::time_point created);

  // Records the result of a check that started at `started` and ended at `now`.
  RiseFallOutcome record(bool ok, std::string result_text, Clock::time_point started,
                         Clock::time_point now);

  // A state read back from disk after a restart: the target answers with it at once, while
  // counters start from zero so the next checks still go through rise/fall.
  void restore(HealthState state, Clock::time_point since);
  // The state of the target this one replaces (its check was edited): shown until the first
  // result, which then decides directly, as a first result does.
  void inherit(HealthState state, Clock::time_point since);

  // The check spec changed in a way that keeps the target (same id): adopt new thresholds
  // and timings without losing the state.
  void reconfigure(RiseFallConfig config) { config_ = config; }

  HealthState state() const noexcept { return state_; }
  bool is_up() const noexcept { return state_ != HealthState::down; }
  // True once a check result arrived or a state was restored.
  bool has_state() const noexcept { return state_ != HealthState::unknown; }
  bool restored() const noexcept { return restored_; }
  Clock::time_point since() const noexcept { return since_; }
  uint32_t consecutive_ok() const noexcept { return consecutive_ok_; }
  uint32_t consecutive_fail() const noexcept { return consecutive_fail_; }
  const std::string& last_result() const noexcept { return last_result_; }
  uint64_t checks() const noexcept { return checks_; }
  const RiseFallConfig& config() const noexcept { return config_; }

 private:
  RiseFallConfig config_;
  HealthState state_ = HealthState::unknown;
  Clock::time_point since_;
  uint32_t consecutive_ok_ = 0;
  uint32_t consecutive_fail_ = 0;
  uint64_t checks_ = 0;
  bool restored_ = false;
  bool inherited_ = false;  // the state is a predecessor's until the first result
  std::string last_result_;
};

}  // namespace geodns::health
