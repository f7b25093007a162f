// GEODNS_UNDER_ASAN is 1 when AddressSanitizer owns the allocator (tests that replace or count
// allocations skip themselves then). GCC defines __SANITIZE_ADDRESS__; clang 14 only answers
// __has_feature.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define GEODNS_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GEODNS_UNDER_ASAN 1
#endif
#endif
#ifndef GEODNS_UNDER_ASAN
#define GEODNS_UNDER_ASAN 0
#endif
