// A well-formed zone: names, wire RDATA byte by byte, node structure, steering and serials.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "dns/wire.h"
#include "zone/loader.h"

namespace geodns::zone {
namespace {

using namespace std::string_literals;

constexpr const char* kGoodZone = R"([zone]
name = "Example.COM."
ttl = 300

[zone.soa]
mname = "ns1.example.com."
rname = "hostmaster.example.com."
refresh = "1h"
retry = "10m"
expire = "14d"
minimum = "60s"
ttl = 120

[records]
"@" = ["NS ns1", "NS ns1.example.com.", "MX 10 Mail.Example.com."]
ns1 = "A 192.0.2.1"
NS1 = "AAAA 2001:db8::53"
www6 = "AAAA 2001:db8::1"
mail = { ttl = 600, rr = ["A 192.0.2.26", "A 192.0.2.25"] }
txt = ['TXT "a" "b"', { ttl = 5, rr = 'TXT "a" "b"' }, "TXT c"]
"*.wild" = "A 192.0.2.9"
"a.b.c" = "A 192.0.2.3"
sub = "NS ns.sub"
"ns.sub" = "A 192.0.2.53"
"_sip._tcp" = "SRV 10 5 5060 sip.example.com."
caa = 'CAA 0 issue "ca.example"'
alias = "CNAME www6"

[datacenters.fra]
addresses = ["192.0.2.10", "2001:db8:f::10"]
location = { lat = 50.11, lon = 8.68 }
check = "web"

[datacenters.iad]
addresses = ["198.51.100.10"]

[checks.web]
type = "http"
port = 8080
path = "/health"
expect = [200, 204]

[steer.www]
ttl = 30
policy = "failover"
datacenters = ["fra", "iad"]
on_all_down = "iad"
)";

ZonePtr load_good(const Zone* previous = nullptr, const std::string& text = kGoodZone) {
  auto r = load_zone_text(text, "good.toml", ServerConfig{}, previous);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
  return r.ok() ? *r : nullptr;
}

const Node& node(const Zone& z, const std::string& wire) {
  const Node* n = z.find(wire);
  EXPECT_NE(n, nullptr) << "no node for " << wire;
  static const Node kEmpty;
  return n ? *n : kEmpty;
}

std::vector<std::string> rdatas(const Zone& z, const std::string& wire, uint16_t type) {
  const RRset* r = node(z, wire).find(type);
  return r ? std::vector<std::string>(r->rdatas.begin(), r->rdatas.end())
           : std::vector<std::string>{};
}

TEST(ZoneLoader, OriginIsLowerCaseWire) {
  auto z = load_good();
  ASSERT_TRUE(z);
  EXPECT_EQ(z->origin, "\7example\3com\0"s);
  EXPECT_EQ(z->origin_text, "example.com.");
  EXPECT_EQ(z->source_file, "good.toml");
  EXPECT_EQ(z->nodes[0].name, z->origin);
}

TEST(ZoneLoader, ApexRRsetsSortedByTypeAndDeduplicated) {
  auto z = load_good();
  ASSERT_TRUE(z);
  const Node& apex = z->apex();
  ASSERT_EQ(apex.rrsets.size(), 3u);
  EXPECT_EQ(apex.rrsets[0].type, dns::rrtype::NS);
  EXPECT_EQ(apex.rrsets[1].type, dns::rrtype::SOA);
  EXPECT_EQ(apex.rrsets[2].type, dns::rrtype::MX);
  // "NS ns1" and "NS ns1.example.com." are the same record once the origin is appended.
  ASSERT_EQ(apex.rrsets[0].rdatas.size(), 1u);
  EXPECT_EQ(apex.rrsets[0].rdatas[0], "\3ns1\7example\3com\0"s);
  EXPECT_EQ(apex.rrsets[0].ttl_s, 300u);
  // Case is kept in RDATA.
  EXPECT_EQ(apex.rrsets[2].rdatas[0], "\0\x0a\4Mail\7Example\3com\0"s);
}

TEST(ZoneLoader, SoaWireAndNegativeTtl) {
  auto z = load_good();
  ASSERT_TRUE(z);
  auto soa = rdatas(*z, z->origin, dns::rrtype::SOA);
  ASSERT_EQ(soa.size(), 1u);
  const std::string names = "\3ns1\7example\3com\0\12hostmaster\7example\3com\0"s;
  ASSERT_EQ(soa[0].size(), names.size() + 20);
  EXPECT_EQ(soa[0].substr(0, names.size()), names);
  const auto* p = reinterpret_cast<const uint8_t*>(soa[0].data() + names.size());
  EXPECT_EQ(dns::read_u32(p), z->serial);
  EXPECT_EQ(dns::read_u32(p + 4), 3600u);
  EXPECT_EQ(dns::read_u32(p + 8), 600u);
  EXPECT_EQ(dns::read_u32(p + 12), 1209600u);
  EXPECT_EQ(dns::read_u32(p + 16), 60u);
  EXPECT_EQ(node(*z, z->origin).find(dns::rrtype::SOA)->ttl_s, 120u);
  EXPECT_EQ(z->negative_ttl_s, 60u);  // min(SOA TTL 120, minimum 60)
}

TEST(ZoneLoader, AddressRecordsAndCaseInsensitiveOwners) {
  auto z = load_good();
  ASSERT_TRUE(z);
  const std::string ns1 = "\3ns1\7example\3com\0"s;
  EXPECT_EQ(rdatas(*z, ns1, dns::rrtype::A), std::vector<std::string>{"\xc0\x00\x02\x01"s});
  // "NS1" is the same owner as "ns1".
  auto aaaa = rdatas(*z, ns1, dns::rrtype::AAAA);
  ASSERT_EQ(aaaa.size(), 1u);
  EXPECT_EQ(aaaa[0], "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x53"s);
  // File order is kept; per-entry TTL applies.
  const RRset* mail = node(*z, "\4mail\7example\3com\0"s).find(dns::rrtype::A);
  ASSERT_NE(mail, nullptr);
  EXPECT_EQ(mail->ttl_s, 600u);
  EXPECT_EQ(std::vector<std::string>(mail->rdatas.begin(), mail->rdatas.end()),
            (std::vector<std::string>{"\xc0\x00\x02\x1a"s, "\xc0\x00\x02\x19"s}));
}

TEST(ZoneLoader, TxtDeduplicatedWithFirstTtl) {
  auto z = load_good();
  ASSERT_TRUE(z);
  const RRset* txt = node(*z, "\3txt\7example\3com\0"s).find(dns::rrtype::TXT);
  ASSERT_NE(txt, nullptr);
  EXPECT_EQ(txt->ttl_s, 300u);
  EXPECT_EQ(std::vector<std::string>(txt->rdatas.begin(), txt->rdatas.end()),
            (std::vector<std::string>{"\1a\1b"s, "\1c"s}));
}

TEST(ZoneLoader, LongTxtSplitInto255ByteStrings) {
  const std::string long_text(300, 'x');
  std::string text = kGoodZone;
  text.replace(text.find("alias = "), 0, "long = 'TXT \"" + long_text + "\" \"\"'\n");
  auto z = load_good(nullptr, text);
  ASSERT_TRUE(z);
  auto txt = rdatas(*z, "\4long\7example\3com\0"s, dns::rrtype::TXT);
  ASSERT_EQ(txt.size(), 1u);
  ASSERT_EQ(txt[0].size(), 1 + 255 + 1 + 45 + 1);
  EXPECT_EQ(static_cast<uint8_t>(txt[0][0]), 255);
  EXPECT_EQ(static_cast<uint8_t>(txt[0][256]), 45);
  EXPECT_EQ(txt[0].back(), '\0');  // the empty string stays an empty character-string
  EXPECT_EQ(txt[0].substr(1, 255), std::string(255, 'x'));
}

TEST(ZoneLoader, SrvAndCaaWire) {
  auto z = load_good();
  ASSERT_TRUE(z);
  auto srv = rdatas(*z, "\4_sip\4_tcp\7example\3com\0"s, dns::rrtype::SRV);
  ASSERT_EQ(srv.size(), 1u);
  EXPECT_EQ(srv[0], "\x00\x0a\x00\x05\x13\xc4\3sip\7example\3com\0"s);
  auto caa = rdatas(*z, "\3caa\7example\3com\0"s, dns::rrtype::CAA);
  ASSERT_EQ(caa.size(), 1u);
  EXPECT_EQ(caa[0], "\x00\x05issueca.example"s);
}

TEST(ZoneLoader, EmptyNonTerminalsWildcardsAndCuts) {
  auto z = load_good();
  ASSERT_TRUE(z);
  const Node& c = node(*z, "\1c\7example\3com\0"s);
  const Node& bc = node(*z, "\1b\1c\7example\3com\0"s);
  EXPECT_TRUE(c.empty_nonterminal());
  EXPECT_TRUE(bc.empty_nonterminal());
  EXPECT_FALSE(node(*z, "\1a\1b\1c\7example\3com\0"s).empty_nonterminal());
  const Node& wild = node(*z, "\1*\4wild\7example\3com\0"s);
  EXPECT_TRUE(wild.is_wildcard);
  EXPECT_TRUE(node(*z, "\4wild\7example\3com\0"s).empty_nonterminal());
  EXPECT_FALSE(c.is_wildcard);

  const std::string sub = "\3sub\7example\3com\0"s;
  const Node& cut = node(*z, sub);
  EXPECT_TRUE(cut.is_delegation);
  const auto cut_index = static_cast<int32_t>(z->node_number(sub));
  EXPECT_EQ(cut.cut, cut_index);
  EXPECT_EQ(node(*z, "\2ns\3sub\7example\3com\0"s).cut, cut_index);
  EXPECT_EQ(node(*z, "\4mail\7example\3com\0"s).cut, -1);
  EXPECT_FALSE(z->apex().is_delegation);
  EXPECT_EQ(z->apex().cut, -1);
  // The index covers every node exactly.
  EXPECT_EQ(z->index.size(), z->nodes.size());
  for (uint32_t i = 0; i < z->nodes.size(); ++i) {
    EXPECT_EQ(z->node_number(z->nodes[i].name), static_cast<int64_t>(i));
  }
  // Canonical order: every node comes after its parent.
  for (size_t i = 1; i < z->nodes.size(); ++i) {
    const std::string_view name = z->nodes[i].name;
    const std::string_view parent = name.substr(1 + static_cast<unsigned char>(name[0]));
    EXPECT_LT(z->node_number(parent), static_cast<int64_t>(i));
  }
  EXPECT_EQ(z->node_number("\7missing\7example\3com\0"s), -1);
}

TEST(ZoneLoader, SteeredNameDatacentersAndTargets) {
  auto z = load_good();
  ASSERT_TRUE(z);
  const Node& www = node(*z, "\3www\7example\3com\0"s);
  ASSERT_EQ(www.rule, 0);
  EXPECT_TRUE(www.rrsets.empty());
  ASSERT_EQ(z->rules.size(), 1u);
  const steer::Rule& rule = z->rules[0];
  EXPECT_EQ(rule.owner, "www.example.com.");
  EXPECT_EQ(rule.policy, steer::Policy::failover);
  EXPECT_EQ(rule.ttl_s, 30u);
  EXPECT_EQ(rule.degraded_ttl_s, 10u);
  EXPECT_EQ(rule.answers, 2u);
  EXPECT_EQ(rule.datacenters, (steer::DcList{0, 1}));
  EXPECT_EQ(rule.on_all_down, steer::AllDown::fallback);
  EXPECT_EQ(rule.fallback_dc, 1u);

  ASSERT_EQ(z->datacenters.size(), 2u);
  const steer::Datacenter& fra = z->datacenters[0];
  EXPECT_EQ(fra.name, "fra");
  EXPECT_EQ(fra.id, 0u);  // a zone loaded alone numbers its datacenters from 0
  EXPECT_TRUE(fra.has_location);
  EXPECT_DOUBLE_EQ(fra.latitude, 50.11);
  EXPECT_EQ(fra.check, "web");
  ASSERT_EQ(fra.v4.size(), 1u);
  ASSERT_EQ(fra.v6.size(), 1u);
  EXPECT_EQ(fra.v4[0].ip.to_string(), "192.0.2.10");

  ASSERT_EQ(z->targets.size(), 3u);
  const steer::TargetSpec& t = z->targets[0];
  EXPECT_EQ(t.id, fra.v4[0].target);
  EXPECT_EQ(t.check.type, steer::CheckType::http);
  EXPECT_EQ(t.check.port, 8080);
  EXPECT_EQ(t.check.path, "/health");
  EXPECT_EQ(t.check.expect_min, 200);
  EXPECT_EQ(t.check.expect_max, 204);
  EXPECT_EQ(t.key, t.check.key() + "@192.0.2.10");
  // A datacenter without a check gets a "none" target (for admin overrides).
  const steer::TargetSpec& none = z->targets[2];
  EXPECT_EQ(none.check.type, steer::CheckType::none);
  EXPECT_EQ(none.check.name, "");
  EXPECT_EQ(none.key, steer::CheckSpec{}.key() + "@198.51.100.10");
  EXPECT_EQ(z->datacenters[1].v4[0].target, none.id);
}

TEST(ZoneLoader, ReloadKeepsTargetIds) {
  auto a = load_good();
  auto b = load_good(a.get());
  ASSERT_TRUE(a && b);
  ASSERT_EQ(a->targets.size(), b->targets.size());
  for (size_t i = 0; i < a->targets.size(); ++i) EXPECT_EQ(a->targets[i].id, b->targets[i].id);
  EXPECT_EQ(a->datacenters[0].id, b->datacenters[0].id);
}

TEST(ZoneLoader, ExplicitSerialIsUsed) {
  std::string text = kGoodZone;
  text.replace(text.find("ttl = 120\n"), 0, "serial = 2024010101\n");
  auto z = load_good(nullptr, text);
  ASSERT_TRUE(z);
  EXPECT_EQ(z->serial, 2024010101u);
}

TEST(ZoneLoader, AutomaticSerialFollowsContent) {
  const auto now = static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
  auto first = load_good();
  ASSERT_TRUE(first);
  EXPECT_GE(first->serial, now);
  EXPECT_LE(first->serial, now + 60);
  EXPECT_NE(first->content_hash, 0u);

  // Unchanged file: same serial, even if time moved on.
  auto same = load_good(first.get());
  ASSERT_TRUE(same);
  EXPECT_EQ(same->serial, first->serial);

  // Changed file: increases, even when the previous serial is ahead of the clock.
  // (Only origin, serial and content hash of the previous version matter.)
  Zone ahead;
  ahead.origin = first->origin;
  ahead.content_hash = first->content_hash;
  ahead.serial = now + 1000000;
  auto changed = load_good(&ahead, std::string(kGoodZone) + "\n# edited\n");
  ASSERT_TRUE(changed);
  EXPECT_EQ(changed->serial, now + 1000001);
  EXPECT_NE(changed->content_hash, first->content_hash);

  // A previous version of another zone is ignored.
  Zone other;
  other.content_hash = first->content_hash;
  other.origin = "\5other\0"s;
  other.serial = now + 1000000;
  auto unrelated = load_good(&other);
  ASSERT_TRUE(unrelated);
  EXPECT_LT(unrelated->serial, now + 1000000);
}

TEST(ZoneLoader, NextSerialArithmetic) {
  Zone prev;
  prev.content_hash = 1;
  prev.serial = 100;
  EXPECT_EQ(next_serial(7, nullptr, 5000), 5000u);
  EXPECT_EQ(next_serial(1, &prev, 5000), 100u);   // unchanged
  EXPECT_EQ(next_serial(2, &prev, 5000), 5000u);  // clock ahead
  EXPECT_EQ(next_serial(2, &prev, 50), 101u);     // clock behind: never decrease
  prev.serial = 0xffffffffu;
  EXPECT_EQ(next_serial(2, &prev, 50), 50u);  // RFC 1982: 0xffffffff + 1 wraps to 0 < 50
  prev.serial = 0xfffffff0u;
  EXPECT_EQ(next_serial(2, &prev, 0xfffffff1u), 0xfffffff1u);
}

TEST(ZoneLoader, SoaRecordInRecordsWithAutomaticSerial) {
  const std::string text = R"([records]
"@" = ["SOA ns1 hostmaster 0 3600 600 86400 300", "NS ns1"]
ns1 = "A 192.0.2.1"
)";
  auto r = load_zone_text(text, "zones/soa.test.toml", ServerConfig{}, nullptr);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const Zone& z = **r;
  EXPECT_EQ(z.origin_text, "soa.test.");  // from the file name
  auto soa = rdatas(z, z.origin, dns::rrtype::SOA);
  ASSERT_EQ(soa.size(), 1u);
  const auto* p = reinterpret_cast<const uint8_t*>(soa[0].data() + soa[0].size() - 20);
  EXPECT_NE(z.serial, 0u);
  EXPECT_EQ(dns::read_u32(p), z.serial);
  EXPECT_EQ(z.negative_ttl_s, 300u);  // min(3600 zone ttl, minimum 300)
}

