#include "fleet/records.h"

#include <nlohmann/json.hpp>

#include "fleet/etcd_json.h"

namespace geodns::fleet {

namespace {

using Json = nlohmann::json;

int64_t unix_s(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::chrono::system_clock::time_point from_unix(int64_t s) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(s));
}

// Bytes from etcd may hold anything; dump() must not throw on invalid UTF-8.
std::string dump(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<Json> parse(std::string_view text, const char* what) {
  // Values are small; the depth bound protects the recursive parser (etcd_json.h).
  if (text.size() > 64 * 1024) return make_error(std::string(what) + ": value too large");
  size_t depth = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) return make_error(std::string(what) + ": nested too deeply");
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  Json j = Json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) return make_error(std::string(what) + ": not valid JSON");
  if (!j.is_object()) return make_error(std::string(what) + ": not a JSON object");
  return j;
}

// Unix seconds within a sane range (year 2000 .. 2200), so a hostile 1e300 cannot overflow
// the time_point arithmetic.
Result<std::optional<int64_t>> time_field(const Json& j, const char* name, const char* what) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return std::optional<int64_t>{};
  if (!it->is_number_integer() && !it->is_number_unsigned()) {
    return make_error(std::string(what) + ": \"" + name + "\" must be Unix seconds (an integer)");
  }
  if (it->is_number_unsigned() && it->get<uint64_t>() > 7258118400ULL) {
    return make_error(std::string(what) + ": \"" + name + "\" is out of range");
  }
  const int64_t v = it->get<int64_t>();
  if (v < 946684800 || v > 7258118400LL) {
    return make_error(std::string(what) + ": \"" + name + "\" is out of range");
  }
  return std::optional<int64_t>{v};
}

Result<std::string> string_field(const Json& j, const char* name, const char* what) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return std::string();
  if (!it->is_string())
    return make_error(std::string(what) + ": \"" + name + "\" must be a string");
  std::string s = it->get<std::string>();
  if (s.size() > 1024) s.resize(1024);  // a reason is a line of text, not a payload
  return s;
}

}  // namespace

std::string encode_override(const OverrideRecord& o) {
  Json j;
  j["mode"] = o.down ? "down" : "up";
  if (!o.reason.empty()) j["reason"] = o.reason;
  if (o.expires) j["expires"] = unix_s(*o.expires);
  if (!o.author.empty()) j["author"] = o.author;
  j["created"] = unix_s(o.created);
  return dump(j);
}

Result<OverrideRecord> decode_override(std::string key, std::string_view json) {
  constexpr const char* kWhat = "override";
  auto j = parse(json, kWhat);
  if (!j) return j.error();
  OverrideRecord o;
  o.key = std::move(key);
  auto mode = j->find("mode");
  if (mode == j->end() || !mode->is_string()) {
    return make_error("override: \"mode\" must be \"down\" or \"up\"");
  }
  const auto& m = mode->get_ref<const std::string&>();
  if (m == "down") {
    o.down = true;
  } else if (m == "up") {
    o.down = false;
  } else {
    return make_error("override: \"mode\" must be \"down\" or \"up\"");
  }
  auto reason = string_field(*j, "reason", kWhat);
  if (!reason) return reason.error();
  o.reason = std::move(*reason);
  auto author = string_field(*j, "author", kWhat);
  if (!author) return author.error();
  o.author = std::move(*author);
  auto expires = time_field(*j, "expires", kWhat);
  if (!expires) return expires.error();
  if (*expires) o.expires = from_unix(**expires);
  auto created = time_field(*j, "created", kWhat);
  if (!created) return created.error();
  if (*created) o.created = from_unix(**created);
  return o;
}

std::string encode_vote(const VoteRecord& v) {
  Json j;
  j["up"] = v.up;
  j["target"] = v.target;
  j["at"] = unix_s(v.at);
  return dump(j);
}

Result<VoteRecord> decode_vote(std::string_view json) {
  constexpr const char* kWhat = "vote";
  auto j = parse(json, kWhat);
  if (!j) return j.error();
  VoteRecord v;
  auto up = j->find("up");
  if (up == j->end() || !up->is_boolean()) return make_error("vote: \"up\" must be true or false");
  v.up = up->get<bool>();
  auto target = string_field(*j, "target", kWhat);
  if (!target) return target.error();
  v.target = std::move(*target);
  auto at = time_field(*j, "at", kWhat);
  if (!at) return at.error();
  if (*at) v.at = from_unix(**at);
  return v;
}

std::string encode_member(std::chrono::system_clock::time_point started) {
  Json j;
  j["started"] = unix_s(started);
  return dump(j);
}

}  // namespace geodns::fleet
