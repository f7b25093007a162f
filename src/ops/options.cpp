#include "ops/options.h"

#include <filesystem>

#include "common/log.h"

namespace geodns::ops {

Result<zone::ServerConfig> resolve_config(const CommonOptions& options) {
  zone::ServerConfig config;
  std::string path = options.config_path;
  if (path.empty() && std::filesystem::exists("geodns.toml") && !options.zones_dir) {
    path = "geodns.toml";  // the shipped demo config, when run from the source tree
  }
  if (!path.empty()) {
    auto loaded = zone::load_server_config(path);
    if (!loaded) return loaded.error();
    config = std::move(loaded.value());
  }
  if (options.zones_dir) config.zones_dir = *options.zones_dir;
  if (options.geoip_path) config.geoip_path = *options.geoip_path;
  if (!options.listen.empty()) config.listen.addresses = options.listen;
  if (options.threads) config.listen.threads = *options.threads;
  if (options.log_level) config.logging.level = *options.log_level;
  if (options.state_dir) config.prober.state_dir = *options.state_dir;
  if (options.control_listen) config.control.listen = *options.control_listen;
  if (options.control_token) config.control.token = *options.control_token;
  if (options.query_log) config.logging.query_log = true;
  log::Level level{};
  if (!log::parse_level(config.logging.level, &level)) {
    return make_error("unknown log level \"" + config.logging.level +
                      "\" (debug, info, warn, error)");
  }
  log::set_level(level);
  return config;
}

}  // namespace geodns::ops
