// Health checks as the zone files describe them, and the targets (address + check) they apply
// to. Built by src/zone at load time, consumed by src/health (which probes them) and by the
// policies (which consult HealthView by TargetId).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/ip.h"
#include "steer/health_view.h"

namespace geodns::steer {

enum class CheckType : uint8_t { none, http, https, tcp, dns };

struct CheckSpec {
  std::string name;  // "web": the [checks.NAME] table it came from
  CheckType type = CheckType::none;
  uint16_t port = 0;          // 0 = the type's default (80, 443, 53; tcp requires one)
  std::string path = "/";     // http(s)
  std::string host;           // http(s) Host header and SNI; empty = the address
  uint16_t expect_min = 200;  // http(s): accepted status range, inclusive
  uint16_t expect_max = 299;
  std::string body_match;        // http(s): substring the body must contain; empty = any
  bool verify_tls = true;        // https
  std::string send;              // tcp: bytes to send after connect; empty = connect only
  std::string expect;            // tcp: substring expected in the reply; empty = none
  std::string query_name = ".";  // dns: name to ask
  uint16_t query_type = 6;       // dns: type to ask (SOA)
  uint8_t expect_rcode = 0;      // dns: rcode that counts as healthy
  std::chrono::milliseconds interval{1000};
  std::chrono::milliseconds timeout{500};
  uint32_t fall = 3;                       // consecutive failures before down
  uint32_t rise = 2;                       // consecutive successes before up again
  std::optional<IpAddress> probe_address;  // probe this instead of the answered address
  std::optional<uint16_t> probe_port;      // overrides `port`

  // Canonical text of every field that changes what is probed: two targets with equal keys
  // are the same target, checked once, and keep their state across reloads.
  std::string key() const;
};

std::string_view check_type_name(CheckType t);

// A datacenter's one identity, for overrides, ids and status: a datacenter of the server's
// config (geodns.toml) is the same datacenter in every zone that uses it, "iad"; one a zone
// file defines is that zone's own, "example.com/iad" (origin without its final dot).
std::string datacenter_key(std::string_view zone_origin_text, std::string_view name, bool shared);
// The key an operator typed, in canonical form: "Example.COM./iad" -> "example.com/iad".
std::string canonical_datacenter_key(std::string_view text);

struct TargetSpec {
  TargetId id = 0;
  IpAddress address;  // the answered address
  CheckSpec check;
  std::string key;  // check.key() + "@" + address
};

// Process-wide interning of target keys and datacenter names into small stable ids, so a
// target keeps its id (and the health view its slot) across reloads. Used at load time only.
class IdRegistry {
 public:
  uint32_t intern(std::string_view key);
  std::optional<uint32_t> find(std::string_view key) const;
  std::string name_of(uint32_t id) const;
  size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, uint32_t> ids_;
  std::vector<std::string> names_;
};

IdRegistry& target_ids();
IdRegistry& dc_ids();

}  // namespace geodns::steer
