// The names operators steer: the apex, names beside static records of other types, wildcards
// and CNAME targets (docs/decisions.md, "Steered names"). Answers are decoded with ldns.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "../../support/edns_option.h"
#include "fixture.h"

namespace geodns::server::testing {
namespace {

using dns::testing::QueryBuilder;
namespace rrtype = dns::rrtype;

constexpr const char* kZone = R"(
[zone]
name = "steer.test."
ttl = 300
[zone.soa]
mname = "ns1.steer.test."
rname = "hostmaster.steer.test."
minimum = "30s"
[records]
"@" = ["NS ns1.steer.test.", "MX 10 mail.steer.test.", 'TXT "apex"']
ns1 = "A 192.0.2.53"
mail = "A 192.0.2.25"
www = ["MX 10 mail.steer.test.", 'TXT "www"']
six = 'TXT "six"'
"exists.svc" = 'TXT "here"'
alias = "CNAME cdn"

[checks.cdn_eu]
type = "tcp"
port = 80
probe_address = "192.0.2.81"
[checks.cdn_us]
type = "tcp"
port = 80
probe_address = "192.0.2.82"

[datacenters.fra]
addresses = ["192.0.2.10", "2001:db8::10"]
[datacenters.iad]
addresses = ["198.51.100.10"]
[datacenters.v6only]
addresses = ["2001:db8::66"]
[datacenters.eu_cdn]
target = "eu.cdn.example.net."
check = "cdn_eu"
[datacenters.us_edge]
target = "Edge.steer.test."
check = "cdn_us"

[steer."@"]
policy = "failover"
datacenters = ["fra", "iad"]
[steer.www]
policy = "failover"
datacenters = ["iad"]
[steer.six]
policy = "failover"
datacenters = ["v6only"]
[steer."*.svc"]
policy = "failover"
datacenters = ["fra"]
[steer.cdn]
policy = "geo"
map.EU = ["eu_cdn", "fra"]
map.default = ["us_edge"]
[steer.edge]
policy = "failover"
datacenters = ["iad"]
)";

class SteeredNames : public ::testing::Test {
 protected:
  void SetUp() override {
    auto z = zone::load_zone_text(kZone, "steer.test.toml", zone::ServerConfig{}, nullptr);
    ASSERT_TRUE(z.ok()) << z.error().to_string();
    zone_ = z.value();
    auto set = std::make_shared<zone::ZoneSet>();
    set->zones.push_back(zone_);
    set->reindex();
    snapshots_.zones.publish(set);
    auto db = geo::Database::open(std::string(GEODNS_SOURCE_DIR) + "/geoip/demo.mmdb");
    ASSERT_TRUE(db.ok());
    snapshots_.geoip.publish(db.value());
    set_down({});
    snapshots_.health = &health_;
    pipeline_ = std::make_unique<Pipeline>(snapshots_, PipelineConfig{}, 1);
    pipeline_->begin_batch();
  }

  // Publishes a health view where the first target of each named datacenter is down.
  void set_down(const std::vector<std::string>& dcs) {
    auto view = std::make_shared<steer::HealthView>();
    for (const auto& name : dcs) {
      for (const auto& dc : zone_->datacenters) {
        if (dc.name == name) view->set_target_up((dc.v4.empty() ? dc.v6 : dc.v4)[0].target, false);
      }
    }
    view->set_generation(++generation_);
    health_.publish(view);
    if (pipeline_) pipeline_->begin_batch();
  }

  Pkt ask(const QueryBuilder& b) {
    ClientInfo ci;
    ci.address = *IpAddress::parse("192.0.2.99");
    std::vector<uint8_t> out(65535);
    out.resize(pipeline_->respond(b.build(), ci, out));
    ldns_pkt* p = nullptr;
    if (out.empty() || ldns_wire2pkt(&p, out.data(), out.size()) != LDNS_STATUS_OK) return nullptr;
    return Pkt(p);
  }
  Pkt ask(const std::string& name, uint16_t type) {
    QueryBuilder b;
    b.name = name;
    b.qtype = type;
    return ask(b);
  }
  // From a client in `subnet`/24 (ECS), so that geo rules see where it is.
  Pkt ask_from(const std::string& name, uint16_t type, std::vector<uint8_t> subnet) {
    QueryBuilder b;
    b.name = name;
    b.qtype = type;
    b.ecs(1, 24, 0, std::move(subnet));
    return ask(b);
  }

