// Compile time and memory of steering tables: the shipped demo zone's datacenters with N
// steered names (geo and nearest, each with its own nets entry so that no two share a table,
// or --shared: four targetings shared by all), compiled against a GeoIP database.
//
//   build/release/bench/geodns-compile-bench [--geoip FILE] [--names 100] [--shared] [--rounds 3]
//
// Prints one `result` line per round: the network walk, the rule compile, tables, bytes held
// and the resident memory the process grew by (VmRSS, and VmHWM for the peak).
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "server/steer_compiler.h"
#include "tool_cli.h"
#include "zone/loader.h"

namespace {

long status_kib(const char* key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  const size_t n = std::strlen(key);
  while (std::getline(f, line)) {
    if (line.compare(0, n, key) == 0) return std::stol(line.substr(n + 1));
  }
  return -1;
}

std::string zone_text(int names, bool shared) {
  std::ifstream demo(std::string(GEODNS_SOURCE_DIR) + "/zones/example.com.toml");
  std::stringstream all;
  all << demo.rdbuf();
  std::string text = all.str();
  text = text.substr(0, text.find("[steer."));  // zone, records, datacenters and checks
  const char* dcs[] = {"\"fra\"", "\"iad\"", "\"sin\"", "\"gru\""};
  for (int i = 0; i < names; ++i) {
    const int k = shared ? i % 4 : i;
    text += "[steer.n" + std::to_string(i) + "]\n";
    if (k % 4 == 3) {
      text += "policy = \"nearest\"\ndatacenters = [\"fra\", \"iad\", \"sin\", \"gru\"]\n";
    } else {
      text += "policy = \"geo\"\n";
      text += "map.EU = [" + std::string(dcs[k % 4]) + ", " + dcs[(k + 2) % 4] + "]\n";
      text += "map.NA = [\"iad\", \"fra\"]\nmap.AS = [\"sin\", \"fra\"]\n";
      text += "map.SA = [\"gru\", \"iad\"]\nmap.DE = [" + std::string(dcs[(k + 1) % 4]) + "]\n";
      text += "map.US-CA = [\"sin\", \"iad\"]\nmap.default = [\"iad\", \"fra\"]\n";
    }
    if (!shared) {
      text += "nets.\"10." + std::to_string(i % 256) + "." + std::to_string(i / 256) +
              ".0/24\" = [\"fra\"]\n";
    }
  }
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace geodns;
  bench::g_tool = "geodns-compile-bench";
  std::string geoip = std::string(GEODNS_SOURCE_DIR) + "/geoip/real/geo-whois-asn-country.mmdb";
  int names = 100;
  int rounds = 3;
  bool shared = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--geoip" && i + 1 < argc) {
      geoip = argv[++i];
    } else if (a == "--names" && i + 1 < argc) {
      names = static_cast<int>(bench::parse_int("--names", argv[++i], 1, 65536));
    } else if (a == "--rounds" && i + 1 < argc) {
      rounds = static_cast<int>(bench::parse_int("--rounds", argv[++i], 1, 100));
    } else if (a == "--shared") {
      shared = true;
    } else {
      bench::die("usage: geodns-compile-bench [--geoip FILE] [--names N] [--shared] [--rounds N]");
    }
  }
  auto db = geo::Database::open(geoip);
  if (!db) {
    std::printf("skipped: %s\n", db.error().to_string().c_str());
    return 0;
  }
  zone::ServerConfig config;
  auto z = zone::load_zone_text(zone_text(names, shared), "example.com.toml", config, nullptr);
  if (!z) bench::die(z.error().to_string());
  auto set = std::make_shared<zone::ZoneSet>();
  set->zones.push_back(z.value());
  set->reindex();
  std::printf("database: %s\n", db.value()->description().c_str());
  for (int r = 0; r < rounds; ++r) {
    const long rss0 = status_kib("VmRSS:");
    const auto t0 = std::chrono::steady_clock::now();
    auto index = geo::NetworkIndex::build(*db.value());
    if (!index) bench::die(index.error().to_string());
    const auto t1 = std::chrono::steady_clock::now();
    // Reuse the walk through `previous` so the two phases are timed apart.
    server::CompiledSteering walked;
    walked.database = db.value();
    walked.index = index.value();
    auto compiled = server::compile_steering(set, db.value(), &walked);
    if (!compiled) bench::die(compiled.error().to_string());
    const auto t2 = std::chrono::steady_clock::now();
    const long rss1 = status_kib("VmRSS:");
    auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
    size_t entries = 0;
    for (const auto& [key, table] : compiled.value()->tables) {
      entries += table->map().runs();
    }
    std::printf(
        "result names=%d shared=%d walk_ms=%.1f compile_ms=%.1f total_ms=%.1f networks=%zu "
        "leaves4=%zu leaves6=%zu classes=%zu rules=%zu tables=%zu runs=%zu bytes=%zu "
        "rss_growth_kib=%ld vmhwm_kib=%ld\n",
        names, shared ? 1 : 0, ms(t1 - t0), ms(t2 - t1), ms(t2 - t0),
        index.value()->tree_networks(), index.value()->v4().size(), index.value()->v6().size(),
        index.value()->classes().size(), compiled.value()->by_rule.size(),
        compiled.value()->tables.size(), entries, compiled.value()->bytes(), rss1 - rss0,
        status_kib("VmHWM:"));
  }
  return 0;
}
