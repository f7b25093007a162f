// A zone with dnssec = true, built by the loader: DNSKEY/CDS/CDNSKEY at the apex, every
// authoritative RRset signed (ldns verifies each), nothing signed at or below a cut but the
// DS, and every key problem a load error that names the zone file and the key directory.
#include <gtest/gtest.h>

#include <ctime>
#include <set>

#include "dnssec/ds.h"
#include "dnssec/key.h"
#include "ldns_check.h"
#include "zone/loader.h"

namespace geodns::dnssec::testing {
namespace {

constexpr const char* kZone = R"(
[zone]
name = "example.com."
dnssec = true
[zone.soa]
mname = "ns1.example.com."
rname = "hostmaster.example.com."
ttl = 600
[records]
"@" = ["NS ns1.example.com.", "MX 10 Mail.Example.COM."]
ns1 = ["A 192.0.2.53"]
www = ["A 192.0.2.1", "A 192.0.2.2", "AAAA 2001:db8::1"]
"*.wild" = ["TXT \"wild\""]
sub = ["NS ns.sub.example.com.", "DS 12345 13 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE40D9D6A1F0A8C4C8D8B2F3A1"]
"ns.sub" = ["A 192.0.2.54"]
)";

struct SignedZone {
  TempDir dir;
  zone::ServerConfig config;
  std::vector<SigningKey> keys;
  zone::ZonePtr zone;
  std::string error;

  void add_key(Algorithm a, KeyRole role, int64_t activate_offset = 0, bool publish = true) {
    const int64_t now = std::time(nullptr);
    auto k = generate_key("example.com.", a, role, now);
    ASSERT_TRUE(k);
    if (publish) k->timing.publish_unix = now - 10;
    if (activate_offset != INT64_MIN) k->timing.activate_unix = now + activate_offset;
    ASSERT_TRUE(write_key_files(*k, dir.path + "/keys"));
    keys.push_back(*k);
  }
  void load(const std::string& text = kZone) {
    config.dnssec.key_directory = dir.path + "/keys";
    auto z = zone::load_zone_text(text, "zones/example.com.toml", config, nullptr);
    if (z) {
      zone = *z;
    } else {
      error = z.error().to_string();
    }
  }
  const zone::RRset* rrset(std::string_view name, uint16_t type) const {
    const zone::Node* n = zone->find(lower(wire(name)));
    return n == nullptr ? nullptr : n->find(type);
  }
};

// ldns verifies every RRSIG of `set` against one of the zone's DNSKEYs.
int verified(const SignedZone& z, std::string_view name, const zone::RRset& set) {
  const auto sigs = z.zone->rrsigs(set);
  int ok = 0;
  for (const auto& sig : sigs) {
    bool good = false;
    for (const auto& k : z.keys) {
      ldns_rr* key = read_key_file(k.key_path);
      std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(sig.data()), sig.size());
      if (ldns_verify(lower(wire(name)), set.type, set.ttl_s, set.rdatas, bytes, key) ==
          LDNS_STATUS_OK) {
        good = true;
      }
      ldns_rr_free(key);
    }
    ok += good ? 1 : 0;
  }
  return ok;
}

