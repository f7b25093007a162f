// gdnsd's vscf syntax and the conversion of its plugin resources (tests/data/gdnsd/basic).
#include "ops/gdnsd_import.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace geodns::ops {
namespace {

namespace fs = std::filesystem;

TEST(Vscf, ArrowsEqualsCommasQuotesEscapesAndComments) {
  auto v = parse_vscf(R"(# comment
options = { listen = [ 192.0.2.1, 192.0.2.2 ] }
"plugins" => {
  a => [ x y "z w" ]   # no commas, quoted with a space
  b=>{c=1;d="q\"uote"}
  e => ex\097mpl\e
}
)",
                      "config");
  ASSERT_TRUE(v) << v.error().to_string();
  const Vscf* listen = v->get("options")->get("listen");
  ASSERT_NE(listen, nullptr);
  EXPECT_EQ(listen->scalars(), (std::vector<std::string>{"192.0.2.1", "192.0.2.2"}));
  EXPECT_EQ(listen->line, 2u);
  const Vscf* p = v->get("plugins");
  EXPECT_EQ(p->get("a")->scalars(), (std::vector<std::string>{"x", "y", "z w"}));
  EXPECT_EQ(p->get("b")->get("c")->scalar, "1");
  EXPECT_EQ(p->get("b")->get("d")->scalar, "q\"uote");
  EXPECT_EQ(p->get("e")->scalar, "example");
  EXPECT_EQ(p->get("e")->line, 6u);
  // A single value stands for a one-element list.
  EXPECT_EQ(p->get("b")->get("c")->scalars(), std::vector<std::string>{"1"});
}

TEST(Vscf, ErrorsCarryFileAndLine) {
  auto unterminated = parse_vscf("a => {\n  b => 1\n", "cfg");
  ASSERT_FALSE(unterminated);
  EXPECT_EQ(unterminated.error().file, "cfg");
  auto no_arrow = parse_vscf("a => 1\nb 2\n", "cfg");
  ASSERT_FALSE(no_arrow);
  EXPECT_EQ(no_arrow.error().line, 2u);
  EXPECT_NE(no_arrow.error().message.find("expected '=>'"), std::string::npos);
  auto dup = parse_vscf("a => 1\na => 2\n", "cfg");
  ASSERT_FALSE(dup);
  EXPECT_NE(dup.error().message.find("duplicate key"), std::string::npos);
  auto bad_escape = parse_vscf("a => \\999\n", "cfg");
  EXPECT_FALSE(bad_escape);
}

TEST(Vscf, IncludeAsAValueAndAsHashEntries) {
  const fs::path dir =
      fs::temp_directory_path() / ("geodns-vscf-test-" + std::to_string(::getpid()));
  fs::create_directories(dir / "sub");
  std::ofstream(dir / "sub" / "opts.cfg") << "listen => 127.0.0.1\n";
  std::ofstream(dir / "more.cfg") << "y => 2\nz => [ 3 ]\n";
  std::ofstream(dir / "config") << "options => $include{sub/opts.cfg}\n"
                                   "h => { x => 1\n $include{more.cfg}\n }\n";
  auto v = parse_vscf_file((dir / "config").string());
  fs::remove_all(dir);
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_EQ(v->get("options")->get("listen")->scalar, "127.0.0.1");
  EXPECT_NE(v->get("options")->get("listen")->file.find("opts.cfg"), std::string::npos);
  const Vscf* h = v->get("h");
  ASSERT_EQ(h->hash.size(), 3u);
  EXPECT_EQ(h->get("y")->scalar, "2");
  EXPECT_EQ(h->get("z")->scalars(), std::vector<std::string>{"3"});
}

class GdnsdBasic : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto r = import_gdnsd(std::string(GEODNS_SOURCE_DIR) + "/tests/data/gdnsd/basic");
    ASSERT_TRUE(r) << r.error().to_string();
    result_ = new GdnsdImport(std::move(r.value()));
  }
  static void TearDownTestSuite() { delete result_; }
  static const std::string& zone() { return result_->zones.at(0).second; }
  // The TOML section that starts with `header`, up to the next one.
  static std::string section(const std::string& header) {
    const std::string& z = zone();
    const size_t at = z.find(header + "\n");
    if (at == std::string::npos) return "";
    const size_t end = z.find("\n[", at + header.size());
    return z.substr(at, end == std::string::npos ? std::string::npos : end - at);
  }
  static inline GdnsdImport* result_ = nullptr;
};

TEST_F(GdnsdBasic, OneZoneWithItsStaticRecordsAndTheDatabase) {
  ASSERT_EQ(result_->zones.size(), 1u);
  EXPECT_EQ(result_->zones[0].first, "example.test.toml");
  EXPECT_EQ(result_->static_records, 4u);
  EXPECT_EQ(result_->steered_names, 9u);
  EXPECT_NE(zone().find("static = [\n  \"A 192.0.2.99\",\n  'TXT \"static text\"',\n]"),
            std::string::npos)
      << zone();
  // DYNA lines are not static records.
  EXPECT_EQ(zone().find("DYNA"), std::string::npos);
  // A relative geoip2_db is under the config directory's geoip/, as gdnsd reads it.
  EXPECT_NE(result_->server_toml.find("tests/data/gdnsd/basic/geoip/demo.mmdb\""),
            std::string::npos)
      << result_->server_toml;
}

