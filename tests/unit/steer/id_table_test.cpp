// steer::IdTable: ids owned by one load, stable by key, dropped ids reused one load later.
#include <gtest/gtest.h>

#include "steer/target.h"

namespace geodns::steer {
namespace {

TEST(IdTable, SameKeySameId) {
  IdTable t;
  EXPECT_EQ(t.intern("a"), 0u);
  EXPECT_EQ(t.intern("b"), 1u);
  EXPECT_EQ(t.intern("a"), 0u);
  EXPECT_EQ(t.find("b"), 1u);
  EXPECT_FALSE(t.find("c"));
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.bound(), 2u);
}

TEST(IdTable, NextLoadKeepsIdsAndReusesDroppedOnesOneLoadLater) {
  IdTable first;
  first.intern("a");
  first.intern("b");
  first.intern("c");
  first.retain({"a", "c"});
  first.intern("a");
  EXPECT_FALSE(first.find("b"));
  EXPECT_EQ(first.size(), 2u);

  IdTable second = first.next_load();
  // Ids of kept keys do not move.
  EXPECT_EQ(second.find("a"), 0u);
  EXPECT_EQ(second.find("c"), 2u);
  // Within the load that dropped "b" its id stays unused; the next load hands it out.
  EXPECT_EQ(second.intern("d"), 1u);
  EXPECT_EQ(second.bound(), 3u);
}

TEST(IdTable, DroppedIdIsNotReusedInTheSameLoad) {
  IdTable t;
  t.intern("a");
  t.intern("b");
  t.retain({"a"});
  EXPECT_EQ(t.intern("c"), 2u);  // not b's 1: the previous zones may still read it
}

TEST(IdTable, TrailingDroppedIdsShrinkTheBound) {
  IdTable t;
  for (const char* k : {"a", "b", "c", "d"}) t.intern(k);
  t.retain({"a"});
  const IdTable next = t.next_load();
  EXPECT_EQ(next.bound(), 1u);
  IdTable after = next;
  EXPECT_EQ(after.intern("e"), 1u);
}

}  // namespace
}  // namespace geodns::steer
