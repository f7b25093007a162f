// A zone file after the TOML stage: every value type-checked and range-checked, with the
// source position of everything the later (DNS-level) stage may still reject. Internal to
// src/zone: toml_reader.cpp produces it, zone_builder.cpp turns it into a Zone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/ip.h"
#include "common/result.h"
#include "zone/config.h"

namespace geodns::zone {

struct RecordDef {
  std::string text;  // "A 192.0.2.1", presentation format without owner/TTL/class
  std::optional<uint32_t> ttl_s;
  SourcePos pos;  // the string itself
};

struct OwnerDef {
  std::string owner;  // as written: "@", "www", "*.wild", "host.example.com."
  SourcePos pos;      // the key
  std::vector<RecordDef> records;
};

struct SoaDef {
  bool present = false;
  std::string mname, rname;
  uint32_t refresh_s = 3600, retry_s = 600, expire_s = 1209600, minimum_s = 60;
  std::optional<uint32_t> serial;
  std::optional<uint32_t> ttl_s;
  SourcePos pos, mname_pos, rname_pos;
};

struct SteerDef {
  std::string owner;
  SourcePos pos;  // the table
  SourcePos owner_pos;
  uint32_t ttl_s = 30;
  std::optional<uint32_t> degraded_ttl_s;
  std::string policy;
  SourcePos policy_pos;
  std::optional<uint32_t> answers;  // unset: every address for roundrobin, else 2
  bool spillover = false;
  SourcePos spillover_pos;
  using MapEntry = MapEntryDef;
  using NetEntry = NetEntryDef;
  std::vector<MapEntry> map;
  bool has_map = false;
  SourcePos map_pos;
  std::vector<NetEntry> nets;  // inline nets, then every nets_file line
  bool has_nets = false;
  SourcePos nets_pos;
  std::vector<InputFile> files;  // nets_file
  std::string map_name;          // `map = "NAME"`: a [maps.NAME] instead of inline entries
  SourcePos map_name_pos;
  std::vector<NameRef> datacenters;
  bool has_datacenters = false;
  SourcePos datacenters_pos;
  struct Weight {
    NameRef dc;
    uint32_t weight;
  };
  std::vector<Weight> weights;
  bool has_weights = false;
  SourcePos weights_pos;
  std::string on_all_down = "all";
  SourcePos on_all_down_pos;
};

struct ZoneSource {
  std::string display_name;
  std::string name;  // "" = from the file name
  SourcePos name_pos;
  uint32_t ttl_s = 3600;
  SoaDef soa;
  std::vector<OwnerDef> owners;  // file order
  std::vector<DatacenterDef> datacenters;
  std::vector<CheckDef> checks;
  std::vector<PoolDef> pools;
  std::vector<MapDef> maps;
  std::vector<SteerDef> steers;
  std::vector<SecondaryDef> secondaries;  // [[zone.secondary]]
  bool dnssec = false;                    // [zone] dnssec = true: signed (zone/zone_signer.h)
  SourcePos dnssec_pos;
};

// toml_reader.cpp
Result<ZoneSource> read_zone_source(std::string_view text, const std::string& display_name);

// Durations: an integer (seconds) or "30s", "10m", "1h", "14d", "1w", "800ms", also combined
// ("1h30m"). Returns milliseconds, or nullopt (with a reason).
std::optional<int64_t> parse_duration_ms(std::string_view text, std::string* why);

}  // namespace geodns::zone
