#include "health/rise_fall.h"

#include <algorithm>
#include <utility>

namespace geodns::health {

std::string_view state_name(HealthState s) {
  switch (s) {
    case HealthState::unknown:
      return "unknown";
    case HealthState::up:
      return "up";
    case HealthState::down:
      return "down";
  }
  return "?";
}

RiseFall::RiseFall(RiseFallConfig config, Clock::time_point created)
    : config_(config), since_(created) {}

void RiseFall::restore(HealthState state, Clock::time_point since) {
  state_ = state;
  since_ = since;
  consecutive_ok_ = 0;
  consecutive_fail_ = 0;
  restored_ = true;
  last_result_ = "restored";
}

void RiseFall::inherit(HealthState state, Clock::time_point since) {
  state_ = state;
  since_ = since;
  consecutive_ok_ = 0;
  consecutive_fail_ = 0;
  inherited_ = state != HealthState::unknown;
  last_result_ = "kept from the previous check definition";
}

RiseFallOutcome RiseFall::record(bool ok, std::string result_text, Clock::time_point started,
                                 Clock::time_point now) {
  RiseFallOutcome out;
  out.from = state_;
  ++checks_;
  last_result_ = std::move(result_text);
  // A threshold of 0 in a spec would mean "never move"; treat it as 1 instead.
  const uint32_t rise = std::max<uint32_t>(config_.rise, 1);
  const uint32_t fall = std::max<uint32_t>(config_.fall, 1);

  if (ok) {
    ++consecutive_ok_;
    consecutive_fail_ = 0;
  } else {
    ++consecutive_fail_;
    consecutive_ok_ = 0;
  }

  HealthState next = state_;
  if (state_ == HealthState::unknown || inherited_) {
    // First result ever (or of an edited check, whose predecessor's state only stood in for
    // it): it decides directly. Waiting for `rise` successes here would leave the target in
    // limbo (and the first round unfinished) for rise × interval.
    next = ok ? HealthState::up : HealthState::down;
    inherited_ = false;
  } else if (state_ == HealthState::up && !ok && consecutive_fail_ >= fall) {
    // Up, and the `fall`-th failure in a row: the target goes down.
    next = HealthState::down;
  } else if (state_ == HealthState::down && ok && consecutive_ok_ >= rise) {
    // Down, and the `rise`-th success in a row: the target comes back.
    next = HealthState::up;
  }
  // Every other case (success while up, failure while down, a streak still below its
  // threshold) keeps the state; only the counters moved.

  if (next != state_) {
    out.changed = true;
    out.after = now - since_;
    state_ = next;
    since_ = now;
    // Counters restart on a transition so that a flapping target needs a full new streak
    // before moving again, whichever way it moved.
    consecutive_ok_ = ok ? 1 : 0;
    consecutive_fail_ = ok ? 0 : 1;
  }
  out.to = state_;

  if (!ok && state_ == HealthState::up) {
    // A failure while still up: confirm (or refute) it almost at once instead of a full
    // interval later, so `fall` failures take about fall × (check time + fast_recheck)
    // rather than fall × interval. Never later than the regular schedule would be.
    const Clock::time_point fast = now + std::min(config_.fast_recheck, config_.interval);
    out.next_check = std::min(fast, std::max(started + config_.interval, now));
  } else {
    // Regular cadence: `interval` after the start of this check (a slow check does not push
    // the schedule back), but never in the past when the check took longer than the interval.
    out.next_check = std::max(started + config_.interval, now);
  }
  return out;
}

}  // namespace geodns::health
