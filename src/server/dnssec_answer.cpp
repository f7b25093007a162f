#include "server/dnssec_answer.h"

#include <algorithm>
#include <cstring>

#include "dnssec/canonical.h"
#include "dnssec/denial.h"

namespace geodns::server {

namespace rrtype = dns::rrtype;

DnssecAnswer::DnssecAnswer(size_t cache_entries, DnssecCounters* counters)
    : cache_entries_(std::max<size_t>(cache_entries, 16)), counters_(counters) {}

void DnssecAnswer::prepare() {
  if (cache_ != nullptr) return;
  signer_ = std::make_unique<dnssec::Signer>();
  // The byte budget follows the entries. A steered answer's entry (the key's DNSKEY, owner,
  // a few addresses, the RRSIG) is about 250 bytes, a compact-denial NSEC's 300 to 450 (two
  // copies of the name): at 256 bytes per entry, 10,000 repeated NXDOMAIN names missed a
  // 16,384-entry cache 35-50 % of the time, the arena wrapping before the table filled.
  cache_ = std::make_unique<dnssec::SignatureCache>(cache_entries_, cache_entries_ * 512);
}

bool DnssecAnswer::add_static(dns::ResponseWriter& w, dns::Section s, const zone::RRset& rrset,
                              uint32_t ttl_s) noexcept {
  const std::span<const std::string_view> sigs = zone_->rrsigs(rrset);
  const size_t mark = w.mark();
  const uint16_t count = w.count(s);
  for (const std::string_view sig : sigs) {
    // The RRSIG's TTL is the RRset's as sent (RFC 4034 3: the covered RRset's TTL); the
    // Original TTL inside stays what was signed.
    if (!w.add_same_owner(s, rrtype::RRSIG, ttl_s, reinterpret_cast<const uint8_t*>(sig.data()),
                          sig.size())) {
      w.rollback(mark, s, count);
      return false;
    }
  }
  return true;
}

bool DnssecAnswer::add_online(dns::ResponseWriter& w, dns::Section s, const uint8_t* owner_lower,
                              size_t owner_lower_len, uint16_t type, uint32_t ttl_s,
                              std::span<const std::string_view> rdatas) noexcept {
  const dnssec::ZoneSigning& signing = *zone_->signing;
  // The full label count: a synthesized (wildcard) answer is signed as if the name existed,
  // so a validator needs no proof that the query name itself does not (docs/decisions.md).
  const uint8_t labels = dnssec::rrsig_labels(owner_lower, owner_lower_len);
  const uint64_t hits_before = cache_->stats().hits;
  const std::span<const uint8_t> sig = signing.sign_online(
      *signer_, *cache_, owner_lower, owner_lower_len, type, ttl_s, rdatas, labels, now_unix_);
  if (cache_->stats().hits != hits_before) {
    counters_->bump(counters_->cache_hits);
  } else {
    counters_->bump(counters_->cache_misses);
    counters_->bump(sig.empty() ? counters_->sign_failed : counters_->signed_online);
  }
  if (sig.empty()) return true;  // unsigned rather than never (counted above)
  return w.add_same_owner(s, rrtype::RRSIG, ttl_s, sig.data(), sig.size());
}

bool DnssecAnswer::add_denial(dns::ResponseWriter& w, const uint8_t* owner, size_t owner_len,
                              const uint8_t* owner_lower, size_t owner_lower_len,
                              std::span<const uint16_t> types, dns::Section s) noexcept {
  // The bitmap: what the caller listed, plus RRSIG and NSEC, which every signed name has
  // (RFC 9824 3.1 and 3.2).
  uint16_t all[kMaxDenialTypes + 2];
  size_t n = 0;
  for (const uint16_t t : types) {
    if (n < kMaxDenialTypes) all[n++] = t;
  }
  all[n++] = rrtype::RRSIG;
  all[n++] = rrtype::NSEC;
  const size_t len = dnssec::compact_nsec_rdata(
      owner_lower, owner_lower_len, std::span<const uint16_t>(all, n), nsec_, sizeof(nsec_));
  if (len == 0) return false;
  const size_t mark = w.mark();
  const uint16_t count = w.count(s);
  // RFC 9077 / RFC 4034 4: the NSEC's TTL is the negative TTL, min(SOA TTL, MINIMUM).
  const uint32_t ttl_s = zone_->negative_ttl_s;
  const std::string_view rdata(reinterpret_cast<const char*>(nsec_), len);
  if (!w.add(s, owner, owner_len, rrtype::NSEC, ttl_s, nsec_, len) ||
      !add_online(w, s, owner_lower, owner_lower_len, rrtype::NSEC, ttl_s,
                  std::span<const std::string_view>(&rdata, 1))) {
    w.rollback(mark, s, count);
    return false;
  }
  return true;
}

std::span<const std::string_view> DnssecAnswer::address_rdatas(const IpAddress* const* addresses,
                                                               uint32_t count,
                                                               size_t rdlen) noexcept {
  const size_t n = std::min<size_t>(count, kMaxRdatas);
  for (size_t i = 0; i < n; ++i) {
    rdatas_[i] = std::string_view(reinterpret_cast<const char*>(addresses[i]->bytes.data()), rdlen);
  }
  return {rdatas_, n};
}

}  // namespace geodns::server
