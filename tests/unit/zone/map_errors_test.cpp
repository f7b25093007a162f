// Every way a named map ([maps.NAME], `map = "NAME"`) or a nets_file key can be written wrong:
// each is reported with the file, line and column of the culprit (one table row per error).
#include <gtest/gtest.h>

#include <string>

#include "zone/loader.h"

namespace geodns::zone {
namespace {

// Lines 1-15: a zone with two located datacenters; cases continue on line 16.
constexpr const char* kBase = R"([zone]
name = "example.com."
[zone.soa]
mname = "ns1.example.com."
rname = "hostmaster.example.com."
serial = 7
[records]
"@" = "NS ns1"
ns1 = "A 192.0.2.1"
[datacenters.fra]
addresses = ["192.0.2.10"]
location = { lat = 50, lon = 8 }
[datacenters.ams]
addresses = ["192.0.2.20"]
location = { lat = 52, lon = 5 }
)";

std::string base() {
  return kBase;
}

// Lines 16-18: a map `eu`.
std::string with_map() {
  return base() + "[maps.eu]\nmap.EU = [\"fra\"]\nmap.default = [\"ams\"]\n";
}

struct Case {
  const char* name;
  std::string text;
  uint32_t line;
  uint32_t column;
  const char* message;  // substring of the message
};

class MapErrors : public ::testing::TestWithParam<Case> {};

TEST_P(MapErrors, ReportsPositionAndMessage) {
  const Case& c = GetParam();
  auto r = load_zone_text(c.text, "zones/example.com.toml", ServerConfig{}, nullptr);
  ASSERT_FALSE(r.ok()) << "loaded without error:\n" << c.text;
  const Error& e = r.error();
  EXPECT_EQ(e.file, "zones/example.com.toml");
  EXPECT_EQ(e.line, c.line) << e.to_string();
  EXPECT_EQ(e.column, c.column) << e.to_string();
  EXPECT_NE(e.message.find(c.message), std::string::npos)
      << "message: " << e.message << "\nexpected to contain: " << c.message;
}

// clang-format off
const Case kCases[] = {
  {"UnknownMap", with_map() + "[steer.www]\npolicy = \"geo\"\nmap = \"us\"\n", 21, 7, "unknown map \"us\""},
  {"DuplicateMap", with_map() + "[maps.eu]\nmap.default = [\"fra\"]\n", 19, 1, "eu"},
  {"NamedMapWithInlineMapKeys", with_map() + "[steer.www]\npolicy = \"geo\"\nmap = \"eu\"\nmap.EU = [\"fra\"]\n", 22, 1, "cannot redefine existing string"},
  {"NamedMapWithInlineNets", with_map() + "[steer.www]\npolicy = \"geo\"\nmap = \"eu\"\nnets.\"10.0.0.0/8\" = [\"fra\"]\n", 22, 1, "nets cannot be combined with map = \"eu\""},
  {"NamedMapWithNetsFile", with_map() + "[steer.www]\npolicy = \"geo\"\nmap = \"eu\"\nnets_file = \"x.txt\"\n", 22, 13, "nets_file cannot be combined with map = \"eu\""},
  {"EmptyMapName", with_map() + "[steer.www]\npolicy = \"geo\"\nmap = \"\"\n", 21, 7, "map must name a [maps.NAME] or be a table"},
  {"MapNotTable", with_map() + "[steer.www]\npolicy = \"geo\"\nmap = 3\n", 21, 7, "map must be a table"},
  {"MapWithMapKeysOnNearest", with_map() + "[steer.www]\npolicy = \"nearest\"\ndatacenters = [\"fra\"]\nmap = \"eu\"\n", 22, 7, "map \"eu\" has map.KEY entries, only for policy \"geo\""},
  {"MapWithoutDefault", base() + "[maps.office]\nnets.\"10.0.0.0/8\" = [\"fra\"]\n[steer.www]\npolicy = \"geo\"\nmap = \"office\"\n", 20, 7, "map \"office\" needs map.default"},
  {"EmptyMapTable", base() + "[maps.office]\n", 16, 1, "[maps.office] needs map.KEY or nets entries"},
  {"UnknownKeyInMap", base() + "[maps.office]\npolicy = \"geo\"\n", 17, 1, "unknown key \"policy\" in [maps.office]"},
  {"BadKeyInMap", base() + "[maps.eu]\nmap.XX = [\"fra\"]\nmap.default = [\"ams\"]\n[steer.www]\npolicy = \"geo\"\nmap = \"eu\"\n", 17, 5, "XX"},
  {"UnknownDatacenterInMap", base() + "[maps.eu]\nmap.default = [\"amz\"]\n[steer.www]\npolicy = \"geo\"\nmap = \"eu\"\n", 17, 16, "unknown datacenter \"amz\""},
  {"BadCidrInMap", base() + "[maps.eu]\nnets.\"10.0.0.0/40\" = [\"fra\"]\n", 17, 6, "bad CIDR"},
  {"NetsFileNotString", base() + "[steer.www]\npolicy = \"geo\"\nmap.default = [\"fra\"]\nnets_file = 1\n", 19, 13, "nets_file must be a string"},
  {"NetsFileEmpty", base() + "[steer.www]\npolicy = \"geo\"\nmap.default = [\"fra\"]\nnets_file = \"\"\n", 19, 13, "nets_file must name a file"},
  {"AsnKeyWithoutAsnDb", base() + "[steer.www]\npolicy = \"geo\"\nmap.AS15169 = [\"fra\"]\nmap.default = [\"ams\"]\n", 18, 5, "map key \"AS15169\" needs an ASN database ([server] asn_db)"},
  {"NetsFileOnFailover", base() + "[maps.office]\nnets.\"10.0.0.0/8\" = [\"fra\"]\n[steer.www]\npolicy = \"failover\"\ndatacenters = [\"fra\"]\nmap = \"office\"\n", 21, 7, "nets is only for policies geo and nearest"},
};
// clang-format on

INSTANTIATE_TEST_SUITE_P(All, MapErrors, ::testing::ValuesIn(kCases),
                         [](const auto& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace geodns::zone
