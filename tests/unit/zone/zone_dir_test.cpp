// load_zone_dir: many files, a broken one keeps its previous zone, duplicates, removals.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "zone/loader.h"

namespace geodns::zone {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;

std::string zone_text(const std::string& name, const std::string& address) {
  return "[zone]\nname = \"" + name +
         "\"\n[zone.soa]\nmname = \"ns1\"\nrname = \"hostmaster\"\n[records]\n\"@\" = \"NS "
         "ns1\"\nns1 = \"A " +
         address + "\"\n";
}

// A private scratch directory, removed at the end of each test.
class ZoneDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("geodns-zone-dir-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& file, const std::string& text) {
    std::ofstream(dir_ / file, std::ios::binary | std::ios::trunc) << text;
  }
  std::string path(const std::string& file) const { return (dir_ / file).string(); }
  LoadReport load(const ZoneSet* previous) {
    return load_zone_dir(dir_.string(), ServerConfig{}, previous);
  }

  fs::path dir_;
};

const Zone* find(const ZoneSet& set, const std::string& origin_wire) {
  auto it = set.by_origin.find(origin_wire);
  return it == set.by_origin.end() ? nullptr : set.zones[it->second].get();
}

TEST_F(ZoneDir, LoadsEveryTomlFileSorted) {
  write("b.test.toml", zone_text("b.test.", "192.0.2.2"));
  write("a.toml", zone_text("a.test.", "192.0.2.1"));
  write("notes.txt", "not a zone");
  write(".a.toml.swp", "editor junk");
  auto r = load(nullptr);
  EXPECT_TRUE(r.errors.empty()) << r.errors[0].to_string();
  ASSERT_EQ(r.zones->zones.size(), 2u);
  EXPECT_EQ(r.zones->zones[0]->origin_text, "a.test.");
  EXPECT_EQ(r.zones->zones[0]->source_file, path("a.toml"));
  EXPECT_EQ(r.zones->zones[1]->origin_text, "b.test.");
  EXPECT_NE(find(*r.zones, "\1a\4test\0"s), nullptr);
  EXPECT_EQ(r.zones->generation, 1u);
}

TEST_F(ZoneDir, BrokenFileKeepsPreviousZone) {
  write("a.toml", zone_text("a.test.", "192.0.2.1"));
  write("b.toml", zone_text("b.test.", "192.0.2.2"));
  auto first = load(nullptr);
  ASSERT_TRUE(first.errors.empty());
  const Zone* old_a = find(*first.zones, "\1a\4test\0"s);
  const Zone* old_b = find(*first.zones, "\1b\4test\0"s);
  ASSERT_TRUE(old_a && old_b);

  write("b.toml", zone_text("b.test.", "192.0.2.2") + "[steer.www]\npolicy = \"geo\"\n");
  auto second = load(first.zones.get());
  ASSERT_EQ(second.errors.size(), 1u);
  EXPECT_EQ(second.errors[0].file, path("b.toml"));
  EXPECT_EQ(second.errors[0].line, 9u);  // the [steer.www] table
  EXPECT_NE(second.errors[0].message.find("map.default"), std::string::npos);
  ASSERT_EQ(second.zones->zones.size(), 2u);
  EXPECT_EQ(find(*second.zones, "\1b\4test\0"s), old_b);  // the very same snapshot
  const Zone* new_a = find(*second.zones, "\1a\4test\0"s);
  ASSERT_NE(new_a, nullptr);
  EXPECT_EQ(new_a->serial, old_a->serial);  // unchanged file, unchanged serial
  EXPECT_EQ(second.zones->generation, 2u);

  // Fixed: the new version replaces it, with a serial that moved forward.
  write("b.toml", zone_text("b.test.", "192.0.2.3"));
  auto third = load(second.zones.get());
  EXPECT_TRUE(third.errors.empty());
  const Zone* new_b = find(*third.zones, "\1b\4test\0"s);
  ASSERT_NE(new_b, nullptr);
  EXPECT_NE(new_b, old_b);
  EXPECT_GT(new_b->serial, old_b->serial);
}

TEST_F(ZoneDir, BrokenFileWithoutPreviousIsLeftOut) {
  write("a.toml", zone_text("a.test.", "192.0.2.1"));
  write("b.toml", "[zone\n");
  auto r = load(nullptr);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].file, path("b.toml"));
  EXPECT_EQ(r.errors[0].line, 1u);
  EXPECT_EQ(r.zones->zones.size(), 1u);
}

TEST_F(ZoneDir, RemovedFileDropsItsZone) {
  write("a.toml", zone_text("a.test.", "192.0.2.1"));
  write("b.toml", zone_text("b.test.", "192.0.2.2"));
  auto first = load(nullptr);
  fs::remove(dir_ / "b.toml");
  auto second = load(first.zones.get());
  EXPECT_TRUE(second.errors.empty());
  ASSERT_EQ(second.zones->zones.size(), 1u);
  EXPECT_EQ(find(*second.zones, "\1b\4test\0"s), nullptr);
}

