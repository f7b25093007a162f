// Every way a zone file can be wrong: each must be reported with the file, line and column of
// the culprit and a message that names it, never a crash.
#include <gtest/gtest.h>

#include <string>

#include "error_case.h"
#include "zone/loader.h"

namespace geodns::zone {
namespace {

// Lines 1-6; cases continue on line 7.
constexpr const char* kHead = R"([zone]
name = "example.com."
[zone.soa]
mname = "ns1.example.com."
rname = "hostmaster.example.com."
serial = 7
)";

// Lines 7-9: a valid minimal [records]; cases that need it continue on line 10.
constexpr const char* kRecords = R"([records]
"@" = "NS ns1"
ns1 = "A 192.0.2.1"
)";

// Lines 10-12 after kRecords: one datacenter.
constexpr const char* kDc = R"([datacenters.fra]
addresses = ["192.0.2.10"]
location = { lat = 50, lon = 8 }
)";

// A target datacenter (a CNAME to a CDN), probed at its check's probe_address: 7 lines.
constexpr const char* kCdn = R"([checks.c]
type = "tcp"
port = 80
probe_address = "192.0.2.80"
[datacenters.cdn]
target = "eu.cdn.example.net."
check = "c"
)";

using Case = ErrorCase;

std::string head() {
  return kHead;
}
std::string base() {
  return std::string(kHead) + kRecords;
}
std::string with_dc() {
  return base() + kDc;
}

class ZoneErrors : public ::testing::TestWithParam<Case> {};

TEST_P(ZoneErrors, ReportsPositionAndMessage) {
  expect_load_error(GetParam());
}