TEST(ZoneLoader, SerialFollowsTheServerDatacentersTheZoneUses) {
  auto config = [](const std::string& lon_address) {
    auto cfg =
        load_server_config_text("[datacenters.lon]\naddresses = [\"" + lon_address +
                                    "\"]\n[datacenters.unused]\naddresses = [\"192.0.2.7\"]\n",
                                "geodns.toml", "");
    EXPECT_TRUE(cfg.ok()) << cfg.error().to_string();
    return *cfg;
  };
  std::string text = kGoodZone;
  text += "\n[steer.shared]\npolicy = \"roundrobin\"\ndatacenters = [\"lon\"]\n";
  auto first = load_zone_text(text, "good.toml", config("192.0.2.30"), nullptr);
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  Zone ahead;  // a previous version ahead of the clock, so that a bump is visible as +1
  ahead.origin = (*first)->origin;
  ahead.content_hash = (*first)->content_hash;
  ahead.serial = (*first)->serial + 1000000;
  // Same zone file, same server datacenters: the serial stays.
  auto same = load_zone_text(text, "good.toml", config("192.0.2.30"), &ahead);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ((*same)->serial, ahead.serial);
  // A datacenter the zone does not use changes nothing either.
  auto cfg2 = load_server_config_text(
      "[datacenters.lon]\naddresses = [\"192.0.2.30\"]\n[datacenters.unused]\naddresses = "
      "[\"192.0.2.8\"]\n",
      "geodns.toml", "");
  ASSERT_TRUE(cfg2.ok());
  auto unused = load_zone_text(text, "good.toml", *cfg2, &ahead);
  ASSERT_TRUE(unused.ok());
  EXPECT_EQ((*unused)->serial, ahead.serial);
  // Same zone file, but lon moved: the answers change, so does the serial.
  auto moved = load_zone_text(text, "good.toml", config("192.0.2.31"), &ahead);
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ((*moved)->serial, ahead.serial + 1);
  const RRset* soa = (*moved)->apex().find(dns::rrtype::SOA);
  ASSERT_NE(soa, nullptr);
  const std::string_view rd = soa->rdatas[0];
  EXPECT_EQ(dns::read_u32(reinterpret_cast<const uint8_t*>(rd.data() + rd.size() - 20)),
            (*moved)->serial);
}

