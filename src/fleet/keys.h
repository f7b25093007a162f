// The fleet's key layout in etcd, one place for building and parsing it (README "Running
// several servers" documents the same):
//   /geodns/<fleet>/members/<server>               under the server's lease
//   /geodns/<fleet>/votes/<target-id>/<server>     under the server's lease
//   /geodns/<fleet>/overrides/dc/<datacenter>      "fra", or one zone's "example.com/iad"
//   /geodns/<fleet>/overrides/addr/<address>       "192.0.2.10", "2001:db8::10"
// A target id is a hash of the target's key (check definition + address), so servers that
// load the same zones name the same target the same way, and a key stays short.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace geodns::fleet {

class KeyLayout {
 public:
  explicit KeyLayout(std::string_view fleet_name);

  const std::string& root() const { return root_; }  // "/geodns/<fleet>/", the watched prefix
  std::string member(std::string_view server) const;
  std::string vote(std::string_view target_id, std::string_view server) const;
  // `override_key` as health writes it: "dc:fra", "addr:192.0.2.10". Empty when malformed.
  std::string override_key(std::string_view override_key) const;

  enum class Kind { member, vote, override_, other };
  struct Parsed {
    Kind kind = Kind::other;
    std::string server;     // member, vote
    std::string target_id;  // vote
    std::string override_;  // override: "dc:fra" / "addr:192.0.2.10"
  };
  // What a key under root() is; Kind::other for anything else (foreign or malformed keys are
  // ignored, never fatal).
  Parsed parse(std::string_view key) const;

 private:
  std::string root_;
};

// 16 hex digits: FNV-1a 64 of the target key, mixed. Stable across servers and versions.
std::string target_id(std::string_view target_key);

// A server or fleet name usable in a key: non-empty, at most 64 bytes of [A-Za-z0-9._-].
bool is_valid_name(std::string_view name);

}  // namespace geodns::fleet
