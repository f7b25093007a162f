// Admin overrides: force a datacenter or an answered address up or down, optionally until a
// wall-clock expiry, with a reason. Persisted to a small text file so that an operator's
// "drain fra" survives a restart. Owned by the Prober (which locks around it); not
// thread-safe by itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/atomic_file.h"
#include "common/clock.h"
#include "common/ip.h"
#include "common/result.h"
#include "steer/health_view.h"

namespace geodns::health {

// What an override applies to: a datacenter (by name; the DcId is a hint resolved again
// after a restart, because names are the stable identity) or an answered address (every
// target answering with it, whatever its check).
struct OverrideKey {
  enum class Kind : uint8_t { datacenter, address };
  Kind kind = Kind::datacenter;
  std::string datacenter;  // kind == datacenter
  steer::DcId dc_id = 0;   // kind == datacenter; only valid if has_dc_id
  bool has_dc_id = false;
  IpAddress address;  // kind == address

  static OverrideKey for_datacenter(std::string name);
  static OverrideKey for_datacenter(steer::DcId id, std::string name);
  static OverrideKey for_address(const IpAddress& address);

  // "dc:fra" or "addr:192.0.2.10".
  std::string to_string() const;
  // Inverse of to_string(); nullopt on malformed text.
  static std::optional<OverrideKey> parse(std::string_view text);
  // Identity ignores the DcId hint.
  bool same_target(const OverrideKey& other) const noexcept;
};

struct OverrideInfo {
  OverrideKey key;
  steer::Override mode = steer::Override::none;                  // force_up or force_down
  std::optional<std::chrono::system_clock::time_point> expires;  // none = until cleared
  std::string reason;
  std::chrono::system_clock::time_point created{};
  std::string author;  // the server that set it, with [fleet]; "" for a local one
};

struct OverrideLoadReport {
  size_t loaded = 0;
  size_t expired = 0;         // skipped because their expiry has passed
  std::vector<Error> errors;  // one per bad line (file:line: message) or an unreadable file
};

class OverrideSet {
 public:
  explicit OverrideSet(const Clock& clock) : clock_(&clock) {}

  // Adds or replaces the override for key. Rejects mode none and an expiry in the past.
  Status set(OverrideKey key, steer::Override mode,
             std::optional<std::chrono::system_clock::time_point> expires, std::string reason);
  // Returns false if there was none.
  bool clear(const OverrideKey& key);
  // Replaces every override with `items` (the fleet's set, fleet/fleet.h); expired ones and
  // mode none are skipped. Returns true if the active set changed.
  bool replace(std::vector<OverrideInfo> items);
  // Drops every override whose expiry has passed; returns true if any was dropped.
  bool prune_expired();

  // Active (unexpired) overrides, in insertion order.
  std::vector<OverrideInfo> active() const;
  steer::Override for_address(const IpAddress& address) const;
  steer::Override for_datacenter(std::string_view name) const;
  // The earliest pending expiry, for the owner's housekeeping.
  std::optional<std::chrono::system_clock::time_point> next_expiry() const;
  bool empty() const { return items_.empty(); }

  // Writes every active override to `path` (temp file + rename: a crash leaves the old file
  // or the new one, never half of one).
  Status save(const std::string& path) const;
  // Replaces the set with the file's content. A missing file is an empty set, not an error;
  // bad lines are reported and skipped, never fatal.
  OverrideLoadReport load(const std::string& path);

 private:
  bool is_expired(const OverrideInfo& o) const;

  const Clock* clock_;
  std::vector<OverrideInfo> items_;
};

// Shared by the state files: escapes whitespace, '%' and non-printable bytes as %XX so a
// field is one space-free token.
std::string escape_field(std::string_view raw);
std::optional<std::string> unescape_field(std::string_view text);

}  // namespace geodns::health
