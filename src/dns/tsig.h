// TSIG (RFC 8945): the TSIG record of a request, its verification (MAC over the request, time
// within the fudge) and the signing of responses, including the chained MACs of a
// multi-message zone transfer (RFC 8945 5.3.1). HMAC through OpenSSL's EVP_MAC interface.
//
// The packet path only touches this file for a message that carries a TSIG record (the query
// parser records where it starts): unsigned queries cost nothing here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dns/wire.h"

// OpenSSL types, so that this header does not pull in OpenSSL's.
struct evp_mac_st;
struct evp_mac_ctx_st;

namespace geodns::dns {

enum class TsigAlgorithm : uint8_t { hmac_sha1, hmac_sha256, hmac_sha384, hmac_sha512 };

// "hmac-sha256" (or with a trailing dot, any case) -> the algorithm; nullopt if unsupported.
std::optional<TsigAlgorithm> tsig_algorithm_from_text(std::string_view text) noexcept;
std::string_view tsig_algorithm_text(TsigAlgorithm a) noexcept;  // "hmac-sha256"
std::string_view tsig_algorithm_wire(TsigAlgorithm a) noexcept;  // "\x0bhmac-sha256\0"
size_t tsig_mac_bytes(TsigAlgorithm a) noexcept;                 // full MAC length

namespace tsig_error {
inline constexpr uint16_t NOERROR = 0;
inline constexpr uint16_t BADSIG = 16;
inline constexpr uint16_t BADKEY = 17;
inline constexpr uint16_t BADTIME = 18;
inline constexpr uint16_t BADTRUNC = 22;
}  // namespace tsig_error

inline constexpr uint8_t kRcodeNotAuth = 9;  // RFC 8945 5.2: TSIG errors answer NOTAUTH
inline constexpr size_t kMaxTsigMac = 64;    // SHA-512
inline constexpr uint16_t kDefaultFudge = 300;

struct TsigKey {
  std::string name;  // wire format, lower case ("\7xfr-key\0")
  TsigAlgorithm algorithm = TsigAlgorithm::hmac_sha256;
  std::vector<uint8_t> secret;

  friend bool operator==(const TsigKey&, const TsigKey&) = default;
};

// The TSIG record of a received message: views into the message, which must outlive it.
struct TsigRecord {
  size_t offset = 0;  // where the record (its owner name) starts: the message before it is
                      // what the MAC covers
  uint8_t key_name[kMaxNameLength] = {};  // lower case
  size_t key_name_len = 0;
  uint8_t algorithm[kMaxNameLength] = {};  // lower case
  size_t algorithm_len = 0;
  uint64_t time_signed = 0;  // 48-bit seconds since the epoch
  uint16_t fudge = 0;
  const uint8_t* mac = nullptr;
  uint16_t mac_len = 0;
  uint16_t original_id = 0;
  uint16_t error = 0;
  const uint8_t* other = nullptr;
  uint16_t other_len = 0;
};

// Parses the TSIG record starting at `offset` (the last record of `msg`, as RFC 8945 5.1
// requires; the parser checked that). Returns false when it is malformed.
bool parse_tsig(std::span<const uint8_t> msg, size_t offset, TsigRecord* out) noexcept;

// The key the record names, among `keys`, with the algorithm it names; nullptr = BADKEY.
const TsigKey* find_tsig_key(const TsigRecord& rec, std::span<const TsigKey> keys) noexcept;

// One HMAC computation at a time; holds its OpenSSL context (created once, reused), so a
// signer per worker or per transfer costs no allocation per message of its own.
class TsigSigner {
 public:
  TsigSigner() noexcept;
  ~TsigSigner();
  TsigSigner(const TsigSigner&) = delete;
  TsigSigner& operator=(const TsigSigner&) = delete;

  // Verifies a request (RFC 8945 5.2): BADKEY when `key` is null, BADSIG when the MAC does not
  // match (a truncated MAC included: our policy is the full length), BADTIME when `now_s` is
  // outside Time Signed ± Fudge; NOERROR otherwise. The request MAC a response needs is rec.mac.
  uint16_t verify_request(std::span<const uint8_t> msg, const TsigRecord& rec, const TsigKey* key,
                          uint64_t now_s) noexcept;

  // What a response's TSIG carries and is signed with.
  struct Response {
    const TsigKey* key = nullptr;       // null: an unsigned error (BADKEY, BADSIG: MAC size 0)
    const uint8_t* key_name = nullptr;  // echoed from the request (lower case wire)
    size_t key_name_len = 0;
    const uint8_t* algorithm = nullptr;  // echoed from the request
    size_t algorithm_len = 0;
    const uint8_t* prior_mac = nullptr;  // the request's MAC, or the previous message's
    size_t prior_mac_len = 0;
    uint64_t time_signed = 0;
    uint16_t fudge = kDefaultFudge;
    uint16_t error = 0;
    uint64_t other_time = 0;   // BADTIME: the server's time, sent as Other Data
    bool timers_only = false;  // a later message of a transfer (RFC 8945 5.3.1)
  };

  // Appends a TSIG record to the complete message msg[0, len) (which has room up to
  // `capacity`), signing it as `r` says, and increments ARCOUNT. The MAC is also written to
  // `mac_out` (kMaxTsigMac bytes; may be null), *mac_len its length, for the next message.
  // Returns the new length, or 0 when the record does not fit.
  size_t sign(uint8_t* msg, size_t len, size_t capacity, const Response& r, uint8_t* mac_out,
              size_t* mac_len) noexcept;

  // The size of the TSIG record sign() appends.
  static size_t record_bytes(const Response& r) noexcept;

  // Raw HMAC of `parts` with `key` (tests and the verifier).
  bool mac(const TsigKey& key, std::span<const std::span<const uint8_t>> parts, uint8_t* out,
           size_t* out_len) noexcept;

 private:
  evp_mac_st* mac_ = nullptr;
  evp_mac_ctx_st* ctx_ = nullptr;
};

// Decodes base64 (RFC 4648, padding required as BIND and Knot write key secrets).
std::optional<std::vector<uint8_t>> base64_decode(std::string_view text);

}  // namespace geodns::dns
