// Canonical form of RRs and RRsets for signing (RFC 4034 6.2 and 6.3): names inside RDATA
// lowercased for the types RFC 4034 6.2 lists as corrected by RFC 6840 5.1 (NSEC's next name
// keeps its case, RRSIG's signer name does not), and the RDATAs of an RRset sorted as
// left-justified unsigned octet strings with duplicates removed. Everything works into
// caller-owned buffers: the online signer calls it on the packet path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace geodns::dnssec {

// Returned by canonical_rdata_set when the input is malformed or the buffers are too small.
inline constexpr size_t kCanonicalFailed = static_cast<size_t>(-1);

// True when RDATA of `type` holds domain names that the canonical form lowercases.
bool rdata_names_lowercased(uint16_t type) noexcept;

// Writes the canonical RDATA of one record of `type` (names lowercased where RFC 4034/6840
// say so, everything else copied) to `out`. Returns its length (== rdata.size()), or
// kCanonicalFailed when an embedded name is malformed or `cap` is too small.
size_t canonical_rdata(uint16_t type, std::string_view rdata, uint8_t* out, size_t cap) noexcept;

// The canonical RDATA set of an RRset: each RDATA's canonical form is written into `scratch`
// and `sorted` receives views into it, in canonical order with duplicates removed. Returns
// the number of views written, or kCanonicalFailed (malformed RDATA, or `scratch` / `sorted`
// too small). Input order does not matter: any permutation gives the same output.
size_t canonical_rdata_set(uint16_t type, std::span<const std::string_view> rdatas,
                           uint8_t* scratch, size_t scratch_cap, std::string_view* sorted,
                           size_t sorted_cap) noexcept;

// The number of labels of an uncompressed wire name, root excluded, and not counting a
// leading "*" label (RFC 4034 3.1.3: the RRSIG Labels field).
uint8_t rrsig_labels(const uint8_t* wire, size_t len) noexcept;

}  // namespace geodns::dnssec
