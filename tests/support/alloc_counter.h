// Replaces the global operator new/delete with counting versions, for the tests and benchmarks
// that prove the packet path allocates nothing. Include it in exactly one translation unit of
// a binary (the replacement functions are not inline, by the language's rules), and keep such
// binaries separate from other tests: the replacement applies to the whole process.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

#include "sanitizers.h"

namespace geodns::testing {

// Counting is on by default (benchmarks count everything between two readings); tests switch
// it on only around the code under test.
inline std::atomic<bool> g_count_allocations{true};
inline std::atomic<uint64_t> g_allocations{0};

}  // namespace geodns::testing

void* operator new(size_t n) {
  if (geodns::testing::g_count_allocations.load(std::memory_order_relaxed)) {
    geodns::testing::g_allocations.fetch_add(1, std::memory_order_relaxed);
  }
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t) noexcept {
  std::free(p);
}
