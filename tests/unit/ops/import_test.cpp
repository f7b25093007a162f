// `geodns import`: a master file with every common type is converted, the TOML is loaded by
// the real zone loader, and every RRset must carry the same wire RDATA and TTL as ldns parsed.
#include "ops/import.h"

// <stdbool.h> first: without it ldns/common.h #defines bool/true/false.
#include <stdbool.h>  // NOLINT(modernize-deprecated-headers)

#include <gtest/gtest.h>
#include <ldns/ldns.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <set>

#include "zone/loader.h"

namespace geodns::ops {
namespace {

constexpr const char* kZoneFile = R"($ORIGIN example.org.
$TTL 3600
@   IN SOA ns1 hostmaster ( 2024010101 7200 900 1209600 300 )
    IN NS  ns1
    IN NS  ns2.example.net.
    IN MX  10 mail
    IN MX  20 mail2.example.net.
    IN TXT "v=spf1 mx -all"
    IN CAA 0 issue "letsencrypt.org"
    IN CAA 128 iodef "mailto:security@example.org"
ns1       IN A     192.0.2.53
ns1       IN AAAA  2001:db8::53
mail  600 IN A     192.0.2.25
www       IN CNAME web
web       IN A     192.0.2.80
web       IN A     192.0.2.81
txt       IN TXT   "first" "second with \"quotes\"" "back\\slash" "semi;colon"
txt       IN TXT   "it's got 'single' quotes"
txt    60 IN TXT   "short ttl"
_sip._tcp IN SRV   10 60 5060 sip
sip       IN A     192.0.2.60
ptr       IN PTR   host.example.net.
*.wild    IN A     192.0.2.200
*.wild    IN TXT   "wildcard"
sub       IN NS    ns1.sub
sub       IN NS    ns.example.net.
ns1.sub   IN A     192.0.2.54
ns1.sub   IN AAAA  2001:db8::54
$ORIGIN deep.example.org.
x         IN A     192.0.2.100
$TTL 60
short     IN A     192.0.2.9
)";

struct ZoneDeleter {
  void operator()(ldns_zone* z) const { ldns_zone_deep_free(z); }
};

std::string wire_rdata(const ldns_rr* rr) {
  std::string out;
  for (size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
    const ldns_rdf* f = ldns_rr_rdf(rr, i);
    out.append(reinterpret_cast<const char*>(ldns_rdf_data(f)), ldns_rdf_size(f));
  }
  return out;
}

std::string lower_wire_owner(const ldns_rr* rr) {
  ldns_rdf* owner = ldns_rdf_clone(ldns_rr_owner(rr));
  ldns_dname2canonical(owner);
  std::string out(reinterpret_cast<const char*>(ldns_rdf_data(owner)), ldns_rdf_size(owner));
  ldns_rdf_deep_free(owner);
  return out;
}

TEST(Import, EveryCommonTypeRoundTrips) {
  auto imported = import_zone_text(kZoneFile, "example.org", "db.example.org");
  ASSERT_TRUE(imported) << imported.error().to_string();
  EXPECT_TRUE(imported->warnings.empty());
  EXPECT_EQ(imported->records, 27U);
  const std::string& toml = imported->toml;
  EXPECT_NE(toml.find("serial = 2024010101"), std::string::npos) << toml;
  EXPECT_NE(toml.find("ttl = 3600"), std::string::npos) << toml;
  EXPECT_NE(toml.find("\"@\" = ["), std::string::npos) << toml;
  EXPECT_NE(toml.find("\"*.wild\" = ["), std::string::npos) << toml;
  EXPECT_NE(toml.find("{ ttl = 600, rr = \"A 192.0.2.25\" }"), std::string::npos) << toml;

  zone::ServerConfig config;
  auto loaded = zone::load_zone_text(toml, "example.org.toml", config, nullptr);
  ASSERT_TRUE(loaded) << loaded.error().to_string() << "\n" << toml;
  const zone::Zone& z = *loaded.value();
  EXPECT_EQ(z.origin_text, "example.org.");
  EXPECT_EQ(z.serial, 2024010101U);

  // What ldns parsed from the original file, as (owner, type) -> ttl and RDATA set.
  ldns_zone* raw = nullptr;
  std::string buf = kZoneFile;
  FILE* fp = fmemopen(buf.data(), buf.size(), "r");
  ASSERT_NE(fp, nullptr);
  ldns_rdf* origin = ldns_dname_new_frm_str("example.org.");
  ASSERT_EQ(ldns_zone_new_frm_fp(&raw, fp, origin, 3600, LDNS_RR_CLASS_IN), LDNS_STATUS_OK);
  std::fclose(fp);
  ldns_rdf_deep_free(origin);
  std::unique_ptr<ldns_zone, ZoneDeleter> expected(raw);
  std::map<std::pair<std::string, uint16_t>, std::pair<uint32_t, std::set<std::string>>> want;
  const ldns_rr_list* rrs = ldns_zone_rrs(expected.get());
  for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(rrs, i);
    auto& slot = want[{lower_wire_owner(rr), static_cast<uint16_t>(ldns_rr_get_type(rr))}];
    slot.first = ldns_rr_ttl(rr);  // per-RRset TTLs in this file are uniform except txt
    slot.second.insert(wire_rdata(rr));
  }
  size_t compared = 0;
  for (const auto& [key, value] : want) {
    const zone::Node* node = z.find(key.first);
    ASSERT_NE(node, nullptr) << "owner missing after import (type " << key.second << ")";
    const zone::RRset* rrset = node->find(key.second);
    ASSERT_NE(rrset, nullptr) << "type " << key.second << " missing at " << node->name.size();
    const std::set<std::string> got(rrset->rdatas.begin(), rrset->rdatas.end());
    EXPECT_EQ(got, value.second) << "RDATA differ for type " << key.second;
    EXPECT_EQ(got.size(), rrset->rdatas.size());
    if (key.second != LDNS_RR_TYPE_TXT) {
      EXPECT_EQ(rrset->ttl_s, value.first) << "TTL differs for type " << key.second;
    }
    ++compared;
  }
  EXPECT_EQ(compared, 20U);
  // The SOA: everything but the serial the loader may manage, compared field by field.
  const zone::RRset* soa = z.apex().find(LDNS_RR_TYPE_SOA);
  ASSERT_NE(soa, nullptr);
  ASSERT_FALSE(soa->rdatas.empty());
  EXPECT_EQ(wire_rdata(ldns_zone_soa(expected.get())), soa->rdatas[0]);
}

TEST(Import, Errors) {
  auto r = import_zone_text("www IN A 192.0.2.1\n", "example.org.", "db");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().to_string().find("SOA"), std::string::npos) << r.error().to_string();
  r = import_zone_text("@ IN SOA a b 1 2 3 4 5\nwww IN A 999.1.1.1\n", "example.org.", "db");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().file, "db");
  EXPECT_EQ(r.error().line, 2U) << r.error().to_string();
  r = import_zone_text("@ IN SOA a b 1 2 3 4 5\nwww.other.net. IN A 192.0.2.1\n", "example.org",
                       "db");
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->warnings.size(), 1U);
  EXPECT_NE(r->warnings[0].find("outside"), std::string::npos);
  EXPECT_EQ(r->records, 0U);
}

}  // namespace
}  // namespace geodns::ops
