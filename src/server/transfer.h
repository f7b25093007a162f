// Zone transfers of zones without steered names: who may transfer (the zone's
// [[zone.secondary]] entries), the journal of differences between versions that IXFR answers
// from (RFC 1995), and the stream of messages an AXFR (RFC 5936) or IXFR answer is over TCP,
// each message signed when the request was (RFC 8945 5.3.1).
//
// Zones with steered names are never transferred: their answers depend on the client, and a
// secondary would serve one client's view to everyone (docs/decisions.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/ip.h"
#include "dns/query.h"
#include "dns/tsig.h"
#include "dns/writer.h"
#include "zone/zone_set.h"

namespace geodns::server {

// One record of a journal, owning its bytes (the zone it came from may be gone).
struct JournalRecord {
  std::string owner;  // wire, lower case
  uint16_t type = 0;
  uint32_t ttl_s = 0;
  std::string rdata;  // wire, uncompressed

  friend auto operator<=>(const JournalRecord&, const JournalRecord&) = default;
};

// What changed from one serial to the next (RFC 1995 4: deletions, then additions).
struct ZoneDiff {
  uint32_t from_serial = 0;
  uint32_t to_serial = 0;
  JournalRecord from_soa;
  JournalRecord to_soa;
  std::vector<JournalRecord> removed;
  std::vector<JournalRecord> added;

  size_t bytes() const noexcept;
};

// The differences of one zone, oldest first and contiguous: diffs[i].to_serial ==
// diffs[i + 1].from_serial. Immutable once published.
struct ZoneJournal {
  std::vector<ZoneDiff> diffs;
};

// What the workers answer IXFR from: origin (wire, lower case) -> journal. Published by the
// serving state after each reload.
struct TransferJournals {
  std::unordered_map<std::string, std::shared_ptr<const ZoneJournal>> by_origin;
};

// Bounds of a journal: older differences are dropped first; a client that far behind gets
// the whole zone (RFC 1995 4 allows it).
inline constexpr size_t kJournalMaxDiffs = 16;
inline constexpr size_t kJournalMaxBytes = 16 * 1024 * 1024;

// Every record of the zone except the apex SOA, sorted (the journal's set arithmetic).
std::vector<JournalRecord> zone_records(const zone::Zone& zone);
// The difference between two versions of a zone.
ZoneDiff diff_zones(const zone::Zone& before, const zone::Zone& after);
// `journal` (may be null) followed by `diff`, trimmed to the bounds. A journal that does not
// end at diff.from_serial is dropped: the chain would have a gap.
std::shared_ptr<const ZoneJournal> extend_journal(const ZoneJournal* journal, ZoneDiff diff,
                                                  size_t max_diffs = kJournalMaxDiffs,
                                                  size_t max_bytes = kJournalMaxBytes);
// The differences from `serial` to the newest, or nullopt when the journal does not start a
// chain at `serial`.
std::optional<std::span<const ZoneDiff>> journal_since(const ZoneJournal& journal,
                                                       uint32_t serial) noexcept;

// RFC 1982: is `a` at or after `b`?
bool serial_at_or_after(uint32_t a, uint32_t b) noexcept;

// A quick look at a message's question: QUERY opcode, one question of type AXFR or IXFR.
// Cheap enough for every TCP message (no full parse).
bool is_transfer_request(std::span<const uint8_t> msg) noexcept;

// The [[zone.secondary]] entry that lets `client` transfer `zone` with the request's verified
// TSIG key `key` (null: unsigned), or null: the request is REFUSED.
const zone::SecondaryDef* transfer_permission(const zone::Zone& zone, const IpAddress& client,
                                              const dns::TsigKey* key) noexcept;

// The messages of one AXFR or IXFR answer over TCP, produced one at a time so the connection
// can apply backpressure. Holds the zone or journal it reads, so a reload meanwhile does not
// pull the records away.
class TransferStream {
 public:
  struct Record {
    std::string_view owner;
    uint16_t type;
    uint32_t ttl_s;
    std::string_view rdata;
  };
  // `tsig` and `key` (both or neither): the request's verified TSIG, whose MAC starts the
  // chain of signed messages.
  TransferStream(const dns::Query& q, std::vector<Record> records, std::shared_ptr<const void> pin,
                 const dns::TsigRecord* tsig, const dns::TsigKey* key);
  // The whole of `zone` (AXFR, RFC 5936 2.2: SOA, every other record, SOA), read in place as
  // the messages are written, so a million-record zone costs no copy per transfer.
  TransferStream(const dns::Query& q, zone::ZonePtr zone, const dns::TsigRecord* tsig,
                 const dns::TsigKey* key);

  // Writes the next message into `out` (65535 bytes); returns its length (0: nothing more).
  size_t next(std::span<uint8_t> out) noexcept;
  bool done() const noexcept { return done_; }
  size_t messages() const noexcept { return messages_; }

 private:
  // The record at the cursor; false at the end.
  bool current(Record* out) const noexcept;
  void advance() noexcept;
  void settle() noexcept;  // the zone cursor onto a record, or past the last one
  void set_tsig(const dns::TsigRecord* tsig, const dns::TsigKey* key);

  dns::Query q_;
  std::vector<Record> records_;  // without a zone: the records to send, in order
  std::shared_ptr<const void> pin_;
  size_t pos_ = 0;
  // With a zone: 0 the first SOA, 1 the body at (node_, rrset_, rdata_), 2 the last SOA,
  // 3 the end.
  const zone::Zone* zone_ = nullptr;
  Record soa_{};
  int phase_ = 0;
  size_t node_ = 0;
  size_t rrset_ = 0;
  size_t rdata_ = 0;
  size_t messages_ = 0;
  bool done_ = false;
  dns::ResponseWriter w_;
  bool is_signed_ = false;
  dns::TsigKey key_;
  std::string key_name_;
  std::string algorithm_;
  uint8_t prior_mac_[dns::kMaxTsigMac] = {};
  size_t prior_mac_len_ = 0;
  std::unique_ptr<dns::TsigSigner> signer_;
};

// The answer to a permitted transfer request for `zone` (pinned by `zone_ptr`): AXFR the
// whole zone; IXFR the condensed differences since the client's serial from `journal` (may
// be null), one SOA when the client is current, the whole zone when its serial is unknown.
std::unique_ptr<TransferStream> open_transfer(const dns::Query& q, const zone::ZonePtr& zone_ptr,
                                              std::shared_ptr<const ZoneJournal> journal,
                                              const dns::TsigRecord* tsig, const dns::TsigKey* key);

}  // namespace geodns::server
