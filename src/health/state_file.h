// health.state: the last known state of every target, written by the prober on each
// transition and read back on start, so that a restarted server answers with the right
// addresses from its first query instead of failing open until the first round is done.
#pragma once

#include <chrono>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "health/rise_fall.h"

namespace geodns::health {

struct PersistedState {
  HealthState state = HealthState::unknown;  // up or down
  std::chrono::system_clock::time_point since{};
};

struct StateFileLoad {
  std::unordered_map<std::string, PersistedState> by_key;  // target key -> state
  std::vector<Error> errors;  // bad lines or an unreadable file; never fatal
};

// Entries with an unknown state are skipped. Temp file + rename.
Status save_state_file(const std::string& path,
                       const std::unordered_map<std::string, PersistedState>& by_key);
// A missing file loads as empty without error.
StateFileLoad load_state_file(const std::string& path);

}  // namespace geodns::health
