// Named maps ([maps.NAME], `map = "NAME"`) and nets files as the loader builds them: the entries
// stand in for inline ones, a zone's own map shadows the server's, names sharing a map compile
// to one table, and an edit of a nets file alone rebuilds the zone on reload.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "steer/compiled.h"
#include "zone/loader.h"

namespace geodns::zone {
namespace {

namespace fs = std::filesystem;

constexpr const char* kHead = R"([zone]
name = "example.com."
[zone.soa]
mname = "ns1.example.com."
rname = "hostmaster.example.com."
[records]
"@" = "NS ns1"
ns1 = "A 192.0.2.1"
[datacenters.fra]
addresses = ["192.0.2.10"]
location = { lat = 50.11, lon = 8.68 }
[datacenters.iad]
addresses = ["198.51.100.10"]
location = { lat = 38.95, lon = -77.45 }
)";

const steer::Rule* rule_for(const Zone& z, std::string_view owner) {
  for (const auto& r : z.rules) {
    if (r.owner == owner) return &r;
  }
  ADD_FAILURE() << "no rule for " << owner;
  return nullptr;
}

// Datacenters join a zone in order of first use: compare lists by name.
std::vector<std::string> names(const Zone& z, const steer::DcList& list) {
  std::vector<std::string> out;
  for (uint32_t m : list) out.push_back(steer::is_pool(m) ? "pool" : z.datacenters.at(m).name);
  return out;
}
using Names = std::vector<std::string>;

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("geodns-map-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "zones" / "nets");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& file, const std::string& text) {
    std::ofstream(dir_ / file, std::ios::binary | std::ios::trunc) << text;
  }
  std::string path(const std::string& file) const { return (dir_ / file).string(); }
  Result<ZonePtr> load(const std::string& text, const ServerConfig& config = ServerConfig{}) {
    write("zones/example.com.toml", text);
    return load_zone_file(path("zones/example.com.toml"), config, nullptr);
  }
  fs::path dir_;
};

using MapLoader = TempDir;

TEST_F(MapLoader, NamesUsingOneMapShareItsEntriesAndOneCompiledTable) {
  auto r = load(std::string(kHead) + R"([maps.world]
map.EU = ["fra", "iad"]
map.default = ["iad", "fra"]
nets."10.0.0.0/8" = ["fra"]
[steer.www]
policy = "geo"
map = "world"
[steer.api]
policy = "geo"
map = "world"
ttl = 60
[steer.other]
policy = "geo"
map.EU = ["iad"]
map.default = ["iad", "fra"]
)");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const Zone& z = **r;
  const steer::Rule* www = rule_for(z, "www.example.com.");
  const steer::Rule* api = rule_for(z, "api.example.com.");
  const steer::Rule* other = rule_for(z, "other.example.com.");
  ASSERT_TRUE(www && api && other);
  ASSERT_EQ(www->map.size(), 2u);
  EXPECT_EQ(www->map[0].first, "EU");
  EXPECT_EQ(names(z, www->map[0].second), (Names{"fra", "iad"}));
  ASSERT_EQ(www->nets.size(), 1u);
  EXPECT_EQ(www->nets[0].first.to_string(), "10.0.0.0/8");
  EXPECT_EQ(api->map, www->map);
  EXPECT_EQ(api->ttl_s, 60u);
  // One table for both: canonical_key is what the compiler deduplicates by.
  const std::string key = steer::canonical_key(*www, z.datacenters);
  EXPECT_FALSE(key.empty());
  EXPECT_EQ(steer::canonical_key(*api, z.datacenters), key);
  EXPECT_NE(steer::canonical_key(*other, z.datacenters), key);
}

TEST_F(MapLoader, ASharedMapIsUsedAndAZonesOwnShadowsIt) {
  auto config = load_server_config_text(R"([maps.world]
map.default = ["iad"]
[maps.edge]
map.EU = ["fra"]
map.default = ["fra"]
)",
                                        path("geodns.toml"), dir_.string());
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  auto r = load(std::string(kHead) + R"([maps.world]
map.default = ["fra"]
[steer.www]
policy = "geo"
map = "world"
[steer.cdn]
policy = "geo"
map = "edge"
)",
                *config);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const Zone& z = **r;
  const steer::Rule* www = rule_for(z, "www.example.com.");
  const steer::Rule* cdn = rule_for(z, "cdn.example.com.");
  ASSERT_TRUE(www && cdn);
  ASSERT_EQ(www->map.size(), 1u);
  EXPECT_EQ(names(z, www->map[0].second), Names{"fra"});  // the zone's own
  ASSERT_EQ(cdn->map.size(), 2u);
  EXPECT_EQ(cdn->map[0].first, "EU");
}