TEST(ZoneLoader, ServerDatacentersAndChecksAreShared) {
  auto cfg = load_server_config_text(R"(
[datacenters.lon]
addresses = ["192.0.2.30"]
check = "ping"
[datacenters.fra]
addresses = ["192.0.2.99"]
[checks.ping]
type = "tcp"
port = 443
)",
                                     "geodns.toml", "");
  ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
  std::string text = kGoodZone;
  text += R"(
[steer.shared]
policy = "roundrobin"
datacenters = ["lon", "fra"]
)";
  auto r = load_zone_text(text, "good.toml", *cfg, nullptr);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const Zone& z = **r;
  // The zone's own fra shadows the server's; lon joins because it is used.
  ASSERT_EQ(z.datacenters.size(), 3u);
  EXPECT_EQ(z.datacenters[0].v4[0].ip.to_string(), "192.0.2.10");
  EXPECT_EQ(z.datacenters[2].name, "lon");
  EXPECT_EQ(z.rules[1].datacenters, (steer::DcList{2, 0}));
  const auto& lon_target = z.targets.back();
  EXPECT_EQ(lon_target.check.type, steer::CheckType::tcp);
  EXPECT_EQ(lon_target.check.name, "ping");
  EXPECT_EQ(lon_target.check.port, 443);
}