TEST(ZoneSigner, CskSignsEveryAuthoritativeRRsetAndNothingAtOrBelowACut) {
  SignedZone z;
  z.add_key(Algorithm::ecdsap256sha256, KeyRole::csk);
  z.load();
  ASSERT_TRUE(z.zone) << z.error;
  ASSERT_TRUE(z.zone->signing);
  EXPECT_EQ(z.zone->signing->online(), &z.zone->signing->keys[0]);
  const zone::RRset* dnskey = z.rrset("example.com.", 48);
  ASSERT_NE(dnskey, nullptr);
  ASSERT_EQ(dnskey->rdatas.size(), 1u);
  EXPECT_EQ(dnskey->rdatas[0], z.keys[0].dnskey_rdata);
  EXPECT_EQ(dnskey->ttl_s, 600u);  // the SOA's
  const zone::RRset* cds = z.rrset("example.com.", 59);
  ASSERT_NE(cds, nullptr);
  EXPECT_EQ(cds->rdatas[0], ds_rdata(wire("example.com."), z.keys[0].dnskey_rdata));
  ASSERT_NE(z.rrset("example.com.", 60), nullptr);

  int signed_sets = 0;
  for (const auto& node : z.zone->nodes) {
    const std::string name = dns::name_to_text(node.name);
    for (const auto& set : node.rrsets) {
      const bool at_cut = name == "sub.example.com.";
      const bool glue = name == "ns.sub.example.com.";
      if (glue || (at_cut && set.type != dns::rrtype::DS)) {
        EXPECT_TRUE(z.zone->rrsigs(set).empty()) << name << " " << set.type;
        continue;
      }
      ASSERT_EQ(z.zone->rrsigs(set).size(), 1u) << name << " " << set.type;
      EXPECT_EQ(verified(z, name, set), 1) << name << " " << set.type;
      ++signed_sets;
    }
  }
  // SOA NS MX DNSKEY CDS CDNSKEY, ns1 A, www A AAAA, *.wild TXT, sub DS.
  EXPECT_EQ(signed_sets, 11);
  // An RRset not of this zone has none.
  zone::RRset stranger;
  EXPECT_TRUE(z.zone->rrsigs(stranger).empty());
  // The window: 14 days of validity from an hour back; re-signed a week before expiry.
  const auto& w = z.zone->signing->window;
  EXPECT_EQ(w.expiration_unix - w.inception_unix, 14 * 86400 + 3600);
  EXPECT_EQ(z.zone->signing->resign_by_unix, w.expiration_unix - 7 * 86400);
}

TEST(ZoneSigner, SplitKeysSignTheirOwnRRsets) {
  SignedZone z;
  z.add_key(Algorithm::ed25519, KeyRole::ksk);
  z.add_key(Algorithm::ed25519, KeyRole::zsk);
  z.add_key(Algorithm::ed25519, KeyRole::zsk, INT64_MIN);  // pre-published: no Activate
  z.load();
  ASSERT_TRUE(z.zone) << z.error;
  const auto& s = *z.zone->signing;
  EXPECT_EQ(s.published.size(), 3u);
  ASSERT_EQ(s.key_signers.size(), 1u);
  ASSERT_EQ(s.zone_signers.size(), 1u);
  EXPECT_EQ(s.keys[s.key_signers[0]].key_tag, z.keys[0].key_tag);
  EXPECT_EQ(s.online()->key_tag, z.keys[1].key_tag);
  const zone::RRset* dnskey = z.rrset("example.com.", 48);
  ASSERT_NE(dnskey, nullptr);
  EXPECT_EQ(dnskey->rdatas.size(), 3u);
  auto tag_of = [](std::string_view sig) {
    return dns::read_u16(reinterpret_cast<const uint8_t*>(sig.data()) + 16);
  };
  ASSERT_EQ(z.zone->rrsigs(*dnskey).size(), 1u);
  EXPECT_EQ(tag_of(z.zone->rrsigs(*dnskey)[0]), z.keys[0].key_tag);
  EXPECT_EQ(verified(z, "example.com.", *dnskey), 1);
  // Only the KSK's CDS/CDNSKEY.
  EXPECT_EQ(z.rrset("example.com.", 59)->rdatas.size(), 1u);
  const zone::RRset* www = z.rrset("www.example.com.", dns::rrtype::A);
  ASSERT_EQ(z.zone->rrsigs(*www).size(), 1u);
  EXPECT_EQ(tag_of(z.zone->rrsigs(*www)[0]), z.keys[1].key_tag);
  EXPECT_EQ(verified(z, "www.example.com.", *www), 1);
}

TEST(ZoneSigner, UnsignedZonesCarryNothing) {
  SignedZone z;
  std::string text = kZone;
  text.replace(text.find("dnssec = true"), 13, "dnssec = false");
  z.load(text);
  ASSERT_TRUE(z.zone) << z.error;
  EXPECT_FALSE(z.zone->signing);
  EXPECT_TRUE(z.zone->storage.rrsigs.empty());
  EXPECT_EQ(z.rrset("example.com.", 48), nullptr);
}

