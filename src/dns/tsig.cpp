#include "dns/tsig.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstring>

#include "dns/name.h"

namespace geodns::dns {

namespace {

struct AlgorithmInfo {
  TsigAlgorithm algorithm;
  std::string_view text;
  std::string_view wire;
  const char* digest;  // OpenSSL digest name
  size_t mac_bytes;
};

// RFC 8945 6: the algorithm names a TSIG record carries.
constexpr AlgorithmInfo kAlgorithms[] = {
    {TsigAlgorithm::hmac_sha1, "hmac-sha1", std::string_view("\x09hmac-sha1\0", 11), "SHA1", 20},
    {TsigAlgorithm::hmac_sha256, "hmac-sha256", std::string_view("\x0bhmac-sha256\0", 13), "SHA256",
     32},
    {TsigAlgorithm::hmac_sha384, "hmac-sha384", std::string_view("\x0bhmac-sha384\0", 13), "SHA384",
     48},
    {TsigAlgorithm::hmac_sha512, "hmac-sha512", std::string_view("\x0bhmac-sha512\0", 13), "SHA512",
     64},
};

const AlgorithmInfo& info(TsigAlgorithm a) noexcept {
  return kAlgorithms[static_cast<size_t>(a)];
}

void put48(uint8_t* p, uint64_t v) noexcept {
  write_u16(p, static_cast<uint16_t>(v >> 32));
  write_u32(p + 2, static_cast<uint32_t>(v));
}

uint64_t get48(const uint8_t* p) noexcept {
  return (uint64_t{read_u16(p)} << 32) | read_u32(p + 2);
}

using Bytes = std::span<const uint8_t>;

Bytes bytes(const uint8_t* p, size_t n) noexcept {
  return {p, n};
}

}  // namespace

std::optional<TsigAlgorithm> tsig_algorithm_from_text(std::string_view text) noexcept {
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  for (const auto& a : kAlgorithms) {
    if (text.size() != a.text.size()) continue;
    bool same = true;
    for (size_t i = 0; i < text.size() && same; ++i) {
      same = ascii_lower(static_cast<uint8_t>(text[i])) == static_cast<uint8_t>(a.text[i]);
    }
    if (same) return a.algorithm;
  }
  return std::nullopt;
}

std::string_view tsig_algorithm_text(TsigAlgorithm a) noexcept {
  return info(a).text;
}
std::string_view tsig_algorithm_wire(TsigAlgorithm a) noexcept {
  return info(a).wire;
}
size_t tsig_mac_bytes(TsigAlgorithm a) noexcept {
  return info(a).mac_bytes;
}

bool parse_tsig(std::span<const uint8_t> span, size_t offset, TsigRecord* out) noexcept {
  const uint8_t* msg = span.data();
  const size_t len = span.size();
  size_t pos = offset;
  out->offset = offset;
  uint8_t name[kMaxNameLength];
  if (!read_name(msg, len, &pos, name, &out->key_name_len)) return false;
  lower_name(name, out->key_name_len, out->key_name);
  if (pos + 10 > len) return false;
  // RFC 8945 4.2: CLASS ANY, TTL 0.
  if (read_u16(msg + pos) != rrtype::TSIG || read_u16(msg + pos + 2) != rrclass::ANY) return false;
  if (read_u32(msg + pos + 4) != 0) return false;
  const uint16_t rdlen = read_u16(msg + pos + 8);
  pos += 10;
  if (rdlen > len - pos) return false;
  const size_t end = pos + rdlen;
  // The algorithm name is never compressed (RFC 8945 4.2), but read_name also follows
  // pointers; a pointer here would only make the MAC fail.
  if (!read_name(msg, end, &pos, name, &out->algorithm_len)) return false;
  lower_name(name, out->algorithm_len, out->algorithm);
  if (pos + 10 > end) return false;
  out->time_signed = get48(msg + pos);
  out->fudge = read_u16(msg + pos + 6);
  out->mac_len = read_u16(msg + pos + 8);
  pos += 10;
  if (out->mac_len > end - pos) return false;
  out->mac = msg + pos;
  pos += out->mac_len;
  if (pos + 6 > end) return false;
  out->original_id = read_u16(msg + pos);
  out->error = read_u16(msg + pos + 2);
  out->other_len = read_u16(msg + pos + 4);
  pos += 6;
  if (out->other_len != end - pos) return false;
  out->other = msg + pos;
  return true;
}

const TsigKey* find_tsig_key(const TsigRecord& rec, std::span<const TsigKey> keys) noexcept {
  for (const auto& k : keys) {
    if (k.name.size() != rec.key_name_len ||
        std::memcmp(k.name.data(), rec.key_name, rec.key_name_len) != 0) {
      continue;
    }
    const std::string_view alg = tsig_algorithm_wire(k.algorithm);
    // RFC 8945 5.2.1: a known name with another algorithm is BADKEY too.
    if (alg.size() != rec.algorithm_len || std::memcmp(alg.data(), rec.algorithm, alg.size()) != 0)
      return nullptr;
    return &k;
  }
  return nullptr;
}

TsigSigner::TsigSigner() noexcept {
  mac_ = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac_ != nullptr) ctx_ = EVP_MAC_CTX_new(mac_);
}

