#include "zone/last_good.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/atomic_file.h"

namespace geodns::zone {

namespace {

// The first line of a stored file; the zone text follows it unchanged. One file per zone, so
// that the text and its serial are replaced together.
constexpr std::string_view kMagic = "# geodns last good zone:";

std::string header(SerialHistory h) {
  return std::string(kMagic) + " serial=" + std::to_string(h.serial) +
         " hash=" + std::to_string(h.content_hash) + "\n";
}

template <typename T>
std::optional<T> field(std::string_view line, std::string_view name) {
  const auto at = line.find(name);
  if (at == std::string_view::npos) return std::nullopt;
  const char* first = line.data() + at + name.size();
  const char* last = line.data() + line.size();
  T value{};
  auto [ptr, ec] = std::from_chars(first, last, value);
  if (ec != std::errc() || ptr == first) return std::nullopt;
  return value;
}

}  // namespace

std::string LastGoodStore::path_for(const std::string& source_file) const {
  return dir_ + "/" + std::filesystem::path(source_file).filename().string();
}

std::optional<LastGoodStore::Entry> LastGoodStore::find(const std::string& source_file) const {
  if (!enabled()) return std::nullopt;
  std::ifstream in(path_for(source_file), std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string all = ss.str();
  const auto eol = all.find('\n');
  if (eol == std::string::npos || !std::string_view(all).starts_with(kMagic)) return std::nullopt;
  const std::string_view line(all.data(), eol);
  auto serial = field<uint32_t>(line, " serial=");
  auto hash = field<uint64_t>(line, " hash=");
  if (!serial || !hash) return std::nullopt;
  return Entry{all.substr(eol + 1), SerialHistory{*hash, *serial}};
}

Status LastGoodStore::save(const std::string& source_file, std::string_view text,
                           SerialHistory history) const {
  if (!enabled()) return {};
  if (auto old = find(source_file); old && old->history.serial == history.serial &&
                                    old->history.content_hash == history.content_hash &&
                                    old->text == text) {
    return {};
  }
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return make_error(dir_ + ": cannot create: " + ec.message());
  std::string content = header(history);
  content += text;
  return write_file_atomic(path_for(source_file), content);
}

}  // namespace geodns::zone
