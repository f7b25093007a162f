#include "common/duration_text.h"

#include <algorithm>

namespace geodns {

std::string duration_text(std::chrono::nanoseconds d) {
  if (d.count() < 0) return "-" + duration_text(-d);
  const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  if (ms < 1000) return std::to_string(ms) + "ms";
  if (ms < 60'000) {
    // One decimal, rounded to the nearest tenth ("1.25s" -> "1.3s"); "59.96s" stays below 60.
    const int64_t tenths = std::min<int64_t>((ms + 50) / 100, 599);
    std::string out = std::to_string(tenths / 10);
    if (tenths % 10 != 0) out += "." + std::to_string(tenths % 10);
    return out + "s";
  }
  const int64_t s = ms / 1000;
  if (s < 3600) {
    std::string out = std::to_string(s / 60) + "m";
    if (s % 60 != 0) out += std::to_string(s % 60) + "s";
    return out;
  }
  std::string out = std::to_string(s / 3600) + "h";
  if ((s / 60) % 60 != 0) out += std::to_string((s / 60) % 60) + "m";
  return out;
}

}  // namespace geodns
