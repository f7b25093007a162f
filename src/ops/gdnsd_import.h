// `geodns import --gdnsd DIR --output OUT`: converts a gdnsd 3.x configuration directory (its
// `config` file and `zones/`) into a geodns tree (OUT/geodns.toml and OUT/zones/*.toml).
// Static records go through the RFC 1035 importer (import.h); each DYNA/DYNC record becomes a
// steered name built from the plugin resource it names (geoip maps and resources, metafo,
// multifo, simplefo, weighted), and the service_types its addresses use (http_status,
// tcp_connect) become checks. What has no geodns equivalent is listed, with file:line and
// why, instead of being guessed at.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace geodns::ops {

// gdnsd's vscf syntax: nested hashes (`key => value` or `key = value`), arrays, scalars
// (bare or "quoted", with \ escapes), `#` comments, optional `,`/`;` separators and
// `$include{path}` (relative to the including file) as a value or as hash entries.
struct Vscf {
  enum class Kind { scalar, array, hash };
  Kind kind = Kind::scalar;
  std::string scalar;
  std::vector<Vscf> array;
  std::vector<std::pair<std::string, Vscf>> hash;  // in file order
  std::string file;
  uint32_t line = 0;

  const Vscf* get(std::string_view key) const;
  bool is_hash() const { return kind == Kind::hash; }
  bool is_array() const { return kind == Kind::array; }
  bool is_scalar() const { return kind == Kind::scalar; }
  std::string where() const { return file + ":" + std::to_string(line); }
  // A scalar, or each member of an array of scalars (vscf lets one value stand for a list).
  std::vector<std::string> scalars() const;
};

// The top level is an implicit hash (or an explicit [array]). `file` names it in errors and
// is where relative $include paths start.
Result<Vscf> parse_vscf(std::string_view text, const std::string& file);
Result<Vscf> parse_vscf_file(const std::string& path);

struct GdnsdImport {
  std::string server_toml;                                 // OUT/geodns.toml
  std::vector<std::pair<std::string, std::string>> zones;  // file name, TOML text
  std::vector<std::string> not_converted;                  // "file:line: what and why"
  size_t static_records = 0;
  size_t steered_names = 0;
};

// Reads DIR/config (optional, as for gdnsd) and every zone file in DIR/zones.
Result<GdnsdImport> import_gdnsd(const std::string& dir);

// The command's --gdnsd mode: writes OUT (created if needed); prints what was not converted
// on `err`. Returns the exit code (0 also when some constructs were not converted: they are
// listed; 1 on an error).
int run_gdnsd_import(const std::string& dir, const std::string& output);

}  // namespace geodns::ops