TEST_F(MapLoader, ASharedMapReadsItsNetsFileRelativeToTheConfigFile) {
  write("office.txt", "10.1.0.0/16 fra\n");
  const std::string text = "[maps.office]\nmap.default = [\"iad\"]\nnets_file = \"office.txt\"\n";
  auto config = load_server_config_text(text, path("geodns.toml"), dir_.string());
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  auto r = load(std::string(kHead) + "[steer.www]\npolicy = \"geo\"\nmap = \"office\"\n", *config);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const Zone& z = **r;
  ASSERT_EQ(z.rules.at(0).nets.size(), 1u);
  EXPECT_EQ(names(z, z.rules[0].nets[0].second), Names{"fra"});
  ASSERT_EQ(z.input_files.size(), 1u);  // watched and checked on reload like a zone's own
  EXPECT_EQ(z.input_files[0].first, path("office.txt"));

  // Its lines are checked when a zone uses the map, at the nets file's position.
  write("office.txt", "10.1.0.0/16 fra\n10.2.0.0/16 nowhere\n");
  auto broken_config = load_server_config_text(text, path("geodns.toml"), dir_.string());
  ASSERT_TRUE(broken_config.ok());
  auto broken = load(std::string(kHead) + "[steer.www]\npolicy = \"geo\"\nmap = \"office\"\n",
                     *broken_config);
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().file, path("office.txt"));
  EXPECT_EQ(broken.error().line, 2u);
  EXPECT_EQ(broken.error().column, 13u);
}

TEST_F(MapLoader, NetsFileLinesBecomeNetsEntries) {
  write("zones/nets/office.txt",
        "# offices\n"
        "10.1.0.0/16 fra\n"
        "\n"
        "  10.2.0.0/16   iad, fra   # with a comment\n"
        "2001:db8::/32 iad,fra\n");
  auto r = load(std::string(kHead) + R"([steer.www]
policy = "geo"
map.default = ["iad"]
nets."10.3.0.0/16" = ["iad"]
nets_file = "nets/office.txt"
[steer.near]
policy = "nearest"
datacenters = ["fra", "iad"]
nets_file = "nets/office.txt"
)");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const Zone& z = **r;
  const steer::Rule* www = rule_for(z, "www.example.com.");
  ASSERT_TRUE(www);
  ASSERT_EQ(www->nets.size(), 4u);
  EXPECT_EQ(www->nets[0].first.to_string(), "10.3.0.0/16");
  EXPECT_EQ(www->nets[1].first.to_string(), "10.1.0.0/16");
  EXPECT_EQ(names(z, www->nets[1].second), Names{"fra"});
  EXPECT_EQ(www->nets[2].first.to_string(), "10.2.0.0/16");
  EXPECT_EQ(names(z, www->nets[2].second), (Names{"iad", "fra"}));
  EXPECT_EQ(www->nets[3].first.to_string(), "2001:db8::/32");
  EXPECT_EQ(names(z, www->nets[3].second), (Names{"iad", "fra"}));
  EXPECT_EQ(rule_for(z, "near.example.com.")->nets.size(), 3u);
  ASSERT_EQ(z.input_files.size(), 1u);  // one file, however many names read it
  EXPECT_EQ(z.input_files[0].first, path("zones/nets/office.txt"));
}

TEST_F(MapLoader, AMapCanReadItsNetsFromAFile) {
  write("zones/nets/office.txt", "10.1.0.0/16 fra\n");
  auto r = load(std::string(kHead) + R"([maps.office]
map.default = ["iad"]
nets_file = "nets/office.txt"
[steer.www]
policy = "geo"
map = "office"
)");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const steer::Rule* www = rule_for(**r, "www.example.com.");
  ASSERT_TRUE(www);
  ASSERT_EQ(www->nets.size(), 1u);
  EXPECT_EQ(www->nets[0].first.to_string(), "10.1.0.0/16");
  EXPECT_EQ((*r)->input_files.size(), 1u);
}

struct NetsFileCase {
  const char* name;
  const char* text;
  uint32_t line;
  uint32_t column;
  const char* message;
};

class NetsFileErrors : public TempDir, public ::testing::WithParamInterface<NetsFileCase> {};

TEST_P(NetsFileErrors, ReportTheNetsFilesLineAndColumn) {
  const NetsFileCase& c = GetParam();
  write("zones/nets/office.txt", c.text);
  auto r = load(std::string(kHead) + R"([steer.www]
policy = "geo"
map.default = ["iad"]
nets_file = "nets/office.txt"
)");
  ASSERT_FALSE(r.ok());
  const Error& e = r.error();
  EXPECT_EQ(e.file, path("zones/nets/office.txt")) << e.to_string();
  EXPECT_EQ(e.line, c.line) << e.to_string();
  EXPECT_EQ(e.column, c.column) << e.to_string();
  EXPECT_NE(e.message.find(c.message), std::string::npos) << e.message;
}

