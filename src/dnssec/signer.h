// Makes RRSIG RDATA (RFC 4034 3) for one RRset. One Signer per thread: it keeps its OpenSSL
// digest context and its scratch space between calls, so a signature costs the signing
// operation itself and no buffer set-up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "dns/wire.h"
#include "dnssec/key.h"

using EVP_MD_CTX = struct evp_md_ctx_st;

namespace geodns::dnssec {

class Signer {
 public:
  Signer();
  ~Signer();
  Signer(const Signer&) = delete;
  Signer& operator=(const Signer&) = delete;

  // RRSIG RDATA for the RRset (owner, type, class IN, ttl, rdatas) signed by `key` with the
  // validity window [inception, expiration] (RFC 4034 3.1.5 serial-number times), written to
  // `out`. `owner_lower_wire` is the lowercased wire owner; `labels` is the RRSIG Labels field
  // (rrsig_labels() of the owner, or fewer for an answer synthesized from a wildcard: then
  // the owner signed over is "*." plus the owner's rightmost `labels` labels, RFC 4035 5.3.2).
  // RDATAs in any order, duplicates allowed. Returns the length written, 0 when the RRset is
  // malformed, the key cannot sign, or `cap` is too small.
  size_t sign(const SigningKey& key, const uint8_t* owner_lower_wire, size_t owner_len,
              uint16_t type, uint32_t ttl, std::span<const std::string_view> rdatas, uint8_t labels,
              uint32_t inception, uint32_t expiration, uint8_t* out, size_t cap) noexcept;

  // The RRSIG RDATA size `sign` writes for `key` in zone `signer_len` bytes long.
  static size_t rrsig_size(const SigningKey& key, size_t signer_len) noexcept;

 private:
  EVP_MD_CTX* ctx_ = nullptr;
  std::vector<uint8_t> data_;   // the signed data: RRSIG fields, then each canonical RR
  std::vector<uint8_t> rdata_;  // canonical RDATAs
  std::vector<std::string_view> sorted_;
  uint8_t wild_[dns::kMaxNameLength + 2];  // the "*." owner of a wildcard expansion
};

// Sizes that comfortably hold every RRSIG we make (fixed fields, a 255-byte signer, 64 bytes).
inline constexpr size_t kMaxRrsigBytes = 18 + 255 + kSignatureBytes;

}  // namespace geodns::dnssec
