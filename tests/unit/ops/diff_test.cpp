// geodns diff: record comparison, client lists and samples, and steering moves between two
// versions loaded from scratch directories with the real loader and the demo database.
#include "ops/diff.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "dns/wire.h"
#include "geo/database.h"
#include "geo/mmdb_walk.h"

namespace geodns::ops {
namespace {

namespace fs = std::filesystem;

const std::string kDemoDb = std::string(GEODNS_SOURCE_DIR) + "/geoip/demo.mmdb";

const char* kHead = R"([zone]
name = "example.test."
ttl = 300
[zone.soa]
mname = "ns1"
rname = "hostmaster"
[datacenters.fra]
addresses = ["192.0.2.10", "2001:db8:f::10"]
location = { lat = 50.11, lon = 8.68 }
[datacenters.iad]
addresses = ["198.51.100.10", "2001:db8:a::10"]
location = { lat = 38.95, lon = -77.45 }
)";

class DiffTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("geodns-diff-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "old");
    fs::create_directories(dir_ / "new");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& side, const std::string& file, const std::string& text) {
    std::ofstream(dir_ / side / file, std::ios::binary | std::ios::trunc) << text;
  }

  std::unique_ptr<DiffTree> load(const std::string& side, std::vector<std::string> down = {},
                                 bool with_db = true) {
    zone::ServerConfig c;
    c.zones_dir = (dir_ / side).string();
    if (with_db) c.geoip_path = kDemoDb;
    auto t = load_diff_tree(c, side, down);
    EXPECT_TRUE(t) << t.error().to_string();
    return t ? std::move(t.value()) : nullptr;
  }

  static std::vector<IpPrefix> clients(const std::vector<std::string>& texts) {
    std::vector<IpPrefix> out;
    for (const auto& t : texts) out.push_back(*IpPrefix::parse(t));
    return out;
  }

  fs::path dir_;
};

TEST(RdataText, PresentationFormatAndUnknownFallback) {
  EXPECT_EQ(rdata_text(dns::rrtype::A, std::string("\xc0\x00\x02\x01", 4)), "192.0.2.1");
  // MX 10 mail.test.
  EXPECT_EQ(rdata_text(dns::rrtype::MX, std::string("\x00\x0a\x04mail\x04test\x00", 13)),
            "10 mail.test.");
  // An A record of 3 bytes is not decodable: the RFC 3597 generic form.
  EXPECT_EQ(rdata_text(dns::rrtype::A, std::string("\x01\x02\x03", 3)), "\\# 3 010203");
}

