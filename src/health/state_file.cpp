#include "health/state_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "health/overrides.h"

namespace geodns::health {

namespace {
constexpr std::string_view kHeader = "# geodns health state v1";
}

Status save_state_file(const std::string& path,
                       const std::unordered_map<std::string, PersistedState>& by_key) {
  // Sorted by key so that the file is stable and diffable between writes.
  std::vector<const std::pair<const std::string, PersistedState>*> entries;
  entries.reserve(by_key.size());
  for (const auto& e : by_key) {
    if (e.second.state != HealthState::unknown) entries.push_back(&e);
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  std::string text(kHeader);
  text += '\n';
  for (const auto* e : entries) {
    text += state_name(e->second.state);
    text += ' ';
    text += std::to_string(
        std::chrono::duration_cast<std::chrono::milliseconds>(e->second.since.time_since_epoch())
            .count());
    text += ' ';
    text += escape_field(e->first);
    text += '\n';
  }
  return write_file_atomic(path, text);
}

StateFileLoad load_state_file(const std::string& path) {
  StateFileLoad out;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return out;
  std::ifstream in(path);
  if (!in) {
    out.errors.push_back(Error{std::string("cannot read: ") + std::strerror(errno), path, 0, 0});
    return out;
  }
  std::string line;
  uint32_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string state_text, key_text, extra;
    long long since_ms = 0;
    if (!(fields >> state_text >> since_ms >> key_text) || (fields >> extra)) {
      out.errors.push_back(Error{"expected: up|down since_ms key", path, line_no, 0});
      continue;
    }
    PersistedState st;
    if (state_text == "up") {
      st.state = HealthState::up;
    } else if (state_text == "down") {
      st.state = HealthState::down;
    } else {
      out.errors.push_back(Error{"bad state \"" + state_text + "\"", path, line_no, 0});
      continue;
    }
    auto key = unescape_field(key_text);
    if (!key || key->empty()) {
      out.errors.push_back(Error{"bad target key", path, line_no, 0});
      continue;
    }
    st.since = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::milliseconds(since_ms)));
    out.by_key[*key] = st;
  }
  return out;
}

}  // namespace geodns::health
