// Quorum verdicts and rendezvous choice: pure, so every server computes the same.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "fleet/fleet.h"
#include "fleet/quorum.h"

namespace geodns::fleet {
namespace {

TEST(Quorum, Majority) {
  const QuorumSpec q{true, 0};
  EXPECT_EQ(quorum_verdict(q, 0, 0), Verdict::none);
  EXPECT_EQ(quorum_verdict(q, 1, 1), Verdict::down);  // alone: its own probes decide
  EXPECT_EQ(quorum_verdict(q, 1, 2), Verdict::up);    // one of two is no majority
  EXPECT_EQ(quorum_verdict(q, 2, 2), Verdict::down);
  EXPECT_EQ(quorum_verdict(q, 1, 3), Verdict::up);  // one bad path among three
  EXPECT_EQ(quorum_verdict(q, 2, 3), Verdict::down);
  EXPECT_EQ(quorum_verdict(q, 2, 4), Verdict::up);
  EXPECT_EQ(quorum_verdict(q, 3, 5), Verdict::down);
}

TEST(Quorum, CountIsCappedByObservers) {
  const QuorumSpec q{false, 2};
  EXPECT_EQ(quorum_verdict(q, 1, 5), Verdict::up);
  EXPECT_EQ(quorum_verdict(q, 2, 5), Verdict::down);
  // Only one observer left: a count of 2 must not make the target impossible to take down.
  EXPECT_EQ(quorum_verdict(q, 1, 1), Verdict::down);
  EXPECT_EQ(required_down(QuorumSpec{false, 1}, 3), 1u);
}

FleetView view_of(std::vector<std::string> members,
                  std::map<std::string, std::vector<std::pair<std::string, bool>>> votes) {
  FleetView v;
  v.connected = true;
  std::sort(members.begin(), members.end());
  v.members = std::move(members);
  for (auto& [id, list] : votes) v.votes[id] = list;
  return v;
}

TEST(Tally, CountsLiveOthersAndOwnState) {
  const QuorumSpec q{true, 0};
  auto v = view_of({"a", "b", "c"}, {{"t", {{"a", true}, {"b", false}, {"c", true}}}});
  // "b" sees it down (its own path), a and c up: up for everyone.
  EXPECT_EQ(tally(v, "t", "a", true, q), Verdict::up);
  EXPECT_EQ(tally(v, "t", "b", false, q), Verdict::up);
  // Our own etcd copy is ignored in favour of our live state.
  EXPECT_EQ(count_votes(v, "t", "a", false).down, 2u);
  // A vote of a server that is no member (its lease is going) does not count.
  auto stale = view_of({"a", "c"}, {{"t", {{"a", false}, {"b", false}, {"c", false}}}});
  EXPECT_EQ(count_votes(stale, "t", "a", std::nullopt).observers, 1u);
  EXPECT_EQ(tally(stale, "t", "a", std::nullopt, q), Verdict::down);
  // Nobody voted: no verdict, the caller decides alone.
  EXPECT_EQ(tally(v, "unknown", "a", std::nullopt, q), Verdict::none);
  // Disconnected: no verdict whatever the last votes said.
  v.connected = false;
  EXPECT_EQ(tally(v, "t", "a", true, q), Verdict::none);
}

TEST(Rendezvous, AllWhenKIsZeroOrLarge) {
  const std::vector<std::string> m = {"a", "b", "c"};
  EXPECT_EQ(rendezvous_pick(m, "t", 0), m);
  EXPECT_EQ(rendezvous_pick(m, "t", 3), m);
  EXPECT_EQ(rendezvous_pick(m, "t", 7), m);
}

TEST(Rendezvous, AgreesAndMovesOnlyTheLeaversTargets) {
  const std::vector<std::string> m = {"a", "b", "c", "d", "e"};
  std::map<std::string, int> load;
  size_t moved = 0;
  size_t leaver_had = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = "target" + std::to_string(i);
    const auto pick = rendezvous_pick(m, id, 2);
    ASSERT_EQ(pick.size(), 2u);
    EXPECT_NE(pick[0], pick[1]);
    for (const auto& s : pick) ++load[s];
    // Same inputs in another order: same choice (every server agrees).
    std::vector<std::string> shuffled = {"e", "c", "a", "d", "b"};
    EXPECT_EQ(rendezvous_pick(shuffled, id, 2), pick);
    // "c" leaves: targets it did not probe keep their probers.
    const std::vector<std::string> without = {"a", "b", "d", "e"};
    const auto after = rendezvous_pick(without, id, 2);
    const bool had_c = std::find(pick.begin(), pick.end(), "c") != pick.end();
    if (had_c) {
      ++leaver_had;
    } else if (after != pick) {
      ++moved;
    }
    EXPECT_TRUE(rendezvous_chooses(without, id, 2, after[0]));
  }
  EXPECT_EQ(moved, 0u);
  EXPECT_GT(leaver_had, 0u);
  // Spread: each of 5 servers gets about 2/5 of 1000 targets.
  for (const auto& [s, n] : load) EXPECT_GT(n, 300) << s;
}

}  // namespace
}  // namespace geodns::fleet