TEST_F(DiffTest, RecordsAddedRemovedChangedPerOwnerAndType) {
  write("old", "example.test.toml", std::string(kHead) + R"([records]
"@" = "NS ns1"
ns1 = "A 192.0.2.53"
www = ["A 192.0.2.80", "A 192.0.2.81"]
gone = "TXT \"bye\""
mail = { ttl = 600, rr = "MX 10 mx" }
)");
  write("new", "example.test.toml", std::string(kHead) + R"([records]
"@" = "NS ns1"
ns1 = "A 192.0.2.53"
www = ["A 192.0.2.81", "A 192.0.2.82"]
fresh = "AAAA 2001:db8::1"
mail = { ttl = 60, rr = "MX 10 mx" }
)");
  write("new", "other.test.toml",
        "[zone]\nname = \"other.test.\"\n[zone.soa]\nmname = \"ns1\"\nrname = \"h\"\n"
        "[records]\n\"@\" = \"NS ns1\"\nns1 = \"A 192.0.2.1\"\n");
  auto before = load("old");
  auto after = load("new");
  ASSERT_TRUE(before && after);
  const auto d = diff_records(*before->snapshots.zones.load(), *after->snapshots.zones.load());
  EXPECT_EQ(d.zones_added, std::vector<std::string>{"other.test."});
  EXPECT_TRUE(d.zones_removed.empty());
  std::map<std::string, const RecordChange*> by;
  for (const auto& c : d.changes) by[c.zone + " " + c.owner + " " + c.type] = &c;
  // The new zone: its apex NS, SOA and ns1 A.
  EXPECT_EQ(by.count("other.test. other.test. NS"), 1u);
  EXPECT_EQ(by.count("other.test. other.test. SOA"), 1u);
  EXPECT_EQ(by.count("other.test. ns1.other.test. A"), 1u);

  const auto* www = by.at("example.test. www.example.test. A");
  EXPECT_EQ(www->kind, RecordChange::Kind::changed);
  EXPECT_EQ(www->removed, std::vector<std::string>{"192.0.2.80"});
  EXPECT_EQ(www->added, std::vector<std::string>{"192.0.2.82"});

  const auto* gone = by.at("example.test. gone.example.test. TXT");
  EXPECT_EQ(gone->kind, RecordChange::Kind::removed);
  EXPECT_EQ(gone->removed, std::vector<std::string>{"\"bye\""});

  const auto* fresh = by.at("example.test. fresh.example.test. AAAA");
  EXPECT_EQ(fresh->kind, RecordChange::Kind::added);
  EXPECT_EQ(fresh->added, std::vector<std::string>{"2001:db8::1"});

  const auto* mail = by.at("example.test. mail.example.test. MX");
  EXPECT_EQ(mail->kind, RecordChange::Kind::changed);
  EXPECT_EQ(*mail->old_ttl_s, 600u);
  EXPECT_EQ(*mail->new_ttl_s, 60u);
  EXPECT_TRUE(mail->added.empty());

  // Nothing else differs in example.test. (NS, ns1 A and the SOA are equal).
  size_t in_example = 0;
  for (const auto& c : d.changes) in_example += c.zone == "example.test." ? 1 : 0;
  EXPECT_EQ(in_example, 4u);

  std::ostringstream out;
  print_diff(d, nullptr, "no clients", out);
  EXPECT_NE(out.str().find("zone other.test. (new zone)"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("  changed www.example.test. A (ttl 300)\n      - 192.0.2.80\n"
                           "      + 192.0.2.82\n"),
            std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("(ttl 600 -> 60)"), std::string::npos) << out.str();
}

TEST_F(DiffTest, SoaSerialAloneIsNoChange) {
  const std::string records = "[records]\n\"@\" = \"NS ns1\"\nns1 = \"A 192.0.2.53\"\n";
  std::string old_text = kHead, new_text = kHead;
  old_text.replace(old_text.find("[zone.soa]\n"), 11, "[zone.soa]\nserial = 7\n");
  new_text.replace(new_text.find("[zone.soa]\n"), 11, "[zone.soa]\nserial = 8\n");
  write("old", "example.test.toml", old_text + records);
  write("new", "example.test.toml", new_text + records);
  auto before = load("old");
  auto after = load("new");
  ASSERT_TRUE(before && after);
  EXPECT_TRUE(diff_records(*before->snapshots.zones.load(), *after->snapshots.zones.load())
                  .changes.empty());
  // A real SOA edit (the minimum) is one.
  new_text.replace(new_text.find("serial = 8\n"), 11, "serial = 8\nminimum = 30\n");
  write("new", "example.test.toml", new_text + records);
  after = load("new");
  ASSERT_TRUE(after);
  const auto d = diff_records(*before->snapshots.zones.load(), *after->snapshots.zones.load());
  ASSERT_EQ(d.changes.size(), 1u);
  EXPECT_EQ(d.changes[0].type, "SOA");
}

TEST(ReadClients, AddressesPrefixesCommentsAndErrors) {
  auto ok = read_clients("# resolvers\n81.2.69.160\n  2a01:4f8::/32  # hetzner\n\n46.4.0.0/16\n",
                         "clients.txt");
  ASSERT_TRUE(ok) << ok.error().to_string();
  ASSERT_EQ(ok->clients.size(), 3u);
  EXPECT_EQ(ok->clients[0].to_string(), "81.2.69.160/32");
  EXPECT_EQ(ok->clients[1].to_string(), "2a01:4f8::/32");
  EXPECT_EQ(ok->clients[2].to_string(), "46.4.0.0/16");
  auto bad = read_clients("81.2.69.160\nnot-an-address\n", "clients.txt");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().file, "clients.txt");
  EXPECT_EQ(bad.error().line, 2u);
}

TEST(SampleClients, EveryNetworkOrAnEvenDeterministicSpread) {
  auto db = geo::Database::open(kDemoDb);
  ASSERT_TRUE(db) << db.error().to_string();
  auto index = geo::NetworkIndex::build(*db.value());
  ASSERT_TRUE(index) << index.error().to_string();
  const auto all = sample_clients(*index.value(), 100000);
  // geoip/demo-source.csv lists 29 networks; no IPv6 alias of the IPv4 tree is counted.
  EXPECT_EQ(all.clients.size(), 29u);
  size_t v6 = 0;
  for (const auto& c : all.clients) {
    if (c.address.is_v6()) {
      ++v6;
      EXPECT_NE(c.address.bytes[0] == 0x20 && c.address.bytes[1] == 0x02, true) << c.to_string();
    }
  }
  EXPECT_EQ(v6, 9u);  // the IPv6 lines of geoip/demo-source.csv
  const auto few = sample_clients(*index.value(), 5);
  ASSERT_EQ(few.clients.size(), 5u);
  EXPECT_EQ(few.clients, sample_clients(*index.value(), 5).clients);
  // Evenly spread: the first network, then every 29/5th.
  EXPECT_EQ(few.clients[0], all.clients[0]);
  EXPECT_EQ(few.clients[4], all.clients[4 * 29 / 5]);
}

