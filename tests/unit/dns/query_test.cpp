#include "dns/query.h"

#include <gtest/gtest.h>

#include "test_query.h"

namespace geodns::dns {
namespace {

using testing::QueryBuilder;

ParseStatus parse(const std::vector<uint8_t>& m, Query* q) {
  return parse_query(std::span<const uint8_t>(m.data(), m.size()), q);
}

TEST(ParseQuery, PlainQueryKeepsCaseAndLowersCopy) {
  QueryBuilder b;
  b.name = "WwW.ExAmple.COM";
  b.qtype = 28;
  Query q;
  ASSERT_EQ(parse(b.build(), &q), ParseStatus::ok);
  EXPECT_EQ(q.id, 0xBEEF);
  EXPECT_EQ(q.qtype, 28);
  EXPECT_EQ(q.qclass, 1);
  ASSERT_EQ(q.qname_len, 17u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(q.qname), q.qname_len),
            std::string("\3WwW\7ExAmple\3COM", 16) + '\0');
  EXPECT_EQ(std::string(reinterpret_cast<char*>(q.qname_lower), q.qname_len),
            std::string("\3www\7example\3com", 16) + '\0');
  EXPECT_FALSE(q.has_edns);
}

TEST(ParseQuery, TooShortIsDropped) {
  std::vector<uint8_t> m(11, 0);
  Query q;
  EXPECT_EQ(parse(m, &q), ParseStatus::drop);
}

TEST(ParseQuery, ResponsesAreDropped) {
  QueryBuilder b;
  b.flags = 0x8000;
  Query q;
  EXPECT_EQ(parse(b.build(), &q), ParseStatus::drop);
}

TEST(ParseQuery, UnknownOpcodeIsNotimpWithQuestion) {
  QueryBuilder b;
  b.flags = static_cast<uint16_t>(2 << 11);  // STATUS
  Query q;
  EXPECT_EQ(parse(b.build(), &q), ParseStatus::notimp);
  EXPECT_TRUE(q.question_ok);
}

TEST(ParseQuery, UnknownOpcodeStillReadsTheOptRecord) {
  QueryBuilder b;
  b.flags = static_cast<uint16_t>(4 << 11);  // NOTIFY
  b.edns = true;
  b.do_bit = true;
  Query q;
  EXPECT_EQ(parse(b.build(), &q), ParseStatus::notimp);
  EXPECT_TRUE(q.has_edns);  // so the NOTIMP carries OPT (and an Extended DNS Error)
  EXPECT_TRUE(q.dnssec_ok);
}

TEST(ParseQuery, NsidOptionIsNoted) {
  QueryBuilder b;
  b.edns = true;
  b.options = {0, 3, 0, 0};
  Query q;
  ASSERT_EQ(parse(b.build(), &q), ParseStatus::ok);
  EXPECT_TRUE(q.nsid_requested);
  QueryBuilder plain;
  plain.edns = true;
  ASSERT_EQ(parse(plain.build(), &q), ParseStatus::ok);
  EXPECT_FALSE(q.nsid_requested);  // reset for every query
}

TEST(ParseQuery, FormerrNamesItsReason) {
  QueryBuilder two;
  two.qdcount = 2;
  Query q;
  ASSERT_EQ(parse(two.build(), &q), ParseStatus::formerr);
  EXPECT_STREQ(q.error_text, "QDCOUNT is not 1");
  QueryBuilder ecs;
  ecs.ecs(9, 24, 0, {1, 2, 3});
  ASSERT_EQ(parse(ecs.build(), &q), ParseStatus::formerr);
  EXPECT_STREQ(q.error_text, "bad ECS option");
  EXPECT_TRUE(q.has_edns);  // the FORMERR carries OPT with the reason
  QueryBuilder ok;
  ASSERT_EQ(parse(ok.build(), &q), ParseStatus::ok);
  EXPECT_EQ(q.error_text, nullptr);
}

TEST(ParseQuery, QdcountOtherThanOneIsFormerr) {
  for (uint16_t n : {uint16_t{0}, uint16_t{2}}) {
    QueryBuilder b;
    b.qdcount = n;
    Query q;
    EXPECT_EQ(parse(b.build(), &q), ParseStatus::formerr) << n;
  }
}

TEST(ParseQuery, TruncatedQuestionIsFormerr) {
  auto m = QueryBuilder().build();
  m.resize(m.size() - 2);
  Query q;
  EXPECT_EQ(parse(m, &q), ParseStatus::formerr);
  EXPECT_FALSE(q.question_ok);
}

TEST(ParseQuery, CompressionLoopIsFormerr) {
  std::vector<uint8_t> m = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  m.push_back(0xC0);
  m.push_back(12);  // points at itself
  m.insert(m.end(), {0, 1, 0, 1});
  Query q;
  EXPECT_EQ(parse(m, &q), ParseStatus::formerr);
}

TEST(ParseQuery, ForwardPointerIsFormerr) {
  std::vector<uint8_t> m = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  m.push_back(0xC0);
  m.push_back(20);
  m.insert(m.end(), {0, 1, 0, 1, 0, 0, 0, 0});
  Query q;
  EXPECT_EQ(parse(m, &q), ParseStatus::formerr);
}

TEST(ParseQuery, ExtendedLabelTypeIsFormerr) {
  std::vector<uint8_t> m = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41, 'a', 0, 0, 1, 0, 1};
  Query q;
  EXPECT_EQ(parse(m, &q), ParseStatus::formerr);
}

