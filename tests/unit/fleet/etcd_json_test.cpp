// etcd's gateway JSON both ways, and hostile responses: every one is an Error, none throws
// or crashes (the parser runs on whatever an endpoint sends).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "fleet/base64.h"
#include "fleet/etcd_json.h"

namespace geodns::fleet {
namespace {

TEST(Base64, RoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 300; ++i) {
    bytes.push_back(static_cast<char>(i * 37));
    auto back = base64_decode(base64_encode(bytes));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, bytes);
  }
  EXPECT_EQ(base64_encode("/geodns/"), "L2dlb2Rucy8=");
}

TEST(Base64, RejectsMalformed) {
  for (const char* bad : {"a", "abc", "ab=c", "a===", "====", "ab$=", "YQ==YQ==", "Y Q="}) {
    EXPECT_FALSE(base64_decode(bad)) << bad;
  }
  EXPECT_EQ(*base64_decode(""), "");
}

TEST(EtcdJson, PrefixRangeEnd) {
  EXPECT_EQ(prefix_range_end("/geodns/"), "/geodns0");
  EXPECT_EQ(prefix_range_end(std::string("a\xff", 2)), "b");
  EXPECT_EQ(prefix_range_end(std::string("\xff\xff", 2)), std::string(1, '\0'));
}

TEST(EtcdJson, RequestsCarryBase64AndStringInts) {
  auto j = nlohmann::json::parse(put_request("/k", "v", 42));
  EXPECT_EQ(j["key"], base64_encode("/k"));
  EXPECT_EQ(j["value"], base64_encode("v"));
  EXPECT_EQ(j["lease"], "42");
  EXPECT_FALSE(nlohmann::json::parse(put_request("/k", "v", 0)).contains("lease"));
  auto w = nlohmann::json::parse(watch_request("/geodns/", 7));
  EXPECT_EQ(w["create_request"]["start_revision"], "7");
  EXPECT_EQ(w["create_request"]["range_end"], base64_encode("/geodns0"));
  // Bytes that are not UTF-8 in a password do not throw.
  EXPECT_NO_THROW((void)auth_request("u", std::string("\xff\xfe", 2)));
}

TEST(EtcdJson, ParsesRange) {
  const std::string body = R"({"header":{"revision":"12"},"kvs":[{"key":")" +
                           base64_encode("/geodns/t/members/a") + R"(","value":")" +
                           base64_encode("{}") +
                           R"(","mod_revision":"5","lease":"7587"}],"count":"1"})";
  auto r = parse_range(body);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->revision, 12);
  ASSERT_EQ(r->kvs.size(), 1u);
  EXPECT_EQ(r->kvs[0].key, "/geodns/t/members/a");
  EXPECT_EQ(r->kvs[0].value, "{}");
  EXPECT_EQ(r->kvs[0].lease, 7587);
  // No kvs at all (proto3 JSON omits empty lists) is an empty range.
  auto empty = parse_range(R"({"header":{"revision":3}})");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->kvs.empty());
  EXPECT_EQ(empty->revision, 3);
}

TEST(EtcdJson, ParsesLeaseKeepaliveAuth) {
  auto g = parse_lease_grant(R"({"header":{},"ID":"2324035753991579653","TTL":"10"})");
  ASSERT_TRUE(g) << g.error().to_string();
  EXPECT_EQ(g->id, 2324035753991579653);
  EXPECT_EQ(g->ttl_s, 10);
  auto k = parse_keepalive(R"({"result":{"header":{},"ID":"5","TTL":"9"}})"
                           "\n");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->ttl_s, 9);
  // An expired lease: TTL absent (proto3 default) reads as 0.
  auto gone = parse_keepalive(R"({"result":{"ID":"5"}})");
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->ttl_s, 0);
  auto t = parse_auth(R"({"header":{},"token":"abc.123"})");
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, "abc.123");
}

TEST(EtcdJson, ParsesWatchMessages) {
  const std::string put = R"({"result":{"header":{"revision":"9"},"events":[{"kv":{"key":")" +
                          base64_encode("/k") + R"(","value":")" + base64_encode("v") +
                          R"("}},{"type":"DELETE","kv":{"key":")" + base64_encode("/d") +
                          R"("}}]}})";
  auto m = parse_watch_message(put);
  ASSERT_TRUE(m) << m.error().to_string();
  EXPECT_EQ(m->revision, 9);
  ASSERT_EQ(m->events.size(), 2u);
  EXPECT_EQ(m->events[0].type, WatchEvent::Type::put);  // no "type": PUT (proto3 default)
  EXPECT_EQ(m->events[0].kv.value, "v");
  EXPECT_EQ(m->events[1].type, WatchEvent::Type::del);
  EXPECT_EQ(m->events[1].kv.key, "/d");
  auto created = parse_watch_message(R"({"result":{"header":{},"created":true}})");
  ASSERT_TRUE(created);
  EXPECT_TRUE(created->created);
  auto canceled = parse_watch_message(
      R"({"result":{"canceled":true,"compact_revision":"4","cancel_reason":"compacted"}})");
  ASSERT_TRUE(canceled);
  EXPECT_TRUE(canceled->canceled);
  EXPECT_EQ(canceled->compact_revision, 4);
}

