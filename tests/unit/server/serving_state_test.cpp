// The parts of the serving state that decide what a reload applies: which settings need a
// restart, and the pipeline settings a config yields (cookie secret rollover included).
#include "server/serving_state.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "zone/loader.h"

namespace geodns::server {
namespace {

dns::CookieSecret secret(uint8_t fill) {
  dns::CookieSecret s{};
  s.fill(fill);
  return s;
}

TEST(RestartOnly, EveryRestartOnlySettingIsNamedAndPipelineOnesAreNot) {
  const zone::ServerConfig running;
  zone::ServerConfig file;
  EXPECT_TRUE(restart_only_changes(running, file).empty());
  // Applied by reload: none of these is reported.
  file.pipeline.max_udp_payload = 4096;
  file.pipeline.chaos_version = "x";
  file.pipeline.rrl.enabled = true;
  file.pipeline.cookies.enabled = false;
  file.zones_dir = "elsewhere";
  file.logging.level = "debug";
  EXPECT_TRUE(restart_only_changes(running, file).empty());

  file.listen.addresses = {"127.0.0.1:53"};
  file.listen.threads = 7;
  file.listen.tcp_idle_timeout = std::chrono::milliseconds(1);
  file.listen.tcp_stall_timeout = std::chrono::milliseconds(1);
  file.listen.tcp_max_connections = 1;
  file.listen.tcp_max_per_client = 1;
  file.listen.tcp_busy_idle_timeout = std::chrono::milliseconds(1);
  file.listen.tcp_threads = 5;
  file.prober.state_dir = "/var/lib/geodns";
  file.logging.query_log = true;
  file.control.listen = "127.0.0.1:1";
  file.control.token = "secret";
  EXPECT_EQ(restart_only_changes(running, file),
            (std::vector<std::string>{
                "control.listen", "control.token", "server.listen", "server.query_log",
                "server.state_dir", "server.tcp.busy_idle_timeout", "server.tcp.idle_timeout",
                "server.tcp.max_connections", "server.tcp.max_connections_per_client",
                "server.tcp.stall_timeout", "server.tcp.threads", "server.threads"}));
}

TEST(PipelineConfigOf, CopiesEverySettingAndFillsTheHostAndSecret) {
  zone::ServerConfig c;
  c.pipeline.max_udp_payload = 1400;
  c.pipeline.chaos_enabled = false;
  c.pipeline.chaos_version = "v";
  c.pipeline.rrl.enabled = true;
  c.pipeline.rrl.responses_per_second = 7;
  c.pipeline.rrl.window = std::chrono::seconds(3);
  c.pipeline.rrl.slip = 0;
  c.pipeline.rrl.table_entries = 64;
  const auto pc = pipeline_config(c, "host-a", secret(1), std::nullopt);
  EXPECT_EQ(pc.max_udp_payload, 1400u);
  EXPECT_FALSE(pc.chaos_enabled);
  EXPECT_EQ(pc.chaos_id, "host-a");  // no id configured
  EXPECT_EQ(pc.chaos_version, "v");
  EXPECT_TRUE(pc.rrl.enabled);
  EXPECT_EQ(pc.rrl.responses_per_second, 7u);
  EXPECT_EQ(pc.rrl.window, std::chrono::seconds(3));
  EXPECT_EQ(pc.rrl.slip, 0u);
  EXPECT_EQ(pc.rrl.table_entries, 64u);
  EXPECT_EQ(pc.cookie_secrets, std::vector<dns::CookieSecret>{secret(1)});
  c.pipeline.chaos_id = "ns1";
  EXPECT_EQ(pipeline_config(c, "host-a", secret(1), std::nullopt).chaos_id, "ns1");
  c.pipeline.cookies.enabled = false;
  EXPECT_TRUE(pipeline_config(c, "host-a", secret(1), secret(2)).cookie_secrets.empty());
}

TEST(PipelineConfigOf, ARetiredSecretIsStillAcceptedAfterTheNewOne) {
  zone::ServerConfig c;
  c.pipeline.cookies.secret = secret(2);
  // The secret that ran before (1) comes after the configured one, once.
  EXPECT_EQ(pipeline_config(c, "h", secret(9), secret(1)).cookie_secrets,
            (std::vector<dns::CookieSecret>{secret(2), secret(1)}));
  c.pipeline.cookies.previous_secret = secret(1);
  EXPECT_EQ(pipeline_config(c, "h", secret(9), secret(1)).cookie_secrets,
            (std::vector<dns::CookieSecret>{secret(2), secret(1)}));
  EXPECT_EQ(pipeline_config(c, "h", secret(9), secret(2)).cookie_secrets,
            (std::vector<dns::CookieSecret>{secret(2), secret(1)}));
}

}  // namespace
}  // namespace geodns::server

