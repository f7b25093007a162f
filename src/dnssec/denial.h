// Compact denial of existence (RFC 9824, formerly "black lies"): a negative answer carries
// one NSEC owned by the query name whose next name is the name's immediate successor in
// canonical order, so it covers nothing but the name itself: no zone walking, one signature,
// made online. NXDOMAIN becomes NODATA with the NXNAME pseudo-type in the bitmap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace geodns::dnssec {

inline constexpr uint16_t kTypeNxname = 128;  // RFC 9824 2: "this name does not exist"

// The immediate successor of `name` (lowercased wire) in canonical order (RFC 4034 6.1):
// "\000." + name (RFC 4470 3.1.2), or, when that would exceed 255 octets, the name with the
// last octet of its first label incremented (RFC 4470 3.1.2's "epsilon" method for full-length
// names, skipping the uppercase letters that sort as lowercase). Returns its length, 0 when it
// does not fit in `cap` or the name is the root.
size_t next_name(const uint8_t* name, size_t len, uint8_t* out, size_t cap) noexcept;

// The NSEC type bitmap (RFC 4034 4.1.2: window blocks) for `types` in any order, duplicates
// allowed. Returns the length written, 0 when `cap` is too small (or no types).
size_t type_bitmap(std::span<const uint16_t> types, uint8_t* out, size_t cap) noexcept;

// The compact-denial NSEC RDATA for `qname` (lowercased wire): next_name() then the bitmap of
// `types`. For NXDOMAIN pass {RRSIG, NSEC, NXNAME}; for NODATA the name's types plus RRSIG
// and NSEC (RFC 9824 3). Returns the length written, 0 when it does not fit.
size_t compact_nsec_rdata(const uint8_t* qname, size_t qname_len, std::span<const uint16_t> types,
                          uint8_t* out, size_t cap) noexcept;

}  // namespace geodns::dnssec
