// Every network of a GeoIP database, enumerated once at load time (src/steer/compiled.h builds
// per-rule prefix maps from it, so the packet path of a compiled rule never calls libmaxminddb).
// Immutable once built; shared by every rule compiled against the same database.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/result.h"
#include "geo/database.h"
#include "geo/location.h"

namespace geodns::geo {

__extension__ typedef unsigned __int128 Uint128;  // IPv6 addresses as one ordered integer

inline constexpr uint32_t kNoClass = 0xffffffffU;  // an EMPTY record: "not found"

// One network of the database tree. `cls` indexes NetworkIndex::classes(), or kNoClass.
struct Leaf4 {
  uint32_t start = 0;
  uint8_t length = 0;
  uint32_t cls = kNoClass;
};
struct Leaf6 {
  Uint128 start = 0;
  uint8_t length = 0;
  uint32_t cls = kNoClass;
};

class NetworkIndex {
 public:
  // Walks the whole search tree with MMDB_read_node. Records that share a data section (and
  // data sections that decode to the same Location) become one class, decoded once with the
  // same code Database::lookup uses, so a compiled answer equals the runtime one.
  static Result<std::shared_ptr<const NetworkIndex>> build(const Database& db);
  // `asn_db` read as an ASN database ([server] asn_db): one class per autonomous system
  // number, holding only Location::asn (Database::decode_asn, as lookup() reads it).
  static Result<std::shared_ptr<const NetworkIndex>> build_asn(const Database& asn_db);
  // No database: one "not found" network per family (compiles the `nets` overlay alone).
  static std::shared_ptr<const NetworkIndex> empty();

  // Complete, disjoint and ordered: every address of the family is in exactly one leaf.
  // IPv6 includes the regions the tree aliases to its IPv4 subtree (::/96, ::ffff:0:0/96,
  // 2002::/16, ...) expanded from the IPv4 leaves, as libmaxminddb resolves them.
  std::span<const Leaf4> v4() const noexcept { return v4_; }
  std::span<const Leaf6> v6() const noexcept { return v6_; }
  // Decoded locations; prefix_length is 0 (the leaf carries the length).
  std::span<const Location> classes() const noexcept { return classes_; }
  // Networks as stored in the tree, without the alias expansions (for status and benches).
  size_t tree_networks() const noexcept { return tree_networks_; }
  size_t bytes() const noexcept;

 private:
  static Result<std::shared_ptr<const NetworkIndex>> walk(const Database& db, bool asn);
  std::vector<Leaf4> v4_;
  std::vector<Leaf6> v6_;
  std::vector<Location> classes_;
  size_t tree_networks_ = 0;
};

using NetworkIndexPtr = std::shared_ptr<const NetworkIndex>;

}  // namespace geodns::geo
