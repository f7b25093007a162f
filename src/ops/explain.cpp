#include "ops/explain.h"

#include <ldns/ldns.h>

#include <cstring>
#include <iomanip>
#include <memory>
#include <ostream>
#include <sstream>
#include <vector>

#include "dns/name.h"
#include "dns/wire.h"
#include "geo/database.h"
#include "ops/control_server.h"
#include "server/pipeline.h"
#include "server/steer_compiler.h"
#include "zone/loader.h"

namespace geodns::ops {
std::vector<uint8_t> ecs_query(const std::string& wire_name, uint16_t qtype,
                               const IpPrefix& client) {
  const size_t addr_len = (client.length + 7U) / 8U;
  std::vector<uint8_t> q(12 + wire_name.size() + 4 + 11 + 8 + addr_len, 0);
  uint8_t* p = q.data();
  dns::write_u16(p, 0x1234);  // ID
  dns::write_u16(p + 4, 1);   // QDCOUNT
  dns::write_u16(p + 10, 1);  // ARCOUNT: the OPT record
  p += 12;
  std::memcpy(p, wire_name.data(), wire_name.size());
  p += wire_name.size();
  dns::write_u16(p, qtype);
  dns::write_u16(p + 2, dns::rrclass::IN);
  p += 4;
  *p++ = 0;  // OPT owner: root
  dns::write_u16(p, dns::rrtype::OPT);
  dns::write_u16(p + 2, 1232);
  dns::write_u32(p + 4, 0);
  dns::write_u16(p + 8, static_cast<uint16_t>(8 + addr_len));
  p += 10;
  dns::write_u16(p, dns::edns::kOptionEcs);
  dns::write_u16(p + 2, static_cast<uint16_t>(4 + addr_len));
  dns::write_u16(p + 4, client.address.is_v4() ? 1 : 2);
  p[6] = client.length;
  p[7] = 0;
  std::memcpy(p + 8, client.address.bytes.data(), addr_len);
  return q;
}

namespace {

const char* override_text(steer::Override o) {
  switch (o) {
    case steer::Override::force_up:
      return " (forced up)";
    case steer::Override::force_down:
      return " (drained)";
    case steer::Override::none:
      break;
  }
  return "";
}

std::string location_text(const geo::Location& loc) {
  std::ostringstream s;
  if (!loc.found) {
    s << "not in the database";
  } else {
    s << (loc.country[0] != 0 ? std::string(loc.country_code()) : "??");
    if (!loc.subdivision_code().empty()) s << "-" << loc.subdivision_code();
    s << ", continent " << (loc.continent[0] != 0 ? std::string(loc.continent_code()) : "??");
    if (loc.has_coordinates) {
      s << std::fixed << std::setprecision(4) << ", " << loc.latitude << "," << loc.longitude;
      if (loc.coordinates_from_centroid) s << " (country centroid)";
    }
  }
  s << "; database network /" << static_cast<int>(loc.prefix_length);
  return s.str();
}

struct ParsedRequest {
  std::string wire;
  uint16_t qtype = 0;
  IpPrefix client;
};

Result<ParsedRequest> parse_request(const ExplainRequest& request) {
  ParsedRequest parsed;
  std::string& wire = parsed.wire;
  uint16_t& qtype = parsed.qtype;
  if (!dns::name_from_text(request.name, &wire)) {
    return make_error("\"" + request.name + "\" is not a valid domain name");
  }
  if (request.type == "A" || request.type == "a") {
    qtype = dns::rrtype::A;
  } else if (request.type == "AAAA" || request.type == "aaaa") {
    qtype = dns::rrtype::AAAA;
  } else {
    return make_error("--type must be A or AAAA");
  }
  std::optional<IpPrefix> client;
  if (request.client.find('/') == std::string::npos) {
    auto a = IpAddress::parse(request.client);
    if (a) client = IpPrefix{*a, a->bit_length()};
  } else {
    std::string why;
    client = IpPrefix::parse(request.client, &why);
    if (!client) return make_error("--client " + request.client + ": " + why);
  }
  if (!client) return make_error("--client " + request.client + ": not an IP address");
  parsed.client = *client;
  return parsed;
}

// One steered name's decision: where the client is, the rule, the chain below its map key,
// every candidate and the outcome.
void print_link(const server::SteerExplanation& ex, std::ostream& out) {
  const steer::Rule& rule = *ex.rule;
  out << "lookup:     " << ex.lookup_address.to_string()
      << " (ECS source prefixes are cut to /24 for IPv4 and /56 for IPv6)\n";
  out << "location:   "
      << (ex.have_database ? location_text(ex.location) : "no GeoIP database configured") << "\n";
  out << "rule:       " << rule.owner << " policy " << steer::policy_name(rule.policy) << ", ttl "
      << rule.ttl_s << "s (degraded " << rule.degraded_ttl_s << "s), answers " << rule.answers
      << "\n";
  out << "matched:    " << ex.trace.matched << "\n";
  // The chain below the map key: pools entered, spillover, A/AAAA pairing.
  for (const auto& step : ex.trace.steps) out << "  via       " << step << "\n";
  out << "candidates:\n";
  int i = 1;
  for (const auto& c : ex.trace.candidates) {
    const auto& dc = ex.zone->datacenters[c.dc];
    out << "  " << i++ << ". " << (c.chosen ? "* " : "  ") << std::left << std::setw(10) << dc.name
        << std::right;
    if (c.total == 0) {
      out << " no IPv" << static_cast<int>(c.family) << " address (skipped)";
    } else {
      out << " " << c.up << "/" << c.total << " IPv" << static_cast<int>(c.family)
          << " addresses up" << override_text(c.override_state);
      const auto& d = ex.zone->datacenters[c.dc];
      if (d.min_up > 1 || d.min_up_percent > 0) {
        out << " (min_up " << c.need << ": " << (c.up >= c.need ? "up" : "down") << ")";
      }
    }
    if (c.distance_km >= 0 && c.distance_km < 1e8) {
      out << ", " << static_cast<long>(c.distance_km) << " km";
    }
    if (!c.via.empty()) out << ", in " << c.via;
    if (!c.note.empty()) out << ", " << c.note;
    out << "\n";
  }
  out << "outcome:    " << ex.trace.outcome << "\n";
}

}  // namespace

Status explain_live(const server::Snapshots& snapshots, const ExplainRequest& request,
                    std::ostream& out) {
  auto parsed = parse_request(request);
  if (!parsed) return parsed.error();
  const std::string& wire = parsed->wire;
  const uint16_t qtype = parsed->qtype;
  const IpPrefix* client = &parsed->client;
  server::Pipeline pipeline(snapshots, server::PipelineConfig{}, 0);
  pipeline.begin_batch();
  const auto query = ecs_query(wire, qtype, *client);
  std::vector<uint8_t> buf(dns::kMaxMessage);
  server::ClientInfo ci;
  ci.address = client->address;
  ci.transport = server::Transport::tcp;
  server::SteerExplanation ex;
  const size_t n = pipeline.respond_explained(query, ci, buf, &ex);

  out << "query:      " << dns::name_to_text(wire) << " " << request.type << " from "
      << client->to_string() << " (sent as EDNS Client Subnet)\n";
  if (ex.steered) {
    // A steered CNAME chain: every link, the CNAME it answered with, then the last one.
    const size_t links = ex.chain.size() + 1;
    for (size_t k = 0; k < links; ++k) {
      const server::SteerExplanation& link = k < ex.chain.size() ? ex.chain[k] : ex;
      if (links > 1) out << "link " << k + 1 << " of " << links << ": " << link.rule->owner << "\n";
      print_link(link, out);
      if (k + 1 < links && link.decision.dc >= 0) {
        const auto& dc = link.zone->datacenters[static_cast<size_t>(link.decision.dc)];
        out << "cname:      " << dns::name_to_text(dc.target) << " (datacenter " << dc.name
            << "), scope /" << static_cast<int>(link.decision.scope);
        if (link.compiled) out << ", merged network " << link.compiled_network.to_string();
        out << "\n";
      }
    }
  } else {
    out << "rule:       none: " << request.name
        << " is not a steered name; the answer does not depend on the client\n";
  }
  ldns_pkt* pkt = nullptr;
  if (ldns_wire2pkt(&pkt, buf.data(), n) != LDNS_STATUS_OK || pkt == nullptr) {
    return make_error("internal error: the response could not be decoded");
  }
  char* rcode = ldns_pkt_rcode2str(ldns_pkt_get_rcode(pkt));
  out << "rcode:      " << (rcode != nullptr ? rcode : "?") << "\n";
  free(rcode);
  ldns_rr_list* an = ldns_pkt_answer(pkt);
  out << "answer:";
  if (ldns_rr_list_rr_count(an) == 0) out << "     (none)\n";
  for (size_t k = 0; k < ldns_rr_list_rr_count(an); ++k) {
    char* s = ldns_rr2str(ldns_rr_list_rr(an, k));
    std::string line = s != nullptr ? s : "";
    free(s);
    while (!line.empty() && line.back() == '\n') line.pop_back();
    out << (k == 0 ? "     " : "            ") << line << "\n";
  }
  if (ldns_rr_list_rr_count(an) > 0) {
    out << "ttl:        " << ldns_rr_ttl(ldns_rr_list_rr(an, 0)) << "s"
        << (ex.decision.degraded || ex.decision.failed_open ? " (degraded)" : "") << "\n";
  }
  out << "ecs scope:  /" << static_cast<int>(ex.response_scope);
  if (!ex.steered || !ex.rule->depends_on_client) {
    out << " (the answer is the same for every client)";
  } else if (!ex.trace.scope_why.empty()) {
    out << " (" << ex.trace.scope_why << ")";
  }
  out << "\n";
  if (ex.compiled) {
    // The scope is the merged network: every address in it gets the same candidate list.
    out << "compiled:   merged network " << ex.compiled_network.to_string() << "\n";
  }
  ldns_pkt_free(pkt);
  return {};
}

Status explain(const zone::ServerConfig& config, const ExplainRequest& request, std::ostream& out) {
  if (auto parsed = parse_request(request); !parsed) return parsed.error();
  zone::ServerConfig unsigned_config = config;
  unsigned_config.dnssec.sign = false;  // offline: no private keys needed (config.h)
  auto report = zone::load_zone_dir(config.zones_dir, unsigned_config, nullptr);
  if (!report.errors.empty()) return report.errors.front();
  server::Snapshots snapshots;
  Published<steer::HealthView> health;
  // Offline, nothing is known to be down: the answer of a fully healthy fleet. (Against a
  // running server, `geodns ctl explain` shows live health.)
  health.publish(std::make_shared<steer::HealthView>());
  snapshots.health = &health;
  snapshots.zones.publish(report.zones);
  if (!config.geoip_path.empty()) {
    auto db = geo::Database::open(config.geoip_path, config.asn_db_path);
    if (!db) return db.error();
    snapshots.geoip.publish(db.value());
  } else {
    snapshots.geoip.publish(nullptr);
  }
  // Compiled as the server would, so the scope shown is the one a query gets.
  auto compiled = server::compile_steering(snapshots.zones.load(), snapshots.geoip.load(), nullptr);
  if (!compiled) return compiled.error();
  snapshots.steering.publish(compiled.value());
  return explain_live(snapshots, request, out);
}

size_t check(const zone::ServerConfig& config, std::ostream& out, std::ostream& err) {
  size_t errors = 0;
  // What serve would refuse at start-up, refused here too (check is the unit's ExecStartPre).
  if (!config.control.listen.empty()) {
    if (Status st = check_control_listen(config.control.listen, !config.control.token.empty());
        !st) {
      err << st.error().to_string() << "\n";
      ++errors;
    }
  }
  auto report = zone::load_zone_dir(config.zones_dir, config, nullptr);
  for (const auto& e : report.errors) {
    err << e.to_string() << "\n";
    ++errors;
  }
  if (report.zones->zones.empty() && report.errors.empty()) {
    err << config.zones_dir << ": no zone files (*.toml)\n";
    ++errors;
  }
  if (!config.geoip_path.empty()) {
    auto db = geo::Database::open(config.geoip_path, config.asn_db_path);
    if (!db) {
      err << db.error().to_string() << "\n";
      ++errors;
    } else {
      out << "geoip: " << config.geoip_path << ": " << db.value()->description() << "\n";
    }
  }
  for (const auto& z : report.zones->zones) {
    const size_t records = z->record_count();
    out << "zone " << z->origin_text << ": " << records << " records, " << z->rules.size()
        << " steered names, " << z->datacenters.size() << " datacenters (" << z->source_file
        << ")\n";
  }
  if (errors == 0) out << "ok\n";
  return errors;
}

}  // namespace geodns::ops
