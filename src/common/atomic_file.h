// Replacing a small state file so that a crash or a full disk leaves the old version or the
// new one, never half of one. Used by every file under state_dir (health, overrides, the last
// good zones).
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace geodns {

// Writes `content` to `path` through `path.tmp` + rename.
Status write_file_atomic(const std::string& path, std::string_view content);

}  // namespace geodns
