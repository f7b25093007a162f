// The values stored under the fleet's keys (keys.h), as JSON so that `etcdctl get` shows them
// and `etcdctl put` can write an override by hand:
//   override: {"mode": "down", "reason": "maintenance", "expires": 1767312000,
//              "author": "ns1", "created": 1767308400}      (mode "down" or "up"; expires,
//              reason, author, created optional; times in Unix seconds)
//   vote:     {"up": false, "target": "<target key>", "at": 1767308400}
//   member:   {"started": 1767308400}
// Parsing is strict about types (a wrong type is an error naming the field) and lenient about
// unknown fields (newer servers may add some).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace geodns::fleet {

struct OverrideRecord {
  std::string key;   // "dc:fra" / "addr:192.0.2.10" (from the etcd key, not the value)
  bool down = true;  // false = forced up
  std::optional<std::chrono::system_clock::time_point> expires;
  std::string reason;
  std::string author;
  std::chrono::system_clock::time_point created{};

  friend bool operator==(const OverrideRecord&, const OverrideRecord&) = default;
};

struct VoteRecord {
  bool up = true;
  std::string target;  // the target key, for people reading etcd
  std::chrono::system_clock::time_point at{};
};

std::string encode_override(const OverrideRecord& o);
// `key` is the override key the etcd key named.
Result<OverrideRecord> decode_override(std::string key, std::string_view json);

std::string encode_vote(const VoteRecord& v);
Result<VoteRecord> decode_vote(std::string_view json);

std::string encode_member(std::chrono::system_clock::time_point started);

}  // namespace geodns::fleet
