// Every way a named map ([maps.NAME], `map = "NAME"`) or a nets_file key can be written wrong:
// each is reported with the file, line and column of the culprit (one table row per error).
#include <gtest/gtest.h>

#include <string>

#include "error_case.h"
#include "zone/loader.h"

namespace geodns::zone {
namespace {

std::string base() {
  return two_datacenter_zone();
}

// Lines 16-18: a map `eu`.
std::string with_map() {
  return base() + "[maps.eu]\nmap.EU = [\"fra\"]\nmap.default = [\"ams\"]\n";
}

using Case = ErrorCase;

class MapErrors : public ::testing::TestWithParam<Case> {};

TEST_P(MapErrors, ReportsPositionAndMessage) {
  expect_load_error(GetParam());
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