namespace geodns::server {
namespace {

zone::ZoneSetPtr zone_set(size_t steered_names, uint64_t generation) {
  std::string text =
      "[zone]\nname = \"s.test.\"\n[zone.soa]\nmname = \"ns1\"\nrname = \"h\"\n[records]\n"
      "\"@\" = \"NS ns1\"\nns1 = \"A 192.0.2.1\"\n[datacenters.fra]\naddresses = "
      "[\"192.0.2.10\"]\n";
  for (size_t i = 0; i < steered_names; ++i) {
    text += "[steer.n" + std::to_string(i) + "]\npolicy = \"failover\"\ndatacenters = [\"fra\"]\n";
  }
  auto z = zone::load_zone_text(text, "s.test.toml", zone::ServerConfig{}, nullptr);
  EXPECT_TRUE(z) << (z ? "" : z.error().to_string());
  auto set = std::make_shared<zone::ZoneSet>();
  if (z) set->zones.push_back(z.value());
  set->generation = generation;
  set->reindex();
  return set;
}

TEST(AnswerSlotsTest, LabelsKeepTheirSlotAcrossLoadsAndOverflowIntoOther) {
  AnswerSlots slots;
  const auto first = zone_set(2, 1);
  const auto m1 = slots.map_for(*first);
  EXPECT_EQ(m1.generation, 1u);
  const auto* zs = m1.find(first->zones[0].get());
  ASSERT_NE(zs, nullptr);
  ASSERT_EQ(zs->rule.size(), 2u);
  EXPECT_NE(zs->rule[0], 0);
  EXPECT_NE(zs->rule[0], zs->rule[1]);
  ASSERT_EQ(zs->dc.size(), 1u);
  EXPECT_NE(zs->dc[0], 0);
  EXPECT_EQ(slots.name_labels()[zs->rule[0]], first->zones[0]->rules[0].owner);
  EXPECT_EQ(slots.datacenter_labels()[zs->dc[0]],
            (std::pair<std::string, std::string>{"s.test.", "fra"}));
  EXPECT_NE(zs->zone_slot, 0);
  EXPECT_EQ(slots.zone_labels()[zs->zone_slot], "s.test.");
  EXPECT_EQ(slots.zone_labels()[0], "other");

  // A rebuilt zone (another Zone object) with the same names keeps the same slots.
  const auto second = zone_set(2, 2);
  const auto m2 = slots.map_for(*second);
  EXPECT_EQ(m2.find(first->zones[0].get()), nullptr);
  const auto* zs2 = m2.find(second->zones[0].get());
  ASSERT_NE(zs2, nullptr);
  EXPECT_EQ(zs2->rule, zs->rule);
  EXPECT_EQ(zs2->dc, zs->dc);
  EXPECT_EQ(zs2->zone_slot, zs->zone_slot);
  EXPECT_EQ(slots.zone_labels().size(), 2u);

  // More names than slots: the ones beyond the cap count as "other" (slot 0).
  const auto big = zone_set(kAnswerSlots + 10, 3);
  const auto m3 = slots.map_for(*big);
  const auto* zs3 = m3.find(big->zones[0].get());
  ASSERT_NE(zs3, nullptr);
  EXPECT_EQ(slots.name_labels().size(), kAnswerSlots);
  EXPECT_EQ(std::count(zs3->rule.begin(), zs3->rule.end(), 0), 11);  // 1 slot is "other"
}

}  // namespace
}  // namespace geodns::server