TEST_F(ZoneDir, TwoFilesWithOneOriginIsAnError) {
  write("a.toml", zone_text("a.test.", "192.0.2.1"));
  write("b.toml", zone_text("A.TEST.", "192.0.2.2"));
  auto r = load(nullptr);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].file, path("b.toml"));
  EXPECT_NE(r.errors[0].message.find("already loaded from " + path("a.toml")), std::string::npos)
      << r.errors[0].message;
  ASSERT_EQ(r.zones->zones.size(), 1u);
  EXPECT_EQ(r.zones->zones[0]->source_file, path("a.toml"));
}

TEST_F(ZoneDir, RenamedZoneContinuesItsSerial) {
  write("a.toml", zone_text("a.test.", "192.0.2.1"));
  auto first = load(nullptr);
  ASSERT_EQ(first.zones->zones.size(), 1u);
  const Zone& loaded = *first.zones->zones[0];
  auto bumped = std::make_shared<Zone>();  // what the serial logic reads of a previous zone
  bumped->origin = loaded.origin;
  bumped->origin_text = loaded.origin_text;
  bumped->source_file = loaded.source_file;
  bumped->content_hash = loaded.content_hash;
  bumped->serial = loaded.serial + 1000000;  // ahead of the clock
  ZoneSet prev;
  prev.zones.push_back(bumped);
  prev.reindex();
  fs::rename(dir_ / "a.toml", dir_ / "renamed.toml");
  write("renamed.toml", zone_text("a.test.", "192.0.2.9"));
  auto second = load(&prev);
  ASSERT_TRUE(second.errors.empty());
  ASSERT_EQ(second.zones->zones.size(), 1u);
  EXPECT_EQ(second.zones->zones[0]->serial, bumped->serial + 1);
}

std::string zone_with_dcs(const std::string& name, const std::vector<std::string>& dcs) {
  std::string text = zone_text(name, "192.0.2.1");
  for (size_t i = 0; i < dcs.size(); ++i) {
    text += "[datacenters." + dcs[i] + "]\naddresses = [\"198.51.100." + std::to_string(10 + i) +
            "\"]\n";
  }
  return text;
}

const steer::Datacenter* dc_named(const Zone& z, const std::string& name) {
  for (const auto& dc : z.datacenters) {
    if (dc.name == name) return &dc;
  }
  return nullptr;
}

// Ids belong to the loaded ZoneSet: a key keeps its id across reloads (also in a zone rebuilt
// from an edited file), ids of keys gone are dropped and handed out again, not one load
// later (a worker may still read them against the new view) but after that.
TEST_F(ZoneDir, IdsAreStableByKeyAndDroppedWhenUnused) {
  write("a.toml", zone_with_dcs("a.test.", {"fra", "iad"}));
  write("b.toml", zone_with_dcs("b.test.", {"sfo"}));
  auto first = load(nullptr);
  ASSERT_TRUE(first.errors.empty()) << first.errors[0].to_string();
  const Zone* a1 = find(*first.zones, "\1a\4test\0"s);
  ASSERT_NE(a1, nullptr);
  const steer::DcId iad = dc_named(*a1, "iad")->id;
  const steer::TargetId iad_target = dc_named(*a1, "iad")->v4[0].target;
  EXPECT_EQ(first.zones->ids.datacenters.size(), 3u);
  EXPECT_EQ(first.zones->ids.datacenters.find("a.test/iad"), iad);

  // b.test goes, a.test is edited (fra removed; iad keeps its address).
  fs::remove(dir_ / "b.toml");
  write("a.toml",
        zone_text("a.test.", "192.0.2.1") + "[datacenters.iad]\naddresses = [\"198.51.100.11\"]\n");
  auto second = load(first.zones.get());
  ASSERT_TRUE(second.errors.empty()) << second.errors[0].to_string();
  const Zone* a2 = find(*second.zones, "\1a\4test\0"s);
  ASSERT_NE(a2, nullptr);
  EXPECT_EQ(dc_named(*a2, "iad")->id, iad);
  EXPECT_EQ(dc_named(*a2, "iad")->v4[0].target, iad_target);
  EXPECT_EQ(second.zones->ids.datacenters.size(), 1u);
  EXPECT_FALSE(second.zones->ids.datacenters.find("a.test/fra"));
  EXPECT_FALSE(second.zones->ids.datacenters.find("b.test/sfo"));
  EXPECT_EQ(second.zones->ids.targets.size(), 1u);

  // The next load may reuse the dropped ids; they never grow past what was ever in use.
  write("c.toml", zone_with_dcs("c.test.", {"ams", "lhr"}));
  auto third = load(second.zones.get());
  ASSERT_TRUE(third.errors.empty()) << third.errors[0].to_string();
  EXPECT_EQ(third.zones->ids.datacenters.size(), 3u);
  EXPECT_EQ(third.zones->ids.datacenters.bound(), 3u);
  EXPECT_EQ(third.zones->ids.datacenters.find("a.test/iad"), iad);
}

TEST_F(ZoneDir, MissingDirectoryIsAnError) {
  auto r = load_zone_dir((dir_ / "nope").string(), ServerConfig{}, nullptr);
  ASSERT_EQ(r.errors.size(), 1u);
  ASSERT_TRUE(r.zones);
  EXPECT_TRUE(r.zones->zones.empty());
}

}  // namespace
}  // namespace geodns::zone
