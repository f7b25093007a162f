// The per-query lookups promise no heap allocation (STYLE.md: the packet path never allocates).
// This binary interposes malloc/calloc/realloc to count calls while a flag is set, so the
// promise is checked rather than assumed. Kept apart from geo_test because the interposition
// is process-wide; skipped under AddressSanitizer, which owns malloc itself.
#include <gtest/gtest.h>
#include <maxminddb.h>

#include <atomic>
#include <cstddef>
#include <string>

#include "geo/cidr_table.h"
#include "geo/database.h"

#include "../../support/sanitizers.h"

#if GEODNS_UNDER_ASAN
#define GEODNS_COUNT_ALLOCS 0
#else
#define GEODNS_COUNT_ALLOCS 1
#endif

#if GEODNS_COUNT_ALLOCS
extern "C" void* __libc_malloc(size_t size);
extern "C" void* __libc_calloc(size_t count, size_t size);
extern "C" void* __libc_realloc(void* ptr, size_t size);

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
void note_allocation() {
  if (g_counting.load(std::memory_order_relaxed)) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  }
}
}  // namespace

extern "C" void* malloc(size_t size) noexcept {
  note_allocation();
  return __libc_malloc(size);
}
extern "C" void* calloc(size_t count, size_t size) noexcept {
  note_allocation();
  return __libc_calloc(count, size);
}
extern "C" void* realloc(void* ptr, size_t size) noexcept {
  note_allocation();
  return __libc_realloc(ptr, size);
}
#endif

namespace geodns::geo {
namespace {

#if GEODNS_COUNT_ALLOCS
class CountAllocations {
 public:
  CountAllocations() {
    g_allocations = 0;
    g_counting = true;
  }
  ~CountAllocations() { g_counting = false; }
  long count() const { return g_allocations.load(); }
};

IpAddress ip(const char* text) {
  return IpAddress::parse(text).value_or(IpAddress{});
}

// Proves the counter works: MMDB_get_value (varargs) callocs a copy of its path, which is why
// database.cpp uses MMDB_aget_value.
TEST(AllocationFree, CounterSeesMmdbGetValueAllocate) {
  const std::string path = std::string(GEODNS_SOURCE_DIR) + "/geoip/demo.mmdb";
  MMDB_s mmdb;
  ASSERT_EQ(MMDB_open(path.c_str(), MMDB_MODE_MMAP, &mmdb), MMDB_SUCCESS);
  int gai_error = 0;
  int mmdb_error = 0;
  MMDB_lookup_result_s result = MMDB_lookup_string(&mmdb, "81.2.69.160", &gai_error, &mmdb_error);
  ASSERT_TRUE(result.found_entry);
  MMDB_entry_data_s data;
  long n = 0;
  {
    CountAllocations counter;
    ASSERT_EQ(MMDB_get_value(&result.entry, &data, "country", "iso_code", nullptr), MMDB_SUCCESS);
    n = counter.count();
  }
  EXPECT_GT(n, 0);
  MMDB_close(&mmdb);
}

TEST(AllocationFree, DatabaseLookup) {
  auto opened = Database::open(std::string(GEODNS_SOURCE_DIR) + "/geoip/demo.mmdb");
  ASSERT_TRUE(opened.ok());
  auto flat = Database::open(std::string(GEODNS_SOURCE_DIR) + "/tests/data/geo/flat.mmdb");
  ASSERT_TRUE(flat.ok());
  const IpAddress addrs[] = {ip("81.2.69.160"), ip("2001:db8:3::1"), ip("::ffff:8.8.8.8"),
                             ip("10.0.0.1"), ip("2001:db8:ffff::1")};
  Location loc;
  int found = 0;
  long n = 0;
  {
    CountAllocations counter;
    for (const IpAddress& a : addrs) {
      found += (*opened)->lookup(a, &loc) ? 1 : 0;
      found += (*flat)->lookup(a, &loc) ? 1 : 0;  // centroid and continent derivation
    }
    n = counter.count();
  }
  EXPECT_EQ(n, 0);
  EXPECT_EQ(found, 5);  // demo: 3 hits; flat: 81.2.69.160 and 8.8.8.8
}

// With the ASN database beside it ([server] asn_db): two tree lookups, still no allocation.
TEST(AllocationFree, DatabaseLookupWithAsn) {
  auto both = Database::open(std::string(GEODNS_SOURCE_DIR) + "/geoip/demo.mmdb",
                             std::string(GEODNS_SOURCE_DIR) + "/geoip/demo-asn.mmdb");
  ASSERT_TRUE(both.ok());
  const IpAddress addrs[] = {ip("8.8.8.8"), ip("2001:db8:100::1"), ip("::ffff:1.1.1.1"),
                             ip("9.9.9.9")};
  Location loc;
  uint32_t asns = 0;
  long n = 0;
  {
    CountAllocations counter;
    for (const IpAddress& a : addrs) {
      (*both)->lookup(a, &loc);
      asns += loc.asn != 0 ? 1 : 0;
    }
    n = counter.count();
  }
  EXPECT_EQ(n, 0);
  EXPECT_EQ(asns, 3u);
}

TEST(AllocationFree, CidrLookupAndScope) {
  CidrTable t;
  ASSERT_TRUE(t.insert(IpPrefix::parse("10.1.0.0/16").value(), 1));
  ASSERT_TRUE(t.insert(IpPrefix::parse("2001:db8::/32").value(), 2));
  unsigned total = 0;
  long n = 0;
  {
    CountAllocations counter;
    auto m = t.lookup(ip("10.1.2.3"));
    total += m ? m->value : 0;
    m = t.lookup(ip("2001:db8::1"));
    total += m ? m->value : 0;
    total += t.scope_excluding_inner(ip("10.2.0.1"), 8);
    n = counter.count();
  }
  EXPECT_EQ(n, 0);
  EXPECT_EQ(total, 1U + 2U + 15U);
}
#else
TEST(AllocationFree, SkippedUnderAddressSanitizer) {
  GTEST_SKIP() << "ASan owns malloc";
}
#endif

}  // namespace
}  // namespace geodns::geo
