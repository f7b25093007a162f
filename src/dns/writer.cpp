#include "dns/writer.h"

#include <cstring>

#include "dns/name.h"

namespace geodns::dns {

// Our advertised EDNS UDP payload in responses (DNS flag day 2020: avoids fragmentation).
static constexpr uint16_t kAdvertisedPayload = 1232;

size_t opt_record_size(const Query& q, bool with_cookie) noexcept {
  size_t n = 11;  // root owner, type, class, ttl, rdlength
  if (q.ecs.present) n += 4 + 4 + (q.ecs.source_prefix + 7U) / 8U;
  if (with_cookie) n += 4 + kClientCookieBytes + kServerCookieBytes;
  return n;
}

void ResponseWriter::begin(const Query& q, std::span<uint8_t> buf, size_t limit, bool include_opt,
                           const uint8_t* server_cookie) noexcept {
  q_ = &q;
  buf_ = buf.data();
  limit_ = limit < buf.size() ? limit : buf.size();
  include_opt_ = include_opt;
  server_cookie_ = include_opt && q.has_cookie ? server_cookie : nullptr;
  if (include_opt_) limit_ -= opt_record_size(q, server_cookie_ != nullptr);
  counts_[0] = counts_[1] = counts_[2] = 0;
  rcode_ = 0;
  aa_ = false;
  tc_ = false;
  ecs_scope_ = 0;
  has_keepalive_ = false;
  extra_count_ = 0;
  known_count_ = 0;
  last_owner_at_ = 0;
  pos_ = kHeaderSize;
  question_known_ = true;  // nothing to remember without a question
  if (q.question_ok && pos_ + q.qname_len + 4 <= limit_) {
    copy_short(buf_ + pos_, q.qname, q.qname_len);
    // Its suffixes become compression targets only when a name is written (remember_question):
    // most answers have only owners that point at the question.
    question_known_ = false;
    pos_ += q.qname_len;
    write_u16(buf_ + pos_, q.qtype);
    write_u16(buf_ + pos_ + 2, q.qclass);
    pos_ += 4;
  }
  after_question_ = pos_;
  known_after_question_ = 0;
}

void ResponseWriter::remember_question() noexcept {
  // Before any other name: the table then is what begin() used to leave, in the same order.
  question_known_ = true;
  remember(q_->qname, q_->qname_len, kHeaderSize);
  known_after_question_ = known_count_;
}

void ResponseWriter::set_tcp_keepalive(uint16_t timeout_100ms) noexcept {
  if (has_keepalive_) return;
  // RFC 7828 3.1: TIMEOUT, two bytes; its room is taken from the records like any option.
  write_u16(keepalive_timeout_, timeout_100ms);
  has_keepalive_ = add_option(edns::kOptionTcpKeepalive, keepalive_timeout_, 2);
}

bool ResponseWriter::add_option(uint16_t code, const uint8_t* data, size_t len) noexcept {
  if (!include_opt_ || extra_count_ == kMaxExtraOptions || len > 0xFFFF) return false;
  if (pos_ + 4 + len > limit_) return false;
  limit_ -= 4 + len;  // finish() writes it after the records
  extra_[extra_count_++] = ExtraOption{code, data, static_cast<uint16_t>(len)};
  return true;
}

bool ResponseWriter::set_extended_error(uint16_t info_code, const char* extra_text) noexcept {
  // RFC 8914 2: INFO-CODE, then EXTRA-TEXT (UTF-8, not NUL-terminated); one per response here.
  for (size_t i = 0; i < extra_count_; ++i) {
    if (extra_[i].code == edns::kOptionEde) return false;
  }
  const size_t text_len = std::strlen(extra_text);
  if (!include_opt_ || extra_count_ == kMaxExtraOptions || pos_ + 6 + text_len > limit_) {
    return false;
  }
  limit_ -= 6 + text_len;  // finish() writes it after the records
  write_u16(ede_code_, info_code);
  extra_[extra_count_++] =
      ExtraOption{edns::kOptionEde, reinterpret_cast<const uint8_t*>(extra_text),
                  static_cast<uint16_t>(text_len)};
  return true;
}

void ResponseWriter::remember(const uint8_t* name, size_t len, size_t offset) noexcept {
  // Every suffix of the name becomes a compression target (offsets must fit in 14 bits).
  size_t i = 0;
  while (i < len && name[i] != 0 && known_count_ < kMaxKnown) {
    if (offset + i > 0x3FFF) return;
    known_[known_count_++] =
        Known{name + i, static_cast<uint16_t>(len - i), static_cast<uint16_t>(offset + i)};
    i += 1 + name[i];
  }
}

bool ResponseWriter::write_name(const uint8_t* name, size_t len, bool compress) noexcept {
  // Find the longest suffix already in the message.
  size_t match_at = len;  // index in `name` where the compressed suffix starts
  uint16_t match_offset = 0;
  if (compress) {
    size_t i = 0;
    while (i < len && name[i] != 0) {
      const size_t suffix_len = len - i;
      for (size_t k = 0; k < known_count_; ++k) {
        if (known_[k].len == suffix_len &&
            names_equal_nocase(known_[k].name, suffix_len, name + i, suffix_len)) {
          match_at = i;
          match_offset = known_[k].offset;
          break;
        }
      }
      if (match_at != len) break;
      i += 1 + name[i];
    }
  }
  const size_t literal = match_at == len ? len : match_at;
  const size_t need = literal + (match_at == len ? 0 : 2);
  if (pos_ + need > limit_) return false;
  copy_short(buf_ + pos_, name, literal);
  const size_t start = pos_;
  pos_ += literal;
  if (match_at != len) {
    write_u16(buf_ + pos_, static_cast<uint16_t>(0xC000 | match_offset));
    pos_ += 2;
    // Remember the literal labels (their suffixes continue through the pointer).
    size_t i = 0;
    while (i < match_at && known_count_ < kMaxKnown && start + i <= 0x3FFF) {
      known_[known_count_++] =
          Known{name + i, static_cast<uint16_t>(len - i), static_cast<uint16_t>(start + i)};
      i += 1 + name[i];
    }
  } else {
    remember(name, len, start);
  }
  return true;
}

bool ResponseWriter::add(Section s, const uint8_t* owner, size_t owner_len, uint16_t type,
                         uint32_t ttl, const uint8_t* rdata, size_t rdata_len) noexcept {
  const RdataLayout layout = rdata_layout(type);
  // A name is about to be written (and may fail to fit): the question's entries first, so
  // that a failure below keeps them.
  if (!question_known_ && (owner != nullptr || layout != RdataLayout::opaque)) {
    remember_question();
  }
  const size_t start = pos_;
  const size_t known_before = known_count_;
  auto fail = [&]() {
    pos_ = start;
    known_count_ = known_before;
    return false;
  };
  if (owner == nullptr) {
    if (pos_ + 2 > limit_) return fail();
    write_u16(buf_ + pos_, 0xC000 | kHeaderSize);
    pos_ += 2;
  } else if (!write_name(owner, owner_len, true)) {
    return fail();
  }
  if (pos_ + 10 > limit_) return fail();
  write_u16(buf_ + pos_, type);
  write_u16(buf_ + pos_ + 2, q_->qclass == rrclass::CH ? rrclass::CH : rrclass::IN);
  write_u32(buf_ + pos_ + 4, ttl);
  const size_t rdlen_at = pos_ + 8;
  pos_ += 10;
  const size_t rdata_start = pos_;
  switch (layout) {
    case RdataLayout::name:
      if (!write_name(rdata, rdata_len, true)) return fail();
      break;
    case RdataLayout::pref_name:
      if (rdata_len < 3 || pos_ + 2 > limit_) return fail();
      std::memcpy(buf_ + pos_, rdata, 2);
      pos_ += 2;
      if (!write_name(rdata + 2, rdata_len - 2, true)) return fail();
      break;
    case RdataLayout::soa: {
      // MNAME, RNAME, then five 32-bit fields. The loader guarantees the layout; check anyway.
      size_t p = 0;
      size_t n1 = 0;
      while (p < rdata_len && rdata[p] != 0) p += 1 + rdata[p];
      n1 = p + 1;
      size_t p2 = n1;
      while (p2 < rdata_len && rdata[p2] != 0) p2 += 1 + rdata[p2];
      const size_t n2 = p2 + 1 - n1;
      if (n1 + n2 + 20 != rdata_len) return fail();
      if (!write_name(rdata, n1, true)) return fail();
      if (!write_name(rdata + n1, n2, true)) return fail();
      if (pos_ + 20 > limit_) return fail();
      std::memcpy(buf_ + pos_, rdata + n1 + n2, 20);
      pos_ += 20;
      break;
    }
    case RdataLayout::opaque:
      if (pos_ + rdata_len > limit_) return fail();
      copy_short(buf_ + pos_, rdata, rdata_len);
      pos_ += rdata_len;
      break;
  }
  write_u16(buf_ + rdlen_at, static_cast<uint16_t>(pos_ - rdata_start));
  ++counts_[static_cast<int>(s)];
  // The owner's name for add_same_owner(): where its pointer leads if it is one (a pointer
  // to a pointer is legal but needlessly strict on decoders), else where it was written.
  if ((buf_[start] & 0xC0) == 0xC0) {
    last_owner_at_ = static_cast<uint16_t>(read_u16(buf_ + start) & 0x3FFF);
  } else {
    last_owner_at_ = start <= 0x3FFF ? static_cast<uint16_t>(start) : 0;
  }
  return true;
}

bool ResponseWriter::add_same_owner(Section s, uint16_t type, uint32_t ttl, const uint8_t* rdata,
                                    size_t rdata_len) noexcept {
  // Only for opaque RDATA (RRSIG, NSEC): nothing in it is compressed.
  if (last_owner_at_ == 0 || rdata_layout(type) != RdataLayout::opaque) return false;
  if (pos_ + 12 + rdata_len > limit_ || rdata_len > 0xFFFF) return false;
  uint8_t* p = buf_ + pos_;
  write_u16(p, static_cast<uint16_t>(0xC000 | last_owner_at_));
  write_u16(p + 2, type);
  write_u16(p + 4, q_->qclass == rrclass::CH ? rrclass::CH : rrclass::IN);
  write_u32(p + 6, ttl);
  write_u16(p + 10, static_cast<uint16_t>(rdata_len));
  std::memcpy(p + 12, rdata, rdata_len);
  pos_ += 12 + rdata_len;
  ++counts_[static_cast<int>(s)];
  return true;
}

void ResponseWriter::clear_records() noexcept {
  last_owner_at_ = 0;
  pos_ = after_question_;
  known_count_ = known_after_question_;
  counts_[0] = counts_[1] = counts_[2] = 0;
}

void ResponseWriter::rollback(size_t m, Section s, uint16_t count) noexcept {
  last_owner_at_ = 0;  // the last record may be gone: add_same_owner() needs a new one
  pos_ = m;
  counts_[static_cast<int>(s)] = count;
  // Compression entries pointing past the new end must go.
  while (known_count_ > 0 && known_[known_count_ - 1].offset >= m) --known_count_;
}

size_t ResponseWriter::finish() noexcept {
  uint16_t arcount = counts_[2];
  if (include_opt_) {
    // limit_ was reduced by the OPT size in begin(), so this always fits.
    uint8_t* p = buf_ + pos_;
    p[0] = 0;  // root owner
    write_u16(p + 1, rrtype::OPT);
    write_u16(p + 3, kAdvertisedPayload);
    const uint32_t ext_rcode = static_cast<uint32_t>(rcode_ >> 4) & 0xFF;
    uint32_t ttl = ext_rcode << 24;    // version 0
    if (q_->dnssec_ok) ttl |= 0x8000;  // RFC 3225: DO copied into the response
    // RFC 9824 4: a responder that understood CO says so by setting it in the response.
    if (q_->dnssec_ok && q_->compact_ok) ttl |= 0x4000;
    write_u32(p + 5, ttl);
    size_t rdlen = 0;
    if (q_->ecs.present) {
      const size_t addr_len = (q_->ecs.source_prefix + 7U) / 8U;
      uint8_t* o = p + 11;
      write_u16(o, edns::kOptionEcs);
      write_u16(o + 2, static_cast<uint16_t>(4 + addr_len));
      write_u16(o + 4, q_->ecs.family);
      o[6] = q_->ecs.source_prefix;
      o[7] = ecs_scope_;
      copy_short(o + 8, q_->ecs.address.bytes.data(), addr_len);
      rdlen = 8 + addr_len;
    }
    if (server_cookie_ != nullptr) {
      uint8_t* o = p + 11 + rdlen;
      write_u16(o, edns::kOptionCookie);
      write_u16(o + 2, static_cast<uint16_t>(kClientCookieBytes + kServerCookieBytes));
      std::memcpy(o + 4, q_->client_cookie, kClientCookieBytes);
      std::memcpy(o + 4 + kClientCookieBytes, server_cookie_, kServerCookieBytes);
      rdlen += 4 + kClientCookieBytes + kServerCookieBytes;
    }
    for (size_t i = 0; i < extra_count_; ++i) {
      const ExtraOption& x = extra_[i];
      uint8_t* o = p + 11 + rdlen;
      const bool ede = x.code == edns::kOptionEde;
      const size_t body = x.len + (ede ? 2U : 0U);
      write_u16(o, x.code);
      write_u16(o + 2, static_cast<uint16_t>(body));
      if (ede) std::memcpy(o + 4, ede_code_, 2);
      if (x.len != 0) std::memcpy(o + 4 + (ede ? 2 : 0), x.data, x.len);
      rdlen += 4 + body;
    }
    write_u16(p + 9, static_cast<uint16_t>(rdlen));
    pos_ += 11 + rdlen;
    ++arcount;
  }
  uint16_t flags = flag::QR;
  flags |= static_cast<uint16_t>(q_->flags & 0x7800);  // opcode
  flags |= static_cast<uint16_t>(q_->flags & flag::RD);
  // CD means something only in a QUERY (RFC 4035 3.2.2); other opcodes get back only the
  // bits RFC 6895 2 lets a reply copy: ID, opcode and RD (Knot does the same).
  if (q_->opcode == opcode::QUERY) flags |= static_cast<uint16_t>(q_->flags & flag::CD);
  if (aa_) flags |= flag::AA;
  if (tc_) flags |= flag::TC;
  flags |= static_cast<uint16_t>(rcode_ & 0xF);
  write_u16(buf_, q_->id);
  write_u16(buf_ + 2, flags);
  write_u16(buf_ + 4, after_question_ > kHeaderSize ? 1 : 0);
  write_u16(buf_ + 6, counts_[0]);
  write_u16(buf_ + 8, counts_[1]);
  write_u16(buf_ + 10, arcount);
  return pos_;
}

}  // namespace geodns::dns
