#include "dns/name.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

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

namespace geodns::dns {
namespace {

TEST(Name, WordFoldMatchesByteFold) {
  // Every byte value in every position of the word, neighbours included (a carry between
  // bytes would show as a wrong neighbour).
  for (unsigned b = 0; b < 256; ++b) {
    for (unsigned at = 0; at < 8; ++at) {
      uint8_t in[8] = {'A', 'z', 0xC1, '@', '[', 0x7f, 'Q', 0x80};
      in[at] = static_cast<uint8_t>(b);
      uint64_t v;
      std::memcpy(&v, in, 8);
      v = ascii_lower8(v);
      uint8_t out[8];
      std::memcpy(out, &v, 8);
      for (unsigned i = 0; i < 8; ++i) {
        ASSERT_EQ(out[i], ascii_lower(in[i])) << "byte " << b << " at " << at << ", index " << i;
      }
    }
  }
}

// read_name_lower() must agree with read_name() then lower_name() on every input: the same
// verdict, the same name, the same end position.
void expect_same_as_general(const std::vector<uint8_t>& msg, size_t start) {
  size_t pos_a = start;
  size_t pos_b = start;
  uint8_t name_a[kMaxNameLength];
  uint8_t lower_a[kMaxNameLength];
  uint8_t name_b[kMaxNameLength];
  uint8_t lower_b[kMaxNameLength];
  size_t len_a = 0;
  size_t len_b = 0;
  const bool ok_a = read_name_lower(msg.data(), msg.size(), &pos_a, name_a, lower_a, &len_a);
  const bool ok_b = read_name(msg.data(), msg.size(), &pos_b, name_b, &len_b);
  ASSERT_EQ(ok_a, ok_b);
  size_t pos_c = start;
  ASSERT_EQ(skip_name(msg.data(), msg.size(), &pos_c), ok_b);
  if (!ok_b) return;
  lower_name(name_b, len_b, lower_b);
  ASSERT_EQ(len_a, len_b);
  EXPECT_EQ(pos_a, pos_b);
  EXPECT_EQ(pos_c, pos_b);
  EXPECT_EQ(std::memcmp(name_a, name_b, len_b), 0);
  EXPECT_EQ(std::memcmp(lower_a, lower_b, len_b), 0);
}

TEST(Name, QuestionReaderAgreesWithGeneralReader) {
  std::vector<std::vector<uint8_t>> names;
  names.push_back({0});          // the root
  names.push_back({1, 'A', 0});  // shorter than a word
  names.push_back({3, 'W', 'w', 'W', 7, 'E', 'x', 'A', 'm', 'p', 'L', 'e', 3, 'C', 'O', 'M', 0});
  names.push_back({2, 0xC1, 'Z', 0});                    // non-ASCII bytes stay as they are
  names.push_back({3, 'a', 'b'});                        // cut short
  names.push_back({5, 'a', 'b', 'c', 'd', 'e'});         // no root label
  names.push_back({0x41, 'a', 0});                       // extended label type
  names.push_back({0x81, 'a', 0});                       // binary label type
  for (size_t total : {253U, 254U, 255U, 256U, 257U}) {  // around the 255-byte limit
    std::vector<uint8_t> n;
    while (n.size() + 1 < total) {
      const size_t label = std::min<size_t>(63, total - n.size() - 2);
      if (label == 0) break;
      n.push_back(static_cast<uint8_t>(label));
      for (size_t i = 0; i < label; ++i) n.push_back(static_cast<uint8_t>('A' + i % 26));
    }
    n.push_back(0);
    names.push_back(n);
  }
  for (const auto& n : names) {
    std::vector<uint8_t> msg(12, 0);  // a header's worth in front, as in a message
    msg.insert(msg.end(), n.begin(), n.end());
    msg.push_back(0x12);  // trailing bytes (qtype) must not be read as the name
    expect_same_as_general(msg, 12);
    // And cut at every length.
    for (size_t cut = 12; cut < msg.size(); ++cut) {
      expect_same_as_general(std::vector<uint8_t>(msg.begin(), msg.begin() + cut), 12);
    }
  }
  // Compressed: a label, then a pointer back to a name before it (the general path).
  std::vector<uint8_t> msg = {3, 'C', 'o', 'M', 0, 2, 'W', 'w', 0xC0, 0x00};
  expect_same_as_general(msg, 5);
  // A pointer forwards or to itself is refused by both.
  expect_same_as_general({0xC0, 0x00}, 0);
  expect_same_as_general({1, 'a', 0xC0, 0x05, 0, 0}, 0);
}

}  // namespace
}  // namespace geodns::dns
