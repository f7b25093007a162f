#include "dnssec/ds.h"

#include <openssl/evp.h>

#include <cstring>

#include "dns/wire.h"
#include "dnssec/key.h"

namespace geodns::dnssec {

size_t ds_rdata(std::string_view owner_lower_wire, std::string_view dnskey_rdata, DigestType digest,
                uint8_t* out, size_t cap) noexcept {
  const size_t len = 4 + digest_bytes(digest);
  if (cap < len || dnskey_rdata.size() < 4) return 0;
  dns::write_u16(out, key_tag(dnskey_rdata));
  out[2] = static_cast<uint8_t>(dnskey_rdata[3]);
  out[3] = static_cast<uint8_t>(digest);
  // RFC 4034 5.1.4: digest = hash(canonical owner name | DNSKEY RDATA).
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return 0;
  unsigned int n = 0;
  const bool ok = EVP_DigestInit_ex(ctx, digest == DigestType::sha256 ? EVP_sha256() : EVP_sha384(),
                                    nullptr) == 1 &&
                  EVP_DigestUpdate(ctx, owner_lower_wire.data(), owner_lower_wire.size()) == 1 &&
                  EVP_DigestUpdate(ctx, dnskey_rdata.data(), dnskey_rdata.size()) == 1 &&
                  EVP_DigestFinal_ex(ctx, out + 4, &n) == 1 && n == digest_bytes(digest);
  EVP_MD_CTX_free(ctx);
  return ok ? len : 0;
}

std::string ds_rdata(std::string_view owner_lower_wire, std::string_view dnskey_rdata,
                     DigestType digest) {
  uint8_t buf[4 + 64];
  const size_t n = ds_rdata(owner_lower_wire, dnskey_rdata, digest, buf, sizeof buf);
  return std::string(reinterpret_cast<const char*>(buf), n);
}

}  // namespace geodns::dnssec