TEST(ZoneSigner, KeyProblemsAreLoadErrorsNamingFileAndDirectory) {
  {
    SignedZone z;  // no key directory at all
    z.load();
    EXPECT_NE(z.error.find("zones/example.com.toml:4:10: dnssec = true, but the key directory " +
                           z.dir.path +
                           "/keys does not exist (create the keys: geodns dnssec "
                           "keygen example.com.)"),
              std::string::npos)
        << z.error;
  }
  {
    SignedZone z;
    z.add_key(Algorithm::ecdsap256sha256, KeyRole::csk);
    std::filesystem::remove(z.keys[0].key_path);
    std::filesystem::remove(z.keys[0].private_path);
    z.load();
    EXPECT_NE(z.error.find("has no key for example.com. (create one: geodns dnssec keygen"),
              std::string::npos)
        << z.error;
  }
  {
    SignedZone z;
    z.add_key(Algorithm::ecdsap256sha256, KeyRole::csk, 3600);  // activates in an hour
    z.load();
    EXPECT_NE(z.error.find("no active KSK or CSK"), std::string::npos) << z.error;
    EXPECT_NE(z.error.find(z.dir.path + "/keys"), std::string::npos) << z.error;
    EXPECT_NE(z.error.find(std::to_string(z.keys[0].key_tag) + " CSK published"), std::string::npos)
        << z.error;
  }
  {
    SignedZone z;
    z.add_key(Algorithm::ecdsap256sha256, KeyRole::ksk);
    z.load();
    EXPECT_NE(z.error.find("no active ZSK or CSK"), std::string::npos) << z.error;
  }
  {
    SignedZone z;
    z.add_key(Algorithm::ecdsap256sha256, KeyRole::csk);
    std::filesystem::remove(z.keys[0].private_path);
    z.load();
    EXPECT_NE(z.error.find(z.keys[0].private_path + ": missing"), std::string::npos) << z.error;
  }
  {
    SignedZone z;
    z.add_key(Algorithm::ecdsap256sha256, KeyRole::csk);
    z.config.prober.state_dir.clear();
    zone::ServerConfig no_dir;
    auto r = zone::load_zone_text(kZone, "zones/example.com.toml", no_dir, nullptr);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().to_string().find("there is no key directory"), std::string::npos);
  }
  {
    SignedZone z;
    z.add_key(Algorithm::ecdsap256sha256, KeyRole::csk);
    std::string text = kZone;
    text.replace(text.find("[records]"), 9,
                 "[[zone.secondary]]\naddress = \"192.0.2.9\"\n[records]");
    z.load(text);
    EXPECT_NE(z.error.find("zone transfers of a signed zone are refused"), std::string::npos)
        << z.error;
  }
  {
    SignedZone z;
    z.add_key(Algorithm::ecdsap256sha256, KeyRole::csk);
    std::string text = kZone;
    text.replace(text.find("\"MX 10"), 0, "\"DNSKEY 257 3 13 AAAA\", ");
    z.load(text);
    EXPECT_NE(z.error.find("come from its keys"), std::string::npos) << z.error;
  }
}

TEST(ZoneSigner, RetiredKeysStayPublishedAndRemovedOnesGo) {
  SignedZone z;
  const int64_t now = std::time(nullptr);
  z.add_key(Algorithm::ecdsap256sha256, KeyRole::csk, -7200);
  z.add_key(Algorithm::ecdsap256sha256, KeyRole::csk, -3600);
  z.add_key(Algorithm::ecdsap256sha256, KeyRole::csk, -9000);
  // keys[0] retired an hour ago, keys[2] deleted; keys[1] signs.
  z.keys[0].timing.inactive_unix = now - 3600;
  ASSERT_TRUE(write_key_timing(z.keys[0]));
  z.keys[2].timing.inactive_unix = now - 8000;
  z.keys[2].timing.delete_unix = now - 100;
  ASSERT_TRUE(write_key_timing(z.keys[2]));
  z.load();
  ASSERT_TRUE(z.zone) << z.error;
  const zone::RRset* dnskey = z.rrset("example.com.", 48);
  ASSERT_EQ(dnskey->rdatas.size(), 2u);
  const auto& s = *z.zone->signing;
  ASSERT_EQ(s.key_signers.size(), 1u);
  EXPECT_EQ(s.keys[s.key_signers[0]].key_tag, z.keys[1].key_tag);
  EXPECT_EQ(z.rrset("example.com.", 59)->rdatas.size(), 1u);
}

