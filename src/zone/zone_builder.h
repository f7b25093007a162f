// Internal to src/zone: the DNS stage of loading (ldns lives behind this).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/result.h"
#include "zone/config.h"
#include "zone/loader.h"
#include "zone/zone_set.h"
#include "zone/zone_source.h"

namespace geodns::zone {

// 64-bit FNV-1a of a zone file's text: equal text, equal hash, on every run.
uint64_t content_hash_of(std::string_view text);

// What the automatic serial continues from, and the time it starts at.
struct SerialInputs {
  const Zone* previous = nullptr;       // the served version (another origin is ignored)
  std::optional<SerialHistory> stored;  // the last good version on disk, used without previous
  // Seconds since the epoch: the zone file's modification time (or the clock, for text that
  // has no file), and the server config's, which counts when the zone uses its datacenters.
  uint32_t zone_time_s = 0;
  uint32_t server_config_time_s = 0;
};

// Builds the Zone; `serial` feeds the automatic serial when the file gives none. Target and
// datacenter ids come from `ids` (the loading ZoneSet's table); without it, from 0.
Result<ZonePtr> build_zone(const ZoneSource& src, const ServerConfig& config, uint64_t content_hash,
                           const SerialInputs& serial, steer::IdTables* ids = nullptr);

}  // namespace geodns::zone
