#include "health/state_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace geodns::health {
namespace {

std::string temp_dir() {
  auto p =
      std::filesystem::temp_directory_path() / ("geodns-state-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(p);
  return p.string();
}

TEST(StateFile, RoundTripKeepsStateAndSince) {
  const std::string dir = temp_dir();
  const std::string path = dir + "/health.state";
  const auto since =
      std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'123'456));
  std::unordered_map<std::string, PersistedState> states;
  states["http|port=80|path=/health z|host=|expect=200-299@192.0.2.10"] = {HealthState::down,
                                                                           since};
  states["tcp|port=22@2001:db8::1"] = {HealthState::up, since + std::chrono::seconds(3)};
  states["never-checked"] = {HealthState::unknown, since};
  ASSERT_TRUE(save_state_file(path, states));

  const auto loaded = load_state_file(path);
  EXPECT_TRUE(loaded.errors.empty());
  ASSERT_EQ(loaded.by_key.size(), 2u);  // unknown is not persisted
  const auto& a = loaded.by_key.at("http|port=80|path=/health z|host=|expect=200-299@192.0.2.10");
  EXPECT_EQ(a.state, HealthState::down);
  EXPECT_EQ(a.since, since);
  const auto& b = loaded.by_key.at("tcp|port=22@2001:db8::1");
  EXPECT_EQ(b.state, HealthState::up);
  EXPECT_EQ(b.since, since + std::chrono::seconds(3));
  std::filesystem::remove_all(dir);
}

TEST(StateFile, BadLinesReportedNotFatal) {
  const std::string dir = temp_dir();
  const std::string path = dir + "/health.state";
  {
    std::ofstream out(path);
    out << "# geodns health state v1\n";
    out << "up 1000 good-key\n";
    out << "maybe 1000 other\n";
    out << "down notanumber x\n";
  }
  const auto loaded = load_state_file(path);
  EXPECT_EQ(loaded.by_key.size(), 1u);
  EXPECT_EQ(loaded.by_key.count("good-key"), 1u);
  ASSERT_EQ(loaded.errors.size(), 2u);
  EXPECT_EQ(loaded.errors[0].line, 3u);
  EXPECT_EQ(loaded.errors[1].line, 4u);
  EXPECT_TRUE(load_state_file(dir + "/missing").errors.empty());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace geodns::health