TEST(ZoneSigner, CdsHoldsTheActiveAndThePrePublishedKskButNotARetiredOne) {
  SignedZone z;
  z.add_key(Algorithm::ecdsap256sha256, KeyRole::csk);
  z.add_key(Algorithm::ecdsap256sha256, KeyRole::csk, INT64_MIN);  // the successor
  z.load();
  ASSERT_TRUE(z.zone) << z.error;
  const zone::RRset* cds = z.rrset("example.com.", 59);
  ASSERT_NE(cds, nullptr);
  ASSERT_EQ(cds->rdatas.size(), 2u);
  EXPECT_EQ(z.rrset("example.com.", 60)->rdatas.size(), 2u);
  // Signed by the active CSK only.
  ASSERT_EQ(z.zone->rrsigs(*cds).size(), 1u);
  EXPECT_EQ(verified(z, "example.com.", *cds), 1);
}

TEST(ZoneSigner, ReSignTimeIsTheNextKeyEventWhenSooner) {
  SignedZone z;
  z.add_key(Algorithm::ecdsap256sha256, KeyRole::csk);
  z.add_key(Algorithm::ecdsap256sha256, KeyRole::zsk, 600);  // a ZSK activating in 10 min
  z.load();
  ASSERT_TRUE(z.zone) << z.error;
  EXPECT_EQ(z.zone->signing->resign_by_unix, z.keys[1].timing.activate_unix);
}

}  // namespace
}  // namespace geodns::dnssec::testing

namespace geodns::dnssec::testing {
namespace {

// The tags of the keys whose RRSIGs cover `set`, each checked by ldns first.
std::set<uint16_t> signing_tags(const SignedZone& z, std::string_view name,
                                const zone::RRset& set) {
  std::set<uint16_t> tags;
  for (const auto& sig : z.zone->rrsigs(set)) {
    const auto* p = reinterpret_cast<const uint8_t*>(sig.data());
    for (const auto& k : z.keys) {
      if (k.key_tag != dns::read_u16(p + 16)) continue;
      ldns_rr* key = read_key_file(k.key_path);
      if (ldns_verify(lower(wire(name)), set.type, set.ttl_s, set.rdatas, {p, sig.size()}, key) ==
          LDNS_STATUS_OK) {
        tags.insert(k.key_tag);
      }
      ldns_rr_free(key);
    }
  }
  return tags;
}

std::set<uint16_t> dnskey_tags(const SignedZone& z) {
  std::set<uint16_t> tags;
  for (const auto& rd : z.rrset("example.com.", 48)->rdatas) tags.insert(key_tag(rd));
  return tags;
}

// A pre-published ZSK roll, step by step, as the key timing written by `geodns dnssec`
// drives it: at each step ldns verifies who signs what.
TEST(ZoneSigner, PrePublishedZskRollStepByStep) {
  SignedZone z;
  const int64_t now = std::time(nullptr);
  z.add_key(Algorithm::ecdsap256sha256, KeyRole::ksk);
  z.add_key(Algorithm::ecdsap256sha256, KeyRole::zsk);
  const uint16_t ksk = z.keys[0].key_tag, old_zsk = z.keys[1].key_tag;
  z.load();
  ASSERT_TRUE(z.zone) << z.error;
  const zone::RRset* www = z.rrset("www.example.com.", dns::rrtype::A);
  EXPECT_EQ(dnskey_tags(z), (std::set<uint16_t>{ksk, old_zsk}));
  EXPECT_EQ(signing_tags(z, "www.example.com.", *www), std::set<uint16_t>{old_zsk});

  // 1. keygen --publish-only: the new ZSK is in DNSKEY, the old one still signs.
  z.add_key(Algorithm::ecdsap256sha256, KeyRole::zsk, INT64_MIN);
  const uint16_t new_zsk = z.keys[2].key_tag;
  z.load();
  ASSERT_TRUE(z.zone) << z.error;
  www = z.rrset("www.example.com.", dns::rrtype::A);
  EXPECT_EQ(dnskey_tags(z), (std::set<uint16_t>{ksk, old_zsk, new_zsk}));
  EXPECT_EQ(signing_tags(z, "www.example.com.", *www), std::set<uint16_t>{old_zsk});
  EXPECT_EQ(signing_tags(z, "example.com.", *z.rrset("example.com.", 48)), std::set<uint16_t>{ksk});

  // 2. activate new, retire old: the new one signs, the old one stays published.
  z.keys[2].timing.activate_unix = now - 1;
  ASSERT_TRUE(write_key_timing(z.keys[2]));
  z.keys[1].timing.inactive_unix = now - 1;
  z.keys[1].timing.delete_unix = now + 86400;
  ASSERT_TRUE(write_key_timing(z.keys[1]));
  z.load();
  ASSERT_TRUE(z.zone) << z.error;
  www = z.rrset("www.example.com.", dns::rrtype::A);
  EXPECT_EQ(dnskey_tags(z), (std::set<uint16_t>{ksk, old_zsk, new_zsk}));
  EXPECT_EQ(signing_tags(z, "www.example.com.", *www), std::set<uint16_t>{new_zsk});
  EXPECT_EQ(z.zone->signing->online()->key_tag, new_zsk);
  EXPECT_EQ(z.zone->signing->resign_by_unix, now + 86400);  // the old key's Delete

  // 3. Delete reached: the old ZSK leaves DNSKEY.
  z.keys[1].timing.delete_unix = now - 1;
  ASSERT_TRUE(write_key_timing(z.keys[1]));
  z.load();
  ASSERT_TRUE(z.zone) << z.error;
  www = z.rrset("www.example.com.", dns::rrtype::A);
  EXPECT_EQ(dnskey_tags(z), (std::set<uint16_t>{ksk, new_zsk}));
  EXPECT_EQ(signing_tags(z, "www.example.com.", *www), std::set<uint16_t>{new_zsk});
  EXPECT_EQ(signing_tags(z, "example.com.", *z.rrset("example.com.", 48)), std::set<uint16_t>{ksk});
}

}  // namespace
}  // namespace geodns::dnssec::testing

