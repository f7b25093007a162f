// The key layout: what is built parses back, foreign keys are ignored.
#include <gtest/gtest.h>

#include "fleet/keys.h"

namespace geodns::fleet {
namespace {

TEST(KeyLayout, BuildsTheDocumentedKeys) {
  KeyLayout k("prod");
  EXPECT_EQ(k.root(), "/geodns/prod/");
  EXPECT_EQ(k.member("ns1"), "/geodns/prod/members/ns1");
  EXPECT_EQ(k.vote("00ff", "ns1"), "/geodns/prod/votes/00ff/ns1");
  EXPECT_EQ(k.override_key("dc:fra"), "/geodns/prod/overrides/dc/fra");
  EXPECT_EQ(k.override_key("dc:example.com/iad"), "/geodns/prod/overrides/dc/example.com/iad");
  EXPECT_EQ(k.override_key("addr:2001:db8::1"), "/geodns/prod/overrides/addr/2001:db8::1");
  EXPECT_EQ(k.override_key("bogus"), "");
  EXPECT_EQ(k.override_key("dc:"), "");
}

TEST(KeyLayout, ParsesBack) {
  KeyLayout k("prod");
  auto m = k.parse(k.member("ns-1.a"));
  EXPECT_EQ(m.kind, KeyLayout::Kind::member);
  EXPECT_EQ(m.server, "ns-1.a");
  auto v = k.parse(k.vote("abc", "ns2"));
  EXPECT_EQ(v.kind, KeyLayout::Kind::vote);
  EXPECT_EQ(v.target_id, "abc");
  EXPECT_EQ(v.server, "ns2");
  auto o = k.parse(k.override_key("dc:example.com/iad"));
  EXPECT_EQ(o.kind, KeyLayout::Kind::override_);
  EXPECT_EQ(o.override_, "dc:example.com/iad");
  auto a = k.parse(k.override_key("addr:192.0.2.1"));
  EXPECT_EQ(a.override_, "addr:192.0.2.1");
}

TEST(KeyLayout, IgnoresForeignAndMalformedKeys) {
  KeyLayout k("prod");
  for (const char* key :
       {"/geodns/other/members/ns1", "/geodns/prod/members/", "/geodns/prod/x",
        "/geodns/prod/votes/abc", "/geodns/prod/votes//ns1", "/geodns/prod/votes/abc/bad name",
        "/geodns/prod/overrides/dc/", "/geodns/prod/overrides/zone/x", "", "/geodns/prod"}) {
    EXPECT_EQ(k.parse(key).kind, KeyLayout::Kind::other) << key;
  }
}

TEST(KeyLayout, TargetIdIsStableAndShort) {
  const std::string a = target_id("http|port=80|path=/@192.0.2.10");
  EXPECT_EQ(a.size(), 16u);
  EXPECT_EQ(a, target_id("http|port=80|path=/@192.0.2.10"));
  EXPECT_NE(a, target_id("http|port=80|path=/@192.0.2.11"));
  // Pinned: servers of different versions must name a target alike.
  EXPECT_EQ(target_id(""), "f52a15e9a9b5e89b");
}

TEST(KeyLayout, Names) {
  EXPECT_TRUE(is_valid_name("ns1.fra-2_b"));
  EXPECT_FALSE(is_valid_name(""));
  EXPECT_FALSE(is_valid_name("a/b"));
  EXPECT_FALSE(is_valid_name(std::string(65, 'a')));
}

}  // namespace
}  // namespace geodns::fleet