// A geodns.toml datacenter may be a CNAME target too: probed at its check's probe_address,
// and a change of target is a change of the zones that use it (their serial moves).
TEST(ZoneLoader, SharedTargetDatacenter) {
  auto config = [](const std::string& target) {
    auto cfg = load_server_config_text(R"([checks.cdn]
type = "tcp"
port = 443
probe_address = "192.0.2.80"
[checks.bare]
type = "tcp"
port = 443
[datacenters.cdn]
target = ")" + target + R"("
check = "cdn"
[datacenters.bad]
target = "x.example.net."
check = "bare"
)",
                                       "geodns.toml", "");
    EXPECT_TRUE(cfg.ok()) << cfg.error().to_string();
    return *cfg;
  };
  const std::string text =
      std::string(kGoodZone) + "\n[steer.viacdn]\npolicy = \"failover\"\ndatacenters = [\"cdn\"]\n";
  auto r = load_zone_text(text, "good.toml", config("Edge.CDN.example.net."), nullptr);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const auto& dcs = (*r)->datacenters;
  auto cdn = std::find_if(dcs.begin(), dcs.end(), [](const auto& d) { return d.name == "cdn"; });
  ASSERT_NE(cdn, dcs.end());
  EXPECT_EQ(cdn->target, std::string("\4Edge\3CDN\7example\3net\0", 22));  // case kept
  ASSERT_EQ(cdn->v4.size(), 1u);
  ASSERT_EQ(cdn->v6.size(), 1u);
  EXPECT_EQ(cdn->v4[0].ip.to_string(), "192.0.2.80");
  EXPECT_EQ(cdn->v6[0].target, cdn->v4[0].target);
  const Node* node = (*r)->find(std::string("\6viacdn\7example\3com\0", 20));
  ASSERT_NE(node, nullptr);
  EXPECT_TRUE(node->may_cname);

  auto moved = load_zone_text(text, "good.toml", config("other.cdn.example.net."), nullptr);
  ASSERT_TRUE(moved.ok());
  EXPECT_NE((*moved)->content_hash, (*r)->content_hash);

  // The error points into geodns.toml, where the target is written.
  auto bad = load_zone_text(
      std::string(kGoodZone) + "\n[steer.viabad]\npolicy = \"failover\"\ndatacenters = [\"bad\"]\n",
      "good.toml", config("Edge.CDN.example.net."), nullptr);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().file, "geodns.toml");
  EXPECT_EQ(bad.error().line, 12u);
  EXPECT_NE(bad.error().message.find("its check \"bare\" needs a probe_address"), std::string::npos)
      << bad.error().message;
}

