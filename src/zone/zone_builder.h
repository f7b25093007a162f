// Internal to src/zone: the DNS stage of loading (ldns lives behind this).
#pragma once

#include <cstdint>
#include <string_view>

#include "common/result.h"
#include "zone/config.h"
#include "zone/loader.h"
#include "zone/zone_set.h"
#include "zone/zone_source.h"

namespace geodns::zone {

// 64-bit FNV-1a of a zone file's text: equal text, equal hash, on every run.
uint64_t content_hash_of(std::string_view text);

// Builds the Zone. `previous` (same origin, or it is ignored) and `unix_now` feed the
// automatic serial when the file gives none.
Result<ZonePtr> build_zone(const ZoneSource& src, const ServerConfig& config, uint64_t content_hash,
                           const Zone* previous, uint32_t unix_now);

}  // namespace geodns::zone