// clang-format off
const Case kCases[] = {
  // --- TOML syntax and structure ---
  {"SyntaxError", head() + "[records\n", 7, 9, ""},
  {"UnknownTopLevel", base() + "[recrods]\n", 10, 2, "unknown key \"recrods\""},
  {"UnknownZoneKey", "[zone]\ntll = 30\n", 2, 1, "unknown key \"tll\" in [zone]"},
  {"UnknownSoaKey", head() + "retyr = 5\n" + kRecords, 7, 1, "unknown key \"retyr\" in [zone.soa]"},
  {"ZoneNotTable", "zone = 5\n", 1, 8, "[zone] must be a table"},
  {"BadTtlType", "[zone]\nttl = true\n", 2, 7, "ttl must be an integer"},
  {"BadDuration", "[zone]\nttl = \"5x\"\n", 2, 7, "bad duration unit \"x\""},
  {"MsTtl", "[zone]\nttl = \"800ms\"\n", 2, 7, "whole number of seconds"},
  {"NegativeTtl", "[zone]\nttl = -1\n", 2, 7, "ttl must be 0..2147483647"},
  {"SoaMissingMname", "[zone]\n[zone.soa]\nrname = \"h.example.com.\"\n", 2, 1, "needs mname"},
  {"SerialZero", "[zone.soa]\nmname = \"a.\"\nrname = \"b.\"\nserial = 0\n", 4, 10, "serial must be 1..4294967295"},

  // --- records ---
  {"BadRdata", base() + "bad = \"A 1.2.3\"\n", 10, 7, "bad A record \"A 1.2.3\""},
  {"UnknownType", base() + "bad = \"BOGUS 1\"\n", 10, 7, "unknown record type \"BOGUS\""},
  {"MetaType", base() + "bad = \"AXFR 1\"\n", 10, 7, "cannot appear in a zone"},
  {"ClassChaos", base() + "bad = \"CH TXT x\"\n", 10, 7, "only class IN"},
  {"TtlInText", base() + "bad = \"300 A 192.0.2.1\"\n", 10, 7, "TTL inside the record text"},
  {"EmptyRecord", base() + "bad = \"\"\n", 10, 7, "empty record"},
  {"MissingRdata", base() + "bad = \"MX\"\n", 10, 7, "bad MX record"},
  {"RecordInList", base() + "bad = [\"A 192.0.2.1\", \"AAAA nope\"]\n", 10, 23, "bad AAAA record"},
  {"RecordInTable", base() + "bad = { ttl = 5, rr = [\"A 192.0.2.300\"] }\n", 10, 24, "bad A record"},
  {"RecordTableTypo", base() + "bad = { tll = 5, rr = \"A 192.0.2.1\" }\n", 10, 9, "unknown key \"tll\""},
  {"RecordTableNoRr", base() + "bad = { ttl = 5 }\n", 10, 7, "needs rr"},
  {"UnquotedDottedOwner", base() + "a.b = \"A 192.0.2.1\"\n", 10, 3, "quote owner names that contain dots (\"a.b\" = ...)"},
  {"RecordNotString", base() + "bad = 5\n", 10, 7, "a record must be a string"},
  {"EmptyRecordList", base() + "bad = []\n", 10, 7, "empty list"},
  {"OutsideZone", base() + "\"www.example.org.\" = \"A 192.0.2.1\"\n", 10, 1, "record outside the zone"},
  {"LabelTooLong", base() + std::string(64, 'a') + " = \"A 192.0.2.1\"\n", 10, 1, "bad name"},
  {"NameTooLong", base() + "\"" + std::string(60, 'a') + "." + std::string(60, 'b') + "." +
      std::string(60, 'c') + "." + std::string(60, 'd') + "\" = \"A 192.0.2.1\"\n", 10, 1, "bad name"},
  {"EmptyLabel", base() + "\"a..b\" = \"A 192.0.2.1\"\n", 10, 1, "bad name"},
  {"SpaceInOwner", base() + "\"a b\" = \"A 192.0.2.1\"\n", 10, 1, "bad name \"a b.example.com.\""},
  {"TxtUnterminated", base() + "t = 'TXT \"abc'\n", 10, 5, "missing closing quote"},
  {"TxtBadEscape", base() + "t = 'TXT \"\\999\"'\n", 10, 5, "above 255"},
  {"TxtEmpty", base() + "t = 'TXT'\n", 10, 5, "at least one string"},
  {"CnameAndOther", base() + "c = [\"CNAME ns1\", \"A 192.0.2.2\"]\n", 10, 19, "CNAME and other data at \"c.example.com.\""},
  {"TwoCnames", base() + "c = [\"CNAME ns1\", \"CNAME ns2\"]\n", 10, 19, "more than one CNAME"},
  {"NameBelowDname", base() + "d = \"DNAME example.net.\"\n\"x.d\" = \"A 192.0.2.5\"\n", 11, 1, "\"x.d.example.com.\" is below the DNAME at \"d.example.com.\""},
  {"NameBelowDnameFirst", base() + "\"a.b.d\" = \"A 192.0.2.5\"\nd = \"DNAME example.net.\"\n", 10, 1, "is below the DNAME at \"d.example.com.\""},
  {"TwoDnames", base() + "d = [\"DNAME a.example.net.\", \"DNAME b.example.net.\"]\n", 10, 30, "more than one DNAME at \"d.example.com.\""},
  {"DnameAndCname", base() + "d = [\"DNAME a.example.net.\", \"CNAME ns1\"]\n", 10, 30, "CNAME and DNAME at \"d.example.com.\""},
  {"DnameBesideNs", base() + "d = [\"NS ns1\", \"DNAME a.example.net.\"]\n", 10, 16, "DNAME and NS at \"d.example.com.\""},
  {"DnameAtWildcard", base() + "\"*.w\" = \"DNAME a.example.net.\"\n", 10, 9, "cannot be owned by a wildcard"},
  {"SteeredBelowDname", base() + "d = \"DNAME a.example.net.\"\n" + kDc + "[steer.\"x.d\"]\npolicy = \"failover\"\ndatacenters = [\"fra\"]\n", 14, 8, "steered name \"x.d.example.com.\" is below the DNAME"},
  {"CnameAtApex", head() + "[records]\n\"@\" = [\"NS ns1\", \"CNAME x.example.net.\"]\n", 8, 18, "CNAME is not allowed at the apex"},
  {"NoNs", head() + "[records]\nns1 = \"A 192.0.2.1\"\n", 0, 0, "no NS records at the apex"},
  {"NoNsAtApex", head() + "[records]\n\"@\" = \"MX 10 mail\"\n", 8, 1, "no NS records at the apex"},
  {"NoSoa", "[records]\n\"@\" = \"NS ns1.example.com.\"\n", 0, 0, "missing [zone.soa]"},
  {"TwoSoas", head() + "[records]\n\"@\" = [\"NS ns1\", \"SOA a. b. 1 2 3 4 5\"]\n", 8, 18, "SOA given twice"},
  {"SoaNotAtApex", "[records]\n\"@\" = [\"NS ns1\", \"SOA a. b. 1 2 3 4 5\"]\nx = \"SOA a. b. 1 2 3 4 5\"\n", 3, 5, "SOA is only allowed at the apex"},
  {"BadMname", "[zone.soa]\nmname = \"a..b\"\nrname = \"b.\"\n[records]\n\"@\" = \"NS ns1\"\n", 2, 9, "bad name \"a..b.example.com.\""},

  // --- datacenters and checks ---
  {"DcNoAddresses", base() + "[datacenters.fra]\nlocation = { lat = 1, lon = 2 }\n", 10, 1, "datacenter \"fra\" has no addresses"},
  {"DcEmptyAddresses", base() + "[datacenters.fra]\naddresses = []\n", 11, 13, "datacenter \"fra\" has no addresses"},
  {"DcBadAddress", base() + "[datacenters.fra]\naddresses = [\"192.0.2.1\", \"192.0.2.300\"]\n", 11, 27, "bad address \"192.0.2.300\""},
  {"DcDuplicateAddress", base() + "[datacenters.fra]\naddresses = [\"192.0.2.1\", \"192.0.2.1\"]\n", 11, 27, "duplicate address"},
  {"DcTypo", base() + "[datacenters.fra]\naddresses = [\"192.0.2.1\"]\nchek = \"web\"\n", 12, 1, "unknown key \"chek\" in [datacenters.fra]"},
  {"DcBadLatitude", base() + "[datacenters.fra]\naddresses = [\"192.0.2.1\"]\nlocation = { lat = 91, lon = 0 }\n", 12, 20, "lat must be"},
  {"DcUnknownCheck", base() + "[datacenters.fra]\naddresses = [\"192.0.2.1\"]\ncheck = \"web\"\n", 12, 9, "unknown check \"web\""},
  {"CheckNoType", base() + "[checks.web]\nport = 80\n", 10, 1, "missing type"},
  {"CheckBadType", base() + "[checks.web]\ntype = \"icmp\"\n", 11, 8, "unknown check type \"icmp\""},
  {"CheckWrongKeyForType", base() + "[checks.web]\ntype = \"tcp\"\nport = 1\npath = \"/\"\n", 13, 1, "key \"path\" does not apply to a tcp check"},
  {"CheckUnknownKey", base() + "[checks.web]\ntype = \"http\"\nintreval = \"1s\"\n", 12, 1, "unknown key \"intreval\" in [checks.web]"},
  {"CheckTimeoutNotBelowInterval", base() + "[checks.web]\ntype = \"http\"\ninterval = \"1s\"\ntimeout = \"1s\"\n", 13, 11, "timeout must be shorter than interval"},
  {"CheckFallZero", base() + "[checks.web]\ntype = \"http\"\nfall = 0\n", 12, 8, "fall must be 1..100"},
  {"CheckRiseTooBig", base() + "[checks.web]\ntype = \"http\"\nrise = 101\n", 12, 8, "rise must be 1..100"},
  {"CheckBadExpect", base() + "[checks.web]\ntype = \"http\"\nexpect = \"ok\"\n", 12, 10, "expect must be"},
  {"CheckBadPort", base() + "[checks.web]\ntype = \"http\"\nport = 70000\n", 12, 8, "port must be 1..65535"},
  {"CheckTcpNoPort", base() + "[checks.web]\ntype = \"tcp\"\n", 10, 1, "a tcp check needs a port"},
  {"CheckBadQueryType", base() + "[checks.d]\ntype = \"dns\"\nquery_type = \"XYZ\"\n", 12, 14, "unknown query_type"},
  {"CheckBadRcode", base() + "[checks.d]\ntype = \"dns\"\nexpect_rcode = \"FINE\"\n", 12, 16, "unknown expect_rcode"},
  {"CheckBadProbeAddress", base() + "[checks.web]\ntype = \"http\"\nprobe_address = \"x\"\n", 12, 17, "bad address \"x\""},

  // --- steering ---
  {"SteerUnknownDc", with_dc() + "[steer.www]\npolicy = \"failover\"\ndatacenters = [\"fra\", \"fra2\"]\n", 15, 23, "unknown datacenter \"fra2\""},
  {"SteerUnknownPolicy", with_dc() + "[steer.www]\npolicy = \"closest\"\ndatacenters = [\"fra\"]\n", 14, 10, "unknown policy \"closest\""},
  {"SteerMissingPolicy", with_dc() + "[steer.www]\ndatacenters = [\"fra\"]\n", 13, 1, "missing policy"},
  {"SteerTypo", with_dc() + "[steer.www]\npolicy = \"failover\"\ndatacenter = [\"fra\"]\n", 15, 1, "unknown key \"datacenter\" in [steer.www]"},
  {"SteerDottedName", with_dc() + "[steer.www.eu]\npolicy = \"failover\"\n", 13, 12, "quote names that contain dots"},
  {"SteerEmptyList", with_dc() + "[steer.www]\npolicy = \"failover\"\ndatacenters = []\n", 15, 15, "datacenters: empty list"},
  {"SteerDuplicateDc", with_dc() + "[steer.www]\npolicy = \"failover\"\ndatacenters = [\"fra\", \"fra\"]\n", 15, 23, "listed twice"},
  {"SteerNoDatacenters", with_dc() + "[steer.www]\npolicy = \"roundrobin\"\n", 13, 1, "needs datacenters"},
  {"SteerClashesWithRecords", with_dc() + "[steer.ns1]\npolicy = \"failover\"\ndatacenters = [\"fra\"]\n", 13, 8, "also has a static A record (line 9)"},
  {"SteerClashesWithAaaa", base() + "v6 = \"AAAA 2001:db8::1\"\n" + kDc + "[steer.v6]\npolicy = \"failover\"\ndatacenters = [\"fra\"]\n", 14, 8, "also has a static AAAA record (line 10)"},
  {"SteerClashesWithCname", base() + "c = \"CNAME ns1\"\n" + kDc + "[steer.c]\npolicy = \"failover\"\ndatacenters = [\"fra\"]\n", 14, 8, "also has a static CNAME record"},
  {"SteerApexClashesWithA", head() + "[records]\n\"@\" = [\"NS ns1\", \"A 192.0.2.5\"]\nns1 = \"A 192.0.2.1\"\n" + kDc + "[steer.\"@\"]\npolicy = \"failover\"\ndatacenters = [\"fra\"]\n", 13, 8, "also has a static A record (line 8)"},
  {"SteerBelowDelegation", base() + "sub = \"NS ns.example.net.\"\n" + kDc + "[steer.\"www.sub\"]\npolicy = \"failover\"\ndatacenters = [\"fra\"]\n", 14, 8, "at or below the delegation \"sub.example.com.\""},
  {"SteerAtDelegation", base() + "sub = \"NS ns.example.net.\"\n" + kDc + "[steer.sub]\npolicy = \"failover\"\ndatacenters = [\"fra\"]\n", 14, 8, "at or below the delegation \"sub.example.com.\""},
  {"SteerOutsideZone", with_dc() + "[steer.\"www.example.net.\"]\npolicy = \"failover\"\ndatacenters = [\"fra\"]\n", 13, 8, "record outside the zone"},
  {"GeoNoDefault", with_dc() + "[steer.www]\npolicy = \"geo\"\nmap.EU = [\"fra\"]\n", 15, 1, "needs map.default"},
  {"GeoNoMap", with_dc() + "[steer.www]\npolicy = \"geo\"\n", 13, 1, "needs map.default"},
  {"GeoBadMapKey", with_dc() + "[steer.www]\npolicy = \"geo\"\nmap.XX = [\"fra\"]\nmap.default = [\"fra\"]\n", 15, 5, "map key \"XX\""},
  {"GeoMapUnknownDc", with_dc() + "[steer.www]\npolicy = \"geo\"\nmap.default = [\"iad\"]\n", 15, 16, "unknown datacenter \"iad\""},
  {"GeoWithDatacenters", with_dc() + "[steer.www]\npolicy = \"geo\"\nmap.default = [\"fra\"]\ndatacenters = [\"fra\"]\n", 16, 15, "not datacenters"},
  {"MapOnFailover", with_dc() + "[steer.www]\npolicy = \"failover\"\ndatacenters = [\"fra\"]\nmap.default = [\"fra\"]\n", 16, 1, "map is only for policy \"geo\""},
  {"BadCidrHostBits", with_dc() + "[steer.www]\npolicy = \"geo\"\nmap.default = [\"fra\"]\nnets.\"192.0.2.1/24\" = [\"fra\"]\n", 16, 6, "bad CIDR \"192.0.2.1/24\""},
  {"BadCidr", with_dc() + "[steer.www]\npolicy = \"geo\"\nmap.default = [\"fra\"]\nnets.\"banana\" = [\"fra\"]\n", 16, 6, "bad CIDR \"banana\""},
  {"NetsOnFailover", with_dc() + "[steer.www]\npolicy = \"failover\"\ndatacenters = [\"fra\"]\nnets.\"192.0.2.0/24\" = [\"fra\"]\n", 16, 1, "nets is only for"},
  {"WeightTooBig", with_dc() + "[steer.www]\npolicy = \"weighted\"\nweights = { fra = 1001 }\n", 15, 19, "weight of \"fra\" must be 1..1000"},
  {"WeightZero", with_dc() + "[steer.www]\npolicy = \"weighted\"\nweights = { fra = 0 }\n", 15, 19, "must be 1..1000"},
  {"WeightedNoWeights", with_dc() + "[steer.www]\npolicy = \"weighted\"\ndatacenters = [\"fra\"]\n", 13, 1, "needs weights"},
  {"WeightedMissingWeight", with_dc() + "[datacenters.iad]\naddresses = [\"198.51.100.1\"]\n[steer.www]\npolicy = \"weighted\"\ndatacenters = [\"fra\", \"iad\"]\nweights = { fra = 1 }\n", 17, 23, "datacenter \"iad\" has no weight"},
  {"WeightsOnRoundrobin", with_dc() + "[steer.www]\npolicy = \"roundrobin\"\ndatacenters = [\"fra\"]\nweights = { fra = 1 }\n", 16, 11, "weights is only for"},
  {"AnswersZero", with_dc() + "[steer.www]\npolicy = \"failover\"\ndatacenters = [\"fra\"]\nanswers = 0\n", 16, 11, "answers must be 1..64"},
  {"AnswersTooMany", with_dc() + "[steer.www]\npolicy = \"failover\"\ndatacenters = [\"fra\"]\nanswers = 65\n", 16, 11, "answers must be 1..64"},
  {"DegradedAboveTtl", with_dc() + "[steer.www]\nttl = 5\ndegraded_ttl = 6\npolicy = \"failover\"\ndatacenters = [\"fra\"]\n", 15, 16, "degraded_ttl must not exceed ttl"},
  {"OnAllDownUnknownDc", with_dc() + "[steer.www]\npolicy = \"failover\"\ndatacenters = [\"fra\"]\non_all_down = \"mars\"\n", 16, 15, "unknown datacenter \"mars\""},
  {"NearestWithoutLocation", base() + "[datacenters.x]\naddresses = [\"192.0.2.1\"]\n[steer.www]\npolicy = \"nearest\"\ndatacenters = [\"x\"]\n", 14, 16, "has no location"},
  {"DcTargetAndAddresses", base() + "[datacenters.cdn]\ntarget = \"eu.cdn.example.net.\"\naddresses = [\"192.0.2.1\"]\n", 12, 13, "has a target: it is answered as a CNAME, not with addresses"},
  {"DcTargetRelative", base() + "[datacenters.cdn]\ntarget = \"eu.cdn\"\ncheck = \"c\"\n", 11, 10, "target must be an absolute host name"},
  {"DcTargetNotString", base() + "[datacenters.cdn]\ntarget = 5\ncheck = \"c\"\n", 11, 10, "target must be a string"},
  {"DcTargetNoCheck", base() + "[datacenters.cdn]\ntarget = \"eu.cdn.example.net.\"\n", 11, 10, "needs a check with a probe_address"},
  {"DcTargetCheckWithoutProbe", base() + "[checks.c]\ntype = \"tcp\"\nport = 80\n[datacenters.cdn]\ntarget = \"eu.cdn.example.net.\"\ncheck = \"c\"\n", 14, 10, "its check \"c\" needs a probe_address"},
  {"DcTargetBadName", base() + "[checks.c]\ntype = \"tcp\"\nport = 80\nprobe_address = \"192.0.2.80\"\n[datacenters.cdn]\ntarget = \"a..b.\"\ncheck = \"c\"\n", 15, 10, "bad name \"a..b.\""},
  {"RoundrobinWithTarget", with_dc() + kCdn + "[steer.www]\npolicy = \"roundrobin\"\ndatacenters = [\"fra\", \"cdn\"]\n", 22, 23, "policy \"roundrobin\" answers from several datacenters at once and cannot use \"cdn\""},
  {"CnameSteerAtApex", with_dc() + kCdn + "[steer.\"@\"]\npolicy = \"failover\"\ndatacenters = [\"cdn\"]\n", 20, 8, "CNAME, which is not allowed at the apex"},
  {"CnameSteerBesideStatic", base() + "t = 'TXT \"x\"'\n" + kDc + kCdn + "[steer.t]\npolicy = \"failover\"\ndatacenters = [\"fra\", \"cdn\"]\n", 21, 8, "can answer with a CNAME (datacenter \"cdn\" has a target) and also has a static TXT record (line 10)"},
  {"CnameSteerFallbackBesideStatic", base() + "t = 'TXT \"x\"'\n" + kDc + kCdn + "[steer.t]\npolicy = \"failover\"\ndatacenters = [\"fra\"]\non_all_down = \"cdn\"\n", 21, 8, "can answer with a CNAME"},
  {"CnameSteerToItself", base() + "[checks.c]\ntype = \"tcp\"\nport = 80\nprobe_address = \"192.0.2.80\"\n[datacenters.self]\ntarget = \"WWW.example.com.\"\ncheck = \"c\"\n[steer.www]\npolicy = \"failover\"\ndatacenters = [\"self\"]\n", 17, 8, "can answer with a CNAME to itself (datacenter \"self\""},
  {"SteeredTwice", with_dc() + "[steer.www]\npolicy = \"failover\"\ndatacenters = [\"fra\"]\n[steer.\"www.example.com.\"]\npolicy = \"failover\"\ndatacenters = [\"fra\"]\n", 16, 8, "steered twice"},
};
// clang-format on

