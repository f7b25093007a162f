// What the two standalone bench tools (geodns-loadgen, geodns-floor) share: fatal errors,
// integer flags and CPU pinning. Header-only and independent of the server's code.
#pragma once

#include <sched.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace geodns::bench {

inline const char* g_tool = "geodns-bench";  // the program name in messages; main() sets it

[[noreturn]] inline void die(const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", g_tool, message.c_str());
  std::exit(2);
}

inline long parse_int(std::string_view flag, const char* text, long lo, long hi) {
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < lo || value > hi) {
    die(std::string(flag) + ": expected an integer in " + std::to_string(lo) + ".." +
        std::to_string(hi) + ", got '" + text + "'");
  }
  return value;
}

// Pins the calling thread to `cpu`; a negative cpu leaves it where it is.
inline void pin_to_cpu(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) {
    die("cannot pin to CPU " + std::to_string(cpu) + ": " + std::strerror(errno));
  }
}

}  // namespace geodns::bench
