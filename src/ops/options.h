// Command-line settings shared by `serve`, `check` and `explain`: they override the config file.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "zone/config.h"

namespace geodns::ops {

struct CommonOptions {
  std::string config_path;  // "" = ./geodns.toml if it exists, else built-in defaults
  std::optional<std::string> zones_dir;
  std::optional<std::string> geoip_path;
  std::vector<std::string> listen;
  std::optional<unsigned> threads;
  std::optional<std::string> log_level;
  std::optional<std::string> state_dir;
  std::optional<std::string> control_listen;  // "" disables the control endpoint
  std::optional<std::string> control_token;
  std::string user;              // serve: drop privileges to this user after binding ("" = stay)
  bool query_log = false;        // serve: log answered queries (rate-limited per worker)
  std::vector<std::string> xdp;  // serve: --xdp interfaces (override [server] xdp)
};

// Loads the config file (or defaults) and applies the command-line overrides.
Result<zone::ServerConfig> resolve_config(const CommonOptions& options);

// The `--help` text of one subcommand (serve, check, explain, import, version), or "" for a
// command that has none here (ctl prints its own). Kept beside the options they describe so a
// new flag and its help line change together.
std::string_view command_help(std::string_view command);

// Why `path` cannot be a config file (missing, unreadable, a directory, empty), as an error
// naming the file; success when it can be read and has content. An empty file is a mistake
// (a truncated copy, a wrong path in a unit file) far more often than a wish for built-in
// defaults, which omitting --config gives.
Result<void> check_config_file(const std::string& path);

}  // namespace geodns::ops
