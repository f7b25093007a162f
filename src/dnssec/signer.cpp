#include "dnssec/signer.h"

#include <openssl/evp.h>

#include <cstring>

#include "dns/wire.h"
#include "dnssec/canonical.h"

namespace geodns::dnssec {
namespace {

// One DER INTEGER of an ECDSA-Sig-Value, as a fixed 32-byte big-endian field (RFC 6605 4:
// r and s each padded to the curve size). DER adds a 0x00 before a high bit and strips
// leading zeros; both are undone here.
bool der_integer(const uint8_t* der, size_t len, size_t* pos, uint8_t out[32]) noexcept {
  if (*pos + 2 > len || der[*pos] != 0x02) return false;
  size_t n = der[*pos + 1];
  size_t p = *pos + 2;
  if (n > 33 || p + n > len) return false;
  while (n > 32) {
    if (der[p] != 0) return false;
    ++p;
    --n;
  }
  std::memset(out, 0, 32 - n);
  std::memcpy(out + 32 - n, der + p, n);
  *pos = p + n;
  return true;
}

// DER SEQUENCE { r INTEGER, s INTEGER } (at most 72 bytes for P-256: short-form lengths).
bool der_to_raw(const uint8_t* der, size_t len, uint8_t raw[64]) noexcept {
  if (len < 2 || der[0] != 0x30 || der[1] != len - 2) return false;
  size_t pos = 2;
  return der_integer(der, len, &pos, raw) && der_integer(der, len, &pos, raw + 32) && pos == len;
}

}  // namespace

Signer::Signer() : ctx_(EVP_MD_CTX_new()) {}

Signer::~Signer() {
  EVP_MD_CTX_free(ctx_);
}

size_t Signer::rrsig_size(const SigningKey&, size_t signer_len) noexcept {
  return 18 + signer_len + kSignatureBytes;
}

size_t Signer::sign(const SigningKey& key, const uint8_t* owner_lower_wire, size_t owner_len,
                    uint16_t type, uint32_t ttl, std::span<const std::string_view> rdatas,
                    uint8_t labels, uint32_t inception, uint32_t expiration, uint8_t* out,
                    size_t cap) noexcept {
  if (ctx_ == nullptr || !key.private_key || rdatas.empty() || key.origin_wire.empty()) return 0;
  if (owner_len > dns::kMaxNameLength) return 0;
  try {
    size_t rdata_bytes = 0;
    for (const auto& r : rdatas) rdata_bytes += r.size();
    if (rdata_.size() < rdata_bytes) rdata_.resize(rdata_bytes);
    if (sorted_.size() < rdatas.size()) sorted_.resize(rdatas.size());
    const size_t n = canonical_rdata_set(type, rdatas, rdata_.data(), rdata_.size(), sorted_.data(),
                                         sorted_.size());
    if (n == kCanonicalFailed) return 0;

    // RFC 4035 5.3.2: an owner with more labels than the Labels field is signed as the
    // wildcard it was expanded from: "*." + its rightmost `labels` labels.
    const uint8_t owner_labels = rrsig_labels(owner_lower_wire, owner_len);
    const uint8_t* signed_owner = owner_lower_wire;
    size_t signed_owner_len = owner_len;
    const bool is_star = owner_len > 1 && owner_lower_wire[0] == 1 && owner_lower_wire[1] == '*';
    const size_t total_labels = owner_labels + (is_star ? 1u : 0u);
    if (labels > owner_labels) return 0;
    if (labels < total_labels) {
      size_t pos = 0;
      for (size_t skip = total_labels - labels; skip > 0; --skip) pos += 1u + owner_lower_wire[pos];
      wild_[0] = 1;
      wild_[1] = '*';
      std::memcpy(wild_ + 2, owner_lower_wire + pos, owner_len - pos);
      signed_owner = wild_;
      signed_owner_len = 2 + owner_len - pos;
    }

    const size_t signer_len = key.origin_wire.size();
    const size_t head = 18 + signer_len;
    if (cap < head + kSignatureBytes) return 0;
    const size_t data_len = head + n * (signed_owner_len + 10) + rdata_bytes;
    if (data_.size() < data_len) data_.resize(data_len);
    uint8_t* d = data_.data();
    dns::write_u16(d, type);
    d[2] = static_cast<uint8_t>(key.algorithm);
    d[3] = labels;
    dns::write_u32(d + 4, ttl);
    dns::write_u32(d + 8, expiration);
    dns::write_u32(d + 12, inception);
    dns::write_u16(d + 16, key.key_tag);
    std::memcpy(d + 18, key.origin_wire.data(), signer_len);
    // The RRSIG RDATA begins with exactly these fields.
    std::memcpy(out, d, head);
    size_t pos = head;
    for (size_t i = 0; i < n; ++i) {
      std::memcpy(d + pos, signed_owner, signed_owner_len);
      pos += signed_owner_len;
      dns::write_u16(d + pos, type);
      dns::write_u16(d + pos + 2, dns::rrclass::IN);
      dns::write_u32(d + pos + 4, ttl);
      dns::write_u16(d + pos + 8, static_cast<uint16_t>(sorted_[i].size()));
      pos += 10;
      std::memcpy(d + pos, sorted_[i].data(), sorted_[i].size());
      pos += sorted_[i].size();
    }

    EVP_MD_CTX_reset(ctx_);
    const EVP_MD* md = key.algorithm == Algorithm::ed25519 ? nullptr : EVP_sha256();
    if (EVP_DigestSignInit(ctx_, nullptr, md, nullptr, key.private_key.get()) != 1) return 0;
    uint8_t sig[80];
    size_t sig_len = sizeof sig;
    if (EVP_DigestSign(ctx_, sig, &sig_len, d, pos) != 1) return 0;
    if (key.algorithm == Algorithm::ed25519) {
      if (sig_len != kSignatureBytes) return 0;
      std::memcpy(out + head, sig, kSignatureBytes);
    } else if (!der_to_raw(sig, sig_len, out + head)) {
      return 0;
    }
    return head + kSignatureBytes;
  } catch (...) {
    return 0;  // out of memory growing the scratch space: no signature
  }
}

}  // namespace geodns::dnssec