INSTANTIATE_TEST_SUITE_P(All, ZoneErrors, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& param_info) {
                           return std::string(param_info.param.name);
                         });

TEST(ZoneErrorsMisc, ParseErrorKeepsTomlPosition) {
  auto r =
      load_zone_text("[zone]\nname = \"x.\"\nname = \"y.\"\n", "z.toml", ServerConfig{}, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().file, "z.toml");
  EXPECT_EQ(r.error().line, 3u);
  EXPECT_NE(r.error().to_string().find("z.toml:3:"), std::string::npos) << r.error().to_string();
}

TEST(ZoneErrorsMisc, MissingFile) {
  auto r = load_zone_file("/nonexistent/zone.toml", ServerConfig{}, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().file, "/nonexistent/zone.toml");
}

// The loader must reject garbage without crashing or hanging: truncations of a good file and
// a few byte-level mutations of it.
TEST(ZoneErrorsMisc, TruncatedAndMutatedInputNeverCrash) {
  const std::string good = with_dc() +
                           "[steer.www]\npolicy = \"geo\"\nmap.EU = [\"fra\"]\nmap.default = "
                           "[\"fra\"]\nnets.\"203.0.113.0/24\" = [\"fra\"]\n";
  ASSERT_TRUE(load_zone_text(good, "f.toml", ServerConfig{}, nullptr).ok());
  size_t failures = 0;
  for (size_t n = 0; n <= good.size(); n += 3) {
    auto r = load_zone_text(good.substr(0, n), "f.toml", ServerConfig{}, nullptr);
    failures += r.ok() ? 0 : 1;
  }
  const char kBytes[] = {'\0', '"', '[', ']', '=', '.', '\\', '\n', '\xff', '*', '@'};
  for (size_t i = 0; i < good.size(); i += 2) {
    for (char b : kBytes) {
      std::string m = good;
      m[i] = b;
      auto r = load_zone_text(m, "f.toml", ServerConfig{}, nullptr);
      if (!r.ok()) {
        EXPECT_FALSE(r.error().message.empty());
      }
    }
  }
  EXPECT_GT(failures, 0u);
}

}  // namespace
}  // namespace geodns::zone
