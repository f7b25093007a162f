#include "server/page_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace geodns::server {
namespace {

size_t page_bytes() {
  return static_cast<size_t>(::sysconf(_SC_PAGESIZE));
}

// Pages of the buffer backed by memory now (mincore: anonymous pages count once written).
size_t resident_pages(const PageBuffer& b) {
  const size_t pages = (b.size() + page_bytes() - 1) / page_bytes();
  std::vector<unsigned char> in_core(pages);
  if (::mincore(b.data(), b.size(), in_core.data()) != 0) return static_cast<size_t>(-1);
  return static_cast<size_t>(
      std::count_if(in_core.begin(), in_core.end(), [](unsigned char c) { return (c & 1U) != 0; }));
}

TEST(PageBuffer, ReadsAsZerosAndTakesMemoryOnlyWhereWritten) {
  // A worker's UDP send buffer at the default batch: 64 slots of 64 KiB.
  auto mapped = PageBuffer::map(64 * 64 * 1024);
  ASSERT_TRUE(mapped.ok()) << mapped.error().to_string();
  PageBuffer b = std::move(mapped.value());
  ASSERT_NE(b.data(), nullptr);
  EXPECT_EQ(b.size(), 64U * 64 * 1024);
  EXPECT_EQ(resident_pages(b), 0U);
  // One short answer in each of three slots.
  for (size_t slot : {0U, 7U, 63U}) {
    std::fill_n(b.data() + slot * 64 * 1024, 300, uint8_t{0xab});
  }
  EXPECT_EQ(resident_pages(b), 3U);
  EXPECT_EQ(b.data()[300], 0);  // beyond what was written: still zero
  EXPECT_EQ(b.data()[7 * 64 * 1024 + 299], 0xab);
}

TEST(PageBuffer, SizeNotAPageMultipleIsUsableToTheEnd) {
  auto mapped = PageBuffer::map(65535);
  ASSERT_TRUE(mapped.ok());
  PageBuffer b = std::move(mapped.value());
  EXPECT_EQ(b.size(), 65535U);
  b.data()[65534] = 1;
  EXPECT_EQ(b.data()[65534], 1);
}

TEST(PageBuffer, MoveHandsOverTheMapping) {
  auto mapped = PageBuffer::map(8192);
  ASSERT_TRUE(mapped.ok());
  PageBuffer a = std::move(mapped.value());
  a.data()[0] = 42;
  uint8_t* const p = a.data();
  PageBuffer b(std::move(a));
  EXPECT_EQ(a.data(), nullptr);  // NOLINT(bugprone-use-after-move): the moved-from state
  EXPECT_EQ(a.size(), 0U);
  EXPECT_EQ(b.data(), p);
  EXPECT_EQ(b.data()[0], 42);
  PageBuffer c;
  c = std::move(b);
  EXPECT_EQ(c.data(), p);
  EXPECT_EQ(b.data(), nullptr);  // NOLINT(bugprone-use-after-move)
}

TEST(PageBuffer, ZeroBytesIsEmpty) {
  auto mapped = PageBuffer::map(0);
  ASSERT_TRUE(mapped.ok());
  EXPECT_EQ(mapped.value().data(), nullptr);
  EXPECT_EQ(mapped.value().size(), 0U);
}

}  // namespace
}  // namespace geodns::server
