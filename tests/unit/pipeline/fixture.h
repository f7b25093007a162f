// A Pipeline over the shipped demo zones and GeoIP database, plus an extra test zone, with
// helpers to send hand-made queries and decode the answers with ldns.
#pragma once

#include <ldns/ldns.h>

#include <memory>
#include <string>
#include <vector>

#include "../dns/test_query.h"
#include "server/pipeline.h"
#include "zone/loader.h"

namespace geodns::server::testing {

inline constexpr const char* kTestZone = R"(
[zone]
name = "test.example."
ttl = 300
[zone.soa]
mname = "ns1.test.example."
rname = "hostmaster.test.example."
refresh = "1h"
retry = "10m"
expire = "14d"
minimum = "30s"
ttl = 600
[records]
"@" = ["NS ns1.test.example."]
ns1 = "A 192.0.2.53"
loop1 = "CNAME loop2"
loop2 = "CNAME loop1"
out = "CNAME www.elsewhere.example."
dangling = "CNAME missing"
deleg = "NS ns.deleg.test.example."
"ns.deleg" = "A 192.0.2.54"
big = [
  'TXT "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"',
  'TXT "1123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"',
  'TXT "2123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"',
  'TXT "3123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"',
  'TXT "4123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"',
  'TXT "5123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"',
]
)";

// RFC 9018 Appendix A's secret.
inline constexpr dns::CookieSecret kCookieSecret = {0xe5, 0xe9, 0x73, 0xe5, 0xa6, 0xb2, 0xa4, 0x3f,
                                                    0x48, 0xe7, 0xdc, 0x84, 0x9e, 0x37, 0xbf, 0xcf};

struct PktDeleter {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using Pkt = std::unique_ptr<ldns_pkt, PktDeleter>;

class PipelineFixture {
 public:
  PipelineFixture() {
    zone::ServerConfig config;
    auto report = zone::load_zone_dir(std::string(GEODNS_SOURCE_DIR) + "/zones", config, nullptr);
    errors = report.errors;
    auto set = std::make_shared<zone::ZoneSet>(*report.zones);
    auto extra = zone::load_zone_text(kTestZone, "test.example.toml", config, nullptr);
    if (extra) {
      set->zones.push_back(extra.value());
    } else {
      errors.push_back(extra.error());
    }
    set->reindex();
    zones = set;
    snapshots.zones.publish(zones);
    auto db = geo::Database::open(std::string(GEODNS_SOURCE_DIR) + "/geoip/demo.mmdb");
    if (db) snapshots.geoip.publish(db.value());
    health_view = std::make_shared<steer::HealthView>();
    health.publish(health_view);
    snapshots.health = &health;
    PipelineConfig pc;
    pc.chaos_id = "test-ns";
    pc.chaos_version = "geodns test";
    pc.cookie_secrets = {kCookieSecret};
    pipeline = std::make_unique<Pipeline>(snapshots, pc, 1);
    pipeline->begin_batch();
  }

  // Returns the raw response (empty when the pipeline dropped the query).
  std::vector<uint8_t> raw(const std::vector<uint8_t>& query, Transport t = Transport::udp,
                           const char* source = "192.0.2.99") {
    ClientInfo ci;
    ci.address = *IpAddress::parse(source);
    ci.transport = t;
    std::vector<uint8_t> out(65535);
    const size_t n = pipeline->respond(query, ci, out);
    out.resize(n);
    return out;
  }

  Pkt ask(const dns::testing::QueryBuilder& b, Transport t = Transport::udp,
          const char* source = "192.0.2.99") {
    auto r = raw(b.build(), t, source);
    ldns_pkt* p = nullptr;
    if (r.empty() || ldns_wire2pkt(&p, r.data(), r.size()) != LDNS_STATUS_OK) return nullptr;
    return Pkt(p);
  }

  Pkt ask(const std::string& name, uint16_t type) {
    dns::testing::QueryBuilder b;
    b.name = name;
    b.qtype = type;
    return ask(b);
  }

  std::vector<Error> errors;
  zone::ZoneSetPtr zones;
  Snapshots snapshots;
  Published<steer::HealthView> health;
  std::shared_ptr<steer::HealthView> health_view;
  std::unique_ptr<Pipeline> pipeline;
};

inline std::vector<std::string> section(ldns_rr_list* list) {
  std::vector<std::string> out;
  for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
    char* s = ldns_rr2str(ldns_rr_list_rr(list, i));
    std::string line = s;
    free(s);
    while (!line.empty() && line.back() == '\n') line.pop_back();
    out.push_back(line);
  }
  return out;
}

}  // namespace geodns::server::testing
