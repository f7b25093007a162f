// A signed zone served by a Pipeline, and ldns checks of the DNSSEC records in its answers:
// every RRSIG must verify against the zone's DNSKEY (ldns, not our signer), and an RRset of
// the answer or authority section that the zone signs must carry one.
#pragma once

#include <stdbool.h>  // NOLINT(modernize-deprecated-headers): before ldns (it #defines bool)

#include <ldns/ldns.h>

#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "../dns/test_query.h"
#include "dnssec/canonical.h"
#include "dnssec/key.h"
#include "dnssec/zone_signing.h"
#include "server/pipeline.h"
#include "zone/loader.h"

namespace geodns::server::testing {

// Every kind of name the DNSSEC answers distinguish: static, steered (addresses and a CNAME
// to a target datacenter), a wildcard (static and steered), CNAME chains, a DNAME, an empty
// non-terminal, a secure and an insecure delegation, several records for truncation.
inline constexpr const char* kSignedZone = R"(
[zone]
name = "signed.test."
ttl = 300
dnssec = true
[zone.soa]
mname = "ns1.signed.test."
rname = "hostmaster.signed.test."
minimum = "60s"
ttl = 900
[records]
"@" = ["NS ns1.signed.test.", "MX 10 mail.signed.test.", 'TXT "apex"']
ns1 = "A 192.0.2.53"
mail = ["A 192.0.2.25", "AAAA 2001:db8::25"]
static = ["A 192.0.2.1", "A 192.0.2.2", 'TXT "static"']
alias = "CNAME static"
chain = "CNAME alias"
"*.wild" = ["A 192.0.2.7", 'TXT "wild"']
"a.b.ent" = "A 192.0.2.8"
d = "DNAME static.signed.test."
insecure = "NS ns.insecure.signed.test."
"ns.insecure" = "A 192.0.2.54"
secure = ["NS ns.secure.signed.test.", "DS 12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"]
"ns.secure" = "A 192.0.2.55"
big = [
  'TXT "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"',
  'TXT "1123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"',
  'TXT "2123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"',
  'TXT "3123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"',
]
[datacenters.fra]
addresses = ["192.0.2.10", "192.0.2.11", "192.0.2.12", "2001:db8::10"]
[datacenters.iad]
addresses = ["198.51.100.10", "198.51.100.11"]
[checks.cdn]
type = "tcp"
port = 80
probe_address = "192.0.2.81"
[datacenters.edge]
target = "static.signed.test."
check = "cdn"
[steer.www]
policy = "roundrobin"
datacenters = ["fra", "iad"]
answers = 2
[steer.geo]
policy = "geo"
map.EU = ["fra"]
map.default = ["iad"]
[steer.cdn]
policy = "geo"
map.default = ["edge"]
[steer."*.svc"]
policy = "failover"
datacenters = ["fra"]
)";