TEST(ZoneLoader, EveryPolicyCompiles) {
  auto r = load_zone_file(GEODNS_SOURCE_DIR "/zones/example.com.toml", ServerConfig{}, nullptr);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const Zone& z = **r;
  ASSERT_EQ(z.rules.size(), 5u);
  auto rule_of = [&](const std::string& wire) -> const steer::Rule* {
    const Node* n = z.find(wire);
    return n && n->rule >= 0 ? &z.rules[static_cast<size_t>(n->rule)] : nullptr;
  };
  const steer::Rule* www = rule_of("\3www\7example\3com\0"s);
  ASSERT_NE(www, nullptr);
  EXPECT_EQ(www->policy, steer::Policy::geo);
  EXPECT_EQ(www->map.size(), 6u);
  EXPECT_TRUE(www->default_list.has_value());
  ASSERT_EQ(www->nets.size(), 1u);
  EXPECT_EQ(www->nets[0].first.to_string(), "203.0.113.0/24");
  const steer::Rule* cdn = rule_of("\3cdn\7example\3com\0"s);
  ASSERT_NE(cdn, nullptr);
  EXPECT_EQ(cdn->policy, steer::Policy::weighted);
  ASSERT_EQ(cdn->weights.size(), 2u);
  EXPECT_EQ(z.datacenters[cdn->datacenters[0]].name, "fra");
  EXPECT_EQ(cdn->weights[0], 3u);
  EXPECT_EQ(z.datacenters[cdn->datacenters[1]].name, "iad");
  EXPECT_EQ(cdn->weights[1], 1u);
  EXPECT_EQ(rule_of("\4near\7example\3com\0"s)->policy, steer::Policy::nearest);
  EXPECT_EQ(rule_of("\3api\7example\3com\0"s)->policy, steer::Policy::failover);
  EXPECT_EQ(rule_of("\2rr\7example\3com\0"s)->policy, steer::Policy::roundrobin);
}

