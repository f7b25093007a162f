// `geodns import --gdnsd` through the real binaries: convert tests/data/gdnsd/basic, have
// `geodns check` accept the result, then run gdnsd on the original and geodns on the converted
// tree and compare their answers (decoded with ldns) for every network of the demo database
// and two unlocated ones, each sent as EDNS Client Subnet. Names whose difference is by design
// are compared on what both must still agree on, with the reason next to them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "harness.h"
#include "serve_fixture.h"

namespace geodns::test {
namespace {

namespace fs = std::filesystem;

struct Ran {
  int exit_code = -1;
  std::string out, err;
};

Ran run(const std::string& binary, const std::vector<std::string>& args) {
  ServerProcess p(binary, args);
  Ran r;
  if (!p.wait_exit(60s)) {
    ADD_FAILURE() << binary << " did not finish";
    p.stop();
    return r;
  }
  r.exit_code = p.exit_code().value_or(-1);
  r.out = p.stdout_text();
  r.err = p.stderr_text();
  return r;
}

// The fixture, copied, with the demo database where gdnsd looks for it and an options file
// for this run.
void prepare_gdnsd_dir(const std::string& dir, uint16_t port) {
  fs::copy(source_path("tests/data/gdnsd/basic"), dir, fs::copy_options::recursive);
  fs::create_directories(dir + "/geoip");
  fs::copy_file(source_path("geoip/demo.mmdb"), dir + "/geoip/demo.mmdb");
  fs::create_directories(dir + "/run");
  fs::create_directories(dir + "/state");
  std::ofstream(dir + "/options.cfg", std::ios::trunc)
      << "listen => [ 127.0.0.1:" << port << " ]\n"
      << "edns_client_subnet => true\nrun_dir => " << dir << "/run\nstate_dir => " << dir
      << "/state\n";
}

// The answer's addresses, sorted; "rcode NAME" when it is not NOERROR.
std::vector<std::string> answer(uint16_t port, const std::string& name, ldns_rr_type type,
                                const std::string& client) {
  QueryOptions q;
  q.edns_payload = 1232;
  q.edns_options = ecs_option(client);
  auto wire = udp_query(port, make_query(name, type, q));
  if (!wire) return {"timeout"};
  auto p = decode(*wire);
  if (!p) return {"undecodable"};
  if (ldns_pkt_get_rcode(p.get()) != LDNS_RCODE_NOERROR) {
    return {"rcode " + std::to_string(ldns_pkt_get_rcode(p.get()))};
  }
  std::vector<std::string> out;
  ldns_rr_list* an = ldns_pkt_answer(p.get());
  for (size_t i = 0; i < ldns_rr_list_rr_count(an); ++i) {
    ldns_rr* rr = ldns_rr_list_rr(an, i);
    if (ldns_rr_get_type(rr) != type) continue;
    char* s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
    out.emplace_back(s);
    free(s);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Every network of geoip/demo-source.csv, plus two the database does not know.
std::vector<std::string> clients() {
  std::vector<std::string> out;
  std::ifstream in(source_path("geoip/demo-source.csv"));
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    out.push_back(line.substr(0, line.find(',')));
  }
  out.emplace_back("10.1.0.0/16");
  out.emplace_back("2001:db8:9::/48");
  return out;
}

TEST(GdnsdImportIntegration, ConvertCheckAndAnswerAsGdnsdDoes) {
  TempDir root;
  const uint16_t gdnsd_port = free_port();
  const std::string src = root.file("gdnsd");
  prepare_gdnsd_dir(src, gdnsd_port);
  const std::string out = root.file("geodns");

  const Ran imported = run(GEODNS_BINARY, {"import", "--gdnsd", src, "--output", out});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  // Each construct without an equivalent is reported with its place.
  EXPECT_NE(imported.err.find("not converted: " + src +
                              "/config:86: service_types [smtp, "
                              "script]"),
            std::string::npos)
      << imported.err;
  EXPECT_NE(imported.err.find("/config:91: multi = true"), std::string::npos) << imported.err;
  EXPECT_NE(imported.err.find("/config:12: ok_codes"), std::string::npos) << imported.err;
  EXPECT_NE(imported.err.find("1 zones, 4 static records, 9 steered names"), std::string::npos)
      << imported.err;

  const Ran check = run(GEODNS_BINARY, {"check", "--config", out + "/geodns.toml"});
  ASSERT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE(check.out.find("zone example.test.: 5 records, 9 steered names, 17 datacenters"),
            std::string::npos)
      << check.out;

  ServerProcess gdnsd("/usr/sbin/gdnsd", {"-c", src, "start"});
  ASSERT_TRUE(gdnsd.wait_ready(gdnsd_port, 20s)) << gdnsd.stderr_text();
  ServeOptions o;
  o.zones_dir = out + "/zones";
  o.v6 = false;
  Server geodns(o);
  ASSERT_TRUE(geodns.ready) << geodns.process->stderr_text();

  // Names both servers answer alike for every client.
  const std::vector<std::string> same = {"www", "www-fra", "closest", "pool", "mail", "static"};
  // Same set of possible answers, not the same pick (the reason for each):
  //  cdn, many: gdnsd's weighted draws per query (many: several members at once, multi =
  //    true, reported as not converted); geodns' is sticky per resolver, one member.
  //  api, legacy: their datacenters are probed (http_status, tcp_connect at TEST-NET
  //    addresses nothing answers): gdnsd starts them up and takes down_thresh x interval to
  //    notice, geodns probes before answering; so which one answers is timing, not config.
  const std::map<std::string, std::set<std::string>> members = {
      {"cdn", {"192.0.2.60", "198.51.100.60"}},
      {"many", {"192.0.2.70", "192.0.2.71"}},
      {"api", {"192.0.2.30", "192.0.2.31", "198.51.100.30", "198.51.100.31"}},
      {"legacy", {"192.0.2.51", "198.51.100.51"}},
  };
  size_t compared = 0, differing = 0;
  std::set<std::string> www_answers;
  for (const auto& client : clients()) {
    for (const ldns_rr_type type : {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA}) {
      for (const auto& name : same) {
        const std::string qname = name + ".example.test.";
        const auto g = answer(gdnsd_port, qname, type, client);
        const auto d = answer(geodns.port, qname, type, client);
        ++compared;
        if (g != d) ++differing;
        EXPECT_EQ(g, d) << qname << " " << (type == LDNS_RR_TYPE_A ? "A" : "AAAA") << " for "
                        << client;
        if (name == "www" && type == LDNS_RR_TYPE_A) www_answers.insert(joined(d));
      }
      for (const auto& [name, allowed] : members) {
        const std::string qname = name + ".example.test.";
        for (const uint16_t port : {gdnsd_port, geodns.port}) {
          const auto a = answer(port, qname, type, client);
          if (type == LDNS_RR_TYPE_AAAA) {
            EXPECT_TRUE(a.empty()) << qname << " AAAA: no IPv6 address is configured";
            continue;
          }
          EXPECT_FALSE(a.empty()) << qname << " for " << client << " on port " << port;
          for (const auto& x : a) EXPECT_EQ(allowed.count(x), 1u) << qname << ": " << x;
        }
      }
    }
  }
  // The map sends clients to fra, iad and sin (and both of fra's addresses): the comparison
  // is not between two constant answers.
  EXPECT_GE(www_answers.size(), 3u);
  EXPECT_EQ(differing, 0u) << "of " << compared;
  gdnsd.stop();
}

}  // namespace
}  // namespace geodns::test