TEST_F(DiffTest, SteeringMovesGroupedWithCountriesAndExamples) {
  write("old", "example.test.toml", std::string(kHead) + R"([records]
"@" = "NS ns1"
ns1 = "A 192.0.2.53"
static = "A 192.0.2.99"
[steer.www]
policy = "geo"
map.EU = ["fra"]
map.default = ["iad"]
)");
  write("new", "example.test.toml", std::string(kHead) + R"([records]
"@" = "NS ns1"
ns1 = "A 192.0.2.53"
[steer.www]
policy = "geo"
map.DE = ["iad"]
map.EU = ["fra"]
map.default = ["iad"]
[steer.static]
policy = "failover"
datacenters = ["fra", "iad"]
)");
  auto before = load("old");
  auto after = load("new");
  ASSERT_TRUE(before && after);
  // Two German networks, one British, one US.
  const auto cs = clients({"46.4.0.0/16", "192.0.2.0/24", "81.2.69.0/24", "8.8.8.0/24"});
  auto db = geo::Database::open(kDemoDb);
  ASSERT_TRUE(db);
  const auto d = diff_steering(*before, *after, cs, db.value().get());
  EXPECT_EQ(d.clients, 4u);
  EXPECT_EQ(d.names, 2u);
  EXPECT_EQ(d.names_changed, 2u);
  std::map<std::string, const Move*> by;
  for (const auto& m : d.moves) by[m.name + " " + m.qtype + " " + m.from + ">" + m.to] = &m;
  const auto* www = by.at("www.example.test. A fra>iad");
  EXPECT_EQ(www->clients, 2u);
  ASSERT_EQ(www->countries.size(), 1u);
  EXPECT_EQ(www->countries[0], (std::pair<std::string, size_t>{"DE", 2}));
  EXPECT_EQ(www->examples, (std::vector<std::string>{"46.4.0.0/16", "192.0.2.0/24"}));
  EXPECT_EQ(by.count("www.example.test. AAAA fra>iad"), 1u);
  // The static name became steered: every client moves from the static record to fra.
  const auto* st = by.at("static.example.test. A static>fra");
  EXPECT_EQ(st->clients, 4u);
  // AAAA had no record before (NODATA) and gets fra's IPv6 address now.
  EXPECT_EQ(by.at("static.example.test. AAAA nodata>fra")->clients, 4u);
  EXPECT_EQ(d.moves.size(), 4u);
  EXPECT_EQ(d.answers_moved, 2u + 2u + 4u + 4u);
}

TEST_F(DiffTest, HealthStateDecidesWhetherAReorderMovesAnyone) {
  const std::string records = "[records]\n\"@\" = \"NS ns1\"\nns1 = \"A 192.0.2.53\"\n";
  write("old", "example.test.toml",
        std::string(kHead) + records +
            "[steer.api]\npolicy = \"failover\"\ndatacenters = [\"fra\", \"iad\"]\n");
  write("new", "example.test.toml",
        std::string(kHead) + records +
            "[steer.api]\npolicy = \"failover\"\ndatacenters = [\"iad\", \"fra\"]\n");
  const auto cs = clients({"46.4.0.0/16", "8.8.8.0/24", "2a01:4f8::/32"});
  {
    auto before = load("old");
    auto after = load("new");
    ASSERT_TRUE(before && after);
    const auto d = diff_steering(*before, *after, cs, nullptr);
    ASSERT_EQ(d.moves.size(), 2u);  // A and AAAA
    EXPECT_EQ(d.moves[0].from, "fra");
    EXPECT_EQ(d.moves[0].to, "iad");
    EXPECT_EQ(d.moves[0].clients, 3u);
    EXPECT_EQ(d.moves[0].countries[0].first, "??");  // no database given to locate
  }
  {
    // With iad down both versions answer fra: nothing moves.
    auto before = load("old", {"iad"});
    auto after = load("new", {"iad"});
    ASSERT_TRUE(before && after);
    const auto d = diff_steering(*before, *after, cs, nullptr);
    EXPECT_TRUE(d.moves.empty()) << d.moves[0].from << " -> " << d.moves[0].to;
    EXPECT_EQ(d.answers_moved, 0u);
  }
}

TEST_F(DiffTest, ABrokenTreeIsAnErrorWithItsPosition) {
  write("old", "example.test.toml", std::string(kHead) + "[records]\nwww = \"A 999.0.2.1\"\n");
  zone::ServerConfig c;
  c.zones_dir = (dir_ / "old").string();
  auto t = load_diff_tree(c, "old", {});
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().to_string().find("example.test.toml:"), std::string::npos)
      << t.error().to_string();
}

}  // namespace
}  // namespace geodns::ops
