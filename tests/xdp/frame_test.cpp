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

// The reference UDP checksum of the datagram at `udp` (its checksum field taken as zero).
uint16_t reference_udp_checksum(const Bytes& frame, bool v6, size_t udp) {
  const size_t udp_len = u16(frame, udp + 4);
  Bytes pseudo;
  const size_t ip = 14;
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
  EXPECT_FALSE(parses(with(good4, [](Bytes& b) { put16(b, 12, 0x8100); })));  // VLAN tag
  EXPECT_FALSE(parses(with(good4, [](Bytes& b) { put16(b, 12, 0x0806); })));  // ARP
  EXPECT_FALSE(parses(with(good4, [](Bytes& b) { put16(b, 38, 200); })));     // UDP too long
  EXPECT_FALSE(parses(with(good4, [](Bytes& b) { put16(b, 38, 7); })));       // UDP too short
  EXPECT_FALSE(parses(with(good6, [](Bytes& b) { b[20] = 0; })));             // hop-by-hop
  EXPECT_FALSE(parses(with(good6, [](Bytes& b) { b[20] = 44; })));            // fragment
  EXPECT_FALSE(parses(with(good6, [](Bytes& b) { put16(b, 60, 0); })));       // no checksum
  EXPECT_FALSE(parses(with(good6, [](Bytes& b) { b[70] ^= 1; })));            // payload bit
  EXPECT_FALSE(parses(with(good6, [](Bytes& b) { b[14] = 0x40; })));          // version 4
}

TEST(XdpFrame, EveryTruncationIsRefused) {
  for (const Bytes& good : {query_v4(payload_of(25)), query_v6(payload_of(25))}) {
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
  const Bytes seeds[] = {query_v4(payload_of(17)), query_v6(payload_of(17))};
  size_t accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    Bytes f = seeds[i % 2];
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
    ASSERT_TRUE(parses(r));
  }
  EXPECT_GT(accepted, 0U);  // the unflipped, full-length ones at least
}

}  // namespace
}  // namespace geodns::server::xdp