struct SignedPktDeleter {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using SignedPkt = std::unique_ptr<ldns_pkt, SignedPktDeleter>;

inline int64_t unix_now() {
  return static_cast<int64_t>(std::time(nullptr));
}

// A key directory of its own, removed with the fixture.
struct KeyDir {
  std::string path;
  KeyDir() {
    char tmpl[] = "/tmp/geodns-dnssec-answers-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~KeyDir() { std::filesystem::remove_all(path); }
  KeyDir(const KeyDir&) = delete;
  KeyDir& operator=(const KeyDir&) = delete;
};

// The zone's DNSKEY RRset as ldns keys.
inline ldns_rr_list* dnskeys_of(const dnssec::ZoneSigning& s) {
  ldns_rr_list* keys = ldns_rr_list_new();
  for (const auto& k : s.keys) {
    ldns_rr* rr = ldns_rr_new();
    ldns_rr_set_type(rr, LDNS_RR_TYPE_DNSKEY);
    ldns_rdf* owner = nullptr;
    ldns_str2rdf_dname(&owner, s.origin_text.c_str());
    ldns_rr_set_owner(rr, owner);
    ldns_rr_set_ttl(rr, 3600);
    // The RDATA's fields one by one: flags, protocol, algorithm, public key.
    const auto* d = reinterpret_cast<const uint8_t*>(k.dnskey_rdata.data());
    ldns_rr_push_rdf(
        rr, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, static_cast<uint16_t>(d[0] << 8 | d[1])));
    ldns_rr_push_rdf(rr, ldns_native2rdf_int8(LDNS_RDF_TYPE_INT8, d[2]));
    ldns_rr_push_rdf(rr, ldns_native2rdf_int8(LDNS_RDF_TYPE_ALG, d[3]));
    ldns_rr_push_rdf(rr,
                     ldns_rdf_new_frm_data(LDNS_RDF_TYPE_B64, k.dnskey_rdata.size() - 4, d + 4));
    ldns_rr_list_push_rr(keys, rr);
  }
  return keys;
}

struct DnssecCheck {
  size_t rrsigs = 0;         // RRSIGs that verified
  size_t failures = 0;       // RRSIGs that did not (or covered nothing)
  size_t unsigned_sets = 0;  // answer/authority RRsets of ours without an RRSIG
  std::vector<std::string> problems;
};

// Verifies every RRSIG of every section against `keys` (ldns_verify_rrsig_keylist: the
// signature, the key tag and the validity window against the clock), and counts the
// answer/authority RRsets without one, except those a signer leaves unsigned: NS of a
// referral (the child's), a CNAME synthesized from a DNAME (RFC 6672 5.3.1).
inline DnssecCheck check_signatures(ldns_pkt* pkt, ldns_rr_list* keys) {
  DnssecCheck c;
  const bool referral = ldns_pkt_ancount(pkt) == 0 && !ldns_pkt_aa(pkt);
  ldns_rr_list* sections[] = {ldns_pkt_answer(pkt), ldns_pkt_authority(pkt),
                              ldns_pkt_additional(pkt)};
  bool has_dname = false;
  for (size_t i = 0; i < ldns_rr_list_rr_count(sections[0]); ++i) {
    has_dname =
        has_dname || ldns_rr_get_type(ldns_rr_list_rr(sections[0], i)) == LDNS_RR_TYPE_DNAME;
  }
  for (int si = 0; si < 3; ++si) {
    ldns_rr_list* list = sections[si];
    const size_t n = ldns_rr_list_rr_count(list);
    for (size_t i = 0; i < n; ++i) {
      ldns_rr* rr = ldns_rr_list_rr(list, i);
      if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG) {
        const ldns_rr_type covered = ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(rr));
        ldns_rr_list* set = ldns_rr_list_new();
        for (size_t j = 0; j < n; ++j) {
          ldns_rr* o = ldns_rr_list_rr(list, j);
          if (ldns_rr_get_type(o) == covered &&
              ldns_dname_compare(ldns_rr_owner(o), ldns_rr_owner(rr)) == 0) {
            ldns_rr_list_push_rr(set, o);
          }
        }
        ldns_rr_list* good = ldns_rr_list_new();
        const ldns_status st = ldns_rr_list_rr_count(set) == 0
                                   ? LDNS_STATUS_ERR
                                   : ldns_verify_rrsig_keylist(set, rr, keys, good);
        if (st == LDNS_STATUS_OK) {
          ++c.rrsigs;
        } else {
          ++c.failures;
          char* s = ldns_rr2str(rr);
          c.problems.push_back(std::string(ldns_get_errorstr_by_id(st)) + ": " + s);
          free(s);
        }
        ldns_rr_list_free(good);
        ldns_rr_list_free(set);
        continue;
      }
      if (si == 2) continue;  // the additional section may go without RRSIGs
      const ldns_rr_type type = ldns_rr_get_type(rr);
      if (referral && type == LDNS_RR_TYPE_NS) continue;
      if (has_dname && type == LDNS_RR_TYPE_CNAME) continue;
      bool covered = false;
      for (size_t j = 0; j < n && !covered; ++j) {
        ldns_rr* o = ldns_rr_list_rr(list, j);
        covered = ldns_rr_get_type(o) == LDNS_RR_TYPE_RRSIG &&
                  ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(o)) == type &&
                  ldns_dname_compare(ldns_rr_owner(o), ldns_rr_owner(rr)) == 0;
      }
      if (!covered) {
        ++c.unsigned_sets;
        char* s = ldns_rr2str(rr);
        c.problems.push_back(std::string("unsigned: ") + s);
        free(s);
      }
    }
  }
  return c;
}