TEST(ParseQuery, OverlongNameIsFormerr) {
  std::vector<uint8_t> m = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < 5; ++i) {  // 5 x 64 bytes > 255
    m.push_back(63);
    m.insert(m.end(), 63, 'a');
  }
  m.push_back(0);
  m.insert(m.end(), {0, 1, 0, 1});
  Query q;
  EXPECT_EQ(parse(m, &q), ParseStatus::formerr);
}

TEST(ParseQuery, AnswerRecordsInAQueryAreFormerr) {
  auto m = QueryBuilder().build();
  m[7] = 1;  // ANCOUNT
  Query q;
  EXPECT_EQ(parse(m, &q), ParseStatus::formerr);
}

TEST(ParseQuery, EdnsFieldsAreRead) {
  QueryBuilder b;
  b.edns = true;
  b.payload = 4096;
  b.do_bit = true;
  Query q;
  ASSERT_EQ(parse(b.build(), &q), ParseStatus::ok);
  EXPECT_TRUE(q.has_edns);
  EXPECT_EQ(q.udp_payload, 4096);
  EXPECT_TRUE(q.dnssec_ok);
  EXPECT_FALSE(q.ecs.present);
}

TEST(ParseQuery, EdnsVersionOneIsBadvers) {
  QueryBuilder b;
  b.edns = true;
  b.version = 1;
  Query q;
  EXPECT_EQ(parse(b.build(), &q), ParseStatus::badvers);
}

TEST(ParseQuery, TwoOptRecordsAreFormerr) {
  QueryBuilder b;
  b.edns = true;
  auto m = b.build();
  const std::vector<uint8_t> opt(m.end() - 11, m.end());
  m.insert(m.end(), opt.begin(), opt.end());
  m[11] = 2;
  Query q;
  EXPECT_EQ(parse(m, &q), ParseStatus::formerr);
}

TEST(ParseQuery, EcsV4) {
  QueryBuilder b;
  b.ecs(1, 24, 0, {81, 2, 69});
  Query q;
  ASSERT_EQ(parse(b.build(), &q), ParseStatus::ok);
  ASSERT_TRUE(q.ecs.present);
  EXPECT_EQ(q.ecs.source_prefix, 24);
  EXPECT_EQ(q.ecs.address.to_string(), "81.2.69.0");
}

TEST(ParseQuery, EcsV6Full128AndZero) {
  std::vector<uint8_t> addr(16, 0);
  addr[0] = 0x20;
  addr[1] = 0x01;
  addr[15] = 1;
  {
    QueryBuilder b;
    b.ecs(2, 128, 0, addr);
    Query q;
    ASSERT_EQ(parse(b.build(), &q), ParseStatus::ok);
    EXPECT_EQ(q.ecs.address.to_string(), "2001::1");
  }
  {
    QueryBuilder b;
    b.ecs(1, 0, 0, {});
    Query q;
    ASSERT_EQ(parse(b.build(), &q), ParseStatus::ok);
    EXPECT_TRUE(q.ecs.present);
    EXPECT_EQ(q.ecs.source_prefix, 0);
  }
}

