#include "ops/diff.h"

#include <ldns/ldns.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <set>
#include <sstream>
#include <utility>

#include "common/log.h"
#include "dns/name.h"
#include "dns/type_names.h"
#include "dns/wire.h"
#include "geo/database.h"
#include "ops/explain.h"
#include "ops/options.h"
#include "server/steer_compiler.h"
#include "zone/loader.h"

extern char** environ;

namespace geodns::ops {
namespace fs = std::filesystem;

namespace {

// --- loading ------------------------------------------------------------------------------

std::string join_errors(const std::vector<Error>& errors) {
  std::string out;
  for (const auto& e : errors) {
    if (!out.empty()) out += "\n";
    out += e.to_string();
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<DiffTree>> load_diff_tree(zone::ServerConfig config, std::string label,
                                                 std::span<const std::string> down,
                                                 const DiffTree* same_db) {
  auto tree = std::make_unique<DiffTree>();
  tree->label = std::move(label);
  tree->config = std::move(config);
  tree->config.dnssec.sign = false;  // no private keys needed: signatures steer nothing
  const zone::ServerConfig& c = tree->config;
  if (!fs::is_directory(c.zones_dir)) {
    return make_error(tree->label + ": " + c.zones_dir + ": not a directory");
  }
  auto report = zone::load_zone_dir(c.zones_dir, c, nullptr);
  if (!report.errors.empty()) return make_error(join_errors(report.errors));
  geo::DatabasePtr db;
  const server::CompiledSteering* previous = nullptr;
  if (same_db != nullptr && same_db->config.geoip_path == c.geoip_path &&
      same_db->config.asn_db_path == c.asn_db_path) {
    db = same_db->snapshots.geoip.load();
    previous = same_db->snapshots.steering.load().get();
  } else if (!c.geoip_path.empty()) {
    auto opened = geo::Database::open(c.geoip_path, c.asn_db_path);
    if (!opened) return opened.error();
    db = opened.value();
  }
  // Compiled as the server compiles them, so that what is asked below is what a query gets.
  auto compiled = server::compile_steering(report.zones, db, previous);
  if (!compiled) return compiled.error();
  // Drained rather than marking targets down: the same effect on every policy (a datacenter
  // forced down is down whatever its checks say), and it needs no knowledge of the checks.
  auto health = std::make_shared<steer::HealthView>();
  for (const auto& z : report.zones->zones) {
    for (const auto& dc : z->datacenters) {
      if (std::find(down.begin(), down.end(), dc.name) != down.end()) {
        health->set_dc_override(dc.id, steer::Override::force_down);
      }
    }
  }
  tree->health.publish(std::move(health));
  tree->snapshots.health = &tree->health;
  tree->snapshots.zones.publish(report.zones);
  tree->snapshots.geoip.publish(db);
  tree->snapshots.steering.publish(compiled.value());
  return tree;
}

// --- static records -----------------------------------------------------------------------

std::string rdata_text(uint16_t type, std::string_view rdata) {
  // ldns decodes whole RRs only: wrap the RDATA in one with the root as owner.
  std::vector<uint8_t> wire(11 + rdata.size(), 0);
  dns::write_u16(wire.data() + 1, type);
  dns::write_u16(wire.data() + 3, dns::rrclass::IN);
  dns::write_u16(wire.data() + 9, static_cast<uint16_t>(rdata.size()));
  std::memcpy(wire.data() + 11, rdata.data(), rdata.size());
  ldns_rr* rr = nullptr;
  size_t pos = 0;
  std::string text;
  if (ldns_wire2rr(&rr, wire.data(), wire.size(), &pos, LDNS_SECTION_ANSWER) == LDNS_STATUS_OK &&
      rr != nullptr) {
    for (size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
      char* s = ldns_rdf2str(ldns_rr_rdf(rr, i));
      if (s == nullptr) {
        text.clear();
        break;
      }
      if (i > 0) text += ' ';
      text += s;
      free(s);
    }
    ldns_rr_free(rr);
  }
  if (!text.empty() || rdata.empty()) return text;
  static constexpr char kHex[] = "0123456789abcdef";
  text = "\\# " + std::to_string(rdata.size()) + " ";
  for (const char ch : rdata) {
    const auto b = static_cast<uint8_t>(ch);
    text += kHex[b >> 4];
    text += kHex[b & 15];
  }
  return text;
}

namespace {

// The SOA RDATA with its serial zeroed (see diff_records). Names in zone RDATA are
// uncompressed: two names, then the serial.
std::string soa_without_serial(std::string_view rdata) {
  std::string out(rdata);
  size_t p = 0;
  for (int name = 0; name < 2; ++name) {
    while (p < out.size() && out[p] != 0) p += 1 + static_cast<uint8_t>(out[p]);
    ++p;
  }
  if (p + 4 <= out.size()) std::memset(out.data() + p, 0, 4);
  return out;
}

struct RRsetText {
  uint32_t ttl_s = 0;
  std::vector<std::string> rdatas;  // sorted
};
using RRsetKey = std::pair<std::string, uint16_t>;  // owner text, type

std::map<RRsetKey, RRsetText> rrsets_of(const zone::Zone& zone) {
  std::map<RRsetKey, RRsetText> out;
  for (const auto& node : zone.nodes) {
    for (const auto& rrset : node.rrsets) {
      RRsetText& t = out[{dns::name_to_text(node.name), rrset.type}];
      t.ttl_s = rrset.ttl_s;
      for (const auto rd : rrset.rdatas) {
        t.rdatas.push_back(rrset.type == dns::rrtype::SOA
                               ? rdata_text(rrset.type, soa_without_serial(rd))
                               : rdata_text(rrset.type, rd));
      }
      std::sort(t.rdatas.begin(), t.rdatas.end());
    }
  }
  return out;
}

std::map<std::string, const zone::Zone*> zones_by_origin(const zone::ZoneSet& set) {
  std::map<std::string, const zone::Zone*> out;
  for (const auto& z : set.zones) out[z->origin_text] = z.get();
  return out;
}

}  // namespace

RecordDiff diff_records(const zone::ZoneSet& before, const zone::ZoneSet& after) {
  RecordDiff diff;
  const auto old_zones = zones_by_origin(before);
  const auto new_zones = zones_by_origin(after);
  std::set<std::string> origins;
  for (const auto& [o, z] : old_zones) origins.insert(o);
  for (const auto& [o, z] : new_zones) origins.insert(o);
  for (const auto& origin : origins) {
    const auto oi = old_zones.find(origin);
    const auto ni = new_zones.find(origin);
    std::map<RRsetKey, RRsetText> old_sets, new_sets;
    if (oi != old_zones.end()) old_sets = rrsets_of(*oi->second);
    if (ni != new_zones.end()) new_sets = rrsets_of(*ni->second);
    if (oi == old_zones.end()) diff.zones_added.push_back(origin);
    if (ni == new_zones.end()) diff.zones_removed.push_back(origin);
    std::set<RRsetKey> keys;
    for (const auto& [k, v] : old_sets) keys.insert(k);
    for (const auto& [k, v] : new_sets) keys.insert(k);
    for (const auto& key : keys) {
      const auto o = old_sets.find(key);
      const auto n = new_sets.find(key);
      RecordChange c;
      c.zone = origin;
      c.owner = key.first;
      c.type = dns::type_name(key.second);
      if (o == old_sets.end()) {
        c.kind = RecordChange::Kind::added;
        c.new_ttl_s = n->second.ttl_s;
        c.added = n->second.rdatas;
      } else if (n == new_sets.end()) {
        c.kind = RecordChange::Kind::removed;
        c.old_ttl_s = o->second.ttl_s;
        c.removed = o->second.rdatas;
      } else {
        if (o->second.ttl_s == n->second.ttl_s && o->second.rdatas == n->second.rdatas) continue;
        c.kind = RecordChange::Kind::changed;
        c.old_ttl_s = o->second.ttl_s;
        c.new_ttl_s = n->second.ttl_s;
        std::set_difference(o->second.rdatas.begin(), o->second.rdatas.end(),
                            n->second.rdatas.begin(), n->second.rdatas.end(),
                            std::back_inserter(c.removed));
        std::set_difference(n->second.rdatas.begin(), n->second.rdatas.end(),
                            o->second.rdatas.begin(), o->second.rdatas.end(),
                            std::back_inserter(c.added));
      }
      diff.changes.push_back(std::move(c));
    }
  }
  return diff;
}

// --- clients ------------------------------------------------------------------------------

Result<ClientSample> read_clients(std::string_view text, const std::string& display_name) {
  ClientSample sample;
  uint32_t line_no = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (const size_t hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front())) != 0) {
      line.remove_prefix(1);
    }
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())) != 0) {
      line.remove_suffix(1);
    }
    if (line.empty()) continue;
    std::optional<IpPrefix> p;
    std::string why = "not an IP address or prefix";
    if (line.find('/') == std::string_view::npos) {
      if (auto a = IpAddress::parse(line)) p = IpPrefix{*a, a->bit_length()};
    } else {
      p = IpPrefix::parse(line, &why);
    }
    if (!p) return Error{"\"" + std::string(line) + "\": " + why, display_name, line_no, 1};
    sample.clients.push_back(*p);
  }
  sample.description = std::to_string(sample.clients.size()) + " clients from " + display_name;
  return sample;
}

