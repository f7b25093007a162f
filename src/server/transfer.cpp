#include "server/transfer.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iterator>

#include "dns/name.h"
#include "server/responder.h"

namespace geodns::server {

namespace rrtype = dns::rrtype;

namespace {

uint64_t unix_now_s() noexcept {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

JournalRecord apex_soa(const zone::Zone& zone) {
  const zone::RRset* soa = zone.apex().find(rrtype::SOA);
  JournalRecord r;
  r.owner = zone.origin;
  r.type = rrtype::SOA;
  if (soa != nullptr && !soa->rdatas.empty()) {
    r.ttl_s = soa->ttl_s;
    r.rdata = std::string(soa->rdatas.front());
  }
  return r;
}

TransferStream::Record view(const JournalRecord& r) noexcept {
  return {r.owner, r.type, r.ttl_s, r.rdata};
}

}  // namespace

size_t ZoneDiff::bytes() const noexcept {
  size_t n = sizeof(*this);
  for (const auto* list : {&removed, &added}) {
    for (const auto& r : *list) n += sizeof(r) + r.owner.size() + r.rdata.size();
  }
  return n;
}

std::vector<JournalRecord> zone_records(const zone::Zone& zone) {
  std::vector<JournalRecord> out;
  out.reserve(zone.record_count());
  for (const auto& node : zone.nodes) {
    for (const auto& rrset : node.rrsets) {
      if (&node == &zone.apex() && rrset.type == rrtype::SOA) continue;
      for (const auto& rd : rrset.rdatas) {
        out.push_back({std::string(node.name), rrset.type, rrset.ttl_s, std::string(rd)});
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

ZoneDiff diff_zones(const zone::Zone& before, const zone::Zone& after) {
  ZoneDiff d;
  d.from_serial = before.serial;
  d.to_serial = after.serial;
  d.from_soa = apex_soa(before);
  d.to_soa = apex_soa(after);
  const auto old_records = zone_records(before);
  const auto new_records = zone_records(after);
  // A TTL change is a deletion and an addition: RFC 1995 has no other way to say it.
  std::set_difference(old_records.begin(), old_records.end(), new_records.begin(),
                      new_records.end(), std::back_inserter(d.removed));
  std::set_difference(new_records.begin(), new_records.end(), old_records.begin(),
                      old_records.end(), std::back_inserter(d.added));
  return d;
}

std::shared_ptr<const ZoneJournal> extend_journal(const ZoneJournal* journal, ZoneDiff diff,
                                                  size_t max_diffs, size_t max_bytes) {
  auto out = std::make_shared<ZoneJournal>();
  if (journal != nullptr && !journal->diffs.empty() &&
      journal->diffs.back().to_serial == diff.from_serial) {
    out->diffs = journal->diffs;
  }
  out->diffs.push_back(std::move(diff));
  size_t total = 0;
  for (const auto& d : out->diffs) total += d.bytes();
  // Oldest first out; the newest stays even alone over the bound (it is what NOTIFY asks
  // the secondaries to fetch).
  size_t drop = 0;
  while (out->diffs.size() - drop > 1 &&
         (out->diffs.size() - drop > max_diffs || total > max_bytes)) {
    total -= out->diffs[drop].bytes();
    ++drop;
  }
  out->diffs.erase(out->diffs.begin(), out->diffs.begin() + static_cast<std::ptrdiff_t>(drop));
  return out;
}

std::optional<std::span<const ZoneDiff>> journal_since(const ZoneJournal& journal,
                                                       uint32_t serial) noexcept {
  for (size_t i = 0; i < journal.diffs.size(); ++i) {
    if (journal.diffs[i].from_serial == serial) {
      return std::span<const ZoneDiff>(journal.diffs).subspan(i);
    }
  }
  return std::nullopt;
}

bool serial_at_or_after(uint32_t a, uint32_t b) noexcept {
  return a == b || static_cast<int32_t>(a - b) > 0;
}

bool is_transfer_request(std::span<const uint8_t> msg) noexcept {
  if (msg.size() < dns::kHeaderSize) return false;
  const uint16_t flags = dns::read_u16(msg.data() + 2);
  if ((flags & dns::flag::QR) != 0 || ((flags >> 11) & 0xF) != dns::opcode::QUERY) return false;
  if (dns::read_u16(msg.data() + 4) != 1) return false;
  size_t pos = dns::kHeaderSize;
  if (!dns::skip_name(msg.data(), msg.size(), &pos) || pos + 4 > msg.size()) return false;
  const uint16_t qtype = dns::read_u16(msg.data() + pos);
  return qtype == rrtype::AXFR || qtype == rrtype::IXFR;
}

const zone::SecondaryDef* transfer_permission(const zone::Zone& zone, const IpAddress& client,
                                              const dns::TsigKey* key) noexcept {
  if (!zone.rules.empty()) return nullptr;
  const IpAddress from = client.unmapped();
  for (const auto& s : zone.secondaries) {
    if (!s.allow.contains(from)) continue;
    if (!s.key_wire.empty() && (key == nullptr || key->name != s.key_wire)) continue;
    return &s;
  }
  return nullptr;
}

TransferStream::TransferStream(const dns::Query& q, std::vector<Record> records,
                               std::shared_ptr<const void> pin, const dns::TsigRecord* tsig,
                               const dns::TsigKey* key)
    : q_(q), records_(std::move(records)), pin_(std::move(pin)) {
  set_tsig(tsig, key);
}

TransferStream::TransferStream(const dns::Query& q, zone::ZonePtr zone, const dns::TsigRecord* tsig,
                               const dns::TsigKey* key)
    : q_(q), zone_(zone.get()) {
  pin_ = std::move(zone);
  const zone::RRset* soa = zone_->apex().find(rrtype::SOA);
  if (soa == nullptr || soa->rdatas.empty()) {
    phase_ = 3;  // the loader never builds a zone without one
  } else {
    soa_ = Record{zone_->origin, rrtype::SOA, soa->ttl_s, soa->rdatas.front()};
  }
  set_tsig(tsig, key);
}

void TransferStream::set_tsig(const dns::TsigRecord* tsig, const dns::TsigKey* key) {
  if (tsig != nullptr && key != nullptr) {
    is_signed_ = true;
    key_ = *key;
    key_name_.assign(reinterpret_cast<const char*>(tsig->key_name), tsig->key_name_len);
    algorithm_.assign(reinterpret_cast<const char*>(tsig->algorithm), tsig->algorithm_len);
    prior_mac_len_ = std::min<size_t>(tsig->mac_len, sizeof(prior_mac_));
    std::memcpy(prior_mac_, tsig->mac, prior_mac_len_);
    signer_ = std::make_unique<dns::TsigSigner>();
  }
  // The messages are ours: the query's TSIG record is not echoed by the writer, only its
  // question and EDNS.
  q_.tsig_offset = 0;
}

void TransferStream::settle() noexcept {
  const auto& nodes = zone_->nodes;
  while (node_ < nodes.size()) {
    const auto& rrsets = nodes[node_].rrsets;
    if (rrset_ < rrsets.size()) {
      const zone::RRset& rs = rrsets[rrset_];
      // The apex SOA opens and closes the transfer, never in between.
      if (!(node_ == 0 && rs.type == rrtype::SOA) && rdata_ < rs.rdatas.size()) return;
      ++rrset_;
      rdata_ = 0;
      continue;
    }
    ++node_;
    rrset_ = 0;
    rdata_ = 0;
  }
  phase_ = 2;
}

bool TransferStream::current(Record* out) const noexcept {
  if (zone_ == nullptr) {
    if (pos_ >= records_.size()) return false;
    *out = records_[pos_];
    return true;
  }
  switch (phase_) {
    case 0:
    case 2:
      *out = soa_;
      return true;
    case 1: {
      const zone::Node& node = zone_->nodes[node_];
      const zone::RRset& rs = node.rrsets[rrset_];
      *out = Record{node.name, rs.type, rs.ttl_s, rs.rdatas[rdata_]};
      return true;
    }
    default:
      return false;
  }
}

void TransferStream::advance() noexcept {
  if (zone_ == nullptr) {
    ++pos_;
    return;
  }
  if (phase_ == 0) {
    phase_ = 1;
    settle();
  } else if (phase_ == 1) {
    ++rdata_;
    settle();
  } else if (phase_ == 2) {
    phase_ = 3;
  }
}

size_t TransferStream::next(std::span<uint8_t> out) noexcept {
  if (done_) return 0;
  dns::TsigSigner::Response r;
  if (is_signed_) {
    r.key = &key_;
    r.key_name = reinterpret_cast<const uint8_t*>(key_name_.data());
    r.key_name_len = key_name_.size();
    r.algorithm = reinterpret_cast<const uint8_t*>(algorithm_.data());
    r.algorithm_len = algorithm_.size();
    r.prior_mac = prior_mac_;
    r.prior_mac_len = prior_mac_len_;
    r.time_signed = unix_now_s();
    r.timers_only = messages_ > 0;
  }
  const size_t tsig_room = is_signed_ ? dns::TsigSigner::record_bytes(r) : 0;
  const size_t capacity = std::min(out.size(), dns::kMaxMessage);
  w_.begin(q_, out, capacity - tsig_room, q_.has_edns);
  w_.set_aa(true);
  size_t added = 0;
  Record rec{};
  bool more = current(&rec);
  while (more) {
    if (!w_.add(dns::Section::answer, reinterpret_cast<const uint8_t*>(rec.owner.data()),
                rec.owner.size(), rec.type, rec.ttl_s,
                reinterpret_cast<const uint8_t*>(rec.rdata.data()), rec.rdata.size())) {
      break;
    }
    advance();
    ++added;
    more = current(&rec);
  }
  if (added == 0 && more) {
    // A record larger than a message cannot be transferred: end with SERVFAIL (RFC 5936 2.2).
    w_.clear_records();
    w_.set_rcode(dns::rcode::SERVFAIL);
    more = false;
  }
  if (!more) done_ = true;
  size_t n = w_.finish();
  if (is_signed_) {
    n = signer_->sign(out.data(), n, capacity, r, prior_mac_, &prior_mac_len_);
    if (n == 0) done_ = true;  // cannot happen: the room was reserved
  }
  ++messages_;
  return n;
}

std::unique_ptr<TransferStream> open_transfer(const dns::Query& q, const zone::ZonePtr& zone_ptr,
                                              std::shared_ptr<const ZoneJournal> journal,
                                              const dns::TsigRecord* tsig,
                                              const dns::TsigKey* key) {
  const zone::Zone& zone = *zone_ptr;
  std::vector<TransferStream::Record> records;
  std::shared_ptr<const void> pin = zone_ptr;
  if (q.qtype == rrtype::IXFR && q.has_ixfr_serial) {
    if (serial_at_or_after(q.ixfr_serial, zone.serial)) {
      // RFC 1995 2: a client that is current gets the SOA alone.
      const zone::RRset* soa = zone.apex().find(rrtype::SOA);
      if (soa != nullptr && !soa->rdatas.empty()) {
        records.push_back({zone.origin, rrtype::SOA, soa->ttl_s, soa->rdatas.front()});
      }
    } else if (journal != nullptr && !journal->diffs.empty() &&
               journal->diffs.back().to_serial == zone.serial) {
      if (auto chain = journal_since(*journal, q.ixfr_serial)) {
        // RFC 1995 4: the newest SOA, then per version its old SOA, deletions, new SOA and
        // additions, then the newest SOA again.
        const JournalRecord& newest = chain->back().to_soa;
        records.push_back(view(newest));
        for (const auto& d : *chain) {
          records.push_back(view(d.from_soa));
          for (const auto& r : d.removed) records.push_back(view(r));
          records.push_back(view(d.to_soa));
          for (const auto& r : d.added) records.push_back(view(r));
        }
        records.push_back(view(newest));
        pin = journal;
      }
    }
  }
  // AXFR, or IXFR from a serial the journal does not know: the whole zone.
  if (records.empty()) return std::make_unique<TransferStream>(q, zone_ptr, tsig, key);
  return std::make_unique<TransferStream>(q, std::move(records), std::move(pin), tsig, key);
}

std::unique_ptr<TransferStream> Responder::start_transfer(std::span<const uint8_t> /*query*/,
                                                          const ClientInfo& /*client*/) {
  return nullptr;
}

}  // namespace geodns::server
