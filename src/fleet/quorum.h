// Health by quorum and probing by rendezvous: pure functions of the fleet's view, so that
// every server computes the same verdict from the same votes (and tests need no etcd).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace geodns::fleet {

// `quorum = "majority"` or `quorum = N` in [fleet].
struct QuorumSpec {
  bool majority = true;
  uint32_t count = 0;  // when !majority; >= 1
};

enum class Verdict : uint8_t { up, down, none };  // none: no live observer has voted

// Down when at least `required` of the observers that voted say down, where required is
// observers/2 + 1 for majority, else min(count, observers): a count larger than the
// observers still alive must not make the target impossible to take down (a fleet shrunk to
// one server still follows that server's probes).
Verdict quorum_verdict(const QuorumSpec& spec, size_t down_votes, size_t observers);
// The number of down votes that make a target down among `observers` (>= 1).
size_t required_down(const QuorumSpec& spec, size_t observers);

// Rendezvous (highest random weight) hashing: the k live servers that probe a target. Each
// server ranks the members by hash(server, target) and takes the first k, so all agree
// without talking, and when one leaves only its targets move. k == 0 or k >= members: all.
std::vector<std::string> rendezvous_pick(const std::vector<std::string>& members,
                                         std::string_view target_id, size_t k);
bool rendezvous_chooses(const std::vector<std::string>& members, std::string_view target_id,
                        size_t k, std::string_view server);

}  // namespace geodns::fleet