  static std::vector<std::string> answer(const Pkt& p) { return section(ldns_pkt_answer(p.get())); }
  static bool has_soa(const Pkt& p) {
    const auto auth = section(ldns_pkt_authority(p.get()));
    return std::any_of(auth.begin(), auth.end(),
                       [](const std::string& l) { return l.find("\tSOA\t") != std::string::npos; });
  }
  static int ecs_scope(const Pkt& p) {
    const auto body = geodns::testing::edns_option(p.get(), 8);
    return body.size() >= 4 ? body[3] : -1;
  }

  zone::ZonePtr zone_;
  Snapshots snapshots_;
  Published<steer::HealthView> health_;
  uint64_t generation_ = 0;
  std::unique_ptr<Pipeline> pipeline_;
};

TEST_F(SteeredNames, ApexAnswersSteeredAddressesBesideSoaNsMxTxt) {
  auto a = ask("steer.test", rrtype::A);
  ASSERT_TRUE(a);
  EXPECT_TRUE(ldns_pkt_aa(a.get()));
  EXPECT_EQ(answer(a), std::vector<std::string>{"steer.test.\t30\tIN\tA\t192.0.2.10"});
  auto aaaa = ask("Steer.TEST", rrtype::AAAA);
  EXPECT_EQ(answer(aaaa), std::vector<std::string>{"Steer.TEST.\t30\tIN\tAAAA\t2001:db8::10"});
  EXPECT_EQ(answer(ask("steer.test", rrtype::NS)),
            std::vector<std::string>{"steer.test.\t300\tIN\tNS\tns1.steer.test."});
  auto soa = answer(ask("steer.test", rrtype::SOA));
  ASSERT_EQ(soa.size(), 1u);
  EXPECT_EQ(soa[0].rfind("steer.test.\t300\tIN\tSOA\tns1.steer.test. hostmaster.steer.test.", 0),
            0u);
  auto mx = ask("steer.test", rrtype::MX);
  EXPECT_EQ(answer(mx), std::vector<std::string>{"steer.test.\t300\tIN\tMX\t10 mail.steer.test."});
  EXPECT_EQ(section(ldns_pkt_additional(mx.get())),
            std::vector<std::string>{"mail.steer.test.\t300\tIN\tA\t192.0.2.25"});
  EXPECT_EQ(answer(ask("steer.test", rrtype::TXT)),
            std::vector<std::string>{"steer.test.\t300\tIN\tTXT\t\"apex\""});
  // A type the apex does not hold: NODATA, not a steered answer.
  auto srv = ask("steer.test", rrtype::SRV);
  EXPECT_EQ(ldns_pkt_get_rcode(srv.get()), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(answer(srv).empty());
  EXPECT_TRUE(has_soa(srv));
  // ANY (RFC 8482): one RRset, the steered one.
  EXPECT_EQ(answer(ask("steer.test", rrtype::ANY)),
            std::vector<std::string>{"steer.test.\t30\tIN\tA\t192.0.2.10"});
}

TEST_F(SteeredNames, ApexFollowsHealth) {
  set_down({"fra"});
  EXPECT_EQ(answer(ask("steer.test", rrtype::A)),
            std::vector<std::string>{"steer.test.\t10\tIN\tA\t198.51.100.10"});
  // The static records do not depend on health.
  EXPECT_EQ(answer(ask("steer.test", rrtype::TXT)).size(), 1u);
}

TEST_F(SteeredNames, SteeredNameBesideStaticRecordsOfOtherTypes) {
  EXPECT_EQ(answer(ask("www.steer.test", rrtype::A)),
            std::vector<std::string>{"www.steer.test.\t30\tIN\tA\t198.51.100.10"});
  EXPECT_EQ(answer(ask("www.steer.test", rrtype::MX)),
            std::vector<std::string>{"www.steer.test.\t300\tIN\tMX\t10 mail.steer.test."});
  EXPECT_EQ(answer(ask("www.steer.test", rrtype::TXT)),
            std::vector<std::string>{"www.steer.test.\t300\tIN\tTXT\t\"www\""});
  // iad has no IPv6 address: NODATA for AAAA, never the static records.
  auto aaaa = ask("www.steer.test", rrtype::AAAA);
  EXPECT_EQ(ldns_pkt_get_rcode(aaaa.get()), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(answer(aaaa).empty());
  EXPECT_TRUE(has_soa(aaaa));
  // ANY where the steered A answer is empty: a static RRset is the one RRset.
  EXPECT_EQ(answer(ask("six.steer.test", rrtype::ANY)),
            std::vector<std::string>{"six.steer.test.\t300\tIN\tTXT\t\"six\""});
  EXPECT_TRUE(answer(ask("six.steer.test", rrtype::A)).empty());
  EXPECT_EQ(answer(ask("six.steer.test", rrtype::AAAA)),
            std::vector<std::string>{"six.steer.test.\t30\tIN\tAAAA\t2001:db8::66"});
}

TEST_F(SteeredNames, WildcardSteeredNameAnswersForTheQueryName) {
  EXPECT_EQ(answer(ask("Host1.svc.steer.test", rrtype::A)),
            std::vector<std::string>{"Host1.svc.steer.test.\t30\tIN\tA\t192.0.2.10"});
  // RFC 4592: below the closest encloser (svc), any depth matches the wildcard.
  EXPECT_EQ(answer(ask("a.b.svc.steer.test", rrtype::AAAA)),
            std::vector<std::string>{"a.b.svc.steer.test.\t30\tIN\tAAAA\t2001:db8::10"});
  // A name that exists is not synthesized: NODATA at exists.svc, and at svc itself (an empty
  // non-terminal). Below exists.svc the closest encloser has no wildcard: NXDOMAIN.
  auto exists = ask("exists.svc.steer.test", rrtype::A);
  EXPECT_EQ(ldns_pkt_get_rcode(exists.get()), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(answer(exists).empty());
  auto ent = ask("svc.steer.test", rrtype::A);
  EXPECT_EQ(ldns_pkt_get_rcode(ent.get()), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(answer(ent).empty());
  EXPECT_EQ(ldns_pkt_get_rcode(ask("x.exists.svc.steer.test", rrtype::A).get()),
            LDNS_RCODE_NXDOMAIN);
  // Other types at a synthesized name: NODATA (the wildcard holds no static records).
  auto txt = ask("host1.svc.steer.test", rrtype::TXT);
  EXPECT_EQ(ldns_pkt_get_rcode(txt.get()), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(answer(txt).empty());
  EXPECT_TRUE(has_soa(txt));
}

TEST_F(SteeredNames, CnameTargetOutsideOurZonesIsAnsweredAlone) {
  auto p = ask_from("cdn.steer.test", rrtype::A, {81, 2, 69});  // EU (GB)
  ASSERT_TRUE(p);
  EXPECT_EQ(answer(p),
            std::vector<std::string>{"cdn.steer.test.\t30\tIN\tCNAME\teu.cdn.example.net."});
  EXPECT_GT(ecs_scope(p), 0);  // a geo decision: the scope still applies to the CNAME
  // A CNAME answers every type: AAAA, MX, the CNAME itself and ANY get the same record.
  for (const uint16_t type : {rrtype::AAAA, rrtype::MX, rrtype::CNAME, rrtype::ANY}) {
    auto q = ask_from("cdn.steer.test", type, {81, 2, 69});
    EXPECT_EQ(answer(q),
              std::vector<std::string>{"cdn.steer.test.\t30\tIN\tCNAME\teu.cdn.example.net."})
        << type;
    EXPECT_EQ(ldns_pkt_get_rcode(q.get()), LDNS_RCODE_NOERROR);
  }
}

TEST_F(SteeredNames, CnameTargetInsideTheZoneIsFollowed) {
  auto p = ask_from("cdn.steer.test", rrtype::A, {8, 8, 8});  // NA: map.default
  ASSERT_TRUE(p);
  EXPECT_EQ(answer(p), (std::vector<std::string>{
                           "cdn.steer.test.\t30\tIN\tCNAME\tEdge.steer.test.",
                           "Edge.steer.test.\t30\tIN\tA\t198.51.100.10",
                       }));
  // The failover at the end of the chain does not depend on the client, the geo rule at its
  // start does: the response carries the geo rule's scope.
  auto eu = ask_from("cdn.steer.test", rrtype::A, {81, 2, 69});
  EXPECT_GT(ecs_scope(p), 0);
  EXPECT_EQ(ecs_scope(p), ecs_scope(eu));
  // qtype CNAME is not chased.
  EXPECT_EQ(answer(ask_from("cdn.steer.test", rrtype::CNAME, {8, 8, 8})),
            std::vector<std::string>{"cdn.steer.test.\t30\tIN\tCNAME\tEdge.steer.test."});
  // A static CNAME into the steered one: both links, then the address.
  auto alias = ask_from("alias.steer.test", rrtype::A, {8, 8, 8});
  EXPECT_EQ(answer(alias), (std::vector<std::string>{
                               "alias.steer.test.\t300\tIN\tCNAME\tcdn.steer.test.",
                               "cdn.steer.test.\t30\tIN\tCNAME\tEdge.steer.test.",
                               "Edge.steer.test.\t30\tIN\tA\t198.51.100.10",
                           }));
  EXPECT_GT(ecs_scope(alias), 0);
}

TEST_F(SteeredNames, CnameTargetDownFallsBackToAddresses) {
  set_down({"eu_cdn"});
  auto p = ask_from("cdn.steer.test", rrtype::A, {81, 2, 69});
  EXPECT_EQ(answer(p), std::vector<std::string>{"cdn.steer.test.\t10\tIN\tA\t192.0.2.10"});
  // Answered with addresses now, the name holds no MX: NODATA.
  auto mx = ask_from("cdn.steer.test", rrtype::MX, {81, 2, 69});
  EXPECT_EQ(ldns_pkt_get_rcode(mx.get()), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(answer(mx).empty());
  EXPECT_TRUE(has_soa(mx));
  set_down({});
  EXPECT_EQ(answer(ask_from("cdn.steer.test", rrtype::A, {81, 2, 69})),
            std::vector<std::string>{"cdn.steer.test.\t30\tIN\tCNAME\teu.cdn.example.net."});
}

TEST_F(SteeredNames, TargetDatacenterIsProbedAtItsProbeAddress) {
  const auto it = std::find_if(zone_->datacenters.begin(), zone_->datacenters.end(),
                               [](const steer::Datacenter& d) { return d.name == "eu_cdn"; });
  ASSERT_NE(it, zone_->datacenters.end());
  ASSERT_EQ(it->v4.size(), 1u);
  ASSERT_EQ(it->v6.size(), 1u);
  EXPECT_EQ(it->v4[0].ip.to_string(), "192.0.2.81");
  EXPECT_EQ(it->v4[0].target, it->v6[0].target);
  const auto t = std::find_if(zone_->targets.begin(), zone_->targets.end(),
                              [&](const steer::TargetSpec& s) { return s.id == it->v4[0].target; });
  ASSERT_NE(t, zone_->targets.end());
  EXPECT_EQ(t->check.name, "cdn_eu");
  EXPECT_EQ(t->address.to_string(), "192.0.2.81");
}

}  // namespace
}  // namespace geodns::server::testing
