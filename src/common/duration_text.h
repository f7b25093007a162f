// Durations as people read them in logs and status: "850ms", "1.2s", "4m10s", "2h". One helper,
// so that every log line and page writes a duration the same way (and the same way the config
// file accepts it, for whole units).
#pragma once

#include <chrono>
#include <string>

namespace geodns {

// Under 1 s: whole milliseconds ("0ms", "850ms"); under a minute: seconds with one decimal
// when not whole ("1.2s", "30s"); then minutes and seconds ("4m10s", "2m"), hours and
// minutes ("2h", "1h30m"). Negative durations get a leading '-'.
std::string duration_text(std::chrono::nanoseconds d);

}  // namespace geodns
