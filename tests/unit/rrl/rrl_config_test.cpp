// [server.rrl] in the server config file: defaults (off), every key, and range errors with
// their position.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "zone/config.h"

namespace geodns::zone {
namespace {

TEST(RrlConfig, OffByDefault) {
  auto c = load_server_config_text("", "geodns.toml", "/etc/geodns");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_FALSE(c.value().pipeline.rrl.enabled);
  EXPECT_EQ(c.value().pipeline.rrl.responses_per_second, 20U);
  EXPECT_EQ(c.value().pipeline.rrl.window, std::chrono::seconds(1));
  EXPECT_EQ(c.value().pipeline.rrl.slip, 2U);
  EXPECT_EQ(c.value().pipeline.rrl.table_entries, 16384U);
}

TEST(RrlConfig, EveryKey) {
  auto c = load_server_config_text(R"([server.rrl]
enabled = true
responses_per_second = 50
window = "5s"
slip = 0
table_size = 1024
)",
                                   "geodns.toml", "/etc/geodns");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_TRUE(c.value().pipeline.rrl.enabled);
  EXPECT_EQ(c.value().pipeline.rrl.responses_per_second, 50U);
  EXPECT_EQ(c.value().pipeline.rrl.window, std::chrono::seconds(5));
  EXPECT_EQ(c.value().pipeline.rrl.slip, 0U);
  EXPECT_EQ(c.value().pipeline.rrl.table_entries, 1024U);
}

TEST(RrlConfig, ErrorsPointAtTheValue) {
  auto rate = load_server_config_text("[server.rrl]\nresponses_per_second = 0\n", "g.toml", "/");
  ASSERT_FALSE(rate.ok());
  EXPECT_NE(rate.error().to_string().find("g.toml:2:"), std::string::npos)
      << rate.error().to_string();
  EXPECT_FALSE(load_server_config_text("[server.rrl]\nwindow = \"100ms\"\n", "g.toml", "/").ok());
  EXPECT_FALSE(load_server_config_text("[server.rrl]\nslip = 11\n", "g.toml", "/").ok());
  auto key = load_server_config_text("[server.rrl]\nrate = 5\n", "g.toml", "/");
  ASSERT_FALSE(key.ok());
  EXPECT_NE(key.error().to_string().find("rate"), std::string::npos) << key.error().to_string();
}

}  // namespace
}  // namespace geodns::zone
