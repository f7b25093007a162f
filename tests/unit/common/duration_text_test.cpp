#include "common/duration_text.h"

#include <gtest/gtest.h>

namespace geodns {
namespace {

using std::chrono::milliseconds;

TEST(DurationText, EachRangeHasItsForm) {
  EXPECT_EQ(duration_text(milliseconds(0)), "0ms");
  EXPECT_EQ(duration_text(std::chrono::microseconds(999)), "0ms");
  EXPECT_EQ(duration_text(milliseconds(850)), "850ms");
  EXPECT_EQ(duration_text(milliseconds(1000)), "1s");
  EXPECT_EQ(duration_text(milliseconds(1200)), "1.2s");
  EXPECT_EQ(duration_text(milliseconds(1249)), "1.2s");
  EXPECT_EQ(duration_text(milliseconds(1250)), "1.3s");
  EXPECT_EQ(duration_text(milliseconds(59990)), "59.9s");
  EXPECT_EQ(duration_text(std::chrono::seconds(60)), "1m");
  EXPECT_EQ(duration_text(std::chrono::seconds(250)), "4m10s");
  EXPECT_EQ(duration_text(std::chrono::hours(2)), "2h");
  EXPECT_EQ(duration_text(std::chrono::minutes(90)), "1h30m");
  EXPECT_EQ(duration_text(milliseconds(-1500)), "-1.5s");
}

}  // namespace
}  // namespace geodns
