// Starts the real geodns binary on free loopback ports (v4 and, when available, v6) over a
// scenario directory, with the control endpoint on its own free port, and stops it by PID.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"

namespace geodns::test {

inline std::string source_path(const std::string& rel) {
  return std::string(GEODNS_SOURCE_DIR) + "/" + rel;
}

// A private copy of a directory (zone edits in tests never touch the tree).
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/geodns-it-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(file(name)) << text;
  }

 private:
  std::string path_;
};

inline std::string read_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// The shipped demo zones, copied into `dir` so a test can edit them.
inline void copy_demo_zones(const TempDir& dir) {
  std::filesystem::copy(source_path("zones"), dir.path(), std::filesystem::copy_options::recursive);
}

struct ServeOptions {
  std::string zones_dir = source_path("zones");
  std::string geoip = source_path("geoip/demo.mmdb");
  std::string extra_config;  // appended to the generated config file
  unsigned threads = 2;
  bool v6 = true;
};

class Server {
 public:
  explicit Server(const ServeOptions& o = {}) {
    // A port can still be taken between choosing it and the server binding it (other tests
    // run in parallel): the server then exits with "Address already in use"; try new ports.
    for (int attempt = 0; attempt < 3 && !ready; ++attempt) {
      if (process) process->stop();
      start(o);
      if (!ready && process->stderr_text().find("Address already in use") == std::string::npos) {
        break;
      }
    }
  }

  void start(const ServeOptions& o) {
    port = free_port();
    control_port = free_port();
    v6 = o.v6 && has_ipv6_loopback();
    std::string config = "[server]\nlisten = [\"127.0.0.1:" + std::to_string(port) + "\"";
    if (v6) config += ", \"[::1]:" + std::to_string(port) + "\"";
    config += "]\nthreads = " + std::to_string(o.threads) + "\nlog_level = \"info\"\n";
    config += "state_dir = \"" + dir.path() + "\"\n";
    config += o.extra_config;
    config += "\n[control]\nlisten = \"127.0.0.1:" + std::to_string(control_port) + "\"\n";
    dir.write("geodns.toml", config);
    std::vector<std::string> args = {"serve", "--config", dir.file("geodns.toml"), "--zones",
                                     o.zones_dir};
    if (!o.geoip.empty()) {
      args.push_back("--geoip");
      args.push_back(o.geoip);
    }
    process = std::make_unique<ServerProcess>(GEODNS_BINARY, args);
    ready = process->wait_ready(port, std::chrono::seconds(10));
  }

  Packet udp(const std::string& name, ldns_rr_type type, const QueryOptions& q = {}) {
    auto r = udp_query(port, make_query(name, type, q));
    return r ? decode(*r) : nullptr;
  }
  Packet tcp(const std::string& name, ldns_rr_type type, const QueryOptions& q = {}) {
    auto r = tcp_query(port, make_query(name, type, q));
    return r ? decode(*r) : nullptr;
  }

  TempDir dir;
  uint16_t port = 0;
  uint16_t control_port = 0;
  bool v6 = false;
  bool ready = false;
  std::unique_ptr<ServerProcess> process;
};

inline bool has_line(const std::vector<std::string>& lines, const std::string& needle) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(needle) != std::string::npos; });
}

inline std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace geodns::test
