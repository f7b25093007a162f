// Ethernet/IPv4/IPv6/UDP frames of the AF_XDP path: reading a query frame and writing the
// answer frame around a DNS payload. Pure functions over bytes (no sockets), so the unit
// tests and the fuzzer check every header and checksum without a NIC.
//
// What is accepted mirrors the XDP program (geodns_xdp.bpf.c), which passes everything else
// to the kernel: Ethernet untagged or with one 802.1Q tag (EtherType 0x8100, VID not 4095),
// IPv4 without options (IHL 5) and not a fragment, IPv6 whose next header is UDP (no
// extension headers), UDP with a valid checksum. Double tags and 802.1ad S-tags (0x88a8) are
// the kernel's. Everything is checked again here, never trusting the program's filter: a
// frame it let through that still fails (a bad checksum, lengths that disagree) is dropped,
// as the kernel would drop it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/ip.h"

namespace geodns::server::xdp {

inline constexpr size_t kEthernetHeaderBytes = 14;
inline constexpr size_t kVlanTagBytes = 4;  // 802.1Q: TPID 0x8100, then PCP/DEI/VID
inline constexpr size_t kIpv4HeaderBytes = 20;
inline constexpr size_t kIpv6HeaderBytes = 40;
inline constexpr size_t kUdpHeaderBytes = 8;
// The TTL / hop limit of our answers (Linux's default for sockets).
inline constexpr uint8_t kReplyHopLimit = 64;

// A query frame, as parse_frame() read it.
struct QueryFrame {
  uint8_t family = 0;         // 4 or 6
  size_t payload_offset = 0;  // the DNS message, from the frame's start
  size_t payload_bytes = 0;   // from the UDP length (Ethernet padding excluded)
  IpAddress source;           // the client
  IpAddress destination;      // our address the query was sent to
  uint16_t source_port = 0;   // host order
  uint16_t destination_port = 0;
  // One 802.1Q tag: the answer carries the same TCI (priority, drop eligibility, VLAN id).
  bool is_tagged = false;
  uint16_t vlan_tci = 0;  // PCP (3 bits), DEI (1), VID (12), as received
};

// Reads `frame` (the bytes the NIC received). False: not a frame this path answers (see the
// file comment); `out` is then unspecified.
bool parse_frame(std::span<const uint8_t> frame, QueryFrame* out) noexcept;

// The link-layer bytes of the answer to `query`: Ethernet, and its VLAN tag if it had one.
inline size_t link_header_bytes(const QueryFrame& query) noexcept {
  return kEthernetHeaderBytes + (query.is_tagged ? kVlanTagBytes : 0);
}

// Bytes in front of the DNS payload in the answer frame to `query`.
inline size_t reply_header_bytes(const QueryFrame& query) noexcept {
  return link_header_bytes(query) + (query.family == 4 ? kIpv4HeaderBytes : kIpv6HeaderBytes) +
         kUdpHeaderBytes;
}

// The largest DNS payload an answer to `query` may carry on a link of `mtu` bytes; 0 when
// the MTU leaves no room. The MTU counts the IP packet, not the link layer: a VLAN tag does
// not shrink it (Linux gives a VLAN device its parent's MTU and sends 1518-byte frames for
// 1500), so the tag's 4 bytes come out of the frame buffer (reply_header_bytes), not the MTU.
inline size_t reply_payload_limit(const QueryFrame& query, uint32_t mtu) noexcept {
  const size_t headers = reply_header_bytes(query) - link_header_bytes(query);
  return mtu > headers ? mtu - headers : 0;
}

// Writes the headers of the answer frame into `reply`, whose DNS payload of `payload_bytes`
// is already at reply_header_bytes(query): Ethernet addresses, IP addresses and UDP ports of
// `query_frame` swapped, the same VLAN tag (TCI) if it had one, IPv4 header checksum, UDP checksum
// (always, also over IPv4), TTL / hop limit kReplyHopLimit. `reply` may be `query_frame` itself
// (answering in place) or another buffer of at least reply_header_bytes + payload_bytes. Returns
// the frame's length, or 0 when the payload cannot be carried (an IP datagram over 65535 bytes).
size_t write_reply(const uint8_t* query_frame, const QueryFrame& query, uint8_t* reply,
                   size_t payload_bytes) noexcept;

// The Internet checksum (RFC 1071) folded to 16 bits, not complemented, over `bytes`
// starting from `sum`; exposed for the tests' reference comparisons.
uint64_t checksum_add(uint64_t sum, std::span<const uint8_t> bytes) noexcept;
uint16_t checksum_fold(uint64_t sum) noexcept;

}  // namespace geodns::server::xdp
