// Signing keys and their files. Keys are kept in BIND's format so that keys made by
// dnssec-keygen or ldns-keygen can be used and ours can be read by those tools:
//   K<zone>.+<alg>+<tag>.key      the DNSKEY RR in presentation format (comments allowed)
//   K<zone>.+<alg>+<tag>.private  "Private-key-format: v1.3", Algorithm, PrivateKey and the
//                                 timing fields Created/Publish/Activate/Inactive/Delete
//   K<zone>.+<alg>+<tag>.state    optional (BIND 9.16+): "KSK: yes/no", "ZSK: yes/no",
//                                 which tells a CSK from a KSK
// Files are written 0600 into a 0700 directory: the private key signs for the zone.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "dnssec/algorithm.h"

using EVP_PKEY = struct evp_pkey_st;  // OpenSSL's, kept out of every includer

namespace geodns::dnssec {

inline constexpr uint16_t kFlagZone = 0x0100;  // DNSKEY flags bit 7: a zone key (256)
inline constexpr uint16_t kFlagSep = 0x0001;   // bit 15, Secure Entry Point: a KSK/CSK (257)

// ksk signs DNSKEY/CDS/CDNSKEY only, zsk everything else, csk both.
enum class KeyRole : uint8_t { ksk, zsk, csk };
std::string_view role_name(KeyRole r) noexcept;  // "KSK", "ZSK", "CSK"

// Where a key is in its life, from its timing metadata and the time asked about.
enum class KeyState : uint8_t {
  created,    // generated, Publish not reached (or unset): not in DNSKEY yet
  published,  // in DNSKEY, not signing (pre-published, or Activate not reached)
  active,     // in DNSKEY and signing
  retired,    // Inactive reached: still in DNSKEY (so old signatures validate), not signing
  removed,    // Delete reached: gone from DNSKEY
};
std::string_view state_name(KeyState s) noexcept;  // "created", "published", ...

// BIND's timing fields, unix seconds, 0 = unset. A key with Activate set and Publish unset is
// published from Activate (BIND's rule).
struct KeyTiming {
  int64_t created_unix = 0;
  int64_t publish_unix = 0;
  int64_t activate_unix = 0;
  int64_t inactive_unix = 0;
  int64_t delete_unix = 0;
};

struct SigningKey {
  std::string origin_text;  // "example.com." as in the file name
  std::string origin_wire;  // the same, lowercased wire: the RRSIG signer name
  Algorithm algorithm = Algorithm::ecdsap256sha256;
  uint16_t flags = kFlagZone | kFlagSep;
  uint16_t key_tag = 0;  // RFC 4034 appendix B, of dnskey_rdata
  KeyRole role = KeyRole::csk;
  std::string dnskey_rdata;  // wire: flags, protocol 3, algorithm, public key
  // Shared so that every snapshot built from the same file can sign with one EVP_PKEY; an
  // EVP_PKEY is safe to use from several threads at once (each with its own EVP_MD_CTX).
  std::shared_ptr<EVP_PKEY> private_key;
  KeyTiming timing;
  std::string key_path;      // the .key file
  std::string private_path;  // the .private file
  std::string state_path;    // the .state file ("" when there is none)

  KeyState state_at(int64_t now_unix) const noexcept;
  bool is_published(int64_t now_unix) const noexcept;                // in the DNSKEY RRset
  bool is_active(int64_t now_unix) const noexcept;                   // makes signatures
  bool signs_keys() const noexcept { return role != KeyRole::zsk; }  // DNSKEY, CDS, CDNSKEY
  bool signs_zone() const noexcept { return role != KeyRole::ksk; }  // everything else
  // "K<zone>.+<alg>+<tag>" (alg and tag zero-padded to 3 and 5 digits, as BIND does).
  std::string file_stem() const;
};

// RFC 4034 appendix B over DNSKEY RDATA (wire).
uint16_t key_tag(std::string_view dnskey_rdata) noexcept;

// A fresh key pair for `origin_text` ("example.com."), flags 257 for ksk/csk and 256 for zsk.
// `timing.created_unix` is set to `now_unix`; the caller sets the rest before writing.
Result<SigningKey> generate_key(std::string_view origin_text, Algorithm algorithm, KeyRole role,
                                int64_t now_unix);

// Writes the .key, .private and .state files of `key` into `dir` (created 0700 if missing),
// each 0600, atomically (a crash leaves the old file or the new one). Fills key.*_path.
Status write_key_files(SigningKey& key, const std::string& dir);

// Rewrites the timing fields of an existing key's .private (and .state) file in place.
Status write_key_timing(const SigningKey& key);

// Every key of `origin_text` in `dir` (files K<origin>+*.key with a matching .private).
// Errors name the file and line: missing directory, unreadable or malformed file, a .key for
// another zone, an unsupported algorithm, a private key that does not match the DNSKEY.
// Keys are returned sorted by key tag. No key at all is not an error here (the caller decides).
// Without a .state file the role follows the flags: 256 is a ZSK; 257 is a KSK when the zone
// has a 256 key too, else a CSK.
Result<std::vector<SigningKey>> load_zone_keys(const std::string& dir,
                                               std::string_view origin_text);

}  // namespace geodns::dnssec
