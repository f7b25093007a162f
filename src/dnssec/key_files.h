// Internal to src/dnssec: OpenSSL key material <-> the bytes of DNSKEY and BIND key files.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "dnssec/algorithm.h"
#include "dnssec/key.h"

namespace geodns::dnssec::detail {

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const noexcept;
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

// The EVP_PKEY of a BIND PrivateKey field (P-256 scalar d, or the Ed25519 seed), and the
// DNSKEY public key field it implies; empty PkeyPtr on bad material.
PkeyPtr pkey_from_private(Algorithm a, std::string_view raw, std::string* public_key);
// The PrivateKey field's raw bytes of `pkey`.
std::string private_bytes(Algorithm a, EVP_PKEY* pkey);

std::string base64_encode(std::string_view bytes);

// BIND's YYYYMMDDHHMMSS (UTC) <-> unix seconds.
std::string bind_time(int64_t unix_s);
bool parse_bind_time(std::string_view text, int64_t* unix_s);

}  // namespace geodns::dnssec::detail
