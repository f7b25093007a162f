#include "common/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace geodns::log {
namespace {

std::atomic<Level> g_level{Level::info};
std::mutex g_mutex;  // one line at a time from any thread; never taken on the packet path

const char* level_name(Level l) {
  switch (l) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warn";
    case Level::error:
      return "error";
  }
  return "?";
}

void append_value(std::string& out, std::string_view v) {
  bool needs_quotes = v.empty();
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\t' || c == '\n') needs_quotes = true;
  }
  if (!needs_quotes) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += '"';
}

}  // namespace

void set_level(Level l) {
  g_level.store(l, std::memory_order_relaxed);
}
Level level() {
  return g_level.load(std::memory_order_relaxed);
}

bool parse_level(std::string_view text, Level* out) {
  if (text == "debug")
    *out = Level::debug;
  else if (text == "info")
    *out = Level::info;
  else if (text == "warn" || text == "warning")
    *out = Level::warn;
  else if (text == "error")
    *out = Level::error;
  else
    return false;
  return true;
}

void write(Level l, std::string_view event, std::initializer_list<Field> fields) {
  if (static_cast<int>(l) < static_cast<int>(level())) return;
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[96];
  std::snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count()));
  std::string line;
  line.reserve(128);
  line += "ts=";
  line += ts;
  line += " level=";
  line += level_name(l);
  line += " event=";
  append_value(line, event);
  for (const auto& [k, v] : fields) {
    line += ' ';
    line += k;
    line += '=';
    append_value(line, v);
  }
  line += '\n';
  std::lock_guard lock(g_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace geodns::log