TsigSigner::~TsigSigner() {
  EVP_MAC_CTX_free(ctx_);
  EVP_MAC_free(mac_);
}

bool TsigSigner::mac(const TsigKey& key, std::span<const std::span<const uint8_t>> parts,
                     uint8_t* out, size_t* out_len) noexcept {
  if (ctx_ == nullptr) return false;
  OSSL_PARAM params[2];
  params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                               const_cast<char*>(info(key.algorithm).digest), 0);
  params[1] = OSSL_PARAM_construct_end();
  // An empty secret is legal HMAC input, but OpenSSL wants a non-null pointer for it.
  static const uint8_t kEmpty = 0;
  const uint8_t* secret = key.secret.empty() ? &kEmpty : key.secret.data();
  if (EVP_MAC_init(ctx_, secret, key.secret.size(), params) != 1) return false;
  for (const auto& p : parts) {
    if (!p.empty() && EVP_MAC_update(ctx_, p.data(), p.size()) != 1) return false;
  }
  size_t n = 0;
  if (EVP_MAC_final(ctx_, out, &n, kMaxTsigMac) != 1) return false;
  *out_len = n;
  return true;
}

uint16_t TsigSigner::verify_request(std::span<const uint8_t> msg, const TsigRecord& rec,
                                    const TsigKey* key, uint64_t now_s) noexcept {
  if (key == nullptr) return tsig_error::BADKEY;
  const size_t full = tsig_mac_bytes(key->algorithm);
  // Truncated MACs (RFC 8945 5.2.2.1) are not accepted: our policy is the full length.
  if (rec.mac_len != full || rec.offset < kHeaderSize) return tsig_error::BADSIG;
  // The message as it was before the TSIG was added: original ID, one record fewer.
  uint8_t header[kHeaderSize];
  std::memcpy(header, msg.data(), kHeaderSize);
  write_u16(header, rec.original_id);
  write_u16(header + 10, static_cast<uint16_t>(read_u16(header + 10) - 1));
  // TSIG variables (RFC 8945 4.3.3): name, class, TTL, algorithm, time, fudge, error, other.
  static constexpr uint8_t kClassTtl[6] = {0, 0xFF, 0, 0, 0, 0};  // class ANY, TTL 0
  uint8_t vars[12];
  put48(vars, rec.time_signed);
  write_u16(vars + 6, rec.fudge);
  write_u16(vars + 8, rec.error);
  write_u16(vars + 10, rec.other_len);
  const Bytes parts[] = {
      bytes(header, kHeaderSize),
      msg.subspan(kHeaderSize, rec.offset - kHeaderSize),
      bytes(rec.key_name, rec.key_name_len),
      bytes(kClassTtl, 6),
      bytes(rec.algorithm, rec.algorithm_len),
      bytes(vars, 12),
      bytes(rec.other, rec.other_len),
  };
  uint8_t expected[kMaxTsigMac];
  size_t expected_len = 0;
  if (!mac(*key, parts, expected, &expected_len)) return tsig_error::BADSIG;
  if (expected_len != rec.mac_len || CRYPTO_memcmp(expected, rec.mac, expected_len) != 0) {
    return tsig_error::BADSIG;
  }
  // RFC 8945 5.2.3: checked after the MAC, so that only a genuine request learns our time.
  const uint64_t low = rec.time_signed > rec.fudge ? rec.time_signed - rec.fudge : 0;
  if (now_s < low || now_s > rec.time_signed + rec.fudge) return tsig_error::BADTIME;
  return tsig_error::NOERROR;
}

size_t TsigSigner::record_bytes(const Response& r) noexcept {
  const size_t mac_len = r.key != nullptr ? tsig_mac_bytes(r.key->algorithm) : 0;
  const size_t other = r.error == tsig_error::BADTIME ? 6 : 0;
  return r.key_name_len + 10 + r.algorithm_len + 10 + mac_len + 6 + other;
}

