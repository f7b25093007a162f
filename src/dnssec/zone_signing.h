// What a signed zone carries (zone::Zone::signing): its keys, the validity settings and the
// window its static signatures were made with, and the time by which it must be re-signed.
// Immutable once built; shared by every worker. Online signing (steered answers, synthesized
// wildcards, compact denial) goes through sign_online() with the worker's Signer and cache.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dnssec/key.h"
#include "dnssec/signature_cache.h"
#include "dnssec/signer.h"

namespace geodns::dnssec {

// geodns.toml [dnssec]; the defaults are Knot's (14 days, refreshed a week before expiry).
struct SigningSettings {
  std::chrono::seconds validity{std::chrono::hours(24 * 14)};
  std::chrono::seconds refresh{std::chrono::hours(24 * 7)};      // re-sign when less is left
  std::chrono::seconds inception_offset{std::chrono::hours(1)};  // back-dated for clock skew
};

// The validity window of signatures made at `now_unix`: inception = now - offset, expiration
// = now + validity; and the time at which they must be replaced (expiration - refresh).
struct SignatureWindow {
  uint32_t inception = 0;  // RFC 4034 3.1.5: serial-number arithmetic on 32-bit seconds
  uint32_t expiration = 0;
  int64_t inception_unix = 0;
  int64_t expiration_unix = 0;
  int64_t resign_unix = 0;
};
SignatureWindow window_at(const SigningSettings& s, int64_t now_unix) noexcept;

struct ZoneSigning {
  std::string origin;  // lowercased wire: the RRSIG signer name
  std::string origin_text;
  std::string key_directory;
  SigningSettings settings;
  std::vector<SigningKey> keys;  // every key of the zone's directory, any state, by key tag
  // Indexes into `keys`, as of the build time:
  std::vector<uint32_t> published;     // in the DNSKEY RRset
  std::vector<uint32_t> key_signers;   // active KSK/CSK: sign DNSKEY, CDS, CDNSKEY
  std::vector<uint32_t> zone_signers;  // active ZSK/CSK: sign every other RRset
  // The key online signatures are made with: the active ZSK/CSK activated last (one
  // signature per online answer keeps answers small; RFC 4035 2.2 asks for one per
  // algorithm, and a zone has one algorithm). -1 = none (then the zone has no steered names).
  int32_t online_key = -1;
  // The window of the static signatures (and of online ones, so that the cache keys stay
  // stable for the zone's lifetime), and when the zone must be re-signed (the daemon
  // rebuilds it then: the earlier of window.resign_unix and the next key timing event).
  SignatureWindow window;
  int64_t resign_by_unix = 0;

  const SigningKey* online() const noexcept {
    return online_key < 0 ? nullptr : &keys[static_cast<size_t>(online_key)];
  }

  // The RRSIG RDATA of the RRset (owner lowercased wire, type, ttl, rdatas in any order) by
  // the online key: from `cache` when it has it, else signed with `signer` and inserted. If
  // the zone outlived resign_by_unix (the re-sign is late), signatures use a window computed
  // from `now_unix` instead, so none is handed out with less than `refresh` left. Empty when
  // there is no online key or signing failed. The bytes stay valid until the next call on
  // the same cache.
  std::span<const uint8_t> sign_online(Signer& signer, SignatureCache& cache, const uint8_t* owner,
                                       size_t owner_len, uint16_t type, uint32_t ttl,
                                       std::span<const std::string_view> rdatas, uint8_t labels,
                                       int64_t now_unix) const noexcept;
};

}  // namespace geodns::dnssec
