// DS RDATA (RFC 4034 5.1) from a DNSKEY: what the parent publishes, and what CDS (RFC 7344)
// carries. CDNSKEY is the DNSKEY RDATA itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace geodns::dnssec {

// RFC 4509 (SHA-256, mandatory) and RFC 6605 (SHA-384, optional).
enum class DigestType : uint8_t { sha256 = 2, sha384 = 4 };

inline constexpr size_t digest_bytes(DigestType d) noexcept {
  return d == DigestType::sha256 ? 32 : 48;
}

// DS RDATA: key tag, algorithm, digest type, digest(owner | DNSKEY RDATA), where the owner is
// the lowercased wire name of the zone. Returns the length written to `out`, 0 when `cap` is
// too small or the DNSKEY is malformed.
size_t ds_rdata(std::string_view owner_lower_wire, std::string_view dnskey_rdata, DigestType digest,
                uint8_t* out, size_t cap) noexcept;
std::string ds_rdata(std::string_view owner_lower_wire, std::string_view dnskey_rdata,
                     DigestType digest = DigestType::sha256);

}  // namespace geodns::dnssec
