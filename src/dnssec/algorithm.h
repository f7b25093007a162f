// The DNSSEC signing algorithms geodns implements (RFC 8624 "MUST"/"RECOMMENDED" for signing):
// ECDSA P-256 with SHA-256 (RFC 6605) and Ed25519 (RFC 8080). Both give 64-byte signatures,
// so a signed answer stays small enough for UDP.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace geodns::dnssec {

enum class Algorithm : uint8_t { ecdsap256sha256 = 13, ed25519 = 15 };

// "ECDSAP256SHA256" / "ED25519": the mnemonic of the IANA registry, as BIND writes it.
std::string_view algorithm_mnemonic(Algorithm a) noexcept;
// The number as found in a DNSKEY or a key file; nullopt for one we do not implement.
std::optional<Algorithm> algorithm_from_number(unsigned number) noexcept;
// A command-line or config spelling, case-insensitive: "ecdsap256sha256", "ed25519", "13", "15".
std::optional<Algorithm> algorithm_from_text(std::string_view text) noexcept;

inline constexpr size_t kSignatureBytes = 64;  // both: r||s (RFC 6605 4) or R||S (RFC 8032)
// DNSKEY public key field: x||y of the P-256 point (RFC 6605 4), or the 32-byte Ed25519 key.
inline constexpr size_t public_key_bytes(Algorithm a) noexcept {
  return a == Algorithm::ecdsap256sha256 ? 64 : 32;
}

}  // namespace geodns::dnssec
