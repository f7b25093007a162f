#include "fleet/etcd_json.h"

#include <nlohmann/json.hpp>

#include <charconv>

#include "fleet/base64.h"

namespace geodns::fleet {

namespace {

using Json = nlohmann::json;

// Depth of nesting of the text, counting brackets outside strings; SIZE_MAX when it exceeds
// kMaxJsonDepth (the scan stops there).
bool depth_ok(std::string_view text) {
  size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) return false;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return true;
}

Result<Json> parse_object(std::string_view body) {
  if (!depth_ok(body)) return make_error("etcd response nested too deeply");
  Json j = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error("etcd response is not valid JSON");
  if (!j.is_object()) return make_error("etcd response is not a JSON object");
  // The gateway's error form: {"error": "...", "code": 3, "message": "..."}.
  if (auto e = j.find("error"); e != j.end() && !e->is_null() &&
                                !(e->is_string() && e->get_ref<const std::string&>().empty())) {
    std::string text = "etcd error";
    if (auto m = j.find("message"); m != j.end() && m->is_string()) {
      text += ": " + m->get<std::string>();
    } else if (e->is_string()) {
      text += ": " + e->get<std::string>();
    } else if (e->is_object()) {
      if (auto m2 = e->find("message"); m2 != e->end() && m2->is_string())
        text += ": " + m2->get<std::string>();
    }
    if (auto c = j.find("code"); c != j.end() && c->is_number_integer()) {
      text += " (code " + std::to_string(c->get<int64_t>()) + ")";
    }
    return make_error(text);
  }
  return j;
}

// An int64 field written as a string (the gateway's form) or a number; 0 when absent.
Result<int64_t> int64_field(const Json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return int64_t{0};
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) {
      return make_error(std::string("etcd field \"") + name + "\" is not an integer");
    }
    return v;
  }
  return make_error(std::string("etcd field \"") + name + "\" has the wrong type");
}

Result<std::string> bytes_field(const Json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return std::string();
  if (!it->is_string()) {
    return make_error(std::string("etcd field \"") + name + "\" is not a string");
  }
  auto decoded = base64_decode(it->get_ref<const std::string&>());
  if (!decoded) return make_error(std::string("etcd field \"") + name + "\" is not base64");
  return *decoded;
}

Result<KeyValue> parse_kv(const Json& obj) {
  if (!obj.is_object()) return make_error("etcd key-value is not an object");
  KeyValue kv;
  auto key = bytes_field(obj, "key");
  if (!key) return key.error();
  kv.key = std::move(*key);
  auto value = bytes_field(obj, "value");
  if (!value) return value.error();
  kv.value = std::move(*value);
  auto rev = int64_field(obj, "mod_revision");
  if (!rev) return rev.error();
  kv.mod_revision = *rev;
  auto lease = int64_field(obj, "lease");
  if (!lease) return lease.error();
  kv.lease = *lease;
  return kv;
}

Result<int64_t> header_revision(const Json& obj) {
  auto h = obj.find("header");
  if (h == obj.end()) return int64_t{0};
  if (!h->is_object()) return make_error("etcd header is not an object");
  return int64_field(*h, "revision");
}

}  // namespace

std::string prefix_range_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key (etcd's convention for an all-0xff prefix)
}

std::string range_request(std::string_view prefix) {
  Json j;
  j["key"] = base64_encode(prefix);
  j["range_end"] = base64_encode(prefix_range_end(prefix));
  return j.dump();
}

std::string put_request(std::string_view key, std::string_view value, int64_t lease) {
  Json j;
  j["key"] = base64_encode(key);
  j["value"] = base64_encode(value);
  if (lease != 0) j["lease"] = std::to_string(lease);
  return j.dump();
}

std::string delete_request(std::string_view key) {
  Json j;
  j["key"] = base64_encode(key);
  return j.dump();
}

std::string lease_grant_request(int64_t ttl_s) {
  Json j;
  j["TTL"] = std::to_string(ttl_s);
  return j.dump();
}

std::string lease_id_request(int64_t id) {
  Json j;
  j["ID"] = std::to_string(id);
  return j.dump();
}

std::string watch_request(std::string_view prefix, int64_t start_revision) {
  Json create;
  create["key"] = base64_encode(prefix);
  create["range_end"] = base64_encode(prefix_range_end(prefix));
  if (start_revision > 0) create["start_revision"] = std::to_string(start_revision);
  Json j;
  j["create_request"] = std::move(create);
  return j.dump();
}

