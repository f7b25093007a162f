// Loading zone files and directories: file I/O, the automatic serial's clock, and the rule that
// a broken file never takes its zone down (the previous version keeps serving).
#include "zone/loader.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "zone/last_good.h"
#include "zone/zone_builder.h"
#include "zone/zone_source.h"

namespace geodns::zone {

namespace {

uint32_t unix_now() {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::now().time_since_epoch());
  return static_cast<uint32_t>(s.count());
}

// A file's modification time in seconds since the epoch (0 when it cannot be read): what the
// automatic serial starts from, the same on every server given the same files.
uint32_t mtime_of(const std::string& path) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<uint32_t>(st.st_mtim.tv_sec);
}

// Zone files are small; anything huge is a mistake and must not exhaust memory.
constexpr std::uintmax_t kMaxZoneFileBytes = 64 * 1024 * 1024;

Result<std::string> read_file(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return Error{"cannot read: " + ec.message(), path, 0, 0};
  if (size > kMaxZoneFileBytes) return Error{"file too large", path, 0, 0};
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot open the file", path, 0, 0};
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error{"cannot read the file", path, 0, 0};
  return ss.str();
}

Result<ZonePtr> load_text(std::string_view text, const std::string& display_name,
                          const ServerConfig& config, const Zone* previous) {
  auto src = read_zone_source(text, display_name);
  if (!src) return src.error();
  SerialInputs serial;
  serial.previous = previous;
  serial.zone_time_s = unix_now();
  return build_zone(*src, config, content_hash_of(text), serial);
}

// Whether every other file `zone` was built from (nets files) still has the content it had.
bool inputs_unchanged(const Zone& zone) {
  for (const auto& [path, hash] : zone.input_files) {
    auto text = read_file(path);
    if (!text || content_hash_of(*text) != hash) return false;
  }
  return true;
}

}  // namespace

Result<ZonePtr> load_zone_text(std::string_view text, const std::string& display_name,
                               const ServerConfig& config, const Zone* previous) {
  return load_text(text, display_name, config, previous);
}

Result<ZonePtr> load_zone_file(const std::string& path, const ServerConfig& config,
                               const Zone* previous) {
  auto text = read_file(path);
  if (!text) return text.error();
  return load_text(*text, path, config, previous);
}

std::string server_definitions_used(const Zone& zone, const ServerConfig& config) {
  std::string out;
  // Shared maps: the zone does not record which it used, so any steered zone counts them all
  // (a needless rebuild is harmless). Their nets files are in the zone's input_files.
  if (!zone.rules.empty()) {
    for (const auto& m : config.maps) {
      out += "map " + m.name;
      for (const auto& e : m.map) {
        out += " " + e.key + "=";
        for (const auto& d : e.dcs) out += d.name + ",";
      }
      for (const auto& e : m.nets) {
        out += " " + e.prefix.to_string() + "=";
        for (const auto& d : e.dcs) out += d.name + ",";
      }
      out += "\n";
    }
  }
  auto add_check = [&](std::string_view name) {
    if (name.empty()) return;
    if (const CheckDef* c = config.find_check(name)) {
      const auto& s = c->spec;
      out += "check " + s.name + " " + s.key() + " " + std::to_string(s.interval.count()) + " " +
             std::to_string(s.timeout.count()) + " " + std::to_string(s.fall) + " " +
             std::to_string(s.rise) + "\n";
    }
  };
  for (const auto& dc : zone.datacenters) {
    add_check(dc.check);
    const DatacenterDef* d = config.find_datacenter(dc.name);
    if (d == nullptr) continue;
    out += "dc " + d->name + " " + std::to_string(d->has_location) + " " +
           std::to_string(d->latitude) + " " + std::to_string(d->longitude) + " " + d->check +
           " target=" + d->target;
    for (const auto& ip : d->addresses) out += " " + ip.to_string();
    out += "\n";
    add_check(d->check);
  }
  return out;
}