namespace geodns::dnssec::testing {
namespace {

TEST(DnssecConfig, DefaultsDurationsAndErrors) {
  auto c = zone::load_server_config_text("[server]\nstate_dir = \"/var/lib/geodns\"\n",
                                         "geodns.toml", "/etc/geodns");
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->dnssec.signature_validity, std::chrono::seconds(14 * 86400));
  EXPECT_EQ(c->dnssec.signature_refresh, std::chrono::seconds(7 * 86400));
  EXPECT_EQ(c->dnssec.inception_offset, std::chrono::seconds(3600));
  EXPECT_EQ(c->dnssec_key_directory(), "/var/lib/geodns/keys");

  c = zone::load_server_config_text(
      "[dnssec]\nkey_directory = \"keys\"\nsignature_validity = \"30d\"\n"
      "signature_refresh = \"10d\"\ninception_offset = 300\nretire_wait = \"2h\"\n",
      "geodns.toml", "/etc/geodns");
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->dnssec_key_directory(), "/etc/geodns/keys");  // relative to the config file
  EXPECT_EQ(c->dnssec.signature_validity, std::chrono::seconds(30 * 86400));
  EXPECT_EQ(c->dnssec.signature_refresh, std::chrono::seconds(10 * 86400));
  EXPECT_EQ(c->dnssec.inception_offset, std::chrono::seconds(300));
  EXPECT_EQ(c->dnssec.retire_wait, std::chrono::seconds(7200));

  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"[dnssec]\nsignature_refresh = \"14d\"\n",
       "geodns.toml:2:21: signature_refresh must be shorter than signature_validity"},
      {"[dnssec]\nsignature_validity = \"1x\"\n",
       "geodns.toml:2:22: signature_validity: bad duration unit"},
      {"[dnssec]\nkey_dir = \"k\"\n", "geodns.toml:2:1: unknown key \"key_dir\" in [dnssec]"},
      {"[dnssec]\nkey_directory = \"\"\n", "geodns.toml:2:17: key_directory must name a directory"},
      {"[dnssec]\ninception_offset = \"2d\"\n",
       "geodns.toml:2:20: inception_offset must be 0..86400"},
  };
  for (const auto& k : cases) {
    auto r = zone::load_server_config_text(k.text, "geodns.toml", "/etc/geodns");
    ASSERT_FALSE(r) << k.text;
    EXPECT_EQ(r.error().to_string().rfind(k.error, 0), 0u) << r.error().to_string();
  }
  // No state_dir and no key_directory: nowhere to look.
  zone::ServerConfig none;
  EXPECT_EQ(none.dnssec_key_directory(), "");
}

}  // namespace
}  // namespace geodns::dnssec::testing
