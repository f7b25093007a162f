#include "health/overrides.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace geodns::health {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

IpAddress ip(const char* text) {
  return *IpAddress::parse(text);
}

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("geodns-health-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const char* name) const { return (path_ / name).string(); }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

TEST(Overrides, AddressAndDatacenterAreSeparate) {
  ManualClock clock;
  OverrideSet set(clock);
  ASSERT_TRUE(set.set(OverrideKey::for_address(ip("192.0.2.10")), steer::Override::force_down,
                      std::nullopt, "maintenance"));
  ASSERT_TRUE(set.set(OverrideKey::for_datacenter(7, "fra"), steer::Override::force_up,
                      std::nullopt, "pinned"));
  EXPECT_EQ(set.for_address(ip("192.0.2.10")), steer::Override::force_down);
  EXPECT_EQ(set.for_address(ip("192.0.2.11")), steer::Override::none);
  EXPECT_EQ(set.for_datacenter("fra"), steer::Override::force_up);
  EXPECT_EQ(set.for_datacenter("iad"), steer::Override::none);
  // A datacenter named like an address does not match the address override, and vice versa.
  EXPECT_EQ(set.for_datacenter("192.0.2.10"), steer::Override::none);
  EXPECT_EQ(set.active().size(), 2u);
}

TEST(Overrides, MappedAddressMatchesPlainV4) {
  ManualClock clock;
  OverrideSet set(clock);
  ASSERT_TRUE(set.set(OverrideKey::for_address(ip("::ffff:192.0.2.10")),
                      steer::Override::force_down, std::nullopt, ""));
  EXPECT_EQ(set.for_address(ip("192.0.2.10")), steer::Override::force_down);
}

TEST(Overrides, ReplaceAndClear) {
  ManualClock clock;
  OverrideSet set(clock);
  const auto key = OverrideKey::for_datacenter("fra");
  ASSERT_TRUE(set.set(key, steer::Override::force_down, std::nullopt, "a"));
  ASSERT_TRUE(
      set.set(OverrideKey::for_datacenter(3, "fra"), steer::Override::force_up, std::nullopt, "b"));
  ASSERT_EQ(set.active().size(), 1u);  // same datacenter, whatever the id hint
  EXPECT_EQ(set.active()[0].reason, "b");
  EXPECT_EQ(set.for_datacenter("fra"), steer::Override::force_up);
  EXPECT_TRUE(set.clear(key));
  EXPECT_FALSE(set.clear(key));
  EXPECT_EQ(set.for_datacenter("fra"), steer::Override::none);
}

TEST(Overrides, RejectsBadRequests) {
  ManualClock clock;
  OverrideSet set(clock);
  EXPECT_FALSE(
      set.set(OverrideKey::for_datacenter("fra"), steer::Override::none, std::nullopt, ""));
  EXPECT_FALSE(
      set.set(OverrideKey::for_datacenter(""), steer::Override::force_up, std::nullopt, ""));
  const auto past = clock.wall_now() - seconds(1);
  const auto st = set.set(OverrideKey::for_datacenter("fra"), steer::Override::force_up, past, "");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("past"), std::string::npos);
  EXPECT_TRUE(set.empty());
}

TEST(Overrides, ExpiryDropsThem) {
  ManualClock clock;
  OverrideSet set(clock);
  const auto expires = clock.wall_now() + minutes(10);
  ASSERT_TRUE(set.set(OverrideKey::for_address(ip("2001:db8::1")), steer::Override::force_down,
                      expires, "deploy"));
  ASSERT_TRUE(set.set(OverrideKey::for_datacenter("iad"), steer::Override::force_down, std::nullopt,
                      "forever"));
  EXPECT_EQ(set.next_expiry(), expires);
  clock.advance(minutes(9));
  EXPECT_EQ(set.for_address(ip("2001:db8::1")), steer::Override::force_down);
  EXPECT_FALSE(set.prune_expired());
  clock.advance(minutes(1));
  // Expired overrides stop applying at once, even before pruning.
  EXPECT_EQ(set.for_address(ip("2001:db8::1")), steer::Override::none);
  EXPECT_EQ(set.active().size(), 1u);
  EXPECT_TRUE(set.prune_expired());
  EXPECT_FALSE(set.next_expiry().has_value());
  EXPECT_EQ(set.for_datacenter("iad"), steer::Override::force_down);
}

