#include "steer/target.h"

#include <algorithm>
#include <cctype>

namespace geodns::steer {

std::string_view check_type_name(CheckType t) {
  switch (t) {
    case CheckType::none:
      return "none";
    case CheckType::http:
      return "http";
    case CheckType::https:
      return "https";
    case CheckType::tcp:
      return "tcp";
    case CheckType::dns:
      return "dns";
  }
  return "?";
}

std::string datacenter_key(std::string_view zone_origin_text, std::string_view name, bool shared) {
  if (shared) return std::string(name);
  return canonical_datacenter_key(std::string(zone_origin_text) + "/" + std::string(name));
}

std::string canonical_datacenter_key(std::string_view text) {
  const auto slash = text.rfind('/');
  if (slash == std::string_view::npos) return std::string(text);
  std::string zone(text.substr(0, slash));
  if (!zone.empty() && zone.back() == '.') zone.pop_back();
  // Zone names compare without case (RFC 4343); datacenter names are TOML keys, exact.
  for (char& c : zone) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return zone + "/" + std::string(text.substr(slash + 1));
}

std::string CheckSpec::key() const {
  std::string k;
  k += check_type_name(type);
  k += "|port=" + std::to_string(probe_port.value_or(port));
  if (probe_address) k += "|probe=" + probe_address->to_string();
  switch (type) {
    case CheckType::http:
    case CheckType::https:
      k += "|path=" + path + "|host=" + host + "|expect=" + std::to_string(expect_min) + "-" +
           std::to_string(expect_max) + "|body=" + body_match +
           "|verify=" + (verify_tls ? "1" : "0");
      break;
    case CheckType::tcp:
      k += "|send=" + send + "|expect=" + expect;
      break;
    case CheckType::dns:
      k += "|q=" + query_name + "/" + std::to_string(query_type) +
           "|rcode=" + std::to_string(expect_rcode);
      break;
    case CheckType::none:
      break;
  }
  k += "|interval=" + std::to_string(interval.count()) +
       "|timeout=" + std::to_string(timeout.count()) + "|fall=" + std::to_string(fall) +
       "|rise=" + std::to_string(rise);
  return k;
}

std::string dc_slot_key(std::string_view zone_origin_text, std::string_view name) {
  return datacenter_key(zone_origin_text, name, false);
}

uint32_t IdTable::intern(std::string_view key) {
  std::string k(key);
  if (auto it = ids_.find(k); it != ids_.end()) return it->second;
  uint32_t id = 0;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else {
    id = next_++;
  }
  ids_.emplace(std::move(k), id);
  return id;
}

std::optional<uint32_t> IdTable::find(std::string_view key) const {
  auto it = ids_.find(std::string(key));
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

void IdTable::retain(const std::unordered_set<std::string>& used) {
  for (auto it = ids_.begin(); it != ids_.end();) {
    if (used.count(it->first) == 0) {
      retiring_.push_back(it->second);
      it = ids_.erase(it);
    } else {
      ++it;
    }
  }
}

IdTable IdTable::next_load() const {
  IdTable t;
  t.ids_ = ids_;
  t.free_ = free_;
  t.free_.insert(t.free_.end(), retiring_.begin(), retiring_.end());
  t.next_ = next_;
  // Trailing free ids are given back, so that the arrays indexed by them shrink too.
  std::sort(t.free_.begin(), t.free_.end());
  while (!t.free_.empty() && t.free_.back() + 1 == t.next_) {
    t.free_.pop_back();
    --t.next_;
  }
  std::reverse(t.free_.begin(), t.free_.end());
  return t;
}

}  // namespace geodns::steer
