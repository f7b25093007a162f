// The last version of each zone file that loaded, kept under state_dir, so that a zone whose
// file is broken at start-up (an edit the running server rightly refused) still serves what
// it served before the restart, and so that the automatic serial continues across restarts.
// Load path only (control thread); files are replaced atomically (temp + rename).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "zone/loader.h"

namespace geodns::zone {

class LastGoodStore {
 public:
  // `dir` is state_dir + "/last-good" (created on first save); empty keeps nothing.
  explicit LastGoodStore(std::string dir) : dir_(std::move(dir)) {}

  struct Entry {
    std::string text;       // the zone file's source text as it loaded
    SerialHistory history;  // its content hash (with the server datacenters it used), serial
  };

  bool enabled() const { return !dir_.empty(); }
  // The stored version of the zone file `source_file` (matched by file name), if any. A
  // damaged entry counts as none.
  std::optional<Entry> find(const std::string& source_file) const;
  // Stores `text` as the last good version of `source_file`, unless it is already stored.
  Status save(const std::string& source_file, std::string_view text, SerialHistory history) const;
  // Where the version of `source_file` is kept (for messages).
  std::string path_for(const std::string& source_file) const;

 private:
  std::string dir_;
};

}  // namespace geodns::zone
