// Health checks as the zone files describe them, and the targets (address + check) they apply
// to. Built by src/zone at load time, consumed by src/health (which probes them) and by the
// policies (which consult HealthView by TargetId).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
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

// Small integer ids for keys (target keys; datacenter slot keys), owned by one loaded ZoneSet,
// so that a per-query health lookup is one array read. A load starts from the previous
// ZoneSet's table (next_load()), so a key keeps its id (and the health view its slot) across
// reloads, and ends with retain(), which drops the keys its zones no longer use. A dropped id
// is handed out again only by the load after the next one: for a moment after a reload a
// worker may answer from the previous zones against the new health view (which carries the
// removed ids' last states, see health::Prober), and must not read another key's state there.
// Load path only; not thread-safe.
class IdTable {
 public:
  uint32_t intern(std::string_view key);
  std::optional<uint32_t> find(std::string_view key) const;
  // Drops every key not in `used`.
  void retain(const std::unordered_set<std::string>& used);
  // The table a new load starts from: same keys and ids; the ids dropped by this one's
  // retain() become reusable.
  IdTable next_load() const;
  size_t size() const noexcept { return ids_.size(); }
  // One past the highest id in use or retiring: the size of an array indexed by these ids.
  uint32_t bound() const noexcept { return next_; }

 private:
  std::unordered_map<std::string, uint32_t> ids_;
  std::vector<uint32_t> free_;      // reusable now, highest first (the lowest is taken)
  std::vector<uint32_t> retiring_;  // dropped by the last retain(): reusable from next_load()
  uint32_t next_ = 0;
};

struct IdTables {
  IdTable targets;      // TargetSpec::key -> TargetId
  IdTable datacenters;  // dc_slot_key() -> DcId
  IdTables next_load() const { return {targets.next_load(), datacenters.next_load()}; }
};

// A datacenter as one zone uses it: the override slot (Datacenter::id) that the prober fills
// with the effective override. A zone's own datacenter has one slot; a server datacenter has
// one per zone that uses it, so "example.com/iad" can drain the shared "iad" for one zone.
// The more specific override wins: "example.com/iad" over "iad" (coded once, in the prober).
struct DcSlot {
  DcId id = 0;
  std::string key;     // "example.com/iad": this zone's use of the datacenter
  std::string shared;  // "iad" for a datacenter of geodns.toml; empty for a zone's own
};

// The slot key of datacenter `name` in a zone: "example.com/iad", shared or not.
std::string dc_slot_key(std::string_view zone_origin_text, std::string_view name);

}  // namespace geodns::steer
