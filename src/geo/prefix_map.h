// A complete, disjoint partition of the IPv4 and IPv6 address spaces into prefixes, each with
// a uint32 value: a steering rule compiled against every network of the GeoIP database and its
// `nets` overrides. Neighbouring prefixes with the same value are merged into the widest
// supernet, so a lookup also says how far the answer holds (the ECS scope). Built at load time,
// then immutable; lookup() allocates nothing and takes no lock.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "common/ip.h"
#include "geo/mmdb_walk.h"

namespace geodns::geo {

class PrefixMap {
 public:
  struct Match {
    uint32_t value = 0;
    uint8_t length = 0;  // of the merged prefix holding the address, in its family's bits
  };
  struct Overlay {
    IpPrefix prefix;
    uint32_t value = 0;
  };

  // Database leaves (value: class_values[cls], or not_found for kNoClass) under `overlays`:
  // the longest overlay containing an address wins over the database. A v4-mapped overlay of
  // length >= 96 applies to IPv4 (as in CidrTable). Overlays must be distinct prefixes.
  static PrefixMap build(const NetworkIndex& index, std::span<const uint32_t> class_values,
                         uint32_t not_found, std::span<const Overlay> overlays);

  // A v4-mapped address is looked up as IPv4 (the length then counts IPv4 bits). False only
  // for an address of no family.
  bool lookup(const IpAddress& addr, Match* out) const noexcept;

  // The partition, in address order (for tests, benches and explain).
  struct Entry4 {
    uint32_t start;
    uint8_t length;
    uint32_t value;
  };
  struct Entry6 {
    Uint128 start;
    uint8_t length;
    uint32_t value;
  };
  size_t size4() const noexcept { return starts4_.size(); }
  size_t size6() const noexcept { return starts6_.size(); }
  Entry4 entry4(size_t i) const noexcept { return {starts4_[i], lengths4_[i], values4_[i]}; }
  Entry6 entry6(size_t i) const noexcept { return {starts6_[i], lengths6_[i], values6_[i]}; }
  size_t bytes() const noexcept;

  // Partition pieces as plain (start, length, value), for building from hand-made input.
  template <typename T>
  struct Piece {
    T start;
    uint8_t length;
    uint32_t value;
  };
  // `v4` and `v6` must each be a complete ordered prefix partition of their family.
  static PrefixMap from_pieces(std::vector<Piece<uint32_t>> v4, std::vector<Piece<Uint128>> v6,
                               std::span<const Overlay> overlays);

 private:
  // Parallel arrays in address order; index*_[h] is the entry holding the first address of
  // the h-th /16 (of 2^16 top-bit slices), so the binary search only runs among the entries
  // that start inside one slice.
  std::vector<uint32_t> starts4_;
  std::vector<uint8_t> lengths4_;
  std::vector<uint32_t> values4_;
  std::vector<uint32_t> index4_;
  std::vector<Uint128> starts6_;
  std::vector<uint8_t> lengths6_;
  std::vector<uint32_t> values6_;
  std::vector<uint32_t> index6_;
};

// Conversions between addresses and the integers the map orders them by.
uint32_t v4_bits(const IpAddress& a) noexcept;
Uint128 v6_bits(const IpAddress& a) noexcept;
IpAddress v4_address(uint32_t bits) noexcept;
IpAddress v6_address(Uint128 bits) noexcept;

}  // namespace geodns::geo
