// Parsing a request (RFC 1035 4.1, RFC 6891 OPT, RFC 7871 ECS, RFC 7873 cookies) into a
// fixed-size struct: no allocation, never throws, bounded work on any input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/ip.h"
#include "dns/wire.h"

namespace geodns::dns {

struct EcsOption {
  bool present = false;
  uint16_t family = 0;  // 1 = IPv4, 2 = IPv6 (RFC 7871 / IANA address family numbers)
  uint8_t source_prefix = 0;
  uint8_t scope_prefix = 0;
  IpAddress address;  // as sent (trailing bits zero, validated)
};

// RFC 7828 edns-tcp-keepalive in a query: a client asks for the server's idle timeout with
// an empty option; one carrying a TIMEOUT is malformed over TCP (3.2.1) and ignored over UDP
// (3.3.1). Which applies depends on the transport, so the parser only records what came.
enum class KeepaliveOption : uint8_t { absent, empty, with_timeout };

struct Query {
  uint16_t id = 0;
  uint16_t flags = 0;  // the request's flags word as received
  uint8_t opcode = 0;
  bool question_ok = false;             // the question was parsed (it can be echoed)
  uint8_t qname[kMaxNameLength];        // as received (case preserved), uncompressed
  uint8_t qname_lower[kMaxNameLength];  // lower-cased copy for lookups
  size_t qname_len = 0;
  uint16_t qtype = 0;
  uint16_t qclass = 0;

  bool has_edns = false;
  uint16_t udp_payload = 0;  // as advertised (may be < 512: treated as 512)
  uint8_t edns_version = 0;
  bool dnssec_ok = false;
  // Compact Answers OK (RFC 9824 8: EDNS header flag bit 1, after DO): the client wants the
  // NXDOMAIN rcode back on a compact denial. Read whatever DO says; it matters only with DO.
  bool compact_ok = false;
  EcsOption ecs;
  bool has_cookie = false;
  uint8_t client_cookie[8] = {};
  uint8_t server_cookie[32] = {};  // as sent back by the client (8..32 bytes), if any
  uint8_t server_cookie_len = 0;
  KeepaliveOption tcp_keepalive = KeepaliveOption::absent;
  bool nsid_requested = false;  // an NSID option (RFC 5001 2.1: empty in queries)

  // Why the query is malformed (ParseStatus::formerr), for the EXTRA-TEXT of an Extended DNS
  // Error (RFC 8914): a static string, so nothing is allocated. nullptr when not known.
  const char* error_text = nullptr;
  // Where the TSIG record (RFC 8945) starts, 0 = none: dns/tsig.h parses and verifies it.
  size_t tsig_offset = 0;
  // IXFR (RFC 1995 3): the serial of the SOA the client sent in the authority section.
  bool has_ixfr_serial = false;
  uint32_t ixfr_serial = 0;
};

enum class ParseStatus : uint8_t {
  ok,
  drop,     // no answer at all: too short for a header, or QR set (a response)
  formerr,  // malformed: answer FORMERR (question echoed when question_ok)
  notimp,   // opcode we do not implement (the OPT record is still read, to answer with one)
  badvers,  // EDNS version > 0 (RFC 6891 6.1.3)
};

ParseStatus parse_query(std::span<const uint8_t> msg, Query* q) noexcept;

}  // namespace geodns::dns
