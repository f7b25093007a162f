// Apex and CNAME steering through the real binary: a steered apex beside its static records,
// a name steered to CDN host names (one outside our zones, one followed inside), and a target
// whose probe fails and comes back. Answers decoded with ldns.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "serve_fixture.h"

namespace geodns::test {
namespace {

// A TCP listener that never accepts: the kernel completes the handshakes a tcp check makes,
// and closing it turns them into "connection refused".
class Listener {
 public:
  explicit Listener(uint16_t port) : port_(port) {}
  ~Listener() { close(); }
  bool open() {
    // CLOEXEC: the geodns child must not inherit the socket, or closing it here would not
    // stop the listening.
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port_);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0 && ::listen(fd_, 64) == 0) {
      return true;
    }
    std::perror("listener bind/listen");
    return false;
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  uint16_t port_;
  int fd_ = -1;
};

std::string zone_text(uint16_t probe_port) {
  return R"([zone]
name = "steer.test."
[zone.soa]
mname = "ns1.steer.test."
rname = "hostmaster.steer.test."
[records]
"@" = ["NS ns1.steer.test.", "MX 10 mail.steer.test.", 'TXT "apex"']
ns1 = "A 192.0.2.53"
mail = "A 192.0.2.25"

[checks.cdn]
type = "tcp"
port = )" +
         std::to_string(probe_port) +
         R"(
probe_address = "127.0.0.1"
interval = "200ms"
timeout = "100ms"
fall = 1
rise = 1

[datacenters.fra]
addresses = ["192.0.2.10"]
[datacenters.iad]
addresses = ["198.51.100.10"]
[datacenters.eu_cdn]
target = "eu.cdn.example.net."
check = "cdn"
[datacenters.edge]
target = "edge.steer.test."
check = "cdn"

[steer."@"]
policy = "geo"
map.EU = ["fra", "iad"]
map.default = ["iad", "fra"]
[steer.www]
policy = "geo"
ttl = 60
map.EU = ["eu_cdn", "fra"]
map.default = ["edge", "iad"]
[steer.edge]
policy = "failover"
datacenters = ["iad"]
)";
}

QueryOptions from(const std::string& subnet) {
  QueryOptions q;
  q.edns_payload = 1232;
  q.edns_options = ecs_option(subnet);
  return q;
}

class SteeredNamesServe : public ::testing::Test {
 protected:
  void SetUp() override {
    probe_port_ = free_port();
    listener_ = std::make_unique<Listener>(probe_port_);
    ASSERT_TRUE(listener_->open());
    zones_.write("steer.test.toml", zone_text(probe_port_));
    ServeOptions o;
    o.zones_dir = zones_.path();
    o.v6 = false;
    server_ = std::make_unique<Server>(o);
    ASSERT_TRUE(server_->ready) << server_->process->stderr_text();
  }

  std::vector<std::string> answer(const std::string& name, ldns_rr_type type,
                                  const QueryOptions& q = {}, bool tcp = false) {
    auto p = tcp ? server_->tcp(name, type, q) : server_->udp(name, type, q);
    return p ? section_strings(p.get(), LDNS_SECTION_ANSWER) : std::vector<std::string>{"<none>"};
  }

  // Polls until `name` A from `subnet` contains `needle` (health changes take a few probe
  // intervals); false after 10 s. The test asserts the outcome, never how long it took.
  bool wait_for(const std::string& name, const std::string& subnet, const std::string& needle) {
    for (int i = 0; i < 200; ++i) {
      if (has_line(answer(name, LDNS_RR_TYPE_A, from(subnet)), needle)) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  TempDir zones_;
  uint16_t probe_port_ = 0;
  std::unique_ptr<Listener> listener_;
  std::unique_ptr<Server> server_;
};

TEST_F(SteeredNamesServe, ApexIsSteeredBesideItsStaticRecords) {
  auto eu = server_->udp("steer.test", LDNS_RR_TYPE_A, from("81.2.69.0/24"));
  ASSERT_TRUE(eu);
  EXPECT_TRUE(ldns_pkt_aa(eu.get()));
  EXPECT_EQ(section_strings(eu.get(), LDNS_SECTION_ANSWER),
            std::vector<std::string>{"steer.test. 30 IN A 192.0.2.10"});
  EXPECT_EQ(answer("steer.test", LDNS_RR_TYPE_A, from("8.8.8.0/24"), true),
            std::vector<std::string>{"steer.test. 30 IN A 198.51.100.10"});
  EXPECT_EQ(answer("steer.test", LDNS_RR_TYPE_MX),
            std::vector<std::string>{"steer.test. 3600 IN MX 10 mail.steer.test."});
  EXPECT_EQ(answer("steer.test", LDNS_RR_TYPE_NS),
            std::vector<std::string>{"steer.test. 3600 IN NS ns1.steer.test."});
  EXPECT_TRUE(has_line(answer("steer.test", LDNS_RR_TYPE_SOA), " SOA ns1.steer.test."));
  auto aaaa = server_->udp("steer.test", LDNS_RR_TYPE_AAAA);  // no IPv6 anywhere: NODATA
  ASSERT_TRUE(aaaa);
  EXPECT_EQ(ldns_pkt_get_rcode(aaaa.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_ancount(aaaa.get()), 0);
  EXPECT_TRUE(has_line(section_strings(aaaa.get(), LDNS_SECTION_AUTHORITY), " SOA "));
}

TEST_F(SteeredNamesServe, CnameSteeringFollowsTargetsInsideTheZoneAndTracksHealth) {
  for (const bool tcp : {false, true}) {
    EXPECT_EQ(answer("www.steer.test", LDNS_RR_TYPE_A, from("81.2.69.0/24"), tcp),
              std::vector<std::string>{"www.steer.test. 60 IN CNAME eu.cdn.example.net."});
    EXPECT_EQ(answer("www.steer.test", LDNS_RR_TYPE_A, from("8.8.8.0/24"), tcp),
              (std::vector<std::string>{"www.steer.test. 60 IN CNAME edge.steer.test.",
                                        "edge.steer.test. 30 IN A 198.51.100.10"}));
  }
  // The ECS scope answers for the geo decision behind the CNAME.
  auto p = server_->udp("www.steer.test", LDNS_RR_TYPE_AAAA, from("81.2.69.0/24"));
  ASSERT_TRUE(p);
  EXPECT_TRUE(has_line(section_strings(p.get(), LDNS_SECTION_ANSWER), " CNAME eu.cdn."));
  const ldns_rdf* edns = ldns_pkt_edns_data(p.get());
  ASSERT_NE(edns, nullptr);
  ASSERT_GE(ldns_rdf_size(edns), 8u);
  EXPECT_EQ(ldns_rdf_data(edns)[0] * 256 + ldns_rdf_data(edns)[1], 8);  // ECS
  EXPECT_GT(ldns_rdf_data(edns)[7], 0);                                 // scope

  // The CDN's probe fails: each region falls back to its next datacenter's addresses.
  listener_->close();
  EXPECT_TRUE(wait_for("www.steer.test", "81.2.69.0/24", " A 192.0.2.10"));
  EXPECT_TRUE(has_line(answer("www.steer.test", LDNS_RR_TYPE_A, from("8.8.8.0/24")),
                       "www.steer.test. 10 IN A 198.51.100.10"));
  ASSERT_TRUE(listener_->open());
  EXPECT_TRUE(wait_for("www.steer.test", "81.2.69.0/24", " CNAME eu.cdn.example.net."));
}

}  // namespace
}  // namespace geodns::test
