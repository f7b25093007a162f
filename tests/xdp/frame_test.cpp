// The AF_XDP frame reader and answer writer (server/xdp/frame.h), without sockets: every
// header field of the answers, their checksums against a reference computed here bit by bit
// (not with frame.cpp's helpers), and the frames the path must refuse.
#include "server/xdp/frame.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

namespace geodns::server::xdp {
namespace {

using Bytes = std::vector<uint8_t>;

// RFC 1071, the plain way: 16-bit big-endian words summed into 32 bits, the carries folded
// in one at a time at the end, then complemented.
uint16_t reference_checksum(const Bytes& data) {
  uint32_t sum = 0;
  for (size_t i = 0; i < data.size(); i += 2) {
    const uint32_t hi = data[i];
    const uint32_t lo = i + 1 < data.size() ? data[i + 1] : 0;
    sum += (hi << 8) | lo;
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

uint16_t u16(const Bytes& b, size_t at) {
  return static_cast<uint16_t>(b[at] << 8 | b[at + 1]);
}
void put16(Bytes& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}

// The reference UDP checksum of the datagram at `udp` (its checksum field taken as zero);
// the IP header is right before it.
uint16_t reference_udp_checksum(const Bytes& frame, bool v6, size_t udp) {
  const size_t udp_len = u16(frame, udp + 4);
  Bytes pseudo;
  const size_t ip = udp - (v6 ? 40 : 20);
  if (v6) {
    pseudo.insert(pseudo.end(), frame.begin() + ip + 8, frame.begin() + ip + 40);
    pseudo.insert(pseudo.end(), {0, 0, static_cast<uint8_t>(udp_len >> 8),
                                 static_cast<uint8_t>(udp_len), 0, 0, 0, 17});
  } else {
    pseudo.insert(pseudo.end(), frame.begin() + ip + 12, frame.begin() + ip + 20);
    pseudo.insert(pseudo.end(),
                  {0, 17, static_cast<uint8_t>(udp_len >> 8), static_cast<uint8_t>(udp_len)});
  }
  Bytes datagram(frame.begin() + static_cast<long>(udp),
                 frame.begin() + static_cast<long>(udp + udp_len));
  datagram[6] = datagram[7] = 0;
  pseudo.insert(pseudo.end(), datagram.begin(), datagram.end());
  uint16_t c = reference_checksum(pseudo);
  return c == 0 ? 0xffff : c;
}

const uint8_t kClientMac[6] = {0x02, 0, 0, 0, 0, 0xc1};
const uint8_t kServerMac[6] = {0x02, 0, 0, 0, 0, 0x51};

Bytes payload_of(size_t n) {
  Bytes p(n);
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(i * 7 + 3);
  return p;
}

// A client's query frame, as a kernel with full checksums would send it.
Bytes query_v4(const Bytes& payload, bool with_udp_checksum = true) {
  Bytes f(14 + 20 + 8 + payload.size());
  std::memcpy(f.data(), kServerMac, 6);
  std::memcpy(f.data() + 6, kClientMac, 6);
  put16(f, 12, 0x0800);
  f[14] = 0x45;
  put16(f, 16, static_cast<uint16_t>(20 + 8 + payload.size()));
  put16(f, 18, 0x1234);
  f[22] = 63;
  f[23] = 17;
  const uint8_t src[4] = {192, 0, 2, 77}, dst[4] = {198, 51, 100, 53};
  std::memcpy(f.data() + 26, src, 4);
  std::memcpy(f.data() + 30, dst, 4);
  put16(f, 24, reference_checksum(Bytes(f.begin() + 14, f.begin() + 34)));
  put16(f, 34, 40000);
  put16(f, 36, 53);
  put16(f, 38, static_cast<uint16_t>(8 + payload.size()));
  std::memcpy(f.data() + 42, payload.data(), payload.size());
  if (with_udp_checksum) put16(f, 40, reference_udp_checksum(f, false, 34));
  return f;
}

Bytes query_v6(const Bytes& payload) {
  Bytes f(14 + 40 + 8 + payload.size());
  std::memcpy(f.data(), kServerMac, 6);
  std::memcpy(f.data() + 6, kClientMac, 6);
  put16(f, 12, 0x86dd);
  f[14] = 0x60;
  put16(f, 18, static_cast<uint16_t>(8 + payload.size()));
  f[20] = 17;
  f[21] = 5;
  for (int i = 0; i < 16; ++i) {
    f[22 + static_cast<size_t>(i)] = static_cast<uint8_t>(0x20 + i);  // client
    f[38 + static_cast<size_t>(i)] = static_cast<uint8_t>(0xa0 + i);  // server
  }
  put16(f, 54, 41000);
  put16(f, 56, 5353);
  put16(f, 58, static_cast<uint16_t>(8 + payload.size()));
  std::memcpy(f.data() + 62, payload.data(), payload.size());
  put16(f, 60, reference_udp_checksum(f, true, 54));
  return f;
}

// `untagged` with an 802.1Q tag (TPID 0x8100, then `tci`) between the MAC addresses and the
// EtherType, as a VLAN device without TX offload sends it. IP and UDP checksums do not cover
// the link layer, so they stay right.
Bytes tagged(Bytes untagged, uint16_t tci, uint16_t tpid = 0x8100) {
  const uint8_t tag[4] = {static_cast<uint8_t>(tpid >> 8), static_cast<uint8_t>(tpid),
                          static_cast<uint8_t>(tci >> 8), static_cast<uint8_t>(tci)};
  untagged.insert(untagged.begin() + 12, tag, tag + 4);
  return untagged;
}

// PCP 5, DEI 1, VID 100.
constexpr uint16_t kTci = 5 << 13 | 1 << 12 | 100;

bool parses(const Bytes& f, QueryFrame* q = nullptr) {
  QueryFrame scratch;
  return parse_frame({f.data(), f.size()}, q ? q : &scratch);
}

TEST(XdpFrame, ReadsAnIpv4Query) {
  const Bytes payload = payload_of(33);
  const Bytes f = query_v4(payload);
  QueryFrame q;
  ASSERT_TRUE(parses(f, &q));
  EXPECT_EQ(q.family, 4);
  EXPECT_EQ(q.source, IpAddress::v4(192, 0, 2, 77));
  EXPECT_EQ(q.destination, IpAddress::v4(198, 51, 100, 53));
  EXPECT_EQ(q.source_port, 40000);
  EXPECT_EQ(q.destination_port, 53);
  EXPECT_EQ(q.payload_offset, 42U);
  ASSERT_EQ(q.payload_bytes, payload.size());
  EXPECT_EQ(0, std::memcmp(f.data() + q.payload_offset, payload.data(), payload.size()));
}

TEST(XdpFrame, Ipv4AnswerHeadersAndChecksums) {
  const Bytes f = query_v4(payload_of(29));
  QueryFrame q;
  ASSERT_TRUE(parses(f, &q));
  const Bytes answer = payload_of(101);  // odd: the checksum pads the last byte
  Bytes r(reply_header_bytes(q) + answer.size(), 0xee);
  std::memcpy(r.data() + reply_header_bytes(q), answer.data(), answer.size());
  ASSERT_EQ(write_reply(f.data(), q, r.data(), answer.size()), r.size());
  EXPECT_EQ(0, std::memcmp(r.data(), kClientMac, 6));
  EXPECT_EQ(0, std::memcmp(r.data() + 6, kServerMac, 6));
  EXPECT_EQ(u16(r, 12), 0x0800);
  EXPECT_EQ(r[14], 0x45);
  EXPECT_EQ(u16(r, 16), 20 + 8 + answer.size());
  EXPECT_EQ(u16(r, 20), 0x4000);  // DF, no fragment offset
  EXPECT_EQ(r[22], kReplyHopLimit);
  EXPECT_EQ(r[23], 17);
  EXPECT_EQ(0, std::memcmp(r.data() + 26, f.data() + 30, 4));  // from our address
  EXPECT_EQ(0, std::memcmp(r.data() + 30, f.data() + 26, 4));  // to the client
  Bytes ip(r.begin() + 14, r.begin() + 34);
  const uint16_t sent_ip_sum = u16(ip, 10);
  put16(ip, 10, 0);
  EXPECT_EQ(sent_ip_sum, reference_checksum(ip));
  EXPECT_EQ(u16(r, 34), 53);
  EXPECT_EQ(u16(r, 36), 40000);
  EXPECT_EQ(u16(r, 38), 8 + answer.size());
  EXPECT_EQ(u16(r, 40), reference_udp_checksum(r, false, 34));
  // And the answer reads back as a valid frame (the way a receiving kernel would check).
  QueryFrame back;
  ASSERT_TRUE(parses(r, &back));
  EXPECT_EQ(back.source, q.destination);
  EXPECT_EQ(back.payload_bytes, answer.size());
}

TEST(XdpFrame, Ipv6AnswerHeadersAndChecksums) {
  const Bytes f = query_v6(payload_of(40));
  QueryFrame q;
  ASSERT_TRUE(parses(f, &q));
  EXPECT_EQ(q.family, 6);
  EXPECT_EQ(q.source.bytes[0], 0x20);
  EXPECT_EQ(q.destination.bytes[15], 0xaf);
  EXPECT_EQ(q.destination_port, 5353);
  EXPECT_EQ(q.payload_offset, 62U);
  const Bytes answer = payload_of(512);
  Bytes r(reply_header_bytes(q) + answer.size());
  std::memcpy(r.data() + reply_header_bytes(q), answer.data(), answer.size());
  ASSERT_EQ(write_reply(f.data(), q, r.data(), answer.size()), r.size());
  EXPECT_EQ(0, std::memcmp(r.data(), kClientMac, 6));
  EXPECT_EQ(u16(r, 12), 0x86dd);
  EXPECT_EQ(r[14] >> 4, 6);
  EXPECT_EQ(u16(r, 18), 8 + answer.size());
  EXPECT_EQ(r[20], 17);
  EXPECT_EQ(r[21], kReplyHopLimit);
  EXPECT_EQ(0, std::memcmp(r.data() + 22, f.data() + 38, 16));
  EXPECT_EQ(0, std::memcmp(r.data() + 38, f.data() + 22, 16));
  EXPECT_EQ(u16(r, 54), 5353);
  EXPECT_EQ(u16(r, 56), 41000);
  EXPECT_EQ(u16(r, 60), reference_udp_checksum(r, true, 54));
  EXPECT_TRUE(parses(r));
}

TEST(XdpFrame, AnswersInPlace) {
  Bytes f = query_v4(payload_of(30));
  QueryFrame q;
  ASSERT_TRUE(parses(f, &q));
  const Bytes answer = payload_of(60);
  f.resize(reply_header_bytes(q) + answer.size());
  std::memcpy(f.data() + reply_header_bytes(q), answer.data(), answer.size());
  ASSERT_EQ(write_reply(f.data(), q, f.data(), answer.size()), f.size());
  EXPECT_EQ(0, std::memcmp(f.data(), kClientMac, 6));
  EXPECT_EQ(0, std::memcmp(f.data() + 6, kServerMac, 6));
  EXPECT_EQ(u16(f, 36), 40000);
  EXPECT_EQ(u16(f, 40), reference_udp_checksum(f, false, 34));
}

TEST(XdpFrame, EthernetPaddingIsNotPayload) {
  Bytes f = query_v4(payload_of(4));
  f.resize(60, 0);  // padded to the Ethernet minimum by the sender
  QueryFrame q;
  ASSERT_TRUE(parses(f, &q));
  EXPECT_EQ(q.payload_bytes, 4U);
}

TEST(XdpFrame, Ipv4WithoutUdpChecksumIsAccepted) {
  EXPECT_TRUE(parses(query_v4(payload_of(20), false)));
}

TEST(XdpFrame, RefusesWhatTheKernelShouldHandleOrDrop) {
  const Bytes good4 = query_v4(payload_of(20));
  const Bytes good6 = query_v6(payload_of(20));
  ASSERT_TRUE(parses(good4));
  ASSERT_TRUE(parses(good6));
  const auto with = [](Bytes b, auto change) {
    change(b);
    return b;
  };
  EXPECT_FALSE(parses(with(good4, [](Bytes& b) { b[14] = 0x46; })));          // IPv4 options
  EXPECT_FALSE(parses(with(good4, [](Bytes& b) { put16(b, 20, 0x2000); })));  // MF
  EXPECT_FALSE(parses(with(good4, [](Bytes& b) { put16(b, 20, 0x0010); })));  // an offset
  EXPECT_FALSE(parses(with(good4, [](Bytes& b) { b[23] = 6; })));             // TCP
  EXPECT_FALSE(parses(with(good4, [](Bytes& b) { b[24] ^= 1; })));            // IP checksum
  EXPECT_FALSE(parses(with(good4, [](Bytes& b) { b[45] ^= 0x40; })));         // payload bit
  EXPECT_FALSE(parses(with(good4, [](Bytes& b) { put16(b, 12, 0x8100); })));  // no tag there
  EXPECT_FALSE(parses(with(good4, [](Bytes& b) { put16(b, 12, 0x88a8); })));  // an S-tag
  EXPECT_FALSE(parses(with(good4, [](Bytes& b) { put16(b, 12, 0x0806); })));  // ARP
  EXPECT_FALSE(parses(with(good4, [](Bytes& b) { put16(b, 38, 200); })));     // UDP too long
  EXPECT_FALSE(parses(with(good4, [](Bytes& b) { put16(b, 38, 7); })));       // UDP too short
  EXPECT_FALSE(parses(with(good6, [](Bytes& b) { b[20] = 0; })));             // hop-by-hop
  EXPECT_FALSE(parses(with(good6, [](Bytes& b) { b[20] = 44; })));            // fragment
  EXPECT_FALSE(parses(with(good6, [](Bytes& b) { put16(b, 60, 0); })));       // no checksum
  EXPECT_FALSE(parses(with(good6, [](Bytes& b) { b[70] ^= 1; })));            // payload bit
  EXPECT_FALSE(parses(with(good6, [](Bytes& b) { b[14] = 0x40; })));          // version 4
}

TEST(XdpFrame, ReadsATaggedIpv4Query) {
  const Bytes payload = payload_of(33);
  const Bytes f = tagged(query_v4(payload), kTci);
  QueryFrame q;
  ASSERT_TRUE(parses(f, &q));
  EXPECT_TRUE(q.is_tagged);
  EXPECT_EQ(q.vlan_tci, kTci);
  EXPECT_EQ(q.family, 4);
  EXPECT_EQ(q.source, IpAddress::v4(192, 0, 2, 77));
  EXPECT_EQ(q.destination, IpAddress::v4(198, 51, 100, 53));
  EXPECT_EQ(q.destination_port, 53);
  EXPECT_EQ(q.payload_offset, 46U);
  ASSERT_EQ(q.payload_bytes, payload.size());
  EXPECT_EQ(0, std::memcmp(f.data() + q.payload_offset, payload.data(), payload.size()));
  // And an untagged one says so (the fields are reset, not left from an earlier frame).
  ASSERT_TRUE(parses(query_v4(payload), &q));
  EXPECT_FALSE(q.is_tagged);
  EXPECT_EQ(q.vlan_tci, 0);
}

// The answer to a tagged query: the same tag, whole, then the headers shifted by 4 bytes.
void expect_tagged_answer(const Bytes& query, bool v6, uint16_t tci) {
  QueryFrame q;
  ASSERT_TRUE(parses(query, &q));
  const Bytes answer = payload_of(77);
  EXPECT_EQ(reply_header_bytes(q), 14U + 4 + (v6 ? 40 : 20) + 8);
  Bytes r(reply_header_bytes(q) + answer.size(), 0xee);
  std::memcpy(r.data() + reply_header_bytes(q), answer.data(), answer.size());
  ASSERT_EQ(write_reply(query.data(), q, r.data(), answer.size()), r.size());
  EXPECT_EQ(0, std::memcmp(r.data(), kClientMac, 6));
  EXPECT_EQ(0, std::memcmp(r.data() + 6, kServerMac, 6));
  EXPECT_EQ(u16(r, 12), 0x8100);
  EXPECT_EQ(u16(r, 14), tci);  // VID, PCP and DEI as received
  EXPECT_EQ(u16(r, 16), v6 ? 0x86dd : 0x0800);
  const size_t ip = 18;
  const size_t udp = ip + (v6 ? 40 : 20);
  if (v6) {
    EXPECT_EQ(r[ip] >> 4, 6);
    EXPECT_EQ(u16(r, ip + 4), 8 + answer.size());
    EXPECT_EQ(0, std::memcmp(r.data() + ip + 8, query.data() + ip + 24, 16));  // ours
    EXPECT_EQ(0, std::memcmp(r.data() + ip + 24, query.data() + ip + 8, 16));  // theirs
  } else {
    EXPECT_EQ(r[ip], 0x45);
    EXPECT_EQ(u16(r, ip + 2), 20 + 8 + answer.size());
    EXPECT_EQ(0, std::memcmp(r.data() + ip + 12, query.data() + ip + 16, 4));
    EXPECT_EQ(0, std::memcmp(r.data() + ip + 16, query.data() + ip + 12, 4));
    Bytes header(r.begin() + ip, r.begin() + ip + 20);
    const uint16_t sent = u16(header, 10);
    put16(header, 10, 0);
    EXPECT_EQ(sent, reference_checksum(header));
  }
  EXPECT_EQ(u16(r, udp), q.destination_port);
  EXPECT_EQ(u16(r, udp + 2), q.source_port);
  EXPECT_EQ(u16(r, udp + 4), 8 + answer.size());
  EXPECT_EQ(u16(r, udp + 6), reference_udp_checksum(r, v6, udp));
  EXPECT_EQ(0, std::memcmp(r.data() + udp + 8, answer.data(), answer.size()));
  QueryFrame back;
  ASSERT_TRUE(parses(r, &back));
  EXPECT_TRUE(back.is_tagged);
  EXPECT_EQ(back.vlan_tci, tci);
}

TEST(XdpFrame, TaggedIpv4AnswerKeepsTheTag) {
  expect_tagged_answer(tagged(query_v4(payload_of(29)), kTci), false, kTci);
}

TEST(XdpFrame, TaggedIpv6AnswerKeepsTheTag) {
  expect_tagged_answer(tagged(query_v6(payload_of(29)), kTci), true, kTci);
}

TEST(XdpFrame, EveryPriorityAndDropEligibilityIsKept) {
  // All 8 PCPs, DEI on and off, VID 0 (priority-tagged), 1 and 4094 (the edges).
  for (int pcp = 0; pcp < 8; ++pcp) {
    for (int dei = 0; dei < 2; ++dei) {
      for (int vid : {0, 1, 4094}) {
        const uint16_t tci = static_cast<uint16_t>(pcp << 13 | dei << 12 | vid);
        SCOPED_TRACE(tci);
        expect_tagged_answer(tagged(query_v4(payload_of(12)), tci), false, tci);
      }
    }
  }
}

TEST(XdpFrame, TaggedAnswerInPlace) {
  Bytes f = tagged(query_v6(payload_of(30)), kTci);
  const Bytes original = f;
  QueryFrame q;
  ASSERT_TRUE(parses(f, &q));
  const Bytes answer = payload_of(90);
  f.resize(reply_header_bytes(q) + answer.size());
  std::memcpy(f.data() + reply_header_bytes(q), answer.data(), answer.size());
  ASSERT_EQ(write_reply(f.data(), q, f.data(), answer.size()), f.size());
  EXPECT_EQ(0, std::memcmp(f.data(), kClientMac, 6));
  EXPECT_EQ(u16(f, 14), kTci);
  EXPECT_EQ(0, std::memcmp(f.data() + 18 + 24, original.data() + 18 + 8, 16));  // to them
  EXPECT_EQ(u16(f, 18 + 40 + 6), reference_udp_checksum(f, true, 18 + 40));
}

TEST(XdpFrame, RefusesWhatIsNotOneTag) {
  const Bytes good = tagged(query_v4(payload_of(20)), kTci);
  ASSERT_TRUE(parses(good));
  // Double tags, QinQ (S-tag outside, C-tag inside), an S-tag alone: the kernel's.
  EXPECT_FALSE(parses(tagged(good, 200)));
  EXPECT_FALSE(parses(tagged(good, 200, 0x88a8)));
  EXPECT_FALSE(parses(tagged(query_v4(payload_of(20)), kTci, 0x88a8)));
  EXPECT_FALSE(parses(tagged(good, 200, 0x9100)));  // the old non-standard QinQ TPID
  // VID 4095 is reserved.
  EXPECT_FALSE(parses(tagged(query_v4(payload_of(20)), 0x0fff)));
  EXPECT_FALSE(parses(tagged(query_v4(payload_of(20)), 0xefff)));
  // Tagged, but not IP inside (ARP), or IP with the usual faults.
  Bytes arp = good;
  put16(arp, 16, 0x0806);
  EXPECT_FALSE(parses(arp));
  Bytes options = good;
  options[18] = 0x46;
  EXPECT_FALSE(parses(options));
  Bytes checksum = good;
  checksum[18 + 10] ^= 1;
  EXPECT_FALSE(parses(checksum));
  // The IP header read at 14 (as if untagged) would not parse: the tag really moves it.
  Bytes untagged_view = good;
  put16(untagged_view, 12, 0x0800);
  EXPECT_FALSE(parses(untagged_view));
}

TEST(XdpFrame, TaggedPayloadLimitIsStillTheMtuLessIpAndUdp) {
  QueryFrame q;
  q.family = 4;
  q.is_tagged = true;
  EXPECT_EQ(reply_payload_limit(q, 1500), 1472U);  // the tag is link layer, not the MTU's
  EXPECT_EQ(reply_header_bytes(q), 46U);           // but takes 4 bytes of the frame
  q.family = 6;
  EXPECT_EQ(reply_payload_limit(q, 1500), 1452U);
  EXPECT_EQ(reply_header_bytes(q), 66U);
  EXPECT_EQ(reply_payload_limit(q, 48), 0U);
}

TEST(XdpFrame, EveryTruncationIsRefused) {
  // Tagged ones too: cut inside the tag, right after it, inside the headers and payload.
  for (const Bytes& good :
       {query_v4(payload_of(25)), query_v6(payload_of(25)), tagged(query_v4(payload_of(25)), kTci),
        tagged(query_v6(payload_of(25)), kTci)}) {
    for (size_t n = 0; n < good.size(); ++n) {
      EXPECT_FALSE(parses(Bytes(good.begin(), good.begin() + static_cast<long>(n)))) << n;
    }
  }
}

TEST(XdpFrame, PayloadLimitIsTheMtuLessHeaders) {
  QueryFrame q;
  q.family = 4;
  EXPECT_EQ(reply_payload_limit(q, 1500), 1472U);
  q.family = 6;
  EXPECT_EQ(reply_payload_limit(q, 1500), 1452U);
  EXPECT_EQ(reply_payload_limit(q, 40), 0U);
}

TEST(XdpFrame, GarbageNeverReadsOutOfBoundsAndWhatParsesAnswersCleanly) {
  std::mt19937 rng(15);
  const Bytes seeds[] = {query_v4(payload_of(17)), query_v6(payload_of(17)),
                         tagged(query_v4(payload_of(17)), kTci),
                         tagged(query_v6(payload_of(17)), kTci)};
  size_t accepted = 0;
  for (int i = 0; i < 40000; ++i) {
    Bytes f = seeds[i % 4];
    // A few random byte flips and a random length: mostly refused, never a crash.
    const int flips = static_cast<int>(rng() % 3);
    for (int k = 0; k < flips; ++k) f[rng() % f.size()] = static_cast<uint8_t>(rng());
    f.resize(rng() % (f.size() + 8), 0);
    QueryFrame q;
    if (!parse_frame({f.data(), f.size()}, &q)) continue;
    ++accepted;
    ASSERT_LE(q.payload_offset + q.payload_bytes, f.size());
    Bytes r(reply_header_bytes(q) + q.payload_bytes);
    std::memcpy(r.data() + reply_header_bytes(q), f.data() + q.payload_offset, q.payload_bytes);
    ASSERT_EQ(write_reply(f.data(), q, r.data(), q.payload_bytes), r.size());
    QueryFrame back;
    ASSERT_TRUE(parses(r, &back));
    ASSERT_EQ(back.is_tagged, q.is_tagged);
    ASSERT_EQ(back.vlan_tci, q.vlan_tci);
  }
  EXPECT_GT(accepted, 0U);  // the unflipped, full-length ones at least
}

}  // namespace
}  // namespace geodns::server::xdp