std::string auth_request(std::string_view user, std::string_view password) {
  Json j;
  j["name"] = std::string(user);
  j["password"] = std::string(password);
  // Invalid UTF-8 in a password must not throw from dump(): replace it (etcd would reject it).
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<RangeResult> parse_range(std::string_view body) {
  auto j = parse_object(body);
  if (!j) return j.error();
  RangeResult out;
  auto rev = header_revision(*j);
  if (!rev) return rev.error();
  out.revision = *rev;
  if (auto kvs = j->find("kvs"); kvs != j->end() && !kvs->is_null()) {
    if (!kvs->is_array()) return make_error("etcd \"kvs\" is not an array");
    out.kvs.reserve(kvs->size());
    for (const auto& e : *kvs) {
      auto kv = parse_kv(e);
      if (!kv) return kv.error();
      out.kvs.push_back(std::move(*kv));
    }
  }
  return out;
}

Status parse_ok(std::string_view body) {
  auto j = parse_object(body);
  if (!j) return j.error();
  return {};
}

Result<LeaseResult> parse_lease_grant(std::string_view body) {
  auto j = parse_object(body);
  if (!j) return j.error();
  LeaseResult out;
  auto id = int64_field(*j, "ID");
  if (!id) return id.error();
  auto ttl = int64_field(*j, "TTL");
  if (!ttl) return ttl.error();
  if (*id == 0) return make_error("etcd granted no lease id");
  out.id = *id;
  out.ttl_s = *ttl;
  return out;
}

Result<LeaseResult> parse_keepalive(std::string_view body) {
  // A keepalive is a stream in gRPC; through the gateway one request gets one message,
  // {"result": {...}}, and the response then ends. Take the first object of the body.
  JsonStreamSplitter split(body.size() + 1);
  std::vector<std::string> messages;
  if (auto st = split.feed(body, &messages); !st) return st.error();
  if (messages.empty()) return make_error("etcd keepalive: empty response");
  auto j = parse_object(messages.front());
  if (!j) return j.error();
  const Json* result = &*j;
  if (auto r = j->find("result"); r != j->end()) {
    if (!r->is_object()) return make_error("etcd keepalive result is not an object");
    result = &*r;
  }
  LeaseResult out;
  auto id = int64_field(*result, "ID");
  if (!id) return id.error();
  if (*id == 0) return make_error("etcd keepalive: no lease id in the response");
  auto ttl = int64_field(*result, "TTL");
  if (!ttl) return ttl.error();
  out.id = *id;
  out.ttl_s = *ttl;
  return out;
}

Result<std::string> parse_auth(std::string_view body) {
  auto j = parse_object(body);
  if (!j) return j.error();
  auto t = j->find("token");
  if (t == j->end() || !t->is_string() || t->get_ref<const std::string&>().empty()) {
    return make_error("etcd authenticate: no token in the response");
  }
  return t->get<std::string>();
}

Result<WatchMessage> parse_watch_message(std::string_view message) {
  auto j = parse_object(message);
  if (!j) return j.error();
  const Json* r = &*j;
  if (auto it = j->find("result"); it != j->end()) {
    if (!it->is_object()) return make_error("etcd watch result is not an object");
    r = &*it;
  }
  WatchMessage out;
  auto boolean = [r](const char* name) {
    auto it = r->find(name);
    return it != r->end() && it->is_boolean() && it->get<bool>();
  };
  out.created = boolean("created");
  out.canceled = boolean("canceled");
  if (auto it = r->find("cancel_reason"); it != r->end() && it->is_string())
    out.cancel_reason = it->get<std::string>();
  auto compact = int64_field(*r, "compact_revision");
  if (!compact) return compact.error();
  out.compact_revision = *compact;
  auto rev = header_revision(*r);
  if (!rev) return rev.error();
  out.revision = *rev;
  if (auto ev = r->find("events"); ev != r->end() && !ev->is_null()) {
    if (!ev->is_array()) return make_error("etcd watch \"events\" is not an array");
    for (const auto& e : *ev) {
      if (!e.is_object()) return make_error("etcd watch event is not an object");
      WatchEvent we;
      // proto3 JSON omits the default enum value: no "type" is PUT.
      if (auto t = e.find("type"); t != e.end()) {
        if (!t->is_string()) return make_error("etcd watch event type is not a string");
        const auto& s = t->get_ref<const std::string&>();
        if (s == "DELETE") {
          we.type = WatchEvent::Type::del;
        } else if (s != "PUT") {
          return make_error("etcd watch event type \"" + s.substr(0, 32) + "\" is unknown");
        }
      }
      auto kv = e.find("kv");
      if (kv == e.end()) return make_error("etcd watch event without kv");
      auto parsed = parse_kv(*kv);
      if (!parsed) return parsed.error();
      we.kv = std::move(*parsed);
      out.events.push_back(std::move(we));
    }
  }
  return out;
}

Status JsonStreamSplitter::feed(std::string_view data, std::vector<std::string>* out) {
  for (const char c : data) {
    if (depth_ == 0) {
      // Between messages: whitespace only, then an object.
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
      if (c != '{') return make_error("etcd stream: a message is not a JSON object");
    }
    current_ += c;
    if (current_.size() > max_bytes_) return make_error("etcd stream: message too large");
    if (in_string_) {
      if (escaped_) {
        escaped_ = false;
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        in_string_ = false;
      }
      continue;
    }
    if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      if (++depth_ > kMaxJsonDepth) return make_error("etcd stream: nested too deeply");
    } else if (c == '}' || c == ']') {
      if (depth_ == 0) return make_error("etcd stream: unbalanced brackets");
      if (--depth_ == 0) {
        out->push_back(std::move(current_));
        current_.clear();
      }
    }
  }
  return {};
}

}  // namespace geodns::fleet
