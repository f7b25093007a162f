#include "dns/query.h"

#include <cstring>

#include "dns/name.h"

namespace geodns::dns {
namespace {

// RFC 7871 6: validates one ECS option body. Malformed -> false (the caller answers FORMERR).
bool parse_ecs(const uint8_t* p, size_t len, EcsOption* ecs) noexcept {
  if (len < 4) return false;
  ecs->family = read_u16(p);
  ecs->source_prefix = p[2];
  ecs->scope_prefix = p[3];
  unsigned max_bits = 0;
  if (ecs->family == 1) {
    max_bits = 32;
  } else if (ecs->family == 2) {
    max_bits = 128;
  } else {
    return false;  // unknown family
  }
  if (ecs->source_prefix > max_bits) return false;
  // "SCOPE PREFIX-LENGTH ... MUST be set to 0 in queries" (RFC 7871 6).
  if (ecs->scope_prefix != 0) return false;
  // ADDRESS carries exactly ceil(SOURCE PREFIX-LENGTH / 8) octets.
  const size_t addr_len = (ecs->source_prefix + 7U) / 8U;
  if (len - 4 != addr_len) return false;
  // Bits beyond the source prefix MUST be zero (RFC 7871 6, "ADDRESS"): only the last octet
  // can hold any, the octets after it are not sent.
  if (const unsigned rem = ecs->source_prefix % 8U;
      rem != 0 && (p[4 + addr_len - 1] & (0xFFU >> rem)) != 0) {
    return false;
  }
  ecs->address = IpAddress{};
  ecs->address.family = ecs->family == 1 ? 4 : 6;
  copy_short(ecs->address.bytes.data(), p + 4, addr_len);
  ecs->present = true;
  return true;
}

// Parses one OPT RR's RDATA (a sequence of options). Returns false when malformed, with the
// reason in q->error_text.
bool parse_opt_rdata(const uint8_t* p, size_t len, Query* q) noexcept {
  size_t i = 0;
  while (i < len) {
    if (len - i < 4 || read_u16(p + i + 2) > len - i - 4) {
      q->error_text = "truncated EDNS option";
      return false;
    }
    const uint16_t code = read_u16(p + i);
    const uint16_t olen = read_u16(p + i + 2);
    i += 4;
    const uint8_t* body = p + i;
    switch (code) {
      case edns::kOptionNsid:
        // RFC 5001 2.1: sent empty; a payload is ignored rather than refused, as Knot does.
        q->nsid_requested = true;
        break;
      case edns::kOptionEcs:
        if (q->ecs.present || !parse_ecs(body, olen, &q->ecs)) {
          q->error_text = "bad ECS option";  // at most one, and well-formed (RFC 7871 6)
          return false;
        }
        break;
      case edns::kOptionCookie:
        // RFC 7873 5.2.2: a client cookie alone is 8 bytes; with a server cookie 16..40.
        if ((olen != 8 && (olen < 16 || olen > 40)) || q->has_cookie) {
          q->error_text = "bad COOKIE option";
          return false;
        }
        q->has_cookie = true;
        std::memcpy(q->client_cookie, body, 8);
        q->server_cookie_len = static_cast<uint8_t>(olen - 8);
        std::memcpy(q->server_cookie, body + 8, olen - 8U);
        break;
      case edns::kOptionTcpKeepalive:
        // The strictest reading wins if a client repeats it.
        if (q->tcp_keepalive != KeepaliveOption::with_timeout) {
          q->tcp_keepalive = olen == 0 ? KeepaliveOption::empty : KeepaliveOption::with_timeout;
        }
        break;
      default:
        break;  // unknown options are ignored (RFC 6891 6.1.2)
    }
    i += olen;
  }
  return true;
}

// Skips `count` resource records from *pos. False when one is cut short or its name is bad.
bool skip_records(const uint8_t* msg, size_t len, size_t* pos, unsigned count) noexcept {
  for (unsigned i = 0; i < count; ++i) {
    if (!skip_name(msg, len, pos) || *pos + 10 > len) return false;
    const uint16_t rdlen = read_u16(msg + *pos + 8);
    *pos += 10;
    if (rdlen > len - *pos) return false;
    *pos += rdlen;
  }
  return true;
}

}  // namespace

ParseStatus parse_query(std::span<const uint8_t> span, Query* q) noexcept {
  const uint8_t* msg = span.data();
  const size_t len = span.size();
  if (len < kHeaderSize) return ParseStatus::drop;
  q->id = read_u16(msg);
  q->flags = read_u16(msg + 2);
  q->question_ok = false;
  q->has_edns = false;
  q->ecs = EcsOption{};
  q->has_cookie = false;
  q->server_cookie_len = 0;
  q->tcp_keepalive = KeepaliveOption::absent;
  q->qname_len = 0;
  q->qtype = 0;
  q->qclass = 0;
  q->dnssec_ok = false;
  q->compact_ok = false;
  q->edns_version = 0;
  q->udp_payload = 0;
  q->nsid_requested = false;
  q->error_text = nullptr;
  q->tsig_offset = 0;
  q->has_ixfr_serial = false;
  if ((q->flags & flag::QR) != 0) return ParseStatus::drop;  // never answer a response
  q->opcode = static_cast<uint8_t>((q->flags >> 11) & 0xF);

  const uint16_t qdcount = read_u16(msg + 4);
  const uint16_t ancount = read_u16(msg + 6);
  const uint16_t nscount = read_u16(msg + 8);
  const uint16_t arcount = read_u16(msg + 10);

  size_t pos = kHeaderSize;
  if (qdcount == 1) {
    if (read_name_lower(msg, len, &pos, q->qname, q->qname_lower, &q->qname_len) &&
        pos + 4 <= len) {
      q->qtype = read_u16(msg + pos);
      q->qclass = read_u16(msg + pos + 2);
      pos += 4;
      q->question_ok = true;
    }
  }
  // What nearly every query is: one question, no answer or authority records, and nothing or
  // one OPT record (root owner) after it. Decided here with the general path's checks and
  // verdicts; anything else, malformed included, takes the general path below.
  if (q->question_ok && q->opcode == opcode::QUERY && ancount == 0 && nscount == 0) {
    if (arcount == 0) return ParseStatus::ok;
    if (arcount == 1 && pos + 11 <= len && msg[pos] == 0 &&
        read_u16(msg + pos + 1) == rrtype::OPT) {
      const uint16_t klass = read_u16(msg + pos + 3);
      const uint32_t ttl = read_u32(msg + pos + 5);
      const uint16_t rdlen = read_u16(msg + pos + 9);
      pos += 11;
      if (rdlen > len - pos) {
        q->error_text = "truncated record";
        return ParseStatus::formerr;
      }
      q->has_edns = true;
      q->udp_payload = klass;
      q->edns_version = static_cast<uint8_t>(ttl >> 16);
      q->dnssec_ok = (ttl & 0x8000U) != 0;
      q->compact_ok = (ttl & 0x4000U) != 0;
      if (q->edns_version != 0) return ParseStatus::badvers;
      return parse_opt_rdata(msg + pos, rdlen, q) ? ParseStatus::ok : ParseStatus::formerr;
    }
  }
  // The verdict so far; the OPT record is still looked for after a NOTIMP opcode or records
  // where a query has none, so that those answers carry OPT (and an Extended DNS Error).
  ParseStatus status = ParseStatus::ok;
  // A query carries no answer or authority records (RFC 1035 4.1.1 for QUERY), except the
  // client's SOA of an IXFR (RFC 1995 3).
  const bool is_ixfr = q->question_ok && q->qtype == rrtype::IXFR;
  if (q->opcode != opcode::QUERY) {
    status = ParseStatus::notimp;
    if (qdcount > 1 || (qdcount == 1 && !q->question_ok)) return status;
  } else if (qdcount > 1) {
    // No question is allowed only to fetch a server cookie (RFC 7873 5.4), checked below.
    q->error_text = "QDCOUNT is not 1";
    return ParseStatus::formerr;
  } else if (qdcount == 1 && !q->question_ok) {
    q->error_text = "malformed question";
    return ParseStatus::formerr;
  } else if (ancount != 0 || nscount > (is_ixfr ? 1 : 0)) {
    q->error_text = "records in the answer or authority section";
    status = ParseStatus::formerr;
  }
  if (status == ParseStatus::ok && nscount == 1) {
    // The IXFR client's SOA: its serial says which version the client has.
    q->error_text = "malformed IXFR SOA";
    if (!skip_name(msg, len, &pos) || pos + 10 > len) return ParseStatus::formerr;
    const uint16_t rdlen = read_u16(msg + pos + 8);
    if (read_u16(msg + pos) != rrtype::SOA || rdlen > len - pos - 10) return ParseStatus::formerr;
    pos += 10;
    const size_t end = pos + rdlen;
    size_t r = pos;
    if (!skip_name(msg, end, &r) || !skip_name(msg, end, &r) || r + 20 != end) {
      return ParseStatus::formerr;
    }
    q->ixfr_serial = read_u32(msg + r);
    q->has_ixfr_serial = true;
    q->error_text = nullptr;
    pos = end;
  } else if (!skip_records(msg, len, &pos, unsigned{ancount} + nscount)) {
    if (status == ParseStatus::ok) q->error_text = "truncated record";
    return status == ParseStatus::ok ? ParseStatus::formerr : status;
  }

  // A malformed additional section: FORMERR, unless the opcode already decided NOTIMP. An OPT
  // record read before the fault still shapes the answer, as it always did.
  auto bad_additional = [&](const char* why) noexcept {
    if (status == ParseStatus::notimp) return status;
    if (why != nullptr) q->error_text = why;
    return ParseStatus::formerr;
  };
  bool badvers = false;
  for (uint16_t i = 0; i < arcount; ++i) {
    const size_t owner_pos = pos;
    // The root owner of an OPT record, nearly always the only additional record: one byte.
    if (pos < len && msg[pos] == 0) {
      ++pos;
    } else if (!skip_name(msg, len, &pos)) {
      return bad_additional("truncated record");
    }
    if (pos + 10 > len) return bad_additional("truncated record");
    const uint16_t type = read_u16(msg + pos);
    const uint16_t klass = read_u16(msg + pos + 2);
    const uint32_t ttl = read_u32(msg + pos + 4);
    const uint16_t rdlen = read_u16(msg + pos + 8);
    pos += 10;
    if (rdlen > len - pos) return bad_additional("truncated record");
    if (type == rrtype::TSIG) {
      // RFC 8945 5.1: only as the last record; anywhere else the message is malformed.
      if (i + 1 != arcount) return bad_additional("TSIG is not the last record");
      q->tsig_offset = owner_pos;
    }
    if (type == rrtype::OPT) {
      // RFC 6891 6.1.1: one OPT at most, owned by the root.
      if (q->has_edns) return bad_additional("more than one OPT record");
      if (msg[owner_pos] != 0) return bad_additional("OPT owner is not the root");
      q->has_edns = true;
      q->udp_payload = klass;
      q->edns_version = static_cast<uint8_t>(ttl >> 16);
      q->dnssec_ok = (ttl & 0x8000U) != 0;
      q->compact_ok = (ttl & 0x4000U) != 0;
      if (q->edns_version != 0) {
        badvers = true;  // options of an unknown version are not interpreted
      } else if (!parse_opt_rdata(msg + pos, rdlen, q)) {
        return bad_additional(nullptr);
      }
    }
    pos += rdlen;
  }
  if (status != ParseStatus::ok) return status;
  // Trailing bytes after the last record are ignored, as most servers do.
  if (badvers) return ParseStatus::badvers;
  if (qdcount == 0 && !q->has_cookie) {
    q->error_text = "no question";
    return ParseStatus::formerr;
  }
  return ParseStatus::ok;
}

}  // namespace geodns::dns
