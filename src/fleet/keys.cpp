#include "fleet/keys.h"

#include <cstdint>
#include <cstdio>

namespace geodns::fleet {

namespace {

constexpr std::string_view kMembers = "members/";
constexpr std::string_view kVotes = "votes/";
constexpr std::string_view kOverrideDc = "overrides/dc/";
constexpr std::string_view kOverrideAddr = "overrides/addr/";

bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

}  // namespace

bool is_valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string target_id(std::string_view target_key) {
  uint64_t h = 14695981039346656037ULL;
  for (const char c : target_key) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ULL;
  }
  // splitmix64 finaliser: FNV's low bits are weak for similar keys.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

KeyLayout::KeyLayout(std::string_view fleet_name)
    : root_("/geodns/" + std::string(fleet_name) + "/") {}

std::string KeyLayout::member(std::string_view server) const {
  return root_ + std::string(kMembers) + std::string(server);
}

std::string KeyLayout::vote(std::string_view target, std::string_view server) const {
  return root_ + std::string(kVotes) + std::string(target) + "/" + std::string(server);
}

std::string KeyLayout::override_key(std::string_view key) const {
  if (starts_with(key, "dc:") && key.size() > 3) {
    return root_ + std::string(kOverrideDc) + std::string(key.substr(3));
  }
  if (starts_with(key, "addr:") && key.size() > 5) {
    return root_ + std::string(kOverrideAddr) + std::string(key.substr(5));
  }
  return {};
}

KeyLayout::Parsed KeyLayout::parse(std::string_view key) const {
  Parsed out;
  if (!starts_with(key, root_)) return out;
  const std::string_view rest = key.substr(root_.size());
  if (starts_with(rest, kMembers)) {
    const auto server = rest.substr(kMembers.size());
    if (!is_valid_name(server)) return out;
    out.kind = Kind::member;
    out.server = std::string(server);
  } else if (starts_with(rest, kVotes)) {
    const auto tail = rest.substr(kVotes.size());
    const auto slash = tail.find('/');
    if (slash == std::string_view::npos || slash == 0) return out;
    const auto server = tail.substr(slash + 1);
    if (!is_valid_name(server)) return out;
    out.kind = Kind::vote;
    out.target_id = std::string(tail.substr(0, slash));
    out.server = std::string(server);
  } else if (starts_with(rest, kOverrideDc)) {
    const auto name = rest.substr(kOverrideDc.size());
    if (name.empty()) return out;
    out.kind = Kind::override_;
    out.override_ = "dc:" + std::string(name);
  } else if (starts_with(rest, kOverrideAddr)) {
    const auto addr = rest.substr(kOverrideAddr.size());
    if (addr.empty()) return out;
    out.kind = Kind::override_;
    out.override_ = "addr:" + std::string(addr);
  }
  return out;
}

}  // namespace geodns::fleet
