// The DNSSEC records of an answer (RFC 4035 3.1): the RRSIGs beside each RRset the pipeline
// writes, online signatures for what the zone cannot sign ahead (steered and synthesized
// RRsets, compact denial), and the compact-denial NSEC itself (RFC 9824). One per worker's
// Pipeline: it owns the Signer (OpenSSL contexts) and the SignatureCache, so the packet path
// takes no lock, and on a cache hit or a static signature allocates nothing.
//
// The pipeline decides the answer; this only adds what a DO query of a signed zone needs to
// it. Nothing here is called unless active(): a query without DO, or a zone without signing,
// never gets an RRSIG, an NSEC or a CO flag.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "dns/writer.h"
#include "dnssec/signature_cache.h"
#include "dnssec/signer.h"
#include "server/dnssec_counters.h"
#include "zone/zone_set.h"

namespace geodns::server {

class DnssecAnswer {
 public:
  // `cache_entries`: the worker's signature cache capacity ([dnssec] signature_cache). The
  // cache and the signer are made by prepare(), once a signed zone is served: a server
  // without one does not hold (and zero) megabytes of cache per worker.
  DnssecAnswer(size_t cache_entries, DnssecCounters* counters);
  // Makes the signer and the cache (allocates: between batches, never per query).
  void prepare();
  bool ready() const noexcept { return cache_ != nullptr; }
  DnssecAnswer(const DnssecAnswer&) = delete;
  DnssecAnswer& operator=(const DnssecAnswer&) = delete;

  // Per query: signing applies when the client set DO and the zone is signed.
  void begin(const zone::Zone& zone, bool dnssec_ok, int64_t now_unix) noexcept {
    zone_ = &zone;
    now_unix_ = now_unix;
    active_ = dnssec_ok && zone.signing != nullptr && cache_ != nullptr;
  }
  void end() noexcept { active_ = false; }
  bool active() const noexcept { return active_; }

  // The RRSIGs the zone made for `rrset` at build, right after the RRset in section `s` (the
  // writer's last records: the RRSIGs point at their owner). False when they did not fit (nothing
  // added). `ttl_s`: the RRset's TTL as sent (a negative answer's SOA has a shorter one).
  bool add_static(dns::ResponseWriter& w, dns::Section s, const zone::RRset& rrset,
                  uint32_t ttl_s) noexcept;
  // Does the zone hold static signatures for `rrset`? (NS at a cut and glue have none.)
  bool has_static(const zone::RRset& rrset) const noexcept { return !zone_->rrsigs(rrset).empty(); }

  // Signs the RRset `rdatas` of `type` at `owner_lower` online (cache first) and adds the
  // RRSIG right after the RRset just written (pointing at its owner). `labels`: RFC 4034 3.1.3 (the
  // owner's label count; the The RRSIG always carries the owner's full label count: a synthesized
  // wildcard answer is signed at the query name). False only when it did not fit (the caller
  // decides whether that truncates). A failed signature (no online key, OpenSSL error) adds
  // nothing, is counted, and returns true: the answer goes out unsigned rather than never.
  bool add_online(dns::ResponseWriter& w, dns::Section s, const uint8_t* owner_lower,
                  size_t owner_lower_len, uint16_t type, uint32_t ttl_s,
                  std::span<const std::string_view> rdatas) noexcept;

  // Compact denial (RFC 9824 3): one NSEC at `owner` (the name that does not exist or has no
  // such type) with the next name "\000.owner" and the bitmap `types` (RRSIG and NSEC are
  // added here; NXNAME is the caller's, for a name that does not exist), and its online
  // RRSIG, in the authority section. TTL: the zone's negative TTL (RFC 9077). False when it
  // did not fit (nothing added).
  // `s`: the answer section instead when the query asked for the NSEC itself.
  bool add_denial(dns::ResponseWriter& w, const uint8_t* owner, size_t owner_len,
                  const uint8_t* owner_lower, size_t owner_lower_len,
                  std::span<const uint16_t> types,
                  dns::Section s = dns::Section::authority) noexcept;

  // The A/AAAA of a steered answer as RDATA views for the signer (which wants the RRset as
  // it went out): pointers into the zone's datacenters, valid while the snapshot is.
  std::span<const std::string_view> address_rdatas(const IpAddress* const* addresses,
                                                   uint32_t count, size_t rdlen) noexcept;

  const dnssec::SignatureCache& cache() const noexcept { return *cache_; }

 private:
  const zone::Zone* zone_ = nullptr;
  int64_t now_unix_ = 0;
  bool active_ = false;
  size_t cache_entries_;
  DnssecCounters* counters_;
  std::unique_ptr<dnssec::Signer> signer_;
  std::unique_ptr<dnssec::SignatureCache> cache_;
  // A steered RRset's RDATAs (at most steer::kMaxAnswerAddresses) and the NSEC being added:
  // scratch that lives in the pipeline, not on the packet path's heap.
  static constexpr size_t kMaxRdatas = 64;
  static constexpr size_t kMaxDenialTypes = 64;
  std::string_view rdatas_[kMaxRdatas];
  uint8_t nsec_[2 * 255 + 2 + 32 * 34] = {};  // next name + bitmap (RFC 4034 4.1)
};

}  // namespace geodns::server
