#include "health/rise_fall.h"

#include <gtest/gtest.h>

namespace geodns::health {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

RiseFallConfig config(uint32_t rise, uint32_t fall) {
  RiseFallConfig c;
  c.rise = rise;
  c.fall = fall;
  c.interval = milliseconds(1000);
  c.timeout = milliseconds(800);
  c.fast_recheck = milliseconds(100);
  return c;
}

// Runs one check that takes 5 ms on the manual clock.
RiseFallOutcome check(RiseFall& rf, ManualClock& clock, bool ok, const char* text = "x") {
  const auto started = clock.now();
  clock.advance(milliseconds(5));
  return rf.record(ok, text, started, clock.now());
}

TEST(RiseFall, StartsUnknownAndFirstSuccessDecidesUp) {
  ManualClock clock;
  RiseFall rf(config(2, 3), clock.now());
  EXPECT_EQ(rf.state(), HealthState::unknown);
  EXPECT_FALSE(rf.has_state());
  EXPECT_TRUE(rf.is_up());  // unknown answers as up (fail open)
  clock.advance(seconds(2));
  const auto out = check(rf, clock, true, "ok 200 in 5 ms");
  EXPECT_TRUE(out.changed);
  EXPECT_EQ(out.from, HealthState::unknown);
  EXPECT_EQ(out.to, HealthState::up);
  EXPECT_EQ(out.after, milliseconds(2005));
  EXPECT_EQ(rf.since(), clock.now());
  EXPECT_EQ(rf.last_result(), "ok 200 in 5 ms");
}

TEST(RiseFall, FirstFailureDecidesDownDirectly) {
  ManualClock clock;
  RiseFall rf(config(2, 3), clock.now());
  const auto out = check(rf, clock, false, "connection refused");
  EXPECT_TRUE(out.changed);
  EXPECT_EQ(rf.state(), HealthState::down);
  EXPECT_FALSE(rf.is_up());
  EXPECT_EQ(rf.last_result(), "connection refused");
}

TEST(RiseFall, FallNeedsConsecutiveFailures) {
  ManualClock clock;
  RiseFall rf(config(2, 3), clock.now());
  check(rf, clock, true);
  EXPECT_FALSE(check(rf, clock, false).changed);
  EXPECT_EQ(rf.consecutive_fail(), 1u);
  EXPECT_FALSE(check(rf, clock, false).changed);
  EXPECT_EQ(rf.state(), HealthState::up);
  // A success in between resets the streak.
  EXPECT_FALSE(check(rf, clock, true).changed);
  EXPECT_EQ(rf.consecutive_fail(), 0u);
  EXPECT_FALSE(check(rf, clock, false).changed);
  EXPECT_FALSE(check(rf, clock, false).changed);
  const auto down = check(rf, clock, false, "timeout");
  EXPECT_TRUE(down.changed);
  EXPECT_EQ(down.from, HealthState::up);
  EXPECT_EQ(down.to, HealthState::down);
  EXPECT_EQ(rf.last_result(), "timeout");
}

TEST(RiseFall, RiseNeedsConsecutiveSuccesses) {
  ManualClock clock;
  RiseFall rf(config(3, 1), clock.now());
  check(rf, clock, false);
  ASSERT_EQ(rf.state(), HealthState::down);
  EXPECT_FALSE(check(rf, clock, true).changed);
  EXPECT_FALSE(check(rf, clock, true).changed);
  EXPECT_FALSE(check(rf, clock, false).changed);  // streak broken
  EXPECT_FALSE(check(rf, clock, true).changed);
  EXPECT_FALSE(check(rf, clock, true).changed);
  EXPECT_EQ(rf.consecutive_ok(), 2u);
  EXPECT_TRUE(check(rf, clock, true).changed);
  EXPECT_EQ(rf.state(), HealthState::up);
}

TEST(RiseFall, ZeroThresholdsActAsOne) {
  ManualClock clock;
  RiseFall rf(config(0, 0), clock.now());
  check(rf, clock, true);
  EXPECT_TRUE(check(rf, clock, false).changed);
  EXPECT_TRUE(check(rf, clock, true).changed);
}

TEST(RiseFall, RegularNextCheckIsIntervalAfterStart) {
  ManualClock clock;
  RiseFall rf(config(2, 3), clock.now());
  const auto started = clock.now();
  clock.advance(milliseconds(300));  // a slow check does not delay the schedule
  const auto out = rf.record(true, "ok", started, clock.now());
  EXPECT_EQ(out.next_check, started + milliseconds(1000));
}

TEST(RiseFall, NextCheckNeverInThePast) {
  ManualClock clock;
  RiseFall rf(config(2, 3), clock.now());
  const auto started = clock.now();
  clock.advance(milliseconds(1500));  // took longer than the interval
  const auto out = rf.record(true, "ok", started, clock.now());
  EXPECT_EQ(out.next_check, clock.now());
}

TEST(RiseFall, FailureWhileUpRechecksAtOnce) {
  ManualClock clock;
  RiseFall rf(config(2, 3), clock.now());
  check(rf, clock, true);
  const auto first_fail = check(rf, clock, false);
  EXPECT_EQ(first_fail.next_check, clock.now() + milliseconds(100));
  const auto second_fail = check(rf, clock, false);
  EXPECT_EQ(second_fail.next_check, clock.now() + milliseconds(100));
  // Once down, back to the regular cadence: no hammering of a dead backend.
  const auto started = clock.now();
  clock.advance(milliseconds(5));
  const auto down = rf.record(false, "refused", started, clock.now());
  ASSERT_TRUE(down.changed);
  EXPECT_EQ(down.next_check, started + milliseconds(1000));
}

TEST(RiseFall, FallTakesFarLessThanFallTimesInterval) {
  ManualClock clock;
  RiseFall rf(config(2, 3), clock.now());
  check(rf, clock, true);
  const auto failing_since = clock.now();
  // Drive the schedule as the prober would: wait until next_check, run a 5 ms check.
  RiseFallOutcome out;
  for (int i = 0; i < 3; ++i) {
    const auto started = clock.now();
    clock.advance(milliseconds(5));
    out = rf.record(false, "connection refused", started, clock.now());
    if (out.changed) break;
    clock.advance(out.next_check - clock.now());
  }
  ASSERT_EQ(rf.state(), HealthState::down);
  EXPECT_LT(clock.now() - failing_since, milliseconds(300));  // vs 3 × 1000 ms
}

TEST(RiseFall, FastRecheckBoundedByInterval) {
  ManualClock clock;
  auto c = config(2, 3);
  c.interval = milliseconds(50);
  RiseFall rf(c, clock.now());
  check(rf, clock, true);
  const auto started = clock.now();
  clock.advance(milliseconds(5));
  const auto out = rf.record(false, "x", started, clock.now());
  EXPECT_EQ(out.next_check, started + milliseconds(50));
}

TEST(RiseFall, SinceAndAfterMeasureTimeInState) {
  ManualClock clock;
  RiseFall rf(config(1, 1), clock.now());
  check(rf, clock, true);
  const auto up_since = rf.since();
  clock.advance(seconds(12));
  check(rf, clock, true);
  EXPECT_EQ(rf.since(), up_since);  // no transition, no new since
  clock.advance(milliseconds(295));
  const auto out = check(rf, clock, false);
  ASSERT_TRUE(out.changed);
  EXPECT_EQ(out.after, seconds(12) + milliseconds(305));
  EXPECT_EQ(rf.since(), clock.now());
}

TEST(RiseFall, RestoredStateKeepsHysteresis) {
  ManualClock clock;
  RiseFall rf(config(2, 3), clock.now());
  const auto since = clock.now() - seconds(60);
  rf.restore(HealthState::down, since);
  EXPECT_TRUE(rf.has_state());
  EXPECT_TRUE(rf.restored());
  EXPECT_EQ(rf.since(), since);
  // Not a first result any more: one success is not enough to come back.
  EXPECT_FALSE(check(rf, clock, true).changed);
  EXPECT_TRUE(check(rf, clock, true).changed);
  EXPECT_EQ(rf.state(), HealthState::up);
}

TEST(RiseFall, InheritedStateStandsUntilTheFirstResultWhichDecides) {
  ManualClock clock;
  RiseFall rf(config(2, 3), clock.now());
  const auto since = clock.now() - seconds(60);
  rf.inherit(HealthState::down, since);
  EXPECT_TRUE(rf.has_state());
  EXPECT_FALSE(rf.is_up());
  EXPECT_EQ(rf.since(), since);
  // The edited check's first result decides at once (rise = 2 does not apply to it)...
  EXPECT_TRUE(check(rf, clock, true).changed);
  EXPECT_EQ(rf.state(), HealthState::up);
  // ...and from then on rise/fall holds: one failure is not enough to go down.
  EXPECT_FALSE(check(rf, clock, false).changed);
  EXPECT_EQ(rf.state(), HealthState::up);
}

TEST(RiseFall, InheritedStateConfirmedIsNoTransition) {
  ManualClock clock;
  RiseFall rf(config(2, 3), clock.now());
  rf.inherit(HealthState::down, clock.now());
  EXPECT_FALSE(check(rf, clock, false).changed);
  EXPECT_EQ(rf.state(), HealthState::down);
  // Then a down target needs `rise` successes again.
  EXPECT_FALSE(check(rf, clock, true).changed);
  EXPECT_TRUE(check(rf, clock, true).changed);
}

TEST(RiseFall, CountsChecksAndNames) {
  ManualClock clock;
  RiseFall rf(config(2, 3), clock.now());
  check(rf, clock, true);
  check(rf, clock, true);
  EXPECT_EQ(rf.checks(), 2u);
  EXPECT_EQ(state_name(HealthState::up), "up");
  EXPECT_EQ(state_name(HealthState::down), "down");
  EXPECT_EQ(state_name(HealthState::unknown), "unknown");
}

}  // namespace
}  // namespace geodns::health
