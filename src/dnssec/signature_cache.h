// Per-worker cache of online signatures (issue 13): a steered answer is re-signed only when
// its RRset changes, not per query. Keyed by the exact canonical content that the signature
// covers (signing key's DNSKEY, owner, type, TTL, labels, validity window and the canonical,
// sorted RDATA set), so a rotated answer order hits the same entry and a false hit is
// impossible (the content is compared byte for byte, not just hashed).
//
// Memory is fixed at construction: a set-associative table of entry slots and a ring arena of
// bytes that new entries overwrite oldest-first. A hit allocates nothing and takes no lock;
// the cache belongs to one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <string_view>

#include "dnssec/key.h"

namespace geodns::dnssec {

// What one signature covers: the arguments of Signer::sign except the output buffer.
struct SignatureRequest {
  const SigningKey* key = nullptr;
  const uint8_t* owner = nullptr;  // lowercased wire
  size_t owner_len = 0;
  uint16_t type = 0;
  uint32_t ttl = 0;
  std::span<const std::string_view> rdatas;  // any order
  uint8_t labels = 0;
  uint32_t inception = 0;
  uint32_t expiration = 0;
};

class SignatureCache {
 public:
  static constexpr size_t kDefaultEntries = 65536;
  static constexpr size_t kDefaultArenaBytes = 16u << 20;

  // `entries` is rounded up to a power of two (4-way sets); `arena_bytes` bounds the memory
  // of the keys and signatures kept.
  explicit SignatureCache(size_t entries = kDefaultEntries,
                          size_t arena_bytes = kDefaultArenaBytes);
  SignatureCache(const SignatureCache&) = delete;
  SignatureCache& operator=(const SignatureCache&) = delete;

  // The cached RRSIG RDATA for `r`, or empty. An entry whose expiration is less than
  // `min_remaining_s` after `now_unix` is a miss (it will be re-signed and replaced). The
  // bytes stay valid until the next find/insert on this cache.
  std::span<const uint8_t> find(const SignatureRequest& r, int64_t now_unix,
                                uint32_t min_remaining_s) noexcept;
  // Stores `rrsig` for `r` (replacing an older entry for the same content) and returns the
  // stored copy; empty when the content is too large to cache (it is then signed per query).
  std::span<const uint8_t> insert(const SignatureRequest& r,
                                  std::span<const uint8_t> rrsig) noexcept;

  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t inserts = 0;
    uint64_t expired = 0;  // finds that met an entry too close to its expiration
  };
  const Stats& stats() const noexcept { return stats_; }
  size_t memory_bytes() const noexcept;

 private:
  struct Slot {
    uint64_t hash = 0;
    uint64_t position = 0;  // arena position of the entry + 1; 0 = empty
  };
  // Builds the canonical key of `r` into key_; false when it does not fit.
  bool make_key(const SignatureRequest& r) noexcept;
  const uint8_t* entry_at(uint64_t position) const noexcept;  // nullptr once overwritten

  struct FreeSlots {
    void operator()(Slot* p) const noexcept;
  };
  // calloc'd and the arena left uninitialised: the kernel maps pages as they are first
  // written, so a worker's cache costs memory only as it fills.
  std::unique_ptr<Slot[], FreeSlots> slots_;
  size_t set_mask_ = 0;  // sets of kWays slots
  std::unique_ptr<uint8_t[]> arena_;
  size_t arena_bytes_ = 0;
  uint64_t head_ = 0;  // total bytes ever written: positions below head_ - arena_bytes_ are gone
  std::unique_ptr<uint8_t[]> key_;  // the canonical key of the last request
  size_t key_len_ = 0;
  uint64_t key_hash_ = 0;
  std::unique_ptr<uint8_t[]> scratch_;  // canonical RDATAs while building key_
  std::unique_ptr<uint8_t[]> spare_;    // insert()'s copy of a signature too large to cache
  Stats stats_;
};

}  // namespace geodns::dnssec
