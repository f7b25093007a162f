// geodns: an authoritative GeoDNS server. This file only parses the command line and hands
// over to src/ops.
#include <malloc.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "ops/ctl.h"
#include "ops/daemon.h"
#include "ops/diff.h"
#include "ops/dnssec_cli.h"
#include "ops/explain.h"
#include "ops/import.h"
#include "ops/options.h"

namespace {

constexpr const char* kVersion = "geodns 0.1.0";

constexpr const char* kUsage = R"(usage:
  geodns serve   [options]                 serve the zones until SIGTERM/SIGINT
  geodns check   [options]                 validate config, zones and GeoIP database
  geodns explain NAME --client ADDR[/LEN] [--type A|AAAA] [options]
                                           why this client gets this answer
  geodns ctl     [--control ADDR:PORT] [--token T] COMMAND
                                           talk to a running server: status, reload,
                                           drain | force-down | force-up TARGET
                                           [--for 30m] [--reason R], undrain | clear
                                           TARGET, explain NAME --client ADDR,
                                           metrics  (geodns ctl --help for details)
  geodns diff    OLD NEW | --git REV1..REV2 [--clients FILE] [--down DC]
                                           what a zone edit changes: records, and which
                                           clients move between datacenters (exit 1)
  geodns import  ZONEFILE --origin NAME [--output FILE]
                                           convert an RFC 1035 zone file to a TOML zone
  geodns import  --gdnsd DIR --output OUTDIR
                                           convert a gdnsd 3.x config and its zones
  geodns dnssec  keygen|ds|status|activate|retire ZONE ...
                                           signing keys (geodns dnssec --help)
  geodns version
  geodns COMMAND --help                    that command's options

options:
  --config FILE      server config (default: ./geodns.toml if present)
  --zones DIR        zone directory (overrides the config)
  --geoip FILE       MaxMind-format database (overrides the config)
  --listen ADDR:PORT listen endpoint, repeatable ("127.0.0.1:5353", "[::1]:5353")
  --threads N        UDP worker threads (default: one per core; TCP: [server.tcp] threads)
  --state-dir DIR    where health state and overrides persist
  --log-level L      debug | info | warn | error
  --control ADDR:PORT  control endpoint (HTTP: /metrics, /status, status page); "" = off
  --control-token T  bearer token required by the control endpoint
  --user NAME        serve: drop privileges to NAME once the sockets are bound
  --query-log        serve: log answered queries (at most 100 lines/s per worker)
  --xdp IFACE        serve: answer UDP on IFACE over AF_XDP (repeatable; [server] xdp)
)";

