// A steering rule compiled against every network of the GeoIP database and its `nets`
// overrides: a complete map of the IPv4 and IPv6 address spaces to uint32 values. Stored as
// maximal runs of equal value (the database's networks, merged), so a lookup also tells the
// widest prefix around the address over which the value holds: the ECS scope. That prefix is
// the one the coarsest prefix partition (siblings of equal value merged into their supernet)
// would hold, computed from the run's bounds with two bit scans instead of being stored.
//
// The runs that depend only on the database and the rule's map (a Base) are shared by every
// rule with the same map; a rule's `nets` become a small patch of runs laid over them. Built at
// load time, then immutable; lookup() allocates nothing and takes no lock.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/ip.h"
#include "geo/mmdb_walk.h"

namespace geodns::geo {

class PrefixMap {
 public:
  struct Match {
    uint32_t value = 0;
    uint8_t length = 0;  // of the widest prefix holding the address with this value
  };
  struct Overlay {
    IpPrefix prefix;
    uint32_t value = 0;
  };
  // Packed: an IPv6 run is 20 bytes, not the 32 that the 128-bit start's alignment would
  // make it (the IPv6 runs of the real country database are most of a base's memory). x86
  // reads the unaligned start at no extra cost; members are only ever read by value.
  template <typename T>
  struct __attribute__((packed)) Run {
    T start;
    uint32_t value;
  };
  template <typename T>
  struct Runs {  // complete: runs[0].start == 0; run i ends where run i + 1 starts
    // Start and value side by side: a lookup reads both from one cache line.
    std::vector<Run<T>> runs;
    // slices[h], one per top-bit slice (2^16 of them), read first by every lookup. A slice
    // inside one run (most of the address space once a map's networks are merged) holds that
    // run's value and its scope, which is the same for every address of the slice (at most
    // /16): such a lookup reads this one entry and nothing else. Any other slice holds the
    // runs with its first and last address, among which the binary search runs.
    std::vector<uint64_t> slices;
  };
  template <typename T>
  struct Patch {  // sorted, disjoint, each a whole run of the patched map
    std::vector<T> starts;
    std::vector<T> ends;
    std::vector<uint32_t> values;
  };
  struct Base {
    Runs<uint32_t> v4;
    Runs<Uint128> v6;
    size_t bytes() const noexcept;
  };
  template <typename T>
  struct Piece {
    T start;
    uint8_t length;
    uint32_t value;
  };

  // The database's networks valued class_values[cls] (not_found for kNoClass), merged.
  static std::shared_ptr<const Base> make_base(const NetworkIndex& index,
                                               std::span<const uint32_t> class_values,
                                               uint32_t not_found);
  // As above with a second database laid over the first (an ASN database over the GeoIP
  // one): where `over` has a network of class c with over_values[c] != kUnder, that value wins;
  // elsewhere (kUnder, or kNoClass) the first database's value stands. One linear sweep of
  // both network lists.
  static constexpr uint32_t kUnder = 0xffffffffU;
  static std::shared_ptr<const Base> make_base(const NetworkIndex& index,
                                               std::span<const uint32_t> class_values,
                                               uint32_t not_found, const NetworkIndex& over,
                                               std::span<const uint32_t> over_values);
  // `base` under `overlays`: the longest overlay holding an address wins. A v4-mapped overlay
  // of length >= 96 applies to IPv4 (as in CidrTable). Overlays must be distinct prefixes.
  static PrefixMap with_overlays(std::shared_ptr<const Base> base,
                                 std::span<const Overlay> overlays);
  // From hand-made ordered prefix partitions (tests).
  static PrefixMap from_pieces(const std::vector<Piece<uint32_t>>& v4,
                               const std::vector<Piece<Uint128>>& v6,
                               std::span<const Overlay> overlays);

  // A v4-mapped address is looked up as IPv4 (the length then counts IPv4 bits). False only
  // for an address of no family.
  bool lookup(const IpAddress& addr, Match* out) const noexcept;

  // The coarsest prefix partition this map stands for, in address order (tests, benches).
  std::vector<Piece<uint32_t>> prefixes4() const;
  std::vector<Piece<Uint128>> prefixes6() const;
  size_t runs() const noexcept;  // base runs plus patch runs
  const Base& base() const noexcept { return *base_; }
  size_t patch_bytes() const noexcept;

 private:
  std::shared_ptr<const Base> base_;
  Patch<uint32_t> patch4_;
  Patch<Uint128> patch6_;
};

// Conversions between addresses and the integers the map orders them by.
uint32_t v4_bits(const IpAddress& a) noexcept;
Uint128 v6_bits(const IpAddress& a) noexcept;
IpAddress v4_address(uint32_t bits) noexcept;
IpAddress v6_address(Uint128 bits) noexcept;

}  // namespace geodns::geo
