#include "common/atomic_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace geodns {

Status write_file_atomic(const std::string& path, std::string_view content) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) {
    return make_error(tmp + ": cannot open for writing: " + std::strerror(errno));
  }
  const size_t written = std::fwrite(content.data(), 1, content.size(), f);
  // fflush + close errors matter: a full disk shows up here, not in fwrite.
  const bool flushed = std::fflush(f) == 0;
  const bool closed = std::fclose(f) == 0;
  if (written != content.size() || !flushed || !closed) {
    std::remove(tmp.c_str());
    return make_error(tmp + ": write failed: " + std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    return make_error(path + ": cannot replace: " + why);
  }
  return {};
}

}  // namespace geodns
