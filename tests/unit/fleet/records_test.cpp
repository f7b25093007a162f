// Override and vote values: what servers write reads back, and what a person writes with
// etcdctl is accepted or rejected with the field named.
#include <gtest/gtest.h>

#include <string>

#include "fleet/records.h"

namespace geodns::fleet {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

TEST(Records, OverrideRoundTrip) {
  OverrideRecord o;
  o.key = "dc:fra";
  o.down = true;
  o.expires = system_clock::time_point(seconds(1800003600));
  o.reason = "maintenance \"ticket 7\"";
  o.author = "ns1";
  o.created = system_clock::time_point(seconds(1800000000));
  auto back = decode_override("dc:fra", encode_override(o));
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, o);
}

TEST(Records, HandWrittenOverride) {
  auto o = decode_override("addr:192.0.2.10", R"({"mode":"up"})");
  ASSERT_TRUE(o);
  EXPECT_FALSE(o->down);
  EXPECT_FALSE(o->expires);
  EXPECT_EQ(o->key, "addr:192.0.2.10");
  // Unknown fields are kept out, not fatal (newer servers may add some).
  EXPECT_TRUE(decode_override("dc:a", R"({"mode":"down","future":[1,2]})"));
}

TEST(Records, BadOverridesNameTheField) {
  struct Case {
    const char* json;
    const char* needle;
  };
  for (const Case& c :
       {Case{"", "not valid JSON"}, Case{"[]", "not a JSON object"}, Case{"{}", "\"mode\""},
        Case{R"({"mode":"drain"})", "\"mode\""}, Case{R"({"mode":1})", "\"mode\""},
        Case{R"({"mode":"down","expires":"tomorrow"})", "\"expires\""},
        Case{R"({"mode":"down","expires":1e300})", "\"expires\""},
        Case{R"({"mode":"down","expires":-5})", "\"expires\""},
        Case{R"({"mode":"down","expires":18446744073709551615})", "\"expires\""},
        Case{R"({"mode":"down","reason":{}})", "\"reason\""}}) {
    auto o = decode_override("dc:a", c.json);
    ASSERT_FALSE(o) << c.json;
    EXPECT_NE(o.error().message.find(c.needle), std::string::npos)
        << c.json << " -> " << o.error().message;
  }
  EXPECT_FALSE(decode_override("dc:a", std::string(100000, '{')));
  EXPECT_FALSE(decode_override("dc:a", std::string(70000, ' ') + "{}"));
}

TEST(Records, VoteRoundTripAndErrors) {
  VoteRecord v{false, "http|port=80@192.0.2.10", system_clock::time_point(seconds(1800000000))};
  auto back = decode_vote(encode_vote(v));
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->up);
  EXPECT_EQ(back->target, v.target);
  EXPECT_FALSE(decode_vote(R"({"up":"no"})"));
  EXPECT_FALSE(decode_vote(R"({})"));
  EXPECT_FALSE(decode_vote("garbage"));
  // Bytes that are not UTF-8 in a target key do not throw when encoded.
  EXPECT_NO_THROW((void)encode_vote(VoteRecord{true, std::string("\xff", 1), {}}));
}

}  // namespace
}  // namespace geodns::fleet
