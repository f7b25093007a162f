#include "dns/name.h"

#include <gtest/gtest.h>

namespace geodns::dns {
namespace {

TEST(Name, TextRoundTrip) {
  std::string wire;
  ASSERT_TRUE(name_from_text("www.Example.com.", &wire));
  EXPECT_EQ(wire, std::string("\3www\7Example\3com", 16) + '\0');
  EXPECT_EQ(name_to_text(wire), "www.Example.com.");
  ASSERT_TRUE(name_from_text("a\\.b.c", &wire));
  EXPECT_EQ(name_to_text(wire), "a\\.b.c.");
  ASSERT_TRUE(name_from_text("\\065b", &wire));
  EXPECT_EQ(name_to_text(wire), "Ab.");
  ASSERT_TRUE(name_from_text(".", &wire));
  EXPECT_EQ(wire, std::string(1, '\0'));
}

TEST(Name, RejectsBadText) {
  std::string wire;
  EXPECT_FALSE(name_from_text("a..b", &wire));
  EXPECT_FALSE(name_from_text(std::string(64, 'a') + ".com", &wire));
  EXPECT_FALSE(name_from_text("\\256x", &wire));
  EXPECT_FALSE(name_from_text("x\\", &wire));
  std::string longname;
  for (int i = 0; i < 50; ++i) longname += "abcde.";
  EXPECT_FALSE(name_from_text(longname, &wire));
}

TEST(Name, CaseInsensitiveCompareAndLower) {
  const uint8_t a[] = {3, 'W', 'w', 'W', 0};
  const uint8_t b[] = {3, 'w', 'W', 'w', 0};
  EXPECT_TRUE(names_equal_nocase(a, 5, b, 5));
  uint8_t lower[5];
  lower_name(a, 5, lower);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(lower), 5), std::string("\3www", 4) + '\0');
}

}  // namespace
}  // namespace geodns::dns