TEST_F(GdnsdBasic, GeoipMapNestsContinentsCountriesSubdivisionsAndNets) {
  EXPECT_EQ(section("[steer.www]"),
            "[steer.www]\npolicy = \"geo\"\nttl = 30\nanswers = 2\n"
            "map.DE = [\"fra\"]\nmap.GB = [\"iad\", \"fra\"]\nmap.EU = [\"fra\", \"iad\"]\n"
            "map.US-VA = [\"iad\"]\nmap.US = [\"iad\", \"fra\"]\nmap.NA = [\"iad\"]\n"
            "map.AS = [\"sin\", \"fra\"]\nmap.default = [\"iad\", \"fra\"]\n"
            "nets.\"200.160.0.0/20\" = [\"sin\"]\n");
  // A hash of labels is a multifo address set: its up_thresh (default 0.5) becomes min_up.
  EXPECT_EQ(section("[datacenters.sin]"),
            "[datacenters.sin]\naddresses = [\"203.0.113.10\", \"203.0.113.11\"]\n"
            "min_up = \"50%\"\n");
  // geoip!www/fra: that datacenter only.
  EXPECT_NE(section("[steer.www-fra]").find("policy = \"failover\""), std::string::npos);
  EXPECT_NE(section("[steer.www-fra]").find("datacenters = [\"fra\"]"), std::string::npos);
}

TEST_F(GdnsdBasic, AutoDcCoordsIsNearestAndNameClashesArePrefixed) {
  EXPECT_NE(section("[steer.closest]").find("policy = \"nearest\""), std::string::npos);
  EXPECT_NE(section("[steer.closest]")
                .find("datacenters = [\"closest_fra\", \"closest_iad\", \"closest_sin\"]"),
            std::string::npos)
      << section("[steer.closest]");
  EXPECT_NE(section("[datacenters.closest_fra]").find("location = { lat = 50.11, lon = 8.68 }"),
            std::string::npos);
}

TEST_F(GdnsdBasic, MetafoMultifoSimplefoWeightedAndChecks) {
  EXPECT_NE(section("[steer.api]").find("datacenters = [\"primary\", \"backup\"]"),
            std::string::npos);
  // metafo's synthesized multifo keeps its service type; %multifo!api_backup is resolved.
  EXPECT_NE(section("[datacenters.primary]").find("check = \"web\""), std::string::npos);
  EXPECT_NE(section("[datacenters.backup]").find("\"198.51.100.30\", \"198.51.100.31\""),
            std::string::npos);
  EXPECT_EQ(section("[datacenters.pool]"),
            "[datacenters.pool]\naddresses = [\"192.0.2.40\", \"192.0.2.41\", \"192.0.2.42\", "
            "\"2001:db8::40\"]\nmin_up = \"30%\"\n");
  EXPECT_NE(section("[steer.pool]").find("policy = \"roundrobin\""), std::string::npos);
  EXPECT_NE(section("[steer.mail]").find("datacenters = [\"mail_primary\", \"mail_secondary\"]"),
            std::string::npos);
  EXPECT_NE(section("[steer.cdn]").find("weights = { cdn_a = 3, cdn_b = 1 }"), std::string::npos);
  EXPECT_EQ(section("[checks.web]"),
            "[checks.web]\ntype = \"http\"\nport = 8080\npath = \"/health\"\n"
            "host = \"www.example.test\"\nexpect = [200, 204]\ninterval = \"2s\"\n"
            "timeout = \"1s\"\nfall = 3\nrise = 2\n");
  EXPECT_EQ(section("[checks.smtp]"),
            "[checks.smtp]\ntype = \"tcp\"\nport = 25\ninterval = \"2s\"\ntimeout = \"1s\"\n"
            "fall = 10\nrise = 20\n");
}

TEST_F(GdnsdBasic, WhatIsNotConvertedIsListedWithItsPlace) {
  std::string all;
  for (const auto& n : result_->not_converted) all += n + "\n";
  EXPECT_EQ(result_->not_converted.size(), 3u) << all;
  EXPECT_NE(all.find("basic/config:12: ok_codes"), std::string::npos) << all;
  EXPECT_NE(all.find("basic/config:86: service_types [smtp, script]"), std::string::npos) << all;
  EXPECT_NE(all.find("basic/config:91: multi = true"), std::string::npos) << all;
}

TEST(GdnsdImport, UnknownPluginsAndResourcesAreReportedNotGuessed) {
  const fs::path dir =
      fs::temp_directory_path() / ("geodns-gdnsd-test-" + std::to_string(::getpid()));
  fs::create_directories(dir / "zones");
  std::ofstream(dir / "config") << "plugins => {\n  reflect => {}\n  metafo => { resources => {} "
                                   "}\n}\n";
  std::ofstream(dir / "zones" / "t.test")
      << "@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n"
         "r DYNA reflect!best\nm DYNA metafo!missing\n$ADDR_LIMIT_V4 2\nx DYNA nobang\n";
  auto r = import_gdnsd(dir.string());
  fs::remove_all(dir);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->steered_names, 0u);
  std::string all;
  for (const auto& n : r->not_converted) all += n + "\n";
  EXPECT_NE(all.find("t.test:4: plugin \"reflect\": no geodns equivalent"), std::string::npos)
      << all;
  EXPECT_NE(all.find("t.test:5: metafo resource \"missing\" is not defined"), std::string::npos)
      << all;
  EXPECT_NE(all.find("t.test:6: $ADDR_LIMIT_V4: gdnsd directive not converted"), std::string::npos)
      << all;
  EXPECT_NE(all.find("t.test:7: DYNA/DYNC \"nobang\""), std::string::npos) << all;
}

}  // namespace
}  // namespace geodns::ops
