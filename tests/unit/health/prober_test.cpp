// The Prober's control surface with targets that are never probed (check type none): no
// sockets, no sleeps; every wait is a bounded condition-variable wait inside the Prober.
#include "health/prober.h"

#include <gtest/gtest.h>

#include <thread>

namespace geodns::health {
namespace {

using namespace std::chrono_literals;

steer::TargetSpec unchecked(steer::TargetId id, const char* address) {
  steer::TargetSpec t;
  t.id = id;
  t.address = *IpAddress::parse(address);
  t.check.name = "always";
  t.check.type = steer::CheckType::none;
  t.key = t.check.key() + "@" + t.address.to_string();
  return t;
}

// Waits (bounded) until the published view satisfies pred.
template <typename Pred>
bool view_becomes(const Prober& p, Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred(*p.view().load())) return true;
    std::this_thread::yield();
  }
  return pred(*p.view().load());
}

TEST(Prober, NotReadyBeforeStart) {
  ManualClock clock;
  Prober prober(clock, {});
  ASSERT_NE(prober.view().load(), nullptr);
  EXPECT_FALSE(prober.view().load()->ready());
  EXPECT_TRUE(prober.status().empty());
  EXPECT_FALSE(prober.wait_first_round(0ms));
}

TEST(Prober, UncheckedTargetsAreUpAndReadyAtOnce) {
  ManualClock clock;
  Prober prober(clock, ProberOptions{"", 5});
  prober.set_targets({unchecked(3, "192.0.2.1"), unchecked(4, "2001:db8::1"),
                      unchecked(3, "192.0.2.1")});  // a duplicate id is one target
  ASSERT_TRUE(prober.start());
  ASSERT_TRUE(prober.wait_first_round(2s));
  const auto v = prober.view().load();
  EXPECT_TRUE(v->ready());
  EXPECT_TRUE(v->target_up(3));
  EXPECT_TRUE(v->target_up(4));
  const auto all = prober.status();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, 3u);
  EXPECT_EQ(all[0].state, HealthState::up);
  EXPECT_EQ(all[0].last_result, "no check");
  EXPECT_EQ(all[0].check_name, "always");
  EXPECT_EQ(all[1].address, *IpAddress::parse("2001:db8::1"));
  prober.stop();
  prober.stop();
}

TEST(Prober, AddressOverrideDownAndDatacenterOverride) {
  ManualClock clock;
  Prober prober(clock, ProberOptions{"", 5});
  prober.set_datacenters({{1, "fra", ""}, {2, "iad", ""}});
  prober.set_targets({unchecked(10, "192.0.2.1"), unchecked(11, "192.0.2.2")});
  ASSERT_TRUE(prober.start());
  ASSERT_TRUE(prober.wait_first_round(2s));

  ASSERT_TRUE(prober.set_override(OverrideKey::for_address(*IpAddress::parse("192.0.2.2")),
                                  steer::Override::force_down, std::nullopt, "maintenance"));
  ASSERT_TRUE(prober.set_override(OverrideKey::for_datacenter("iad"), steer::Override::force_down,
                                  std::nullopt, "drain"));
  ASSERT_TRUE(view_becomes(prober, [](const steer::HealthView& v) {
    return !v.target_up(11) && v.dc_override(2) == steer::Override::force_down;
  }));
  const auto v = prober.view().load();
  EXPECT_TRUE(v->target_up(10));
  EXPECT_EQ(v->dc_override(1), steer::Override::none);
  EXPECT_TRUE(v->ready());

  const auto all = prober.status();
  EXPECT_EQ(all[1].override_mode, steer::Override::force_down);
  EXPECT_FALSE(all[1].effective_up);
  EXPECT_EQ(all[1].state, HealthState::up);  // the check result is not rewritten

  const auto unknown = prober.set_override(OverrideKey::for_datacenter("sfo"),
                                           steer::Override::force_down, std::nullopt, "");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "unknown datacenter \"sfo\"");

  ASSERT_TRUE(prober.clear_override(OverrideKey::for_datacenter("iad")));
  ASSERT_TRUE(view_becomes(prober, [](const steer::HealthView& view) {
    return view.dc_override(2) == steer::Override::none;
  }));
  EXPECT_EQ(prober.overrides().size(), 1u);
}

