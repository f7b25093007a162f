#include "steer/target.h"

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

uint32_t IdRegistry::intern(std::string_view key) {
  std::lock_guard lock(mutex_);
  auto it = ids_.find(std::string(key));
  if (it != ids_.end()) return it->second;
  const auto id = static_cast<uint32_t>(names_.size());
  names_.emplace_back(key);
  ids_.emplace(std::string(key), id);
  return id;
}

std::optional<uint32_t> IdRegistry::find(std::string_view key) const {
  std::lock_guard lock(mutex_);
  auto it = ids_.find(std::string(key));
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

std::string IdRegistry::name_of(uint32_t id) const {
  std::lock_guard lock(mutex_);
  return id < names_.size() ? names_[id] : std::string();
}

size_t IdRegistry::size() const {
  std::lock_guard lock(mutex_);
  return names_.size();
}

IdRegistry& target_ids() {
  static IdRegistry r;
  return r;
}
IdRegistry& dc_ids() {
  static IdRegistry r;
  return r;
}

}  // namespace geodns::steer