// clang-format off
const NetsFileCase kNetsFileCases[] = {
  {"BadCidr", "10.1.0.0/16 fra\n  10.1.0.0/33 fra\n", 2, 3, "bad CIDR \"10.1.0.0/33\""},
  {"NoDatacenter", "# x\n10.1.0.0/16   # nothing\n", 2, 1, "expected \"CIDR datacenter[,datacenter...]\""},
  {"UnknownDatacenter", "10.1.0.0/16 fra, amz\n", 1, 18, "unknown datacenter \"amz\""},
  {"Duplicate", "10.1.0.0/16 fra\n10.1.0.0/16 iad\n", 2, 1, "duplicate CIDR \"10.1.0.0/16\""},
};
// clang-format on

INSTANTIATE_TEST_SUITE_P(All, NetsFileErrors, ::testing::ValuesIn(kNetsFileCases),
                         [](const auto& p) { return std::string(p.param.name); });

TEST_F(MapLoader, AMissingNetsFileIsAnErrorAtTheKey) {
  auto r = load(std::string(kHead) + R"([steer.www]
policy = "geo"
map.default = ["iad"]
nets_file = "nets/none.txt"
)");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().file, path("zones/example.com.toml"));
  EXPECT_EQ(r.error().line, 18u);
  EXPECT_EQ(r.error().column, 13u);
  EXPECT_NE(r.error().message.find("cannot read nets_file"), std::string::npos);
}

// The reload's reuse check must look at the nets file, not only at the zone file.
TEST_F(MapLoader, AnEditOfTheNetsFileAloneRebuildsTheZone) {
  write("zones/nets/office.txt", "10.1.0.0/16 fra\n");
  write("zones/example.com.toml", std::string(kHead) + R"([steer.www]
policy = "geo"
map.default = ["iad"]
nets_file = "nets/office.txt"
)");
  const ServerConfig config;
  auto first = load_zone_dir(path("zones"), config, nullptr, &config);
  ASSERT_TRUE(first.errors.empty()) << first.errors.front().to_string();
  auto same = load_zone_dir(path("zones"), config, first.zones.get(), &config);
  EXPECT_EQ(same.reused, 1u);
  EXPECT_EQ(same.zones->zones[0], first.zones->zones[0]);

  write("zones/nets/office.txt", "10.1.0.0/16 iad\n");
  auto edited = load_zone_dir(path("zones"), config, same.zones.get(), &config);
  ASSERT_TRUE(edited.errors.empty()) << edited.errors.front().to_string();
  EXPECT_EQ(edited.reused, 0u);
  EXPECT_EQ(edited.rebuilt, 1u);
  const Zone& z = *edited.zones->zones[0];
  EXPECT_EQ(names(z, z.rules[0].nets.at(0).second), Names{"iad"});
  EXPECT_NE(z.content_hash, first.zones->zones[0]->content_hash);  // the serial moves

  // A broken nets file keeps the zone as it was.
  write("zones/nets/office.txt", "10.1.0.0/16 nowhere\n");
  auto broken = load_zone_dir(path("zones"), config, edited.zones.get(), &config);
  ASSERT_EQ(broken.errors.size(), 1u);
  EXPECT_EQ(broken.errors[0].file, path("zones/nets/office.txt"));
  EXPECT_EQ(broken.zones->zones.at(0), edited.zones->zones[0]);
}

TEST_F(MapLoader, AChangedSharedMapRebuildsTheZone) {
  write("zones/example.com.toml", std::string(kHead) + R"([steer.www]
policy = "geo"
map = "world"
)");
  auto a = load_server_config_text("[maps.world]\nmap.default = [\"iad\"]\n", "geodns.toml", ".");
  auto b = load_server_config_text("[maps.world]\nmap.default = [\"fra\"]\n", "geodns.toml", ".");
  ASSERT_TRUE(a.ok() && b.ok());
  auto first = load_zone_dir(path("zones"), *a, nullptr, &*a);
  ASSERT_TRUE(first.errors.empty()) << first.errors.front().to_string();
  auto changed = load_zone_dir(path("zones"), *b, first.zones.get(), &*a);
  EXPECT_EQ(changed.rebuilt, 1u);
  const Zone& z = *changed.zones->zones[0];
  EXPECT_EQ(names(z, z.rules[0].map[0].second), Names{"fra"});
  EXPECT_NE(changed.zones->zones[0]->content_hash, first.zones->zones[0]->content_hash);
}

}  // namespace
}  // namespace geodns::zone