TEST(Overrides, KeyTextRoundTrip) {
  for (const auto& key :
       {OverrideKey::for_datacenter("eu fra/1"), OverrideKey::for_address(ip("192.0.2.1")),
        OverrideKey::for_address(ip("2001:db8::53"))}) {
    auto back = OverrideKey::parse(key.to_string());
    ASSERT_TRUE(back.has_value()) << key.to_string();
    EXPECT_TRUE(back->same_target(key)) << key.to_string();
  }
  EXPECT_EQ(OverrideKey::for_datacenter("fra").to_string(), "dc:fra");
  EXPECT_FALSE(OverrideKey::parse("addr:not-an-ip").has_value());
  EXPECT_FALSE(OverrideKey::parse("host:x").has_value());
}

TEST(Overrides, EscapeRoundTrip) {
  for (const std::string s : {"", "-", "plain", "two words", "100%", "tab\tnew\nline", "é"}) {
    const std::string e = escape_field(s);
    EXPECT_EQ(e.find(' '), std::string::npos);
    EXPECT_EQ(e.find('\n'), std::string::npos);
    EXPECT_EQ(unescape_field(e), s) << e;
  }
  EXPECT_FALSE(unescape_field("%4").has_value());
  EXPECT_FALSE(unescape_field("%zz").has_value());
}

TEST(Overrides, PersistenceRoundTrip) {
  TempDir dir;
  const std::string path = dir.file("overrides.state");
  ManualClock clock;
  OverrideSet set(clock);
  const auto expires = clock.wall_now() + minutes(30);
  ASSERT_TRUE(set.set(OverrideKey::for_datacenter(4, "fra"), steer::Override::force_down,
                      std::nullopt, "drain for maintenance, ticket #42"));
  ASSERT_TRUE(set.set(OverrideKey::for_address(ip("198.51.100.10")), steer::Override::force_up,
                      expires, ""));
  ASSERT_TRUE(set.save(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));

  OverrideSet restored(clock);
  const auto report = restored.load(path);
  EXPECT_TRUE(report.errors.empty());
  EXPECT_EQ(report.loaded, 2u);
  const auto items = restored.active();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].key.datacenter, "fra");
  EXPECT_FALSE(items[0].key.has_dc_id);  // ids are resolved again by name
  EXPECT_EQ(items[0].mode, steer::Override::force_down);
  EXPECT_EQ(items[0].reason, "drain for maintenance, ticket #42");
  EXPECT_FALSE(items[0].expires.has_value());
  EXPECT_EQ(items[1].key.address, ip("198.51.100.10"));
  EXPECT_EQ(items[1].mode, steer::Override::force_up);
  ASSERT_TRUE(items[1].expires.has_value());
  EXPECT_EQ(std::chrono::time_point_cast<std::chrono::milliseconds>(*items[1].expires),
            std::chrono::time_point_cast<std::chrono::milliseconds>(expires));
  EXPECT_EQ(items[1].reason, "");
}

TEST(Overrides, LoadSkipsExpiredAndReportsBadLines) {
  TempDir dir;
  const std::string path = dir.file("overrides.state");
  ManualClock clock;
  {
    OverrideSet set(clock);
    ASSERT_TRUE(set.set(OverrideKey::for_datacenter("fra"), steer::Override::force_down,
                        clock.wall_now() + seconds(5), "short"));
    ASSERT_TRUE(set.save(path));
  }
  {
    std::ofstream out(path, std::ios::app);
    out << "dc:iad sideways - 0 why\n";
    out << "garbage\n";
    out << "addr:192.0.2.1 up - 0 ok\n";
  }
  clock.advance(seconds(10));
  OverrideSet set(clock);
  const auto report = set.load(path);
  EXPECT_EQ(report.loaded, 1u);
  EXPECT_EQ(report.expired, 1u);
  ASSERT_EQ(report.errors.size(), 2u);
  EXPECT_EQ(report.errors[0].line, 3u);
  EXPECT_NE(report.errors[0].to_string().find("overrides.state:3: bad mode"), std::string::npos)
      << report.errors[0].to_string();
  EXPECT_EQ(report.errors[1].line, 4u);
  EXPECT_EQ(set.for_address(ip("192.0.2.1")), steer::Override::force_up);
  EXPECT_EQ(set.for_datacenter("fra"), steer::Override::none);
}

TEST(Overrides, MissingFileIsEmptyWithoutError) {
  TempDir dir;
  ManualClock clock;
  OverrideSet set(clock);
  const auto report = set.load(dir.file("nope.state"));
  EXPECT_TRUE(report.errors.empty());
  EXPECT_EQ(report.loaded, 0u);
  EXPECT_TRUE(set.empty());
}

TEST(Overrides, SaveIntoMissingDirectoryFails) {
  TempDir dir;
  ManualClock clock;
  OverrideSet set(clock);
  const auto st = set.save(dir.file("no/such/dir/overrides.state"));
  EXPECT_FALSE(st);
}

}  // namespace
}  // namespace geodns::health
