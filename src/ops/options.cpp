#include "ops/options.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "common/log.h"

namespace geodns::ops {

Result<zone::ServerConfig> resolve_config(const CommonOptions& options) {
  zone::ServerConfig config;
  std::string path = options.config_path;
  if (path.empty() && std::filesystem::exists("geodns.toml") && !options.zones_dir) {
    path = "geodns.toml";  // the shipped demo config, when run from the source tree
  }
  if (!path.empty()) {
    if (auto st = check_config_file(path); !st) return st.error();
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
  if (!options.xdp.empty()) config.listen.xdp = options.xdp;
  log::Level level{};
  if (!log::parse_level(config.logging.level, &level)) {
    return make_error("unknown log level \"" + config.logging.level +
                      "\" (debug, info, warn, error)");
  }
  log::set_level(level);
  return config;
}

namespace {

constexpr std::string_view kServeHelp = R"(usage: geodns serve [options]

Serves the zones until SIGTERM or SIGINT; SIGHUP (systemctl reload) re-reads the config, the
zones and the GeoIP database, and a mistake keeps the old state serving.

options:
  --config FILE        server config (default: ./geodns.toml if present)
  --zones DIR          zone directory (overrides the config)
  --geoip FILE         MaxMind-format database (overrides the config)
  --listen ADDR:PORT   listen endpoint, repeatable ("127.0.0.1:5353", "[::1]:5353")
  --threads N          UDP worker threads (default: one per core; TCP: [server.tcp] threads)
  --state-dir DIR      where health state and overrides persist across restarts
  --log-level L        debug | info | warn | error
  --control ADDR:PORT  control endpoint (HTTP: /metrics, /status, status page); "" = off
  --control-token T    bearer token required by the control endpoint
  --user NAME          drop privileges to NAME once the sockets are bound
  --query-log          log answered queries (at most 100 lines/s per worker)
  --xdp IFACE          answer UDP on IFACE over AF_XDP (repeatable; [server] xdp; root)
)";

constexpr std::string_view kCheckHelp = R"(usage: geodns check [options]

Loads the config, every zone file and the GeoIP database as `serve` would, prints a line per
zone and "ok", or each error as file:line:column. Exit status 0 when everything loads, 1 when
something does not, 2 for a usage error.

options:
  --config FILE        server config (default: ./geodns.toml if present)
  --zones DIR          zone directory (overrides the config)
  --geoip FILE         MaxMind-format database (overrides the config)
  --log-level L        debug | info | warn | error
)";

constexpr std::string_view kExplainHelp =
    R"(usage: geodns explain NAME --client ADDR[/LEN] [--type A|AAAA] [options]

Why this client gets this answer: the location found, the rule chosen, the answer, its TTL
and its ECS scope, for a fully healthy fleet (`geodns ctl explain` asks a running server,
with its live health).

options:
  --client ADDR[/LEN]  the client address or subnet (as an ECS option would carry it)
  --type A|AAAA        the query type (default: A)
  --config FILE        server config (default: ./geodns.toml if present)
  --zones DIR          zone directory (overrides the config)
  --geoip FILE         MaxMind-format database (overrides the config)
)";

constexpr std::string_view kImportHelp =
    R"(usage: geodns import ZONEFILE --origin NAME [--output FILE]
       geodns import --gdnsd DIR --output OUTDIR

The first form converts an RFC 1035 (BIND) zone file into a geodns TOML zone: the SOA becomes
[zone.soa], the other records [records]; steering is added by hand afterwards. The second
converts a gdnsd 3.x configuration (config, zones, geoip maps and resources, service types)
into a geodns.toml and zone files, and reports each construct it could not convert.

options:
  --origin NAME        the zone's origin ("example.com.")
  --output FILE        write the TOML here (default: standard output); with --gdnsd, the
                       directory to write the converted tree into
  --gdnsd DIR          a gdnsd configuration directory (the one holding "config")
)";

constexpr std::string_view kVersionHelp = R"(usage: geodns version

Prints the version.
)";

}  // namespace

std::string_view command_help(std::string_view command) {
  if (command == "serve") return kServeHelp;
  if (command == "check") return kCheckHelp;
  if (command == "explain") return kExplainHelp;
  if (command == "import") return kImportHelp;
  if (command == "version") return kVersionHelp;
  return {};
}

Status check_config_file(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    return Error{"cannot read the config file: " +
                     (ec ? ec.message() : std::string("No such file or directory")),
                 path, 0, 0};
  }
  if (std::filesystem::is_directory(status)) {
    return Error{
        "is a directory, not a config file (the config is one TOML file, e.g. "
        "/etc/geodns/geodns.toml; --zones names the zone directory)",
        path, 0, 0};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int saved_errno = errno;
    return Error{std::string("cannot read the config file: ") + std::strerror(saved_errno), path, 0,
                 0};
  }
  // Whitespace only counts as empty; a file of comments is a deliberate "all defaults".
  char c = 0;
  while (in.get(c)) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return {};
  }
  if (in.bad()) {
    const int saved_errno = errno;
    return Error{std::string("cannot read the config file: ") + std::strerror(saved_errno), path, 0,
                 0};
  }
  return Error{"the config file is empty (omit --config to run on built-in defaults)", path, 0, 0};
}

}  // namespace geodns::ops