TEST(ParseQuery, MalformedEcsIsFormerr) {
  struct Case {
    const char* what;
    uint16_t family;
    uint8_t source;
    uint8_t scope;
    std::vector<uint8_t> addr;
  };
  const Case cases[] = {
      {"unknown family", 3, 8, 0, {1}},
      {"v4 source > 32", 1, 33, 0, {1, 2, 3, 4, 5}},
      {"v6 source > 128", 2, 129, 0, std::vector<uint8_t>(17, 0)},
      {"address too long", 1, 24, 0, {1, 2, 3, 4}},
      {"address too short", 1, 24, 0, {1, 2}},
      {"bits beyond prefix", 1, 23, 0, {1, 2, 3}},
      {"scope set in query", 1, 24, 24, {1, 2, 3}},
  };
  for (const auto& c : cases) {
    QueryBuilder b;
    b.ecs(c.family, c.source, c.scope, c.addr);
    Query q;
    EXPECT_EQ(parse(b.build(), &q), ParseStatus::formerr) << c.what;
  }
}

TEST(ParseQuery, EcsOptionShorterThanItsHeaderIsFormerr) {
  QueryBuilder b;
  b.edns = true;
  b.options = {0, 8, 0, 2, 0, 1};
  Query q;
  EXPECT_EQ(parse(b.build(), &q), ParseStatus::formerr);
}

TEST(ParseQuery, OptionLengthBeyondRdataIsFormerr) {
  QueryBuilder b;
  b.edns = true;
  b.options = {0, 99, 0, 10, 1, 2};
  Query q;
  EXPECT_EQ(parse(b.build(), &q), ParseStatus::formerr);
}

TEST(ParseQuery, CookieLengths) {
  {
    QueryBuilder b;
    b.edns = true;
    b.options = {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
    Query q;
    ASSERT_EQ(parse(b.build(), &q), ParseStatus::ok);
    EXPECT_TRUE(q.has_cookie);
  }
  {
    QueryBuilder b;
    b.edns = true;
    b.options = {0, 10, 0, 5, 1, 2, 3, 4, 5};
    Query q;
    EXPECT_EQ(parse(b.build(), &q), ParseStatus::formerr);
  }
  // A server cookie sent back: 8 to 32 bytes after the client's 8 (RFC 7873 4.2).
  for (size_t server : {0, 8, 16, 32}) {
    QueryBuilder b;
    std::vector<uint8_t> bytes(8 + server);
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i + 1);
    b.cookie(bytes);
    Query q;
    ASSERT_EQ(parse(b.build(), &q), ParseStatus::ok) << server;
    EXPECT_EQ(q.server_cookie_len, server);
    EXPECT_EQ(q.client_cookie[7], 8);
    if (server > 0) {
      EXPECT_EQ(q.server_cookie[server - 1], 8 + server);
    }
  }
  for (size_t total : {9, 15, 41}) {
    QueryBuilder b;
    b.cookie(std::vector<uint8_t>(total, 1));
    Query q;
    EXPECT_EQ(parse(b.build(), &q), ParseStatus::formerr) << total;
  }
}

TEST(ParseQuery, NoQuestionOnlyToFetchACookie) {
  // RFC 7873 5.4: QDCOUNT 0 with a COOKIE option asks for a server cookie.
  QueryBuilder b;
  b.qdcount = 0;
  b.question = false;
  b.cookie({1, 2, 3, 4, 5, 6, 7, 8});
  Query q;
  EXPECT_EQ(parse(b.build(), &q), ParseStatus::ok);
  EXPECT_FALSE(q.question_ok);
  EXPECT_TRUE(q.has_cookie);
  // Without a cookie it is malformed, as before.
  QueryBuilder plain;
  plain.qdcount = 0;
  plain.question = false;
  plain.edns = true;
  EXPECT_EQ(parse(plain.build(), &q), ParseStatus::formerr);
}

TEST(ParseQuery, UnknownOptionsAreIgnored) {
  QueryBuilder b;
  b.edns = true;
  b.options = {0xFD, 0xE9, 0, 2, 7, 7};
  Query q;
  EXPECT_EQ(parse(b.build(), &q), ParseStatus::ok);
}

TEST(ParseQuery, EveryPrefixOfAValidQueryIsHandled) {
  // No truncation point may crash or read out of bounds (ASan run).
  QueryBuilder b;
  b.ecs(1, 24, 0, {81, 2, 69});
  const auto m = b.build();
  for (size_t n = 0; n <= m.size(); ++n) {
    std::vector<uint8_t> part(m.begin(), m.begin() + static_cast<long>(n));
    Query q;
    const auto st = parse(part, &q);
    if (n < 12) {
      EXPECT_EQ(st, ParseStatus::drop);
    }
    if (n == m.size()) {
      EXPECT_EQ(st, ParseStatus::ok);
    }
  }
}

}  // namespace
}  // namespace geodns::dns
