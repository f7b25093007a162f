#include "server/xdp/frame.h"

#include <cstring>

namespace geodns::server::xdp {

namespace {

constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeIpv6 = 0x86dd;
constexpr uint16_t kEtherTypeVlan = 0x8100;  // 802.1Q C-tag
// VID 4095 is reserved (802.1Q 9.6): the kernel drops it, so do we.
constexpr uint16_t kVlanIdMask = 0x0fff;
constexpr uint16_t kVlanIdReserved = 0x0fff;
constexpr uint8_t kProtocolUdp = 17;

uint16_t read_u16(const uint8_t* p) noexcept {
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}

void write_u16(uint8_t* p, uint16_t v) noexcept {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

// The UDP pseudo-header (RFC 768; RFC 8200 8.1 for IPv6) summed: addresses, protocol, length.
uint64_t pseudo_header_sum(uint8_t family, const uint8_t* source, const uint8_t* destination,
                           size_t udp_bytes) noexcept {
  const size_t address_bytes = family == 4 ? 4 : 16;
  uint64_t sum = checksum_add(0, {source, address_bytes});
  sum = checksum_add(sum, {destination, address_bytes});
  return sum + kProtocolUdp + udp_bytes;
}

IpAddress address_of(uint8_t family, const uint8_t* bytes) noexcept {
  IpAddress ip;
  ip.family = family;
  std::memcpy(ip.bytes.data(), bytes, family == 4 ? 4 : 16);
  return ip;
}

}  // namespace

uint64_t checksum_add(uint64_t sum, std::span<const uint8_t> bytes) noexcept {
  const uint8_t* p = bytes.data();
  size_t n = bytes.size();
  // Big-endian 32-bit words: 2^16 = 1 in one's complement arithmetic, so summing pairs of
  // 16-bit words as one 32-bit value folds to the same result, at half the additions (this
  // runs over every query and answer: perf showed the 16-bit loop at 4 % of a core).
  for (; n >= 4; p += 4, n -= 4) {
    // Written as shifts, not a native load: right on any byte order, one bswap'd load on x86.
    sum += static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
           static_cast<uint32_t>(p[2]) << 8 | p[3];
  }
  for (; n >= 2; p += 2, n -= 2) sum += read_u16(p);
  if (n == 1) sum += static_cast<uint64_t>(p[0]) << 8;  // an odd byte is padded with zero
  return sum;
}

uint16_t checksum_fold(uint64_t sum) noexcept {
  sum = (sum & 0xffffffff) + (sum >> 32);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

bool parse_frame(std::span<const uint8_t> frame, QueryFrame* out) noexcept {
  const uint8_t* f = frame.data();
  const size_t n = frame.size();
  if (n < kEthernetHeaderBytes) return false;
  uint16_t ether_type = read_u16(f + 12);
  size_t l3 = kEthernetHeaderBytes;  // where the IP header starts
  out->is_tagged = false;
  out->vlan_tci = 0;
  // One 802.1Q tag, then IP. A second tag (QinQ), an 802.1ad S-tag (0x88a8) or anything
  // else is not IPv4/IPv6 at `l3` and is refused below: the program passes those on.
  if (ether_type == kEtherTypeVlan) {
    if (n < kEthernetHeaderBytes + kVlanTagBytes) return false;
    out->vlan_tci = read_u16(f + 14);
    if ((out->vlan_tci & kVlanIdMask) == kVlanIdReserved) return false;
    ether_type = read_u16(f + 16);
    out->is_tagged = true;
    l3 += kVlanTagBytes;
  }
  size_t l4 = 0;
  size_t ip_payload = 0;  // bytes after the IP header, from the IP length field
  const uint8_t* ip = f + l3;
  if (ether_type == kEtherTypeIpv4) {
    if (n < l3 + kIpv4HeaderBytes) return false;
    // IHL 5 only: options are the kernel's business (the program passes them).
    if (ip[0] != 0x45) return false;
    const size_t total = read_u16(ip + 2);
    if (total < kIpv4HeaderBytes + kUdpHeaderBytes || l3 + total > n) {
      return false;
    }
    // Fragments (MF set or an offset) are reassembled by the kernel, not here.
    if ((read_u16(ip + 6) & 0x3fff) != 0) return false;
    if (ip[9] != kProtocolUdp) return false;
    if (checksum_fold(checksum_add(0, {ip, kIpv4HeaderBytes})) != 0xffff) return false;
    out->family = 4;
    l4 = l3 + kIpv4HeaderBytes;
    ip_payload = total - kIpv4HeaderBytes;
    out->source = address_of(4, ip + 12);
    out->destination = address_of(4, ip + 16);
  } else if (ether_type == kEtherTypeIpv6) {
    if (n < l3 + kIpv6HeaderBytes + kUdpHeaderBytes) return false;
    if ((ip[0] >> 4) != 6) return false;
    // Next header UDP only: extension headers (fragments among them) go to the kernel.
    if (ip[6] != kProtocolUdp) return false;
    ip_payload = read_u16(ip + 4);
    if (ip_payload < kUdpHeaderBytes || l3 + kIpv6HeaderBytes + ip_payload > n) {
      return false;
    }
    out->family = 6;
    l4 = l3 + kIpv6HeaderBytes;
    out->source = address_of(6, ip + 8);
    out->destination = address_of(6, ip + 24);
  } else {
    return false;
  }
  const uint8_t* udp = f + l4;
  const size_t udp_bytes = read_u16(udp + 4);
  if (udp_bytes < kUdpHeaderBytes || udp_bytes > ip_payload) return false;
  const uint16_t checksum = read_u16(udp + 6);
  // IPv4 may leave the checksum out (zero); IPv6 may not (RFC 8200 8.1).
  if (checksum != 0 || out->family == 6) {
    const uint8_t* source = out->family == 4 ? ip + 12 : ip + 8;
    const uint8_t* destination = out->family == 4 ? ip + 16 : ip + 24;
    uint64_t sum = pseudo_header_sum(out->family, source, destination, udp_bytes);
    sum = checksum_add(sum, {udp, udp_bytes});
    if (checksum_fold(sum) != 0xffff) return false;
  }
  out->source_port = read_u16(udp);
  out->destination_port = read_u16(udp + 2);
  out->payload_offset = l4 + kUdpHeaderBytes;
  out->payload_bytes = udp_bytes - kUdpHeaderBytes;
  return true;
}

size_t write_reply(const uint8_t* query_frame, const QueryFrame& query, uint8_t* reply,
                   size_t payload_bytes) noexcept {
  const size_t ip_header = query.family == 4 ? kIpv4HeaderBytes : kIpv6HeaderBytes;
  const size_t udp_bytes = kUdpHeaderBytes + payload_bytes;
  if (udp_bytes + (query.family == 4 ? ip_header : 0) > 0xffff) return 0;
  // Ethernet: back to where it came from. Read both addresses before writing: `reply` may
  // be `query_frame`.
  uint8_t macs[12];
  std::memcpy(macs, query_frame + 6, 6);
  std::memcpy(macs + 6, query_frame, 6);
  std::memcpy(reply, macs, 12);
  // The same tag as the query's, whole: the VLAN it came on, and its priority (PCP) and drop
  // eligibility (DEI), which the network may act on for the answer too.
  if (query.is_tagged) {
    write_u16(reply + 12, kEtherTypeVlan);
    write_u16(reply + 14, query.vlan_tci);
  }
  const size_t l2 = link_header_bytes(query);
  write_u16(reply + l2 - 2, query.family == 4 ? kEtherTypeIpv4 : kEtherTypeIpv6);

  uint8_t* ip = reply + l2;
  // Our address is the one the query was sent to; the client's, where it came from.
  const uint8_t* ours = query.destination.bytes.data();
  const uint8_t* theirs = query.source.bytes.data();
  uint8_t addresses[32];  // copies: `reply` may overlap the parsed frame's addresses
  const size_t address_bytes = query.family == 4 ? 4 : 16;
  std::memcpy(addresses, ours, address_bytes);
  std::memcpy(addresses + address_bytes, theirs, address_bytes);
  if (query.family == 4) {
    ip[0] = 0x45;
    ip[1] = 0;  // DSCP/ECN: best effort
    write_u16(ip + 2, static_cast<uint16_t>(ip_header + udp_bytes));
    write_u16(ip + 4, 0);       // identification: unused, DF is set (RFC 6864 4.1)
    write_u16(ip + 6, 0x4000);  // DF: answers are sized to the MTU, never fragmented
    ip[8] = kReplyHopLimit;
    ip[9] = kProtocolUdp;
    write_u16(ip + 10, 0);
    std::memcpy(ip + 12, addresses, 8);
    write_u16(ip + 10, static_cast<uint16_t>(~checksum_fold(checksum_add(0, {ip, ip_header}))));
  } else {
    write_u16(ip, 0x6000);  // version 6, traffic class 0, flow label 0
    write_u16(ip + 2, 0);
    write_u16(ip + 4, static_cast<uint16_t>(udp_bytes));
    ip[6] = kProtocolUdp;
    ip[7] = kReplyHopLimit;
    std::memcpy(ip + 8, addresses, 32);
  }
  uint8_t* udp = ip + ip_header;
  // Ports: read before writing for the same reason as the addresses.
  const uint16_t source_port = query.destination_port;
  const uint16_t destination_port = query.source_port;
  write_u16(udp, source_port);
  write_u16(udp + 2, destination_port);
  write_u16(udp + 4, static_cast<uint16_t>(udp_bytes));
  write_u16(udp + 6, 0);
  uint64_t sum = pseudo_header_sum(query.family, addresses, addresses + address_bytes, udp_bytes);
  sum = checksum_add(sum, {udp, udp_bytes});
  uint16_t checksum = static_cast<uint16_t>(~checksum_fold(sum));
  // A computed zero is sent as all ones: zero means "no checksum" (RFC 768), which IPv6
  // forbids.
  if (checksum == 0) checksum = 0xffff;
  write_u16(udp + 6, checksum);
  return l2 + ip_header + udp_bytes;
}

}  // namespace geodns::server::xdp
