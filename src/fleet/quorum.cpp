#include "fleet/quorum.h"

#include <algorithm>
#include <utility>

namespace geodns::fleet {

namespace {

uint64_t weight(std::string_view server, std::string_view target) {
  uint64_t h = 14695981039346656037ULL;
  auto mix = [&h](std::string_view s) {
    for (const char c : s) {
      h ^= static_cast<uint8_t>(c);
      h *= 1099511628211ULL;
    }
  };
  mix(server);
  h ^= 0xff;  // separator: ("ab","c") and ("a","bc") must differ
  h *= 1099511628211ULL;
  mix(target);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

}  // namespace

size_t required_down(const QuorumSpec& spec, size_t observers) {
  if (spec.majority) return observers / 2 + 1;
  return std::max<size_t>(1, std::min<size_t>(spec.count, observers));
}

Verdict quorum_verdict(const QuorumSpec& spec, size_t down_votes, size_t observers) {
  if (observers == 0) return Verdict::none;
  return down_votes >= required_down(spec, observers) ? Verdict::down : Verdict::up;
}

std::vector<std::string> rendezvous_pick(const std::vector<std::string>& members,
                                         std::string_view target_id, size_t k) {
  if (k == 0 || k >= members.size()) return members;
  std::vector<std::pair<uint64_t, const std::string*>> ranked;
  ranked.reserve(members.size());
  for (const auto& m : members) ranked.emplace_back(weight(m, target_id), &m);
  // Ties (equal hashes) break by name so that every server ranks alike.
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : *a.second < *b.second;
  });
  std::vector<std::string> out;
  out.reserve(k);
  for (size_t i = 0; i < k; ++i) out.push_back(*ranked[i].second);
  return out;
}

bool rendezvous_chooses(const std::vector<std::string>& members, std::string_view target_id,
                        size_t k, std::string_view server) {
  const auto picked = rendezvous_pick(members, target_id, k);
  return std::find(picked.begin(), picked.end(), server) != picked.end();
}

}  // namespace geodns::fleet
