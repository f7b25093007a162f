// load_zone_dir with the previous config: an unchanged zone is reused as it is (the same
// Zone object), an edited one or one whose shared datacenter changed is built again.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "zone/loader.h"

namespace geodns::zone {
namespace {

namespace fs = std::filesystem;

std::string zone_text(const std::string& name, const std::string& address) {
  return "[zone]\nname = \"" + name +
         "\"\n[zone.soa]\nmname = \"ns1\"\nrname = \"hostmaster\"\n[records]\n\"@\" = \"NS "
         "ns1\"\nns1 = \"A " +
         address + "\"\n[steer.www]\npolicy = \"failover\"\ndatacenters = [\"shared\"]\n";
}

ServerConfig config_with(const std::string& shared_address, const std::string& check = "") {
  std::string text = "[datacenters.shared]\naddresses = [\"" + shared_address + "\"]\n";
  if (!check.empty()) {
    text += "check = \"web\"\n[checks.web]\ntype = \"tcp\"\nport = " + check + "\n";
  }
  auto c = load_server_config_text(text, "geodns.toml", ".");
  EXPECT_TRUE(c) << (c ? "" : c.error().to_string());
  return c ? c.value() : ServerConfig{};
}

class ZoneReuse : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("geodns-zone-reuse-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    write("a.toml", zone_text("a.test.", "192.0.2.1"));
    write("b.toml", zone_text("b.test.", "192.0.2.2"));
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& file, const std::string& text) {
    std::ofstream(dir_ / file, std::ios::binary | std::ios::trunc) << text;
  }
  LoadReport load(const ServerConfig& config, const ZoneSet* previous,
                  const ServerConfig* previous_config) {
    return load_zone_dir(dir_.string(), config, previous, previous_config);
  }

  fs::path dir_;
};

TEST_F(ZoneReuse, UnchangedFilesAreReusedAndAnEditedOneRebuilt) {
  const ServerConfig config = config_with("198.51.100.1");
  auto first = load(config, nullptr, nullptr);
  ASSERT_TRUE(first.errors.empty()) << first.errors[0].to_string();
  EXPECT_EQ(first.rebuilt, 2u);
  EXPECT_EQ(first.reused, 0u);

  auto same = load(config, first.zones.get(), &config);
  EXPECT_EQ(same.rebuilt, 0u);
  EXPECT_EQ(same.reused, 2u);
  EXPECT_EQ(same.zones->zones[0], first.zones->zones[0]);  // the very same Zone
  EXPECT_EQ(same.zones->zones[1], first.zones->zones[1]);
  EXPECT_EQ(same.zones->targets.size(), first.zones->targets.size());

  write("b.toml", zone_text("b.test.", "192.0.2.22"));
  auto edited = load(config, same.zones.get(), &config);
  EXPECT_EQ(edited.rebuilt, 1u);
  EXPECT_EQ(edited.reused, 1u);
  EXPECT_EQ(edited.zones->zones[0], first.zones->zones[0]);
  EXPECT_NE(edited.zones->zones[1], first.zones->zones[1]);
}

TEST_F(ZoneReuse, AChangedSharedDatacenterOrCheckRebuildsTheZonesUsingIt) {
  const ServerConfig config = config_with("198.51.100.1");
  auto first = load(config, nullptr, nullptr);
  ASSERT_TRUE(first.errors.empty()) << first.errors[0].to_string();

  const ServerConfig moved = config_with("198.51.100.2");
  auto r = load(moved, first.zones.get(), &config);
  EXPECT_EQ(r.rebuilt, 2u);
  EXPECT_EQ(r.zones->zones[0]->datacenters[0].v4[0].ip.to_string(), "198.51.100.2");

  const ServerConfig checked = config_with("198.51.100.2", "80");
  auto c = load(checked, r.zones.get(), &moved);
  EXPECT_EQ(c.rebuilt, 2u);
  ASSERT_FALSE(c.zones->targets.empty());
  EXPECT_EQ(c.zones->targets[0].check.port, 80);

  const ServerConfig other_port = config_with("198.51.100.2", "81");
  auto p = load(other_port, c.zones.get(), &checked);
  EXPECT_EQ(p.rebuilt, 2u);
  EXPECT_EQ(p.zones->targets[0].check.port, 81);
}

TEST_F(ZoneReuse, WithoutThePreviousConfigEveryZoneIsBuilt) {
  const ServerConfig config = config_with("198.51.100.1");
  auto first = load(config, nullptr, nullptr);
  auto again = load(config, first.zones.get(), nullptr);
  EXPECT_EQ(again.rebuilt, 2u);
  EXPECT_EQ(again.reused, 0u);
  // The serial still holds for an unchanged file.
  EXPECT_EQ(again.zones->zones[0]->serial, first.zones->zones[0]->serial);
}

TEST_F(ZoneReuse, ABrokenEditKeepsTheOldZoneAndIsNotCountedAsReused) {
  const ServerConfig config = config_with("198.51.100.1");
  auto first = load(config, nullptr, nullptr);
  write("a.toml", "[zone\n");
  auto r = load(config, first.zones.get(), &config);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.reused, 1u);  // b
  EXPECT_EQ(r.rebuilt, 0u);
  EXPECT_EQ(r.zones->zones[0], first.zones->zones[0]);  // a: the kept old version
  // Fixing it back to the old text: reused, since that is exactly the zone that serves.
  write("a.toml", zone_text("a.test.", "192.0.2.1"));
  auto fixed = load(config, r.zones.get(), &config);
  EXPECT_TRUE(fixed.errors.empty());
  EXPECT_EQ(fixed.reused, 2u);
}

}  // namespace
}  // namespace geodns::zone
