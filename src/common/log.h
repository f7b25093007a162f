// Levelled key=value log lines on stderr: `ts=... level=info event=reload zone=example.com`.
// Never called per query on the packet path.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace geodns::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

void set_level(Level level);
Level level();
bool parse_level(std::string_view text, Level* out);

using Field = std::pair<std::string_view, std::string>;

// Writes one line; values with spaces, quotes or '=' are quoted.
void write(Level level, std::string_view event, std::initializer_list<Field> fields = {});

inline void debug(std::string_view event, std::initializer_list<Field> f = {}) {
  write(Level::debug, event, f);
}
inline void info(std::string_view event, std::initializer_list<Field> f = {}) {
  write(Level::info, event, f);
}
inline void warn(std::string_view event, std::initializer_list<Field> f = {}) {
  write(Level::warn, event, f);
}
inline void error(std::string_view event, std::initializer_list<Field> f = {}) {
  write(Level::error, event, f);
}

}  // namespace geodns::log
