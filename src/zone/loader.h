// Zone files (TOML) -> immutable Zones and ZoneSets. Load path only: the packet path never sees
// toml++ or ldns, only the wire-format result.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "zone/config.h"
#include "zone/zone_set.h"

namespace geodns::zone {

class LastGoodStore;

// Loads one zone file. `previous` is the currently served version of the same zone (or null);
// it keeps the automatic SOA serial stable while the file is unchanged and increasing when it
// changes. A `previous` with a different origin is ignored.
Result<ZonePtr> load_zone_file(const std::string& path, const ServerConfig& config,
                               const Zone* previous);
// Same from text; `display_name` is used in errors and, without [zone] name, gives the origin
// (its file name minus ".toml"). For tests and the fuzzer.
Result<ZonePtr> load_zone_text(std::string_view text, const std::string& display_name,
                               const ServerConfig& config, const Zone* previous);

struct LoadReport {
  ZoneSetPtr zones;           // never null
  std::vector<Error> errors;  // one per file that failed (or clashed)
  size_t rebuilt = 0;         // zones built from their file by this load
  size_t reused = 0;          // unchanged zones taken as they were from `previous`
};

// Loads every *.toml in `dir` (sorted by file name). A file that fails keeps the zone it
// produced before (found in `previous` by source file) and its error is reported; two files
// with the same origin is an error (the first file in name order wins). A zone file that
// disappeared is dropped; an unreadable directory keeps every previous zone. The result is
// reindex()ed; generation = previous's + 1 (1 without previous).
//
// With `previous_config` (the config `previous` was built with), a zone whose file text is
// unchanged and whose shared definitions (server_definitions_used) are equal in both configs
// is reused as it is instead of being built again: a reload after one edit costs one zone.
// With `last_good`, every zone that loads is stored there, and a file that fails with no
// previous version in memory (at start-up) serves its stored last good version instead; its
// error is still reported. The stored serial also continues the automatic serial after a
// restart.
LoadReport load_zone_dir(const std::string& dir, const ServerConfig& config,
                         const ZoneSet* previous, const ServerConfig* previous_config = nullptr,
                         const LastGoodStore* last_good = nullptr);

// Canonical text of every server datacenter and check `zone` may have taken from `config`
// (any of its datacenters' names, any of their checks' names). It over-approximates (a zone
// datacenter shadowing a server one of the same name counts too): a needless rebuild is
// harmless, a missed one would serve stale addresses.
std::string server_definitions_used(const Zone& zone, const ServerConfig& config);

// A version's automatic serial and the hash of what it was built from.
struct SerialHistory {
  uint64_t content_hash = 0;
  uint32_t serial = 0;
};

// The automatic serial: `previous` unchanged (same content hash) keeps its serial; without
// one, the newest modification time of the zone's inputs (its file, and geodns.toml when it
// uses the server's datacenters), so that every server given the same files (content and
// times, as rsync -a or a package deploy them) computes the same serial, restart or not;
// otherwise max(that time, previous + 1) in RFC 1982 serial arithmetic, never backwards.
uint32_t next_serial(uint64_t content_hash, std::optional<SerialHistory> previous,
                     uint32_t newest_input_s);
uint32_t next_serial(uint64_t content_hash, const Zone* previous, uint32_t newest_input_s);
// With [fleet]: the serial is the content hash folded to 32 bits (never 0), the same on every
// server that loads the same content, whatever its files' times.
uint32_t fleet_serial(uint64_t content_hash);

}  // namespace geodns::zone