namespace {

IpAddress v4_address(uint32_t start) {
  return IpAddress::v4(static_cast<uint8_t>(start >> 24), static_cast<uint8_t>(start >> 16),
                       static_cast<uint8_t>(start >> 8), static_cast<uint8_t>(start));
}

IpAddress v6_address(geo::Uint128 start) {
  IpAddress a;
  a.family = 6;
  for (int i = 15; i >= 0; --i) {
    a.bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(start);
    start >>= 8;
  }
  return a;
}

// IPv6 regions that a MaxMind tree points at its IPv4 subtree: their leaves repeat the IPv4
// ones, so sampling them would count the same networks twice.
bool is_ipv4_alias(geo::Uint128 start, uint8_t length) {
  const auto top32 = static_cast<uint32_t>(start >> 96);
  const auto top96 = start >> 32;
  return (length >= 96 && (top96 == 0 || top96 == 0xffff)) ||
         (length >= 16 && (top32 >> 16) == 0x2002) || (length >= 32 && top32 == 0x20010000U);
}

}  // namespace

ClientSample sample_clients(const geo::NetworkIndex& index, size_t max_clients) {
  std::vector<IpPrefix> all;
  for (const auto& leaf : index.v4()) {
    if (leaf.cls != geo::kNoClass) all.push_back(IpPrefix{v4_address(leaf.start), leaf.length});
  }
  for (const auto& leaf : index.v6()) {
    if (leaf.cls != geo::kNoClass && !is_ipv4_alias(leaf.start, leaf.length)) {
      all.push_back(IpPrefix{v6_address(leaf.start), leaf.length});
    }
  }
  ClientSample sample;
  if (all.size() <= max_clients) {
    sample.clients = std::move(all);
    sample.description = "all " + std::to_string(sample.clients.size()) + " networks";
    return sample;
  }
  sample.clients.reserve(max_clients);
  for (size_t i = 0; i < max_clients; ++i) {
    sample.clients.push_back(all[i * all.size() / max_clients]);
  }
  sample.description = std::to_string(max_clients) + " of " + std::to_string(all.size()) +
                       " networks, evenly spread";
  return sample;
}

