#include "geo/cidr_table.h"

namespace geodns::geo {

namespace {

// IPv4 entries and v4-mapped IPv6 addresses share one trie, so that a dual-stack socket's
// ::ffff:a.b.c.d client matches the operator's "a.b.c.0/24" entry.
constexpr unsigned kMappedPrefixBits = 96;

struct Key {
  IpAddress addr;
  unsigned length = 0;
};

Key normalize(const IpAddress& addr, unsigned length) noexcept {
  if (addr.is_v4_mapped() && length >= kMappedPrefixBits) {
    return Key{addr.unmapped(), length - kMappedPrefixBits};
  }
  return Key{addr, length};
}

}  // namespace

bool CidrTable::insert(const IpPrefix& prefix, uint32_t value) {
  if (prefix.address.family != 4 && prefix.address.family != 6) return false;
  if (prefix.length > prefix.address.bit_length()) return false;
  const Key key = normalize(prefix.address, prefix.length);
  std::vector<Node>& nodes = key.addr.is_v4() ? v4_ : v6_;
  uint32_t node = 0;
  for (unsigned i = 0; i < key.length; ++i) {
    const unsigned b = key.addr.bit(i) ? 1U : 0U;
    if (nodes[node].child[b] == 0) {
      nodes.push_back(Node{});
      nodes[node].child[b] = static_cast<uint32_t>(nodes.size() - 1);
    }
    node = nodes[node].child[b];
  }
  if (nodes[node].has_value) return false;
  nodes[node].has_value = true;
  nodes[node].value = value;
  ++size_;
  return true;
}

bool CidrTable::empty() const noexcept {
  return size_ == 0;
}

size_t CidrTable::size() const noexcept {
  return size_;
}

std::optional<CidrTable::Match> CidrTable::lookup(const IpAddress& addr) const noexcept {
  if (addr.family != 4 && addr.family != 6) return std::nullopt;
  const Key key = normalize(addr, addr.bit_length());
  const std::vector<Node>& nodes = key.addr.is_v4() ? v4_ : v6_;
  std::optional<Match> best;
  uint32_t node = 0;
  for (unsigned depth = 0;; ++depth) {
    if (nodes[node].has_value) {
      best = Match{nodes[node].value, static_cast<uint8_t>(depth)};
    }
    if (depth == key.length) break;
    const uint32_t next = nodes[node].child[key.addr.bit(depth) ? 1 : 0];
    if (next == 0) break;
    node = next;
  }
  return best;
}

uint8_t CidrTable::scope_excluding_inner(const IpAddress& addr,
                                         uint8_t decided_length) const noexcept {
  if (addr.family != 4 && addr.family != 6) return decided_length;
  const Key key = normalize(addr, addr.bit_length());
  const std::vector<Node>& nodes = key.addr.is_v4() ? v4_ : v6_;
  const unsigned bits = key.length;
  const unsigned decided = decided_length < bits ? decided_length : bits;
  // Every non-root node exists only because an entry lies at or below it (nothing is ever
  // removed). So at depth k on addr's path, a child on the other side of bit k means some
  // entry shares exactly k leading bits with addr: it lies inside addr/S for every S <= k
  // and does not contain addr. The scope must therefore be at least k + 1 for the deepest
  // such k at or below the decided length; entries on the path itself contain addr.
  unsigned scope = decided;
  uint32_t node = 0;
  for (unsigned depth = 0; depth < bits; ++depth) {
    const unsigned b = key.addr.bit(depth) ? 1U : 0U;
    if (depth >= decided && nodes[node].child[b ^ 1U] != 0) scope = depth + 1;
    const uint32_t next = nodes[node].child[b];
    if (next == 0) break;
    node = next;
  }
  return static_cast<uint8_t>(scope);
}

}  // namespace geodns::geo
