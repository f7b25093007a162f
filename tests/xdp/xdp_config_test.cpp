// The [server] xdp keys: read into ListenSettings, and their mistakes reported with positions.
#include <gtest/gtest.h>

#include <string>

#include "server/xdp/xdp_pool.h"
#include "zone/config.h"

namespace geodns::zone {
namespace {

TEST(XdpConfig, OffByDefault) {
  auto c = load_server_config_text("[server]\n", "geodns.toml", "");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_TRUE(c->listen.xdp.empty());
  EXPECT_EQ(c->listen.xdp_mode, "native");
}

TEST(XdpConfig, InterfacesAndMode) {
  auto c = load_server_config_text(
      "[server]\nxdp = [\"eth0\", \"veth1\"]\nxdp_mode = \"native_or_generic\"\n", "geodns.toml",
      "");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->listen.xdp, (std::vector<std::string>{"eth0", "veth1"}));
  auto mode = server::xdp::parse_attach_mode(c->listen.xdp_mode);
  ASSERT_TRUE(mode.ok());
  EXPECT_EQ(*mode, server::xdp::AttachMode::native_or_generic);
}

TEST(XdpConfig, Mistakes) {
  struct Case {
    const char* text;
    uint32_t line, column;
    const char* message;
  };
  const Case cases[] = {
      {"[server]\nxdp = \"eth0\"\n", 2, 7, "xdp must be a list of interface names"},
      {"[server]\nxdp = [\"\"]\n", 2, 8, "xdp: not an interface name"},
      {"[server]\nxdp = [\"a-name-far-too-long\"]\n", 2, 8, "xdp: not an interface name"},
      {"[server]\nxdp_mode = \"skb\"\n", 2, 12, "unknown xdp_mode \"skb\""},
  };
  for (const Case& c : cases) {
    auto r = load_server_config_text(c.text, "geodns.toml", "");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error().line, c.line) << r.error().to_string();
    EXPECT_EQ(r.error().column, c.column) << r.error().to_string();
    EXPECT_NE(r.error().message.find(c.message), std::string::npos) << r.error().message;
  }
  EXPECT_FALSE(server::xdp::parse_attach_mode("skb").ok());
}

}  // namespace
}  // namespace geodns::zone
