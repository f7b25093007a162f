// The last good zone store and the automatic serial: a zone broken at start-up serves its
// stored version, the serial is a function of the files (content and modification times)
// and continues across restarts.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "zone/last_good.h"
#include "zone/loader.h"

namespace geodns::zone {
namespace {

namespace fs = std::filesystem;

std::string zone_text(const std::string& address) {
  return "[zone]\nname = \"lg.test.\"\n[zone.soa]\nmname = \"ns1\"\nrname = \"hostmaster\"\n"
         "[records]\n\"@\" = \"NS ns1\"\nns1 = \"A " +
         address + "\"\n";
}

// A private scratch directory per test: zones/ and the store's last-good/.
fs::path scratch() {
  return fs::temp_directory_path() /
         ("geodns-last-good-test-" + std::to_string(::getpid()) + "-" +
          ::testing::UnitTest::GetInstance()->current_test_info()->name());
}

class LastGood : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::remove_all(root_);
    fs::create_directories(root_ / "zones");
  }
  void TearDown() override { fs::remove_all(root_); }
  // Writes a zone file with the given modification time (seconds since the epoch).
  void write(const std::string& text, time_t mtime_s) {
    const auto p = (root_ / "zones" / "lg.test.toml").string();
    std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
    timespec times[2] = {{mtime_s, 0}, {mtime_s, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, 0), 0);
  }
  LoadReport load(const ZoneSet* previous, bool with_store = true) {
    return load_zone_dir((root_ / "zones").string(), ServerConfig{}, previous, nullptr,
                         with_store ? &store_ : nullptr);
  }
  fs::path root_ = scratch();
  LastGoodStore store_{(scratch() / "last-good").string()};
};

TEST_F(LastGood, SerialIsTheFileTimeOnEveryServerAndEveryRestart) {
  write(zone_text("192.0.2.1"), 1'700'000'000);
  auto first = load(nullptr, false);
  ASSERT_TRUE(first.errors.empty()) << first.errors[0].to_string();
  EXPECT_EQ(first.zones->zones[0]->serial, 1'700'000'000u);
  // Another server, or a restart, with the same file: the same serial.
  auto again = load(nullptr, false);
  EXPECT_EQ(again.zones->zones[0]->serial, 1'700'000'000u);
  // An edit moves it to the new time.
  write(zone_text("192.0.2.2"), 1'700'000'100);
  auto edited = load(first.zones.get(), false);
  EXPECT_EQ(edited.zones->zones[0]->serial, 1'700'000'100u);
}

TEST_F(LastGood, TwoEditsWithinOneSecondStillIncreaseAndSurviveARestart) {
  write(zone_text("192.0.2.1"), 1'700'000'000);
  auto a = load(nullptr);
  ASSERT_TRUE(a.errors.empty()) << a.errors[0].to_string();
  write(zone_text("192.0.2.2"), 1'700'000'000);
  auto b = load(a.zones.get());
  EXPECT_EQ(b.zones->zones[0]->serial, 1'700'000'001u);
  // A restart (no previous in memory) keeps that serial: the store remembers it.
  auto restarted = load(nullptr);
  EXPECT_EQ(restarted.zones->zones[0]->serial, 1'700'000'001u);
}

TEST_F(LastGood, BrokenFileAtStartupServesTheLastGoodVersion) {
  write(zone_text("192.0.2.1"), 1'700'000'000);
  auto good = load(nullptr);
  ASSERT_TRUE(good.errors.empty());
  EXPECT_TRUE(fs::exists(store_.path_for("lg.test.toml")));
  write(zone_text("192.0.2.1") + "broken = [\n", 1'700'000'050);
  auto r = load(nullptr);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].to_string().find("lg.test.toml:"), std::string::npos);
  EXPECT_NE(r.errors[0].message.find("serving its last good version, serial 1700000000"),
            std::string::npos)
      << r.errors[0].to_string();
  ASSERT_EQ(r.zones->zones.size(), 1u);
  EXPECT_EQ(r.zones->zones[0]->serial, 1'700'000'000u);
  EXPECT_EQ(r.zones->zones[0]->source_file, (root_ / "zones" / "lg.test.toml").string());
  // The broken version was not stored: the next start still has the good one.
  auto entry = store_.find("lg.test.toml");
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->text, zone_text("192.0.2.1"));
  // Fixed: loads and replaces the stored version.
  write(zone_text("192.0.2.9"), 1'700'000'060);
  auto fixed = load(r.zones.get());
  EXPECT_TRUE(fixed.errors.empty());
  EXPECT_EQ(fixed.zones->zones[0]->serial, 1'700'000'060u);
  EXPECT_EQ(store_.find("lg.test.toml")->text, zone_text("192.0.2.9"));
}

TEST_F(LastGood, BrokenFileWithoutALastGoodVersionIsNotServed) {
  write(zone_text("192.0.2.1") + "broken = [\n", 1'700'000'000);
  auto r = load(nullptr);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("zone not served"), std::string::npos)
      << r.errors[0].to_string();
  EXPECT_TRUE(r.zones->zones.empty());
}

TEST_F(LastGood, DamagedStoreEntryCountsAsNone) {
  fs::create_directories(fs::path(store_.path_for("x")).parent_path());
  std::ofstream(store_.path_for("lg.test.toml")) << "not a stored zone\n";
  EXPECT_FALSE(store_.find("lg.test.toml"));
}

}  // namespace
}  // namespace geodns::zone
