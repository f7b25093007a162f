#include "health/overrides.h"

#include "common/hex.h"
#include "steer/target.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

namespace geodns::health {

namespace {

constexpr std::string_view kHeader = "# geodns overrides v1";

int64_t to_unix_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::chrono::system_clock::time_point from_unix_ms(int64_t ms) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::milliseconds(ms)));
}

std::optional<int64_t> parse_int(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  int64_t v = 0;
  bool negative = false;
  size_t i = 0;
  if (s[0] == '-') {
    negative = true;
    i = 1;
    if (s.size() == 1) return std::nullopt;
  }
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return negative ? -v : v;
}

}  // namespace

std::string escape_field(std::string_view raw) {
  // "-" stands for the empty string, so a literal "-" must be escaped.
  if (raw.empty()) return "-";
  if (raw == "-") return "%2D";
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(raw.size());
  for (const char c : raw) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '%') {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> unescape_field(std::string_view text) {
  if (text == "-") return std::string();
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int hi = hex_value(text[i + 1]);
    const int lo = hex_value(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

OverrideKey OverrideKey::for_datacenter(std::string name) {
  OverrideKey k;
  k.kind = Kind::datacenter;
  // Canonical ("example.com./fra" -> "example.com/fra"): one identity per datacenter, also
  // for overrides persisted before the form changed.
  k.datacenter = steer::canonical_datacenter_key(name);
  return k;
}

OverrideKey OverrideKey::for_datacenter(steer::DcId id, std::string name) {
  OverrideKey k = for_datacenter(std::move(name));
  k.dc_id = id;
  k.has_dc_id = true;
  return k;
}

OverrideKey OverrideKey::for_address(const IpAddress& address) {
  OverrideKey k;
  k.kind = Kind::address;
  k.address = address.unmapped();
  return k;
}

std::string OverrideKey::to_string() const {
  if (kind == Kind::datacenter) return "dc:" + escape_field(datacenter);
  return "addr:" + address.to_string();
}

std::optional<OverrideKey> OverrideKey::parse(std::string_view text) {
  if (text.starts_with("dc:")) {
    auto name = unescape_field(text.substr(3));
    if (!name || name->empty()) return std::nullopt;
    return for_datacenter(std::move(*name));
  }
  if (text.starts_with("addr:")) {
    auto ip = IpAddress::parse(text.substr(5));
    if (!ip) return std::nullopt;
    return for_address(*ip);
  }
  return std::nullopt;
}

bool OverrideKey::same_target(const OverrideKey& other) const noexcept {
  if (kind != other.kind) return false;
  return kind == Kind::datacenter ? datacenter == other.datacenter : address == other.address;
}

bool OverrideSet::replace(std::vector<OverrideInfo> items) {
  std::vector<OverrideInfo> kept;
  kept.reserve(items.size());
  for (auto& o : items) {
    if (o.mode == steer::Override::none || is_expired(o)) continue;
    kept.push_back(std::move(o));
  }
  auto same = [](const OverrideInfo& a, const OverrideInfo& b) {
    return a.key.same_target(b.key) && a.mode == b.mode && a.expires == b.expires &&
           a.reason == b.reason;
  };
  const bool changed =
      kept.size() != items_.size() || !std::equal(kept.begin(), kept.end(), items_.begin(), same);
  items_ = std::move(kept);
  return changed;
}

bool OverrideSet::is_expired(const OverrideInfo& o) const {
  return o.expires && *o.expires <= clock_->wall_now();
}

Status OverrideSet::set(OverrideKey key, steer::Override mode,
                        std::optional<std::chrono::system_clock::time_point> expires,
                        std::string reason) {
  if (mode == steer::Override::none) {
    return make_error("override mode must be up or down (use clear to remove one)");
  }
  if (key.kind == OverrideKey::Kind::datacenter && key.datacenter.empty()) {
    return make_error("override: empty datacenter name");
  }
  if (key.kind == OverrideKey::Kind::address && key.address.family == 0) {
    return make_error("override: missing address");
  }
  if (expires && *expires <= clock_->wall_now()) {
    return make_error("override: expiry is in the past");
  }
  OverrideInfo info{std::move(key), mode, expires, std::move(reason), clock_->wall_now(), {}};
  for (auto& o : items_) {
    if (o.key.same_target(info.key)) {
      // Replacing keeps the list order stable for status output.
      o = std::move(info);
      return {};
    }
  }
  items_.push_back(std::move(info));
  return {};
}

bool OverrideSet::clear(const OverrideKey& key) {
  for (auto it = items_.begin(); it != items_.end(); ++it) {
    if (it->key.same_target(key)) {
      items_.erase(it);
      return true;
    }
  }
  return false;
}

bool OverrideSet::prune_expired() {
  const size_t before = items_.size();
  std::erase_if(items_, [this](const OverrideInfo& o) { return is_expired(o); });
  return items_.size() != before;
}

std::vector<OverrideInfo> OverrideSet::active() const {
  std::vector<OverrideInfo> out;
  for (const auto& o : items_) {
    if (!is_expired(o)) out.push_back(o);
  }
  return out;
}

steer::Override OverrideSet::for_address(const IpAddress& address) const {
  const IpAddress a = address.unmapped();
  for (const auto& o : items_) {
    if (o.key.kind == OverrideKey::Kind::address && o.key.address == a && !is_expired(o)) {
      return o.mode;
    }
  }
  return steer::Override::none;
}

steer::Override OverrideSet::for_datacenter(std::string_view name) const {
  for (const auto& o : items_) {
    if (o.key.kind == OverrideKey::Kind::datacenter &&
        o.key.datacenter == steer::canonical_datacenter_key(name) && !is_expired(o)) {
      return o.mode;
    }
  }
  return steer::Override::none;
}

std::optional<std::chrono::system_clock::time_point> OverrideSet::next_expiry() const {
  std::optional<std::chrono::system_clock::time_point> next;
  for (const auto& o : items_) {
    if (o.expires && (!next || *o.expires < *next)) next = o.expires;
  }
  return next;
}

Status OverrideSet::save(const std::string& path) const {
  // One override per line: key mode expires_ms|- created_ms reason. Fields are escaped
  // tokens, so a reason may contain anything.
  std::string text(kHeader);
  text += '\n';
  for (const auto& o : items_) {
    if (is_expired(o)) continue;
    text += o.key.to_string();
    text += o.mode == steer::Override::force_up ? " up " : " down ";
    text += o.expires ? std::to_string(to_unix_ms(*o.expires)) : std::string("-");
    text += ' ';
    text += std::to_string(to_unix_ms(o.created));
    text += ' ';
    text += escape_field(o.reason);
    text += '\n';
  }
  return write_file_atomic(path, text);
}

OverrideLoadReport OverrideSet::load(const std::string& path) {
  OverrideLoadReport report;
  items_.clear();
  std::error_code ec;
  // No file yet is the normal first start, not an error.
  if (!std::filesystem::exists(path, ec)) return report;
  std::ifstream in(path);
  if (!in) {
    report.errors.push_back(Error{std::string("cannot read: ") + std::strerror(errno), path, 0, 0});
    return report;
  }
  std::string line;
  uint32_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    auto bad = [&](std::string why) {
      report.errors.push_back(Error{std::move(why), path, line_no, 0});
    };
    std::istringstream fields(line);
    std::string key_text, mode_text, expires_text, created_text, reason_text, extra;
    if (!(fields >> key_text >> mode_text >> expires_text >> created_text >> reason_text) ||
        (fields >> extra)) {
      bad("expected 5 fields: key mode expires created reason");
      continue;
    }
    auto key = OverrideKey::parse(key_text);
    if (!key) {
      bad("bad override key \"" + key_text + "\"");
      continue;
    }
    steer::Override mode = steer::Override::none;
    if (mode_text == "up") {
      mode = steer::Override::force_up;
    } else if (mode_text == "down") {
      mode = steer::Override::force_down;
    } else {
      bad("bad mode \"" + mode_text + "\" (up or down)");
      continue;
    }
    std::optional<std::chrono::system_clock::time_point> expires;
    if (expires_text != "-") {
      auto ms = parse_int(expires_text);
      if (!ms) {
        bad("bad expiry \"" + expires_text + "\"");
        continue;
      }
      expires = from_unix_ms(*ms);
    }
    auto created_ms = parse_int(created_text);
    auto reason = unescape_field(reason_text);
    if (!created_ms || !reason) {
      bad("bad created time or reason");
      continue;
    }
    OverrideInfo info{std::move(*key),           mode, expires, std::move(*reason),
                      from_unix_ms(*created_ms), {}};
    if (is_expired(info)) {
      ++report.expired;
      continue;
    }
    bool replaced = false;
    for (auto& o : items_) {
      if (o.key.same_target(info.key)) {
        o = info;
        replaced = true;
      }
    }
    if (!replaced) items_.push_back(std::move(info));
    ++report.loaded;
  }
  return report;
}

}  // namespace geodns::health