// --- steering -----------------------------------------------------------------------------

namespace {

class Asker {
 public:
  explicit Asker(const DiffTree& tree)
      : pipeline_(tree.snapshots, server::PipelineConfig{}, 0), buf_(dns::kMaxMessage) {
    pipeline_.begin_batch();
  }

  // The answer's label (see Move).
  std::string ask(const std::string& wire, uint16_t qtype, const IpPrefix& client) {
    const auto query = ecs_query(wire, qtype, client);
    server::ClientInfo ci;
    // The resolver is the client itself: weighted picks are sticky per resolver, so each
    // sampled client is its own resolver and the shares show in the counts.
    ci.address = client.address;
    ci.transport = server::Transport::tcp;  // never truncated
    server::SteerExplanation ex;
    const size_t n = pipeline_.respond_explained(query, ci, buf_, &ex);
    if (n < 12) return "no response";
    if (!ex.steered) {
      const unsigned rcode = buf_[3] & 0x0fU;
      const unsigned ancount = static_cast<unsigned>(buf_[6]) << 8 | buf_[7];
      if (rcode != 0) return dns::rcode_name(static_cast<uint16_t>(rcode));
      return ancount > 0 ? "static" : "nodata";
    }
    if (ex.decision.count == 0 && ex.decision.dc < 0) return "nodata";
    std::vector<std::string> names;
    for (uint32_t i = 0; i < ex.decision.dc_count; ++i) {
      names.push_back(ex.zone->datacenters[ex.decision.dcs[i]].name);
    }
    if (names.empty() && ex.decision.dc >= 0) {
      names.push_back(ex.zone->datacenters[static_cast<size_t>(ex.decision.dc)].name);
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    std::string label;
    for (const auto& s : names) label += (label.empty() ? "" : ",") + s;
    if (ex.decision.failed_open) label += " (all down)";
    return label;
  }

 private:
  server::Pipeline pipeline_;
  std::vector<uint8_t> buf_;
};

void add_steered_names(const zone::ZoneSet& set, std::map<std::string, std::string>* names) {
  for (const auto& z : set.zones) {
    for (const auto& node : z->nodes) {
      if (node.rule >= 0) (*names)[dns::name_to_text(node.name)] = std::string(node.name);
    }
  }
}

std::string country_of(const geo::Database* db, const IpPrefix& client) {
  geo::Location loc;
  if (db == nullptr || !db->lookup(client.address, &loc) || loc.country[0] == 0) return "??";
  return std::string(loc.country_code());
}

}  // namespace

SteeringDiff diff_steering(const DiffTree& before, const DiffTree& after,
                           std::span<const IpPrefix> clients, const geo::Database* locate) {
  SteeringDiff diff;
  diff.clients = clients.size();
  std::map<std::string, std::string> names;  // text -> wire, in text order
  add_steered_names(*before.snapshots.zones.load(), &names);
  add_steered_names(*after.snapshots.zones.load(), &names);
  diff.names = names.size();
  Asker old_side(before), new_side(after);
  std::vector<std::string> countries(clients.size());
  for (size_t i = 0; i < clients.size(); ++i) countries[i] = country_of(locate, clients[i]);

  for (const auto& [text, wire] : names) {
    bool name_changed = false;
    for (const uint16_t qtype : {dns::rrtype::A, dns::rrtype::AAAA}) {
      struct Group {
        size_t clients = 0;
        std::map<std::string, size_t> countries;
        std::vector<std::string> examples;
      };
      std::map<std::pair<std::string, std::string>, Group> groups;
      for (size_t i = 0; i < clients.size(); ++i) {
        std::string from = old_side.ask(wire, qtype, clients[i]);
        std::string to = new_side.ask(wire, qtype, clients[i]);
        if (from == to) continue;
        Group& g = groups[{std::move(from), std::move(to)}];
        ++g.clients;
        ++g.countries[countries[i]];
        if (g.examples.size() < kMoveExamples) g.examples.push_back(clients[i].to_string());
      }
      std::vector<Move> moves;
      for (auto& [key, g] : groups) {
        Move m;
        m.name = text;
        m.qtype = dns::type_name(qtype);
        m.from = key.first;
        m.to = key.second;
        m.clients = g.clients;
        m.countries.assign(g.countries.begin(), g.countries.end());
        std::stable_sort(m.countries.begin(), m.countries.end(),
                         [](const auto& a, const auto& b) { return a.second > b.second; });
        m.examples = std::move(g.examples);
        diff.answers_moved += g.clients;
        moves.push_back(std::move(m));
      }
      // The largest group first.
      std::stable_sort(moves.begin(), moves.end(),
                       [](const Move& a, const Move& b) { return a.clients > b.clients; });
      if (!moves.empty()) name_changed = true;
      for (auto& m : moves) diff.moves.push_back(std::move(m));
    }
    if (name_changed) ++diff.names_changed;
  }
  return diff;
}

// --- output -------------------------------------------------------------------------------

namespace {

const char* kind_text(RecordChange::Kind k) {
  switch (k) {
    case RecordChange::Kind::added:
      return "added  ";
    case RecordChange::Kind::removed:
      return "removed";
    case RecordChange::Kind::changed:
      break;
  }
  return "changed";
}

constexpr size_t kCountriesShown = 5;

}  // namespace

void print_diff(const RecordDiff& records, const SteeringDiff* steering,
                const std::string& clients_note, std::ostream& out) {
  size_t added = 0, removed = 0, changed = 0;
  std::set<std::string> zones_changed;
  std::string zone;
  for (const auto& c : records.changes) {
    if (c.zone != zone) {
      zone = c.zone;
      zones_changed.insert(zone);
      const bool is_new = std::find(records.zones_added.begin(), records.zones_added.end(), zone) !=
                          records.zones_added.end();
      const bool is_gone = std::find(records.zones_removed.begin(), records.zones_removed.end(),
                                     zone) != records.zones_removed.end();
      out << "zone " << zone << (is_new ? " (new zone)" : is_gone ? " (zone removed)" : "") << "\n";
    }
    switch (c.kind) {
      case RecordChange::Kind::added:
        ++added;
        break;
      case RecordChange::Kind::removed:
        ++removed;
        break;
      case RecordChange::Kind::changed:
        ++changed;
        break;
    }
    out << "  " << kind_text(c.kind) << " " << c.owner << " " << c.type;
    if (c.old_ttl_s && c.new_ttl_s && *c.old_ttl_s != *c.new_ttl_s) {
      out << " (ttl " << *c.old_ttl_s << " -> " << *c.new_ttl_s << ")";
    } else if (c.new_ttl_s) {
      out << " (ttl " << *c.new_ttl_s << ")";
    } else if (c.old_ttl_s) {
      out << " (ttl " << *c.old_ttl_s << ")";
    }
    out << "\n";
    for (const auto& r : c.removed) out << "      - " << r << "\n";
    for (const auto& r : c.added) out << "      + " << r << "\n";
  }
  if (steering != nullptr) {
    out << "steering: " << steering->names << " steered names, " << clients_note << "\n";
    std::string name;
    for (const auto& m : steering->moves) {
      if (m.name + m.qtype != name) {
        name = m.name + m.qtype;
        size_t moved = 0;
        for (const auto& o : steering->moves) {
          if (o.name == m.name && o.qtype == m.qtype) moved += o.clients;
        }
        out << "  " << m.name << " " << m.qtype << ": " << moved << " of " << steering->clients
            << " clients move\n";
      }
      out << "    " << m.from << " -> " << m.to << ": " << m.clients << " clients (";
      for (size_t i = 0; i < m.countries.size() && i < kCountriesShown; ++i) {
        out << (i > 0 ? ", " : "") << m.countries[i].first << " " << m.countries[i].second;
      }
      if (m.countries.size() > kCountriesShown) {
        out << ", " << m.countries.size() - kCountriesShown << " more countries";
      }
      out << "), e.g.";
      for (size_t i = 0; i < m.examples.size(); ++i) out << (i > 0 ? ", " : " ") << m.examples[i];
      out << "\n";
    }
  } else {
    out << "steering: not compared (" << clients_note << ")\n";
  }
  const bool any = !records.changes.empty() || !records.zones_added.empty() ||
                   !records.zones_removed.empty() ||
                   (steering != nullptr && steering->answers_moved > 0);
  out << "summary: ";
  if (!any) {
    out << "no change";
  } else {
    out << zones_changed.size() << " zones changed (" << records.zones_added.size() << " added, "
        << records.zones_removed.size() << " removed), RRsets " << added << " added, " << removed
        << " removed, " << changed << " changed";
  }
  if (steering != nullptr) {
    out << "; " << steering->names_changed << " of " << steering->names
        << " steered names move clients (" << steering->answers_moved << " answers of "
        << steering->clients << " clients x A/AAAA)";
  }
  out << "\n";
}

// --- the command --------------------------------------------------------------------------

namespace {

constexpr const char* kDiffUsage = R"(usage: geodns diff OLD NEW [options]
       geodns diff --git REV1..REV2 [options]

OLD and NEW are each one of:
  FILE               a geodns.toml (its zones and database)
  DIR                a directory with a geodns.toml, else a zones directory served
                     with the --config settings
  git:REV            the zones directory (and geodns.toml, if tracked) at git revision
                     REV, read with `git archive`; the GeoIP database is the local one
--git A..B is git:A git:B; --git A...B compares B with its merge base with A.

options:
  --config FILE      settings for zones directories and git revisions
                     (default: ./geodns.toml if present)
  --geoip FILE       GeoIP database for both versions (overrides their configs)
  --clients FILE     clients to ask for: one address or prefix a line
                     (default: a sample of the GeoIP database's networks)
  --sample N         at most N sampled networks, evenly spread (default 4096)
  --down DC          treat datacenter DC as down in both versions (repeatable)

exit status: 0 no change, 1 changes, 2 error (as diff(1))
)";

// Runs argv (no shell) and collects its output. False with the reason in *err_text when it
// cannot start or exits non-zero.
bool run_program(const std::vector<std::string>& argv, std::string* out_text,
                 std::string* err_text) {
  int out_pipe[2], err_pipe[2];
  if (pipe(out_pipe) != 0) return false;
  if (pipe(err_pipe) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return false;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
  posix_spawn_file_actions_addclose(&actions, err_pipe[0]);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    *err_text = argv[0] + ": " + std::strerror(rc);
    return false;
  }
  // Both pipes at once: a child filling one while we block on the other would never exit.
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {out_text, err_text};
  int open_fds = 2;
  char chunk[4096];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = read(fds[i].fd, chunk, sizeof chunk);
      if (n > 0) {
        sinks[i]->append(chunk, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) close(f.fd);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

Result<std::string> git(const std::string& dir, std::vector<std::string> args) {
  std::vector<std::string> argv = {"git", "-C", dir};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out, err;
  if (!run_program(argv, &out, &err)) {
    while (!err.empty() && err.back() == '\n') err.pop_back();
    std::string cmd;
    for (size_t i = 3; i < argv.size(); ++i) cmd += (i > 3 ? " " : "") + argv[i];
    return make_error("git " + cmd + ": " + (err.empty() ? "failed" : err));
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// Removes the extracted revisions however the command ends.
struct TempDir {
  std::string path;
  ~TempDir() {
    if (path.empty()) return;
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

struct Context {
  CommonOptions options;
  std::optional<Result<zone::ServerConfig>> base;  // resolved on first use
  std::string base_path;                           // the geodns.toml it came from, or ""
  TempDir temp;
  int revisions = 0;

  const Result<zone::ServerConfig>& base_config() {
    if (!base) {
      base = resolve_config(options);
      base_path = options.config_path;
      if (base_path.empty() && fs::exists("geodns.toml")) base_path = "geodns.toml";
    }
    return *base;
  }
};

// Where the base config's zones directory lives in its git repository.
struct RepoPlace {
  fs::path top;        // the work tree's top directory
  fs::path zones_rel;  // the zones directory relative to it
};

Result<RepoPlace> repo_place(Context& ctx) {
  const auto& base = ctx.base_config();
  if (!base) return base.error();
  std::error_code ec;
  const fs::path zones = fs::canonical(base->zones_dir, ec);
  if (ec || !fs::is_directory(zones)) {
    return make_error(base->zones_dir +
                      ": not a directory (git revisions are read from the "
                      "repository holding the zones directory)");
  }
  auto top = git(zones.string(), {"rev-parse", "--show-toplevel"});
  if (!top) return top.error();
  RepoPlace place;
  place.top = fs::canonical(top.value(), ec);
  if (ec) return make_error(top.value() + ": " + ec.message());
  place.zones_rel = zones.lexically_relative(place.top);
  return place;
}

Result<zone::ServerConfig> config_at_revision(Context& ctx, const std::string& rev) {
  auto place = repo_place(ctx);
  if (!place) return place.error();
  const zone::ServerConfig& base = ctx.base_config().value();
  const std::string top = place->top.string();
  auto commit = git(top, {"rev-parse", "--verify", "--quiet", rev + "^{commit}"});
  if (!commit) return make_error("git:" + rev + ": not a commit in " + top);
  if (ctx.temp.path.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != 0 ? tmp : "/tmp") + "/geodns-diff-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      return make_error(pattern + ": " + std::strerror(errno));
    }
    ctx.temp.path = pattern;
  }
  const std::string n = std::to_string(++ctx.revisions);
  const fs::path tar = fs::path(ctx.temp.path) / ("rev" + n + ".tar");
  const fs::path dir = fs::path(ctx.temp.path) / ("rev" + n);
  fs::create_directories(dir);
  // The whole tree, not only the zones directory: nets_file and a tracked geodns.toml may
  // live anywhere in it.
  if (auto st = git(top, {"archive", "--format=tar", "-o", tar.string(), commit.value()}); !st) {
    return st.error();
  }
  std::string out, err;
  if (!run_program({"tar", "-xf", tar.string(), "-C", dir.string()}, &out, &err)) {
    return make_error("tar -xf " + tar.string() + ": " + err);
  }
  zone::ServerConfig config;
  bool from_revision = false;
  if (!ctx.base_path.empty() && !ctx.options.zones_dir) {
    std::error_code ec;
    const fs::path rel = fs::weakly_canonical(ctx.base_path, ec).lexically_relative(place->top);
    if (!ec && !rel.empty() && *rel.begin() != ".." && fs::exists(dir / rel)) {
      auto loaded = zone::load_server_config((dir / rel).string());
      if (!loaded) return loaded.error();
      config = std::move(loaded.value());
      from_revision = true;
    }
  }
  if (!from_revision) {
    config = base;
    config.zones_dir = (dir / place->zones_rel).string();
  }
  // The database is not kept in git (geoip/real is a local download): the local one serves.
  config.geoip_path = base.geoip_path;
  config.asn_db_path = base.asn_db_path;
  // A revision before the zones directory existed has no zones: everything is added.
  if (!fs::exists(config.zones_dir)) fs::create_directories(config.zones_dir);
  return config;
}

Result<zone::ServerConfig> config_of(Context& ctx, const std::string& spec) {
  if (spec.rfind("git:", 0) == 0) return config_at_revision(ctx, spec.substr(4));
  std::error_code ec;
  zone::ServerConfig config;
  if (fs::is_directory(spec, ec)) {
    if (fs::exists(fs::path(spec) / "geodns.toml")) {
      auto loaded = zone::load_server_config((fs::path(spec) / "geodns.toml").string());
      if (!loaded) return loaded.error();
      config = std::move(loaded.value());
    } else {
      const auto& base = ctx.base_config();
      if (!base) return base.error();
      config = base.value();
      config.zones_dir = spec;
    }
  } else if (fs::exists(spec, ec)) {
    auto loaded = zone::load_server_config(spec);
    if (!loaded) return loaded.error();
    config = std::move(loaded.value());
  } else {
    return make_error(spec + ": no such file or directory (or git:REV)");
  }
  if (ctx.options.geoip_path) config.geoip_path = *ctx.options.geoip_path;
  return config;
}

}  // namespace

int run_diff(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  // Loading logs each zone at info level; the diff is the output here.
  log::set_level(log::Level::warn);
  Context ctx;
  ctx.options.log_level = "warn";
  std::vector<std::string> specs;
  std::string clients_file;
  size_t sample = 4096;
  std::vector<std::string> down;
  std::string git_range;
  auto usage = [&](const std::string& msg) {
    err << "geodns diff: " << msg << "\n\n" << kDiffUsage;
    return 2;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* v) {
      if (i + 1 >= args.size()) return false;
      *v = args[++i];
      return true;
    };
    std::string v;
    if (a == "--help" || a == "-h") {
      out << kDiffUsage;
      return 0;
    } else if (a == "--config") {
      if (!value(&ctx.options.config_path)) return usage("--config needs a file");
    } else if (a == "--geoip") {
      if (!value(&v)) return usage("--geoip needs a file");
      ctx.options.geoip_path = v;
    } else if (a == "--clients") {
      if (!value(&clients_file)) return usage("--clients needs a file");
    } else if (a == "--sample") {
      if (!value(&v)) return usage("--sample needs a number");
      char* end = nullptr;
      const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
      if (end == v.c_str() || *end != 0 || n == 0 || n > 10'000'000) {
        return usage("--sample must be 1..10000000");
      }
      sample = static_cast<size_t>(n);
    } else if (a == "--down") {
      if (!value(&v)) return usage("--down needs a datacenter name");
      std::stringstream names(v);
      for (std::string name; std::getline(names, name, ',');) {
        if (!name.empty()) down.push_back(name);
      }
    } else if (a == "--git") {
      if (!value(&git_range)) return usage("--git needs REV1..REV2");
      if (git_range.find("..") == std::string::npos) {
        return usage("--git needs REV1..REV2 (or REV1...REV2)");
      }
    } else if (!a.empty() && a[0] == '-') {
      return usage("unknown option " + a);
    } else {
      specs.push_back(a);
    }
  }
  // After every option: the repository is the one --config's zones directory is in.
  if (!git_range.empty()) {
    const size_t dots = git_range.find("..");
    const bool merge_base = git_range.compare(dots, 3, "...") == 0;
    std::string left = git_range.substr(0, dots);
    std::string right = git_range.substr(dots + (merge_base ? 3 : 2));
    if (left.empty()) left = "HEAD";
    if (right.empty()) right = "HEAD";
    if (merge_base) {
      auto place = repo_place(ctx);
      if (!place) {
        err << "geodns diff: " << place.error().to_string() << "\n";
        return 2;
      }
      auto base = git(place->top.string(), {"merge-base", left, right});
      if (!base) {
        err << "geodns diff: " << base.error().to_string() << "\n";
        return 2;
      }
      left = base.value();
    }
    specs.push_back("git:" + left);
    specs.push_back("git:" + right);
  }
  if (specs.size() != 2) return usage("needs OLD and NEW (or --git REV1..REV2)");

  std::unique_ptr<DiffTree> trees[2];
  for (int i = 0; i < 2; ++i) {
    auto config = config_of(ctx, specs[static_cast<size_t>(i)]);
    if (!config) {
      err << "geodns diff: " << config.error().to_string() << "\n";
      return 2;
    }
    auto tree = load_diff_tree(std::move(config.value()), specs[static_cast<size_t>(i)], down,
                               i == 1 ? trees[0].get() : nullptr);
    if (!tree) {
      err << "geodns diff: " << specs[static_cast<size_t>(i)] << " does not load:\n"
          << tree.error().to_string() << "\n";
      return 2;
    }
    trees[i] = std::move(tree.value());
  }

  // Clients: the file, else the new version's database (the old one's if it has none).
  const geo::Database* locate = trees[1]->snapshots.geoip.load().get();
  if (locate == nullptr) locate = trees[0]->snapshots.geoip.load().get();
  ClientSample clients;
  std::string note;
  if (!clients_file.empty()) {
    std::ifstream in(clients_file);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) {
      err << "geodns diff: " << clients_file << ": cannot read\n";
      return 2;
    }
    auto read = read_clients(text.str(), clients_file);
    if (!read) {
      err << "geodns diff: " << read.error().to_string() << "\n";
      return 2;
    }
    clients = std::move(read.value());
  } else if (locate != nullptr) {
    // The compiled steering walked this database already (unless it is the old one's alone).
    auto steering = trees[1]->snapshots.steering.load();
    geo::NetworkIndexPtr walked;
    if (steering->database.get() == locate) walked = steering->index;
    if (walked == nullptr) {
      auto index = geo::NetworkIndex::build(*locate);
      if (!index) {
        err << "geodns diff: " << index.error().to_string() << "\n";
        return 2;
      }
      walked = index.value();
    }
    clients = sample_clients(*walked, sample);
    clients.description += " of " + locate->path();
  }
  if (!clients.clients.empty()) {
    note = std::to_string(clients.clients.size()) + " clients (" + clients.description + "), ";
    if (down.empty()) {
      note += "all datacenters up";
    } else {
      note += "down:";
      for (const auto& d : down) note += " " + d;
    }
  } else {
    note = clients_file.empty() ? "no GeoIP database to sample clients from: --clients FILE"
                                : "no clients in " + clients_file;
  }

  const auto records =
      diff_records(*trees[0]->snapshots.zones.load(), *trees[1]->snapshots.zones.load());
  std::optional<SteeringDiff> steering;
  if (!clients.clients.empty()) {
    steering = diff_steering(*trees[0], *trees[1], clients.clients, locate);
  }
  out << "geodns diff " << trees[0]->label << " -> " << trees[1]->label << "\n";
  print_diff(records, steering ? &*steering : nullptr, note, out);
  const bool any = !records.changes.empty() || !records.zones_added.empty() ||
                   !records.zones_removed.empty() || (steering && steering->answers_moved > 0);
  return any ? 1 : 0;
}

}  // namespace geodns::ops