LoadReport load_zone_dir(const std::string& dir, const ServerConfig& config,
                         const ZoneSet* previous, const ServerConfig* previous_config,
                         const LastGoodStore* last_good) {
  LoadReport report;
  auto set = std::make_shared<ZoneSet>();
  set->generation = previous ? previous->generation + 1 : 1;
  // Keys keep their ids across reloads: unchanged zones are reused with the ids built in.
  if (previous) set->ids = previous->ids.next_load();

  std::vector<std::string> files;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    report.errors.push_back(Error{"cannot read the zones directory: " + ec.message(), dir, 0, 0});
    // Nothing can be told about any zone: keep serving all of them rather than none.
    if (previous) set->zones = previous->zones;
  } else {
    // Explicit increment with an error_code: the range-for form throws on I/O errors.
    for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
      const auto& entry = *it;
      const auto& p = entry.path();
      // Editors' hidden temporaries (".example.com.toml.swp", ".#x.toml") are not zones.
      if (p.extension() != ".toml" || p.filename().string().front() == '.') continue;
      std::error_code fec;
      if (!entry.is_regular_file(fec)) continue;
      files.push_back(p.string());
    }
    if (ec) {
      report.errors.push_back(Error{"cannot list the zones directory: " + ec.message(), dir, 0, 0});
    }
  }
  std::sort(files.begin(), files.end());

  auto previous_by_file = [&](const std::string& file) -> ZonePtr {
    if (!previous) return nullptr;
    for (const auto& z : previous->zones) {
      if (z->source_file == file) return z;
    }
    return nullptr;
  };
  auto previous_by_origin = [&](std::string_view origin) -> const Zone* {
    if (!previous) return nullptr;
    auto pit = previous->by_origin.find(origin);
    return pit == previous->by_origin.end() ? nullptr : previous->zones[pit->second].get();
  };

  // Collected first, then deduplicated by origin, so that a kept old zone never shadows a
  // freshly loaded one.
  struct Loaded {
    ZonePtr zone;
    bool is_fresh;
  };
  std::vector<Loaded> loaded;
  const uint32_t config_time_s = mtime_of(config.source_file);
  // A file that failed: its previous version keeps serving; at start-up (none in memory),
  // its last good version from state_dir, if there is one.
  auto keep_old = [&](const std::string& file, Error error) {
    if (auto old = previous_by_file(file)) {
      loaded.push_back({old, false});
    } else if (auto stored = last_good ? last_good->find(file) : std::nullopt) {
      auto src = read_zone_source(stored->text, file);
      SerialInputs serial;
      serial.stored = stored->history;
      Result<ZonePtr> zone =
          src.ok() ? build_zone(*src, config, content_hash_of(stored->text), serial, &set->ids)
                   : Result<ZonePtr>(src.error());
      if (zone.ok()) {
        loaded.push_back({*zone, false});
        error.message += " (serving its last good version, serial " +
                         std::to_string((*zone)->serial) + ", from " + last_good->path_for(file) +
                         ")";
      } else {
        error.message += " (its last good version in " + last_good->path_for(file) +
                         " does not load either: " + zone.error().to_string() + ")";
      }
    } else if (last_good && last_good->enabled()) {
      error.message +=
          " (zone not served: no last good version in " + last_good->path_for(file) + ")";
    }
    report.errors.push_back(std::move(error));
  };
  for (const auto& file : files) {
    auto text = read_file(file);
    if (!text) {
      keep_old(file, text.error());
      continue;
    }
    if (previous_config != nullptr) {
      // Parsing and building a million-name zone takes seconds; an unchanged one is reused.
      ZonePtr old = previous_by_file(file);
      // A signed zone is always rebuilt: its keys or their timing may have changed, and a
      // reload is how it is re-signed (zone/zone_signer.h).
      if (old && !old->signing && old->text_hash == content_hash_of(*text) &&
          inputs_unchanged(*old) &&
          server_definitions_used(*old, *previous_config) ==
              server_definitions_used(*old, config)) {
        loaded.push_back({old, true});
        ++report.reused;
        continue;
      }
    }
    auto src = read_zone_source(*text, file);
    Result<ZonePtr> zone = src.ok() ? Result<ZonePtr>(nullptr) : Result<ZonePtr>(src.error());
    std::optional<LastGoodStore::Entry> stored;
    if (src.ok()) {
      // The serial continues from the zone with the same origin, wherever it came from.
      // build_zone ignores a previous of another origin; the file usually keeps its origin,
      // and when it does not, a second build continues from the zone that had it. Without
      // one (at start-up), from the version stored in state_dir.
      const uint64_t hash = content_hash_of(*text);
      SerialInputs serial;
      serial.previous = previous_by_file(file).get();
      serial.zone_time_s = mtime_of(file);
      serial.server_config_time_s = config_time_s;
      if (!serial.previous && last_good) {
        stored = last_good->find(file);
        if (stored) serial.stored = stored->history;
      }
      zone = build_zone(*src, config, hash, serial, &set->ids);
      if (zone.ok() && (!serial.previous || serial.previous->origin != (*zone)->origin)) {
        if (const Zone* by_origin = previous_by_origin((*zone)->origin)) {
          serial.previous = by_origin;
          zone = build_zone(*src, config, hash, serial, &set->ids);
        }
      }
    }
    if (!zone) {
      keep_old(file, zone.error());
      continue;
    }
    if (last_good) {
      const Zone* prev = previous_by_file(file).get();
      const Zone& z = **zone;
      // Unchanged since the version in memory: it was stored when that one loaded.
      const bool unchanged =
          prev && prev->content_hash == z.content_hash && prev->serial == z.serial;
      if (!unchanged) {
        if (auto st = last_good->save(file, *text, SerialHistory{z.content_hash, z.serial}); !st) {
          // Serving matters more than the copy: say so, keep going.
          report.errors.push_back(
              Error{"cannot store the last good version: " + st.error().to_string(), file, 0, 0});
        }
      }
    }
    loaded.push_back({*zone, true});
    ++report.rebuilt;
  }

  for (size_t i = 0; i < loaded.size(); ++i) {
    const auto& z = loaded[i].zone;
    auto clash = std::find_if(set->zones.begin(), set->zones.end(),
                              [&](const ZonePtr& x) { return x->origin == z->origin; });
    if (clash == set->zones.end()) {
      set->zones.push_back(z);
      continue;
    }
    if (!loaded[i].is_fresh) continue;  // a kept old zone yields to a loaded one
    // Find whether the zone already in the set is a kept old one: a fresh zone replaces it.
    const bool clash_is_fresh =
        std::any_of(loaded.begin(), loaded.begin() + static_cast<long>(i),
                    [&](const Loaded& l) { return l.is_fresh && l.zone == *clash; });
    if (!clash_is_fresh) {
      *clash = z;
      continue;
    }
    report.errors.push_back(
        Error{"zone " + z->origin_text + " is already loaded from " + (*clash)->source_file,
              z->source_file, 0, 0});
  }
  set->reindex();
  report.zones = std::move(set);
  return report;
}

}  // namespace geodns::zone