TEST(ZoneLoader, ShippedDemoZonesLoad) {
  auto report = load_zone_dir(GEODNS_SOURCE_DIR "/zones", ServerConfig{}, nullptr);
  for (const auto& e : report.errors) ADD_FAILURE() << e.to_string();
  ASSERT_TRUE(report.zones);
  ASSERT_EQ(report.zones->zones.size(), 2u);
  const Zone* ex = report.zones->find_zone("\3www\7example\3com\0"s);
  ASSERT_NE(ex, nullptr);
  EXPECT_EQ(ex->origin_text, "example.com.");
  const Zone* rev = report.zones->find_zone("\00210\0012\0010\003192\7in-addr\4arpa\0"s);
  ASSERT_NE(rev, nullptr);
  EXPECT_EQ(rev->origin_text, "2.0.192.in-addr.arpa.");
  auto ptr = rdatas(*rev, "\00210\0012\0010\003192\7in-addr\4arpa\0"s, dns::rrtype::PTR);
  ASSERT_EQ(ptr.size(), 1u);
  EXPECT_EQ(ptr[0], "\5fra-1\7example\3com\0"s);
  // The demo's long DKIM TXT is split.
  const RRset* dkim = node(*ex, "\4long\12_domainkey\7example\3com\0"s).find(dns::rrtype::TXT);
  ASSERT_NE(dkim, nullptr);
  EXPECT_EQ(static_cast<uint8_t>(dkim->rdatas[0][0]), 255);
  // alias -> www2 -> A, all in the zone.
  EXPECT_NE(node(*ex, "\5alias\7example\3com\0"s).find(dns::rrtype::CNAME), nullptr);
  EXPECT_NE(node(*ex, "\4www2\7example\3com\0"s).find(dns::rrtype::A), nullptr);
  EXPECT_EQ(report.zones->targets.size(), 9u);  // 3 + 3 + 2 + 1 addresses, no checks
  EXPECT_EQ(report.zones->generation, 1u);
}

}  // namespace
}  // namespace geodns::zone

