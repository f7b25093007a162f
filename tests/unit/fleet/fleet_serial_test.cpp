// With [fleet] the automatic serial follows the zone's content, not its file's time: servers
// that load the same content serve the same serial. Without [fleet], today's rule (the file's
// modification time) stands.
#include <gtest/gtest.h>
#include <utime.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "zone/loader.h"

namespace geodns::zone {
namespace {

constexpr const char* kZone = R"([zone]
name = "serial.test."
[zone.soa]
mname = "ns1.serial.test."
rname = "hostmaster.serial.test."
[records]
"@" = ["NS ns1.serial.test."]
ns1 = "A 192.0.2.53"
)";

std::string write_zone(const std::string& dir, const std::string& text, time_t mtime) {
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/serial.test.toml";
  std::ofstream(path) << text;
  utimbuf t{mtime, mtime};
  ::utime(path.c_str(), &t);
  return dir;
}

// The serial of the one zone of `dir`, loaded as a server does (file times count).
uint32_t serial_of(const std::string& dir, const ServerConfig& config,
                   const ZoneSet* previous = nullptr) {
  const auto report = load_zone_dir(dir, config, previous);
  EXPECT_TRUE(report.errors.empty());
  EXPECT_EQ(report.zones->zones.size(), 1u);
  return report.zones->zones.empty() ? 0 : report.zones->zones.front()->serial;
}

TEST(FleetSerial, SameContentSameSerialWhateverTheTimes) {
  const std::string base = ::testing::TempDir() + "/fleet_serial";
  const std::string a = write_zone(base + "/a", kZone, 1700000000);
  const std::string b = write_zone(base + "/b", kZone, 1700009999);
  ServerConfig alone;
  ServerConfig fleet;
  fleet.fleet.enabled = true;

  EXPECT_EQ(serial_of(a, alone), 1700000000u);  // today's rule: the file's time
  EXPECT_EQ(serial_of(b, alone), 1700009999u);

  const uint32_t fa = serial_of(a, fleet);
  EXPECT_EQ(fa, serial_of(b, fleet));
  EXPECT_NE(fa, 1700000000u);
  // A previous version with another serial does not move it either (no history).
  const auto previous = load_zone_dir(a, alone, nullptr);
  EXPECT_EQ(serial_of(b, fleet, previous.zones.get()), fa);

  // An edit moves it.
  const std::string edited =
      write_zone(base + "/c", std::string(kZone) + "www = \"A 192.0.2.80\"\n", 1700000000);
  EXPECT_NE(serial_of(edited, fleet), fa);
  std::filesystem::remove_all(base);
}

// The same tree installed in two directories: a nets file read by a steered name is part of
// the content by what it holds, not by its path.
TEST(FleetSerial, NetsFilesCountByContentNotPath) {
  const std::string base = ::testing::TempDir() + "/fleet_serial_nets";
  const std::string zone = std::string(kZone) + R"([datacenters.fra]
addresses = ["192.0.2.10"]
[datacenters.iad]
addresses = ["198.51.100.10"]
[steer.www]
policy = "geo"
map.default = ["iad"]
nets_file = "nets/office.txt"
)";
  ServerConfig fleet;
  fleet.fleet.enabled = true;
  uint32_t serials[3] = {};
  const char* nets[3] = {"10.1.0.0/16 fra\n", "10.1.0.0/16 fra\n", "10.2.0.0/16 fra\n"};
  for (int i = 0; i < 3; ++i) {
    const std::string dir = base + "/install" + std::to_string(i);
    write_zone(dir, zone, 1700000000 + i);
    std::filesystem::create_directories(dir + "/nets");
    std::ofstream(dir + "/nets/office.txt") << nets[i];
    serials[i] = serial_of(dir, fleet);
  }
  EXPECT_EQ(serials[0], serials[1]);  // same content, other directory
  EXPECT_NE(serials[0], serials[2]);  // the nets file's content moved
  std::filesystem::remove_all(base);
}

}  // namespace
}  // namespace geodns::zone
