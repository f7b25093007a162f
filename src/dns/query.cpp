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
  ecs->address = IpAddress{};
  ecs->address.family = ecs->family == 1 ? 4 : 6;
  std::memcpy(ecs->address.bytes.data(), p + 4, addr_len);
  // Bits beyond the source prefix MUST be zero (RFC 7871 6, "ADDRESS").
  if (!(ecs->address.masked(ecs->source_prefix) == ecs->address)) return false;
  ecs->present = true;
  return true;
}

// Parses one OPT RR's RDATA (a sequence of options). Returns false when malformed.
bool parse_opt_rdata(const uint8_t* p, size_t len, Query* q) noexcept {
  size_t i = 0;
  while (i < len) {
    if (len - i < 4) return false;
    const uint16_t code = read_u16(p + i);
    const uint16_t olen = read_u16(p + i + 2);
    i += 4;
    if (olen > len - i) return false;
    const uint8_t* body = p + i;
    switch (code) {
      case edns::kOptionEcs:
        if (q->ecs.present) return false;  // at most one ECS option
        if (!parse_ecs(body, olen, &q->ecs)) return false;
        break;
      case edns::kOptionCookie:
        // RFC 7873 5.2.2: a client cookie alone is 8 bytes; with a server cookie 16..40.
        if (olen != 8 && (olen < 16 || olen > 40)) return false;
        if (q->has_cookie) return false;
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
  q->edns_version = 0;
  q->udp_payload = 0;
  if ((q->flags & flag::QR) != 0) return ParseStatus::drop;  // never answer a response
  q->opcode = static_cast<uint8_t>((q->flags >> 11) & 0xF);

  const uint16_t qdcount = read_u16(msg + 4);
  const uint16_t ancount = read_u16(msg + 6);
  const uint16_t nscount = read_u16(msg + 8);
  const uint16_t arcount = read_u16(msg + 10);

  size_t pos = kHeaderSize;
  if (qdcount == 1) {
    if (read_name(msg, len, &pos, q->qname, &q->qname_len) && pos + 4 <= len) {
      q->qtype = read_u16(msg + pos);
      q->qclass = read_u16(msg + pos + 2);
      pos += 4;
      lower_name(q->qname, q->qname_len, q->qname_lower);
      q->question_ok = true;
    }
  }
  if (q->opcode != opcode::QUERY) return ParseStatus::notimp;
  // No question is allowed only to fetch a server cookie (RFC 7873 5.4), checked below.
  if (qdcount > 1 || (qdcount == 1 && !q->question_ok)) return ParseStatus::formerr;
  // A query carries no answer or authority records (RFC 1035 4.1.1 for QUERY).
  if (ancount != 0 || nscount != 0) return ParseStatus::formerr;

  bool badvers = false;
  for (uint16_t i = 0; i < arcount; ++i) {
    const size_t owner_pos = pos;
    if (!skip_name(msg, len, &pos)) return ParseStatus::formerr;
    if (pos + 10 > len) return ParseStatus::formerr;
    const uint16_t type = read_u16(msg + pos);
    const uint16_t klass = read_u16(msg + pos + 2);
    const uint32_t ttl = read_u32(msg + pos + 4);
    const uint16_t rdlen = read_u16(msg + pos + 8);
    pos += 10;
    if (rdlen > len - pos) return ParseStatus::formerr;
    if (type == rrtype::OPT) {
      // RFC 6891 6.1.1: one OPT at most, owned by the root.
      if (q->has_edns) return ParseStatus::formerr;
      if (msg[owner_pos] != 0) return ParseStatus::formerr;
      q->has_edns = true;
      q->udp_payload = klass;
      q->edns_version = static_cast<uint8_t>(ttl >> 16);
      q->dnssec_ok = (ttl & 0x8000U) != 0;
      if (q->edns_version != 0) {
        badvers = true;  // options of an unknown version are not interpreted
      } else if (!parse_opt_rdata(msg + pos, rdlen, q)) {
        return ParseStatus::formerr;
      }
    }
    pos += rdlen;
  }
  // Trailing bytes after the last record are ignored, as most servers do.
  if (badvers) return ParseStatus::badvers;
  if (qdcount == 0 && !q->has_cookie) return ParseStatus::formerr;
  return ParseStatus::ok;
}

}  // namespace geodns::dns
