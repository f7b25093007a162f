// Longest-prefix-match table of IPv4 and IPv6 prefixes to small integer values: the `nets`
// overrides of steered names. Built at load time, read lock-free and allocation-free per query.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/ip.h"

namespace geodns::geo {

class CidrTable {
 public:
  struct Match {
    uint32_t value = 0;
    uint8_t prefix_length = 0;  // length of the entry that matched
  };

  // False if exactly this prefix is already present (the caller reports the duplicate).
  bool insert(const IpPrefix& prefix, uint32_t value);
  bool empty() const noexcept;
  size_t size() const noexcept;

  // Longest matching prefix. A v4-mapped IPv6 address (::ffff:a.b.c.d) matches IPv4 entries
  // and is then treated as its IPv4 address: Match::prefix_length counts IPv4 bits. Likewise a
  // v4-mapped prefix of length >= 96 is stored as the IPv4 prefix.
  std::optional<Match> lookup(const IpAddress& addr) const noexcept;

  // ECS scope help: given that `addr` was decided by a network of `decided_length` bits (a
  // database network, or an entry of this table), the shortest scope length S >=
  // decided_length such that addr/S contains no entry of this table that does not also
  // contain addr (an entry "inside" the decided network that would answer differently).
  // Returns decided_length when there is no such entry. Never more than the family's bits.
  // For a v4-mapped `addr`, decided_length and the result count IPv4 bits (as lookup does).
  uint8_t scope_excluding_inner(const IpAddress& addr, uint8_t decided_length) const noexcept;

 private:
  struct Node {
    uint32_t child[2] = {0, 0};  // 0 = none (node 0 is a root, never a child)
    uint32_t value = 0;
    bool has_value = false;
  };
  // Binary tries, one per family; node 0 of each vector is the root.
  std::vector<Node> v4_{Node{}};
  std::vector<Node> v6_{Node{}};
  size_t size_ = 0;
};

}  // namespace geodns::geo