int usage_error(const std::string& msg) {
  std::cerr << "geodns: " << msg << "\n\n" << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // Fixed malloc thresholds (128 KiB, glibc's starting values). Left dynamic, glibc raises
  // both each time a large block is freed, up to 32 MiB (mmap) and 64 MiB (trim): the
  // compile's transients (the network index: tens of MB freed at once) then pushed every later
  // large allocation into the compile thread's arena and kept 10 MiB of free arena top
  // resident for good, since malloc_trim trims the top of the main arena only. With them
  // fixed, a table is its own mapping, given back whole when a GeoIP swap replaces it.
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  mallopt(M_TRIM_THRESHOLD, 128 * 1024);
  if (argc < 2) return usage_error("a command is required");
  const std::string_view command = argv[1];
  // `geodns COMMAND --help` and `geodns help COMMAND` print that command's help; ctl and diff
  // parse their own arguments and print their own.
  if (command == "help" && argc > 2) {
    const std::string_view topic = argv[2];
    if (topic == "ctl") return geodns::ops::run_ctl({"--help"}, std::cout, std::cerr);
    if (topic == "diff") return geodns::ops::run_diff({"--help"}, std::cout, std::cerr);
    if (topic == "dnssec") return geodns::ops::run_dnssec({"--help"}, std::cout, std::cerr);
  }
  const bool wants_help =
      std::any_of(argv + 2, argv + argc,
                  [](const char* a) {
                    return std::strcmp(a, "--help") == 0 || std::strcmp(a, "-h") == 0;
                  }) ||
      (command == "help" && argc > 2);
  const std::string_view help_for = command == "help" && argc > 2 ? argv[2] : command;
  if (wants_help && !geodns::ops::command_help(help_for).empty()) {
    std::cout << geodns::ops::command_help(help_for);
    return 0;
  }
  if (command == "version" || command == "--version") {
    std::cout << kVersion << "\n";
    return 0;
  }
  if (command == "help" || command == "--help" || command == "-h") {
    std::cout << kUsage;
    return 0;
  }
  if (command == "import") {
    return geodns::ops::run_import(std::vector<std::string>(argv + 2, argv + argc));
  }
  if (command == "diff") {
    return geodns::ops::run_diff(std::vector<std::string>(argv + 2, argv + argc), std::cout,
                                 std::cerr);
  }
  if (command == "dnssec") {
    return geodns::ops::run_dnssec(std::vector<std::string>(argv + 2, argv + argc), std::cout,
                                   std::cerr);
  }
  if (command == "ctl") {
    return geodns::ops::run_ctl(std::vector<std::string>(argv + 2, argv + argc), std::cout,
                                std::cerr);
  }
  // Named before the options are parsed, so `geodns frobnicate --help` says what is wrong.
  if (command != "serve" && command != "check" && command != "explain") {
    return usage_error("unknown command \"" + std::string(command) + "\"");
  }
  geodns::ops::CommonOptions opts;
  geodns::ops::ExplainRequest explain;
  std::vector<std::string> positional;
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&](std::string* out) -> bool {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string v;
    if (arg == "--config") {
      if (!value(&opts.config_path)) return usage_error("--config needs a file");
    } else if (arg == "--zones") {
      if (!value(&v)) return usage_error("--zones needs a directory");
      opts.zones_dir = v;
    } else if (arg == "--geoip") {
      if (!value(&v)) return usage_error("--geoip needs a file");
      opts.geoip_path = v;
    } else if (arg == "--listen") {
      if (!value(&v)) return usage_error("--listen needs ADDR:PORT");
      opts.listen.push_back(v);
    } else if (arg == "--threads") {
      if (!value(&v)) return usage_error("--threads needs a number");
      char* end = nullptr;
      const unsigned long n = std::strtoul(v.c_str(), &end, 10);
      if (end == v.c_str() || *end != '\0' || n == 0 || n > 256) {
        return usage_error("--threads must be 1..256");
      }
      opts.threads = static_cast<unsigned>(n);
    } else if (arg == "--state-dir") {
      if (!value(&v)) return usage_error("--state-dir needs a directory");
      opts.state_dir = v;
    } else if (arg == "--log-level") {
      if (!value(&v)) return usage_error("--log-level needs a level");
      opts.log_level = v;
    } else if (arg == "--control") {
      if (!value(&v)) return usage_error("--control needs ADDR:PORT (or \"\" to disable)");
      opts.control_listen = v;
    } else if (arg == "--control-token") {
      if (!value(&v)) return usage_error("--control-token needs a token");
      opts.control_token = v;
    } else if (arg == "--xdp" && command == "serve") {
      if (!value(&v) || v.empty()) return usage_error("--xdp needs an interface");
      opts.xdp.push_back(v);
    } else if (arg == "--query-log" && command == "serve") {
      opts.query_log = true;
    } else if (arg == "--user" && command == "serve") {
      if (!value(&opts.user) || opts.user.empty()) return usage_error("--user needs a name");
    } else if (arg == "--client" && command == "explain") {
      if (!value(&explain.client)) return usage_error("--client needs an address");
    } else if (arg == "--type" && command == "explain") {
      if (!value(&explain.type)) return usage_error("--type needs A or AAAA");
    } else if (!arg.empty() && arg[0] == '-') {
      return usage_error("unknown option " + std::string(arg));
    } else {
      positional.emplace_back(arg);
    }
  }

  if (command == "serve") {
    if (!positional.empty()) return usage_error("serve takes no arguments");
    return geodns::ops::run_daemon(opts);
  }
  if (command == "check") {
    if (!positional.empty()) return usage_error("check takes no arguments");
    auto config = geodns::ops::resolve_config(opts);
    if (!config) {
      std::cerr << config.error().to_string() << "\n";
      return 1;
    }
    return geodns::ops::check(config.value(), std::cout, std::cerr) == 0 ? 0 : 1;
  }
  if (command == "explain") {
    if (positional.size() != 1) return usage_error("explain needs exactly one NAME");
    if (explain.client.empty()) return usage_error("explain needs --client ADDR[/PREFIX]");
    explain.name = positional[0];
    if (!opts.log_level) opts.log_level = "warn";
    auto config = geodns::ops::resolve_config(opts);
    if (!config) {
      std::cerr << config.error().to_string() << "\n";
      return 1;
    }
    if (auto st = geodns::ops::explain(config.value(), explain, std::cout); !st) {
      std::cerr << "geodns explain: " << st.error().to_string() << "\n";
      return 1;
    }
    return 0;
  }
  return usage_error("unknown command \"" + std::string(command) + "\"");
}