size_t TsigSigner::sign(uint8_t* msg, size_t len, size_t capacity, const Response& r,
                        uint8_t* mac_out, size_t* mac_len) noexcept {
  if (len < kHeaderSize) return 0;
  const size_t need = record_bytes(r);
  if (need > capacity || len > capacity - need) return 0;
  uint8_t time_fudge[8];
  put48(time_fudge, r.time_signed);
  write_u16(time_fudge + 6, r.fudge);
  uint8_t other[6];
  const uint16_t other_len = r.error == tsig_error::BADTIME ? 6 : 0;
  if (other_len != 0) put48(other, r.other_time);
  uint8_t digest[kMaxTsigMac];
  size_t digest_len = 0;
  if (r.key != nullptr) {
    uint8_t prior_len[2];
    write_u16(prior_len, static_cast<uint16_t>(r.prior_mac_len));
    static constexpr uint8_t kClassTtl[6] = {0, 0xFF, 0, 0, 0, 0};
    uint8_t error_other[4];
    write_u16(error_other, r.error);
    write_u16(error_other + 2, other_len);
    const Bytes prior[] = {bytes(prior_len, 2), bytes(r.prior_mac, r.prior_mac_len)};
    const Bytes message = bytes(msg, len);
    bool ok = false;
    if (r.timers_only) {
      // RFC 8945 5.3.1: later messages of a transfer cover the prior MAC, the message and
      // the timers only.
      const Bytes parts[] = {prior[0], prior[1], message, bytes(time_fudge, 8)};
      ok = mac(*r.key, parts, digest, &digest_len);
    } else {
      const Bytes parts[] = {prior[0],
                             prior[1],
                             message,
                             bytes(r.key_name, r.key_name_len),
                             bytes(kClassTtl, 6),
                             bytes(r.algorithm, r.algorithm_len),
                             bytes(time_fudge, 8),
                             bytes(error_other, 4),
                             bytes(other, other_len)};
      // A request has no prior MAC: parts 0 and 1 are left out, not sent as a zero length.
      ok = r.prior_mac == nullptr
               ? mac(*r.key, std::span<const Bytes>(parts).subspan(2), digest, &digest_len)
               : mac(*r.key, parts, digest, &digest_len);
    }
    if (!ok) return 0;
  }
  uint8_t* p = msg + len;
  std::memcpy(p, r.key_name, r.key_name_len);
  p += r.key_name_len;
  write_u16(p, rrtype::TSIG);
  write_u16(p + 2, rrclass::ANY);
  write_u32(p + 4, 0);
  write_u16(p + 8, static_cast<uint16_t>(need - r.key_name_len - 10));
  p += 10;
  std::memcpy(p, r.algorithm, r.algorithm_len);
  p += r.algorithm_len;
  std::memcpy(p, time_fudge, 8);
  p += 8;
  write_u16(p, static_cast<uint16_t>(digest_len));
  p += 2;
  std::memcpy(p, digest, digest_len);
  p += digest_len;
  std::memcpy(p, msg, 2);  // original ID: the message's own
  write_u16(p + 2, r.error);
  write_u16(p + 4, other_len);
  p += 6;
  std::memcpy(p, other, other_len);
  write_u16(msg + 10, static_cast<uint16_t>(read_u16(msg + 10) + 1));
  if (mac_out != nullptr) std::memcpy(mac_out, digest, digest_len);
  if (mac_len != nullptr) *mac_len = digest_len;
  return len + need;
}

std::optional<std::vector<uint8_t>> base64_decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::vector<uint8_t> out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int v[4];
    size_t pad = 0;
    for (size_t k = 0; k < 4; ++k) {
      const char c = text[i + k];
      if (c == '=' && last && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad != 0) return std::nullopt;  // data after padding
      v[k] = value(c);
      if (v[k] < 0) return std::nullopt;
    }
    const uint32_t triple = (static_cast<uint32_t>(v[0]) << 18) |
                            (static_cast<uint32_t>(v[1]) << 12) |
                            (static_cast<uint32_t>(v[2]) << 6) | static_cast<uint32_t>(v[3]);
    out.push_back(static_cast<uint8_t>(triple >> 16));
    if (pad < 2) out.push_back(static_cast<uint8_t>(triple >> 8));
    if (pad < 1) out.push_back(static_cast<uint8_t>(triple));
  }
  return out;
}

}  // namespace geodns::dns
