// The JSON of etcd's v3 gRPC gateway (HTTP/1.1 + JSON), both ways: request bodies built, and
// response bodies parsed into plain structs. Pure functions, no sockets, so that hostile
// input (bad JSON, deep nesting, wrong types, huge numbers) is unit-tested: every malformed
// response is an Error, never an exception or a crash. The gateway writes int64 fields as JSON
// strings ("revision": "12") and bytes fields as base64; both are accepted as numbers too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace geodns::fleet {

// nlohmann's parser recurses per nesting level: a body of 100,000 '[' would exhaust the
// stack, so every body is scanned first and rejected beyond this depth (etcd's are < 8).
constexpr size_t kMaxJsonDepth = 32;

struct KeyValue {
  std::string key;
  std::string value;
  int64_t mod_revision = 0;
  int64_t lease = 0;
};

struct RangeResult {
  std::vector<KeyValue> kvs;
  int64_t revision = 0;  // the store's revision when the range was read
};

struct WatchEvent {
  enum class Type : uint8_t { put, del };
  Type type = Type::put;
  KeyValue kv;
};

// One message of a watch stream.
struct WatchMessage {
  bool created = false;
  bool canceled = false;
  std::string cancel_reason;
  int64_t compact_revision = 0;  // > 0: the start revision was compacted away
  int64_t revision = 0;
  std::vector<WatchEvent> events;
};

struct LeaseResult {
  int64_t id = 0;
  int64_t ttl_s = 0;  // keepalive: 0 (or absent) means the lease is gone
};

// The range end that makes a range cover every key starting with `prefix` (etcd's
// "prefix + 1": the last byte below 0xff incremented, the rest dropped).
std::string prefix_range_end(std::string_view prefix);

std::string range_request(std::string_view prefix);
std::string put_request(std::string_view key, std::string_view value, int64_t lease);
std::string delete_request(std::string_view key);
std::string lease_grant_request(int64_t ttl_s);
std::string lease_id_request(int64_t id);  // keepalive and revoke
std::string watch_request(std::string_view prefix, int64_t start_revision);
std::string auth_request(std::string_view user, std::string_view password);

// Error if the text is not one JSON object within kMaxJsonDepth; also the gateway's error
// form ({"error": "...", "code": N}) becomes an Error carrying its message.
Result<RangeResult> parse_range(std::string_view body);
Status parse_ok(std::string_view body);  // put, delete, revoke: any header, no error
Result<LeaseResult> parse_lease_grant(std::string_view body);
Result<LeaseResult> parse_keepalive(std::string_view body);
Result<std::string> parse_auth(std::string_view body);  // the token
Result<WatchMessage> parse_watch_message(std::string_view message);

// Splits a streamed response into top-level JSON objects (the gateway writes one per message,
// newline-separated, but a message may arrive in pieces or several in one chunk). Bounded: a
// message longer than max_bytes, or anything but an object at the top level, is an error.
class JsonStreamSplitter {
 public:
  explicit JsonStreamSplitter(size_t max_bytes) : max_bytes_(max_bytes) {}
  // Appends data; complete objects go to `out`. Error on a malformed or oversized stream
  // (the splitter is then unusable: the caller drops the stream).
  Status feed(std::string_view data, std::vector<std::string>* out);

 private:
  size_t max_bytes_;
  std::string current_;
  size_t depth_ = 0;
  bool in_string_ = false;
  bool escaped_ = false;
};

}  // namespace geodns::fleet
