// `geodns import ZONEFILE --origin NAME [--output FILE]`: converts an RFC 1035 master file
// (parsed by ldns, $ORIGIN/$TTL/$INCLUDE-free) into a geodns TOML zone that serves the same
// records: [zone] name and default TTL, [zone.soa] from the SOA (its serial kept), and
// [records] grouped by owner, relative to the origin.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace geodns::ops {

struct ImportResult {
  std::string toml;
  size_t records = 0;                 // records written (the SOA not counted)
  std::vector<std::string> warnings;  // records skipped (outside the origin, other class)
};

// `display_name` names the input in errors ("db.example.com:12: ..."). `default_ttl_s` is the
// TTL of records before any $TTL (gdnsd: options.zones_default_ttl).
Result<ImportResult> import_zone_text(std::string_view text, const std::string& origin,
                                      const std::string& display_name,
                                      uint32_t default_ttl_s = 3600);
Result<ImportResult> import_zone_file(const std::string& path, const std::string& origin);

// TOML spellings shared with the gdnsd importer: a string (basic, or literal when it holds
// quotes or backslashes) and a key (bare when it can be).
std::string toml_string(std::string_view s);
std::string toml_key(std::string_view s);

// `geodns import --gdnsd DIR --output OUTDIR` is gdnsd_import.h's run_gdnsd_import.
// The command: writes to `output` ("" or "-" = stdout); returns the exit code.
int run_import(const std::vector<std::string>& args);

}  // namespace geodns::ops
