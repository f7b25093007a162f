// Builds a response in a caller-owned buffer: header, question, records with name
// compression (RFC 1035 4.1.4), and the OPT record (RFC 6891) with ECS (RFC 7871). Space for
// the OPT record is reserved up front, so a response that fits always carries it. No
// allocation: the compression table is a fixed array.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dns/cookie.h"
#include "dns/query.h"
#include "dns/wire.h"

namespace geodns::dns {

enum class Section : uint8_t { answer = 0, authority = 1, additional = 2 };

// How names inside an RDATA are laid out, so they can be compressed (only the types RFC 3597
// section 4 lists as compressible; every other RDATA is copied verbatim).
enum class RdataLayout : uint8_t { opaque, name, pref_name, soa };
inline RdataLayout rdata_layout(uint16_t type) noexcept {
  switch (type) {
    case rrtype::NS:
    case rrtype::CNAME:
    case rrtype::PTR:
      return RdataLayout::name;
    case rrtype::MX:
      return RdataLayout::pref_name;
    case rrtype::SOA:
      return RdataLayout::soa;
    default:
      return RdataLayout::opaque;
  }
}

class ResponseWriter {
 public:
  // Starts a response to `q` in `buf`, at most `limit` bytes long (512 / EDNS size / 65535).
  // Writes the header (ID, opcode, RD copied, CD too in a QUERY, QR set) and, when the question was
  // parsed, the question exactly as received. `include_opt` reserves room for an OPT record;
  // `server_cookie` (16 bytes, outliving the response), when the query carried a cookie, goes
  // into it after the client's cookie (RFC 7873 5.2).
  void begin(const Query& q, std::span<uint8_t> buf, size_t limit, bool include_opt,
             const uint8_t* server_cookie = nullptr) noexcept;

  void set_rcode(uint16_t rcode) noexcept { rcode_ = rcode; }  // extended codes go in OPT
  void set_aa(bool aa) noexcept { aa_ = aa; }
  void set_tc() noexcept { tc_ = true; }
  // ECS in the response: echo of the request's option with this scope (RFC 7871 7.2.1).
  void set_ecs_scope(uint8_t scope) noexcept { ecs_scope_ = scope; }
  // edns-tcp-keepalive in the response (RFC 7828 3.3.2), TIMEOUT in units of 100 ms. Call
  // after begin() and before add(): it takes its room from the records' limit. Ignored
  // without an OPT record.
  void set_tcp_keepalive(uint16_t timeout_100ms) noexcept;

  // An EDNS option for the OPT record (NSID, RFC 5001), `data` caller-owned until finish().
  // Its room is taken from the record space now, so add it before the records; an Extended
  // DNS Error (RFC 8914) likewise, with a static EXTRA-TEXT ("" for none). Both return false,
  // adding nothing, when the response has no OPT record or no room is left.
  bool add_option(uint16_t code, const uint8_t* data, size_t len) noexcept;
  bool set_extended_error(uint16_t info_code, const char* extra_text) noexcept;

  // Appends a record. `owner` is an uncompressed wire name; pass nullptr to use the question
  // name (written as a pointer to offset 12). Returns false, leaving the message unchanged,
  // when the record does not fit.
  bool add(Section s, const uint8_t* owner, size_t owner_len, uint16_t type, uint32_t ttl,
           const uint8_t* rdata, size_t rdata_len) noexcept;

  // add() of a record owned by the question name with opaque RDATA (A, AAAA, TXT, ...): what
  // most answers are, written in place with no name or layout logic. Same result as add().
  bool add_question_owned(Section s, uint16_t type, uint32_t ttl, const uint8_t* rdata,
                          size_t rdata_len) noexcept {
    if (pos_ + 12 + rdata_len > limit_) return false;
    uint8_t* p = buf_ + pos_;
    write_u16(p, 0xC000 | kHeaderSize);
    write_u16(p + 2, type);
    write_u16(p + 4, q_->qclass == rrclass::CH ? rrclass::CH : rrclass::IN);
    write_u32(p + 6, ttl);
    write_u16(p + 10, static_cast<uint16_t>(rdata_len));
    copy_short(p + 12, rdata, rdata_len);
    pos_ += 12 + rdata_len;
    ++counts_[static_cast<int>(s)];
    last_owner_at_ = kHeaderSize;  // where add()'s pointer to the question leads
    return true;
  }

  // Appends a record owned by the name of the record added last (its RRSIG, say): the owner
  // is written as a pointer to that name, with no compression search. False, leaving the
  // message unchanged, when it does not fit or no record precedes it.
  bool add_same_owner(Section s, uint16_t type, uint32_t ttl, const uint8_t* rdata,
                      size_t rdata_len) noexcept;

  // Drops every record (keeps header and question): used before setting TC.
  void clear_records() noexcept;
  // Marks the point to roll back to / rolls back (e.g. a partial RRset that did not fit).
  size_t mark() const noexcept { return pos_; }
  uint16_t count(Section s) const noexcept { return counts_[static_cast<int>(s)]; }
  void rollback(size_t mark, Section s, uint16_t count) noexcept;

  // Writes the OPT record (if requested in begin) and the final header. Returns the length.
  size_t finish() noexcept;

 private:
  bool write_name(const uint8_t* name, size_t len, bool compress) noexcept;
  void remember(const uint8_t* name, size_t len, size_t offset) noexcept;
  void remember_question() noexcept;

  struct Known {
    const uint8_t* name;  // uncompressed suffix, as written (caller-owned, outlives the writer)
    uint16_t len;
    uint16_t offset;  // where that suffix starts in the message
  };
  static constexpr size_t kMaxKnown = 48;

  const Query* q_ = nullptr;
  uint8_t* buf_ = nullptr;
  size_t limit_ = 0;  // for records: total limit minus the reserved OPT size
  size_t pos_ = 0;
  size_t after_question_ = 0;
  uint16_t counts_[3] = {0, 0, 0};
  uint16_t rcode_ = 0;
  bool aa_ = false;
  bool tc_ = false;
  bool include_opt_ = false;
  const uint8_t* server_cookie_ = nullptr;
  uint8_t ecs_scope_ = 0;
  struct ExtraOption {
    uint16_t code;
    const uint8_t* data;
    uint16_t len;
  };
  static constexpr size_t kMaxExtraOptions = 3;  // NSID, an Extended DNS Error, keepalive
  ExtraOption extra_[kMaxExtraOptions] = {};
  size_t extra_count_ = 0;
  uint8_t ede_code_[2] = {};           // the INFO-CODE in front of the EDE's EXTRA-TEXT
  uint8_t keepalive_timeout_[2] = {};  // edns-tcp-keepalive's TIMEOUT, network order
  bool has_keepalive_ = false;
  Known known_[kMaxKnown];
  size_t known_count_ = 0;
  size_t known_after_question_ = 0;
  bool question_known_ = true;  // the question's suffixes are in known_ (or there are none)
  // Where the owner of the last record added is (as a compression target), 0 = none.
  uint16_t last_owner_at_ = 0;
};

// The OPT record we send: payload we accept, our ext-rcode/version, DO echoed, ECS echoed.
size_t opt_record_size(const Query& q, bool with_cookie) noexcept;

}  // namespace geodns::dns