// Any RRSIG, NSEC or DNSKEY record in any section.
inline size_t dnssec_records(ldns_pkt* pkt) {
  size_t count = 0;
  for (ldns_rr_list* list :
       {ldns_pkt_answer(pkt), ldns_pkt_authority(pkt), ldns_pkt_additional(pkt)}) {
    for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
      const ldns_rr_type t = ldns_rr_get_type(ldns_rr_list_rr(list, i));
      count += t == LDNS_RR_TYPE_RRSIG || t == LDNS_RR_TYPE_NSEC || t == LDNS_RR_TYPE_DNSKEY;
    }
  }
  return count;
}

class SignedPipelineFixture {
 public:
  explicit SignedPipelineFixture(dnssec::Algorithm alg = dnssec::Algorithm::ecdsap256sha256,
                                 PipelineConfig pc = PipelineConfig{}) {
    // One CSK, active now, in the zone's key directory: the zone is signed when it is built.
    auto key = dnssec::generate_key("signed.test.", alg, dnssec::KeyRole::csk, unix_now());
    if (!key) {
      error = key.error().to_string();
      return;
    }
    key->timing.publish_unix = unix_now() - 60;
    key->timing.activate_unix = unix_now() - 60;
    if (auto st = dnssec::write_key_files(*key, keys_dir.path + "/keys"); !st) {
      error = st.error().to_string();
      return;
    }
    zone::ServerConfig config;
    config.dnssec.key_directory = keys_dir.path + "/keys";
    auto z = zone::load_zone_text(kSignedZone, "signed.test.toml", config, nullptr);
    if (!z) {
      error = z.error().to_string();
      return;
    }
    if (z.value()->signing == nullptr) {
      error = "the zone was built unsigned";
      return;
    }
    signing = z.value()->signing;
    auto set = std::make_shared<zone::ZoneSet>();
    set->zones.push_back(z.value());
    set->reindex();
    zones = set;
    snapshots.zones.publish(zones);
    auto db = geo::Database::open(std::string(GEODNS_SOURCE_DIR) + "/geoip/demo.mmdb");
    if (db) snapshots.geoip.publish(db.value());
    health_view = std::make_shared<steer::HealthView>();
    health.publish(health_view);
    snapshots.health = &health;
    pipeline = std::make_unique<Pipeline>(snapshots, pc, 1, &counters);
    pipeline->begin_batch();
    keys = dnskeys_of(*signing);
  }
  ~SignedPipelineFixture() {
    if (keys != nullptr) ldns_rr_list_deep_free(keys);
  }

  std::vector<uint8_t> raw(const std::vector<uint8_t>& query, Transport t = Transport::udp,
                           const char* source = "81.2.69.160") {
    ClientInfo ci;
    ci.address = *IpAddress::parse(source);
    ci.transport = t;
    std::vector<uint8_t> out(65535);
    const size_t n = pipeline->respond(query, ci, out);
    out.resize(n);
    return out;
  }

  SignedPkt ask(const dns::testing::QueryBuilder& b, Transport t = Transport::udp) {
    auto r = raw(b.build(), t);
    ldns_pkt* p = nullptr;
    if (r.empty() || ldns_wire2pkt(&p, r.data(), r.size()) != LDNS_STATUS_OK) return nullptr;
    return SignedPkt(p);
  }

  // A DO query (EDNS, 1232 bytes) for `name`/`type`.
  static dns::testing::QueryBuilder dnssec_query(const std::string& name, uint16_t type,
                                                 bool dnssec_ok = true) {
    dns::testing::QueryBuilder b;
    b.name = name;
    b.qtype = type;
    b.edns = true;
    b.do_bit = dnssec_ok;
    return b;
  }

  std::string error;
  KeyDir keys_dir;
  std::shared_ptr<const dnssec::ZoneSigning> signing;
  zone::ZoneSetPtr zones;
  Snapshots snapshots;
  Published<steer::HealthView> health;
  std::shared_ptr<steer::HealthView> health_view;
  WorkerCounters counters;
  std::unique_ptr<Pipeline> pipeline;
  ldns_rr_list* keys = nullptr;
};

}  // namespace geodns::server::testing