TEST(EtcdJson, GatewayErrorsBecomeTheirMessage) {
  auto r = parse_range(R"({"error":"etcdserver: invalid auth token","code":16,)"
                       R"("message":"etcdserver: invalid auth token"})");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("invalid auth token"), std::string::npos);
  EXPECT_NE(r.error().message.find("code 16"), std::string::npos);
  // An empty "error" string is no error (LeaseGrantResponse has such a field).
  EXPECT_TRUE(parse_lease_grant(R"({"ID":"1","TTL":"5","error":""})"));
}

// Every hostile body: an Error, never an exception, never a crash.
TEST(EtcdJson, HostileResponsesAreErrors) {
  const std::string deep(100000, '[');
  const std::string deep_obj = "{\"a\":" + std::string(5000, '[') + std::string(5000, ']') + "}";
  const std::vector<std::string> bodies = {
      "",
      "not json",
      "[]",
      "42",
      "\"str\"",
      "null",
      deep,
      deep_obj,
      R"({"kvs":"nope"})",
      R"({"kvs":[1,2]})",
      R"({"kvs":[{"key":"!!notbase64"}]})",
      R"({"kvs":[{"key":123}]})",
      R"({"header":"x"})",
      R"({"header":{"revision":"12x"}})",
      R"({"header":{"revision":1.5}})",
      R"({"header":{"revision":"99999999999999999999999"}})",
      R"({"header":{"revision":[1]}})",
      R"({"kvs":[{"key":"YQ==","lease":{}}]})",
      "{\"kvs\":[{\"key\":\"YQ==\"}]",  // truncated
      std::string("{\"a\":\"\0\"}", 9),
      R"({"error":{"message":"boom"}})",
  };
  for (const auto& b : bodies) {
    EXPECT_NO_THROW({
      auto r = parse_range(b);
      EXPECT_FALSE(r) << b.substr(0, 60);
    });
  }
  for (const auto& b :
       {std::string(R"({"ID":"x"})"), std::string(R"({"TTL":"5"})"), deep, std::string("{")}) {
    EXPECT_NO_THROW(EXPECT_FALSE(parse_lease_grant(b)));
    EXPECT_NO_THROW(EXPECT_FALSE(parse_keepalive(b)));
    EXPECT_NO_THROW(EXPECT_FALSE(parse_auth(b)));
  }
  for (const auto& b : {std::string(R"({"result":[]})"), std::string(R"({"result":{"events":{}}})"),
                        std::string(R"({"result":{"events":[1]}})"),
                        std::string(R"({"result":{"events":[{"type":"EXPLODE","kv":{}}]}})"),
                        std::string(R"({"result":{"events":[{"type":7,"kv":{}}]}})"),
                        std::string(R"({"result":{"events":[{"type":"PUT"}]}})"), deep}) {
    EXPECT_NO_THROW(EXPECT_FALSE(parse_watch_message(b))) << b.substr(0, 60);
  }
}

TEST(JsonStreamSplitter, SplitsAcrossChunks) {
  JsonStreamSplitter s(1024);
  std::vector<std::string> out;
  ASSERT_TRUE(s.feed(R"({"a":"}{\"x"}{"b")", &out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], R"({"a":"}{\"x"})");  // braces inside strings do not count
  ASSERT_TRUE(s.feed(":[1,{}]}\n\n{\"c\":1}\n", &out));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[1], R"({"b":[1,{}]})");
  EXPECT_EQ(out[2], R"({"c":1})");
}

TEST(JsonStreamSplitter, BoundsAndShape) {
  {
    JsonStreamSplitter s(16);
    std::vector<std::string> out;
    EXPECT_FALSE(s.feed(R"({"a":"0123456789abcdef"})", &out));  // larger than the bound
  }
  {
    JsonStreamSplitter s(1 << 20);
    std::vector<std::string> out;
    EXPECT_FALSE(s.feed("[1]", &out));  // not an object
  }
  {
    JsonStreamSplitter s(1 << 20);
    std::vector<std::string> out;
    EXPECT_FALSE(s.feed("{" + std::string(1000, '['), &out));  // too deep
  }
  {
    JsonStreamSplitter s(1 << 20);
    std::vector<std::string> out;
    EXPECT_FALSE(s.feed("{]]", &out));
  }
}

}  // namespace
}  // namespace geodns::fleet