namespace geodns::zone {
namespace {

TEST(ZoneLoaderSyntax, TxtEscapesClassPrefixAndRelativeNames) {
  const std::string text = R"([zone.soa]
mname = "ns1"
rname = "hostmaster"
[records]
"@" = ["IN NS ns1", "mx 10 @"]
t = ['TXT "a \"q\" \065\\" plain', "TXT ''"]
"*.geo" = "A 192.0.2.7"
)";
  auto r = load_zone_text(text, "zones/t.example.toml", ServerConfig{}, nullptr);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const Zone& z = **r;
  EXPECT_EQ(z.origin_text, "t.example.");
  const Node* apex = &z.apex();
  ASSERT_NE(apex->find(dns::rrtype::NS), nullptr);
  EXPECT_EQ(apex->find(dns::rrtype::NS)->rdatas[0], "\3ns1\1t\7example\0"s);
  EXPECT_EQ(apex->find(dns::rrtype::MX)->rdatas[0], "\0\x0a\1t\7example\0"s);
  const Node* t = z.find("\1t\1t\7example\0"s);
  ASSERT_NE(t, nullptr);
  const RRset* txt = t->find(dns::rrtype::TXT);
  ASSERT_NE(txt, nullptr);
  ASSERT_EQ(txt->rdatas.size(), 2u);
  EXPECT_EQ(txt->rdatas[0],
            "\x08"
            "a \"q\" A\\"
            "\x05plain"s);
  EXPECT_EQ(txt->rdatas[1], "\x02''"s);
  const Node* wild = z.find("\1*\3geo\1t\7example\0"s);
  ASSERT_NE(wild, nullptr);
  EXPECT_TRUE(wild->is_wildcard);
}

// find_zone() scans a few zones and hashes suffixes for more: both give the closest
// enclosing zone, at label boundaries only.
TEST(ZoneSet, FindZoneTakesTheLongestOriginAtALabelBoundary) {
  for (const size_t filler : {0U, 12U}) {  // 3 zones (scan) and 15 (hash table)
    ZoneSet set;
    auto add = [&](const std::string& origin) {
      auto z = std::make_shared<Zone>();
      z->origin = origin;
      set.zones.push_back(z);
    };
    add("\3com\0"s);
    add("\7example\3com\0"s);
    add("\3sub\7example\3com\0"s);
    for (size_t i = 0; i < filler; ++i)
      add("\4fill" + std::string(1, static_cast<char>(1)) +
          std::string(1, static_cast<char>('a' + i)) + "\0"s);
    set.reindex();
    auto origin_of = [&](const std::string& name) -> std::string {
      const Zone* z = set.find_zone(name);
      return z == nullptr ? "none" : z->origin;
    };
    EXPECT_EQ(origin_of("\3www\3sub\7example\3com\0"s), "\3sub\7example\3com\0"s);
    EXPECT_EQ(origin_of("\3sub\7example\3com\0"s), "\3sub\7example\3com\0"s);
    EXPECT_EQ(origin_of("\3www\7example\3com\0"s), "\7example\3com\0"s);
    // A label "x\3sub" makes the name end with the bytes of sub.example.com, not at a label.
    EXPECT_EQ(origin_of("\5x\3sub\7example\3com\0"s), "\7example\3com\0"s);
    EXPECT_EQ(origin_of("\5x\3com\0"s), "none");
    EXPECT_EQ(origin_of("\3www\3net\0"s), "none");
    EXPECT_EQ(origin_of("\3com\0"s), "\3com\0"s);
  }
}

}  // namespace
}  // namespace geodns::zone
