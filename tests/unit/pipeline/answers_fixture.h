// Zones for the answer-semantics tests (issue 12): a parent zone that delegates to a child it
// also serves, CNAMEs into a cut, loops, a long chain, DNAMEs, and a steered CNAME owner.
#pragma once

#include <ldns/ldns.h>

#include <memory>
#include <string>
#include <vector>

#include "../dns/test_query.h"
#include "server/pipeline.h"
#include "zone/loader.h"

namespace geodns::server::testing {

inline std::string answers_parent_zone() {
  std::string z = R"(
[zone]
name = "parent.test."
ttl = 300
[zone.soa]
mname = "ns1.parent.test."
rname = "hostmaster.parent.test."
minimum = "30s"
ttl = 600
[records]
"@" = ["NS ns1.parent.test."]
ns1 = "A 192.0.2.1"
sub = "NS ns.sub.parent.test."
"ns.sub" = "A 192.0.2.2"
tosub = "CNAME host.sub.parent.test."
viasub = "CNAME tosub"
nxd = "CNAME nothere"
l1 = "CNAME l2"
l2 = "CNAME l3"
l3 = "CNAME l1"
self = "CNAME self"
child = "NS ns1.child.parent.test."
"ns1.child" = "A 192.0.2.3"
signed = ["NS ns1.signed.parent.test.", "DS 12345 8 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"]
"ns1.signed" = "A 192.0.2.4"
d = ["DNAME target.parent.test.", "A 192.0.2.9"]
"x.target" = "A 192.0.2.10"
tod = "CNAME x.d"
dl = "DNAME dl.parent.test."
away = { ttl = 120, rr = "DNAME example.net." }
)";
  // A DNAME whose target leaves a synthesized name only 4 bytes short of the 255 limit.
  std::string long_target;
  for (int i = 0; i < 3; ++i) long_target += std::string(63, 'a') + ".";
  long_target += std::string(49, 'a') + ".";  // 3*64 + 50 + root = 243 bytes on the wire
  z += "long = \"DNAME " + long_target + "\"\n";
  // c1 -> c2 -> ... -> c20: longer than the 16-link bound, no loop.
  for (int i = 1; i < 20; ++i) {
    z += "c" + std::to_string(i) + " = \"CNAME c" + std::to_string(i + 1) + "\"\n";
  }
  z += "c20 = \"A 192.0.2.20\"\n";
  return z;
}

inline constexpr const char* kAnswersChildZone = R"(
[zone]
name = "child.parent.test."
[zone.soa]
mname = "ns1.child.parent.test."
rname = "hostmaster.child.parent.test."
minimum = "20s"
[records]
"@" = ["NS ns1.child.parent.test."]
ns1 = "A 192.0.2.3"
)";

inline constexpr const char* kAnswersSignedZone = R"(
[zone]
name = "signed.parent.test."
[zone.soa]
mname = "ns1.signed.parent.test."
rname = "hostmaster.signed.parent.test."
[records]
"@" = ["NS ns1.signed.parent.test.", "DS 1 8 2 00"]
ns1 = "A 192.0.2.4"
)";

// A zone whose apex is a DNAME (allowed, RFC 6672 2.3), and a steered CNAME owner.
inline constexpr const char* kAnswersApexZone = R"(
[zone]
name = "old.test."
[zone.soa]
mname = "ns1.parent.test."
rname = "hostmaster.parent.test."
[records]
"@" = ["NS ns1.parent.test.", "DNAME parent.test."]
)";

inline constexpr const char* kAnswersSteerZone = R"(
[zone]
name = "steer.test."
[zone.soa]
mname = "ns1.steer.test."
rname = "hostmaster.steer.test."
[records]
"@" = ["NS ns1.steer.test."]
ns1 = "A 192.0.2.53"
[checks.cdn]
type = "tcp"
port = 80
probe_address = "192.0.2.81"
[datacenters.edge]
target = "edge.steer.test."
check = "cdn"
[datacenters.fra]
addresses = ["192.0.2.10"]
[steer.cdn]
policy = "geo"
map.default = ["edge"]
[steer.edge]
policy = "failover"
datacenters = ["fra"]
)";

struct AnswersPktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using AnswersPkt = std::unique_ptr<ldns_pkt, AnswersPktFree>;

// A Pipeline over those zones; load errors are kept for the test to report.
class AnswersFixture {
 public:
  AnswersFixture() {
    auto set = std::make_shared<zone::ZoneSet>();
    const std::string parent = answers_parent_zone();
    const std::vector<std::pair<std::string, std::string>> texts = {
        {parent, "parent.test.toml"},
        {kAnswersChildZone, "child.parent.test.toml"},
        {kAnswersSignedZone, "signed.parent.test.toml"},
        {kAnswersApexZone, "old.test.toml"},
        {kAnswersSteerZone, "steer.test.toml"},
    };
    for (const auto& [text, file] : texts) {
      auto z = zone::load_zone_text(text, file, zone::ServerConfig{}, nullptr);
      if (z) {
        set->zones.push_back(z.value());
      } else {
        errors.push_back(z.error());
      }
    }
    set->reindex();
    snapshots.zones.publish(set);
    health.publish(std::make_shared<steer::HealthView>());
    snapshots.health = &health;
    pipeline = std::make_unique<Pipeline>(snapshots, PipelineConfig{}, 1);
    pipeline->begin_batch();
  }

  std::vector<uint8_t> raw(const std::vector<uint8_t>& query, Transport t = Transport::udp) {
    ClientInfo ci;
    ci.address = *IpAddress::parse("192.0.2.99");
    ci.transport = t;
    std::vector<uint8_t> out(65535);
    out.resize(pipeline->respond(query, ci, out));
    return out;
  }

  AnswersPkt ask(const dns::testing::QueryBuilder& b) {
    const auto r = raw(b.build());
    ldns_pkt* p = nullptr;
    if (r.empty() || ldns_wire2pkt(&p, r.data(), r.size()) != LDNS_STATUS_OK) return nullptr;
    return AnswersPkt(p);
  }

  AnswersPkt ask(const std::string& name, uint16_t type) {
    dns::testing::QueryBuilder b;
    b.name = name;
    b.qtype = type;
    return ask(b);
  }

  std::vector<Error> errors;
  Snapshots snapshots;
  Published<steer::HealthView> health;
  std::unique_ptr<Pipeline> pipeline;
};

}  // namespace geodns::server::testing