// A server datacenter "iad" used by two zones has one slot per zone: "iad" drains both,
// "example.com/iad" one, and the more specific override wins in the published view.
TEST(Prober, ZoneOverrideOfASharedDatacenterWins) {
  ManualClock clock;
  Prober prober(clock, ProberOptions{"", 5});
  prober.set_datacenters({{1, "example.com/iad", "iad"}, {2, "example.net/iad", "iad"}});
  prober.set_targets({unchecked(10, "192.0.2.1")});
  ASSERT_TRUE(prober.start());
  ASSERT_TRUE(prober.wait_first_round(2s));

  ASSERT_TRUE(prober.set_override(OverrideKey::for_datacenter("example.net/iad"),
                                  steer::Override::force_down, std::nullopt, "one zone"));
  ASSERT_TRUE(view_becomes(prober, [](const steer::HealthView& v) {
    return v.dc_override(2) == steer::Override::force_down;
  }));
  EXPECT_EQ(prober.view().load()->dc_override(1), steer::Override::none);

  ASSERT_TRUE(prober.set_override(OverrideKey::for_datacenter("iad"), steer::Override::force_down,
                                  std::nullopt, "all zones"));
  ASSERT_TRUE(prober.set_override(OverrideKey::for_datacenter("example.com/iad"),
                                  steer::Override::force_up, std::nullopt, "keep this one"));
  ASSERT_TRUE(view_becomes(prober, [](const steer::HealthView& v) {
    return v.dc_override(1) == steer::Override::force_up &&
           v.dc_override(2) == steer::Override::force_down;
  }));

  // With the zone's own override gone, the shared one applies again.
  ASSERT_TRUE(prober.clear_override(OverrideKey::for_datacenter("example.com/iad")));
  ASSERT_TRUE(view_becomes(prober, [](const steer::HealthView& v) {
    return v.dc_override(1) == steer::Override::force_down;
  }));
  ASSERT_TRUE(prober.clear_override(OverrideKey::for_datacenter("iad")));
  ASSERT_TRUE(view_becomes(prober, [](const steer::HealthView& v) {
    return v.dc_override(1) == steer::Override::none &&
           v.dc_override(2) == steer::Override::force_down;
  }));
  EXPECT_FALSE(prober.set_override(OverrideKey::for_datacenter("example.org/iad"),
                                   steer::Override::force_down, std::nullopt, ""));
}

TEST(Prober, ExpiredOverrideIsNotListed) {
  ManualClock clock;
  Prober prober(clock, {});
  prober.set_datacenters({{1, "fra", ""}});
  ASSERT_TRUE(prober.set_override(OverrideKey::for_datacenter(1, "fra"), steer::Override::force_up,
                                  clock.wall_now() + std::chrono::minutes(5), "temporary"));
  ASSERT_EQ(prober.overrides().size(), 1u);
  clock.advance(std::chrono::minutes(5));
  EXPECT_TRUE(prober.overrides().empty());
}

TEST(Prober, ReloadRemovesTargets) {
  ManualClock clock;
  Prober prober(clock, {});
  prober.set_targets({unchecked(1, "192.0.2.1"), unchecked(2, "192.0.2.2")});
  ASSERT_TRUE(prober.start());
  ASSERT_TRUE(prober.wait_first_round(2s));
  prober.set_targets({unchecked(2, "192.0.2.2")});
  ASSERT_TRUE(prober.wait_first_round(2s));
  const auto all = prober.status();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].id, 2u);
  // Unchecked targets start up without a transition (nothing was observed).
  EXPECT_TRUE(prober.recent_transitions(10).empty());
}

}  // namespace
}  // namespace geodns::health
