// `geodns diff OLD NEW`: what a zone edit changes before it ships, Terraform's `plan` for
// zones. Both versions are loaded by the loader `geodns check` uses; the static records are
// compared per zone, owner and type, and every steered name is asked, for each client of a
// sample, through the very pipeline the server answers with (as `geodns explain` does), so a
// move reported here is a move the server would make.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip.h"
#include "common/published.h"
#include "common/result.h"
#include "geo/mmdb_walk.h"
#include "server/pipeline.h"
#include "steer/health_view.h"
#include "zone/config.h"

namespace geodns::ops {

// One version, loaded and ready to answer: its zones, database and compiled steering, and a
// health view (everything up, or the datacenters named by --down drained).
struct DiffTree {
  std::string label;  // what the user named: "zones.old", "git:origin/main"
  zone::ServerConfig config;
  server::Snapshots snapshots;
  Published<steer::HealthView> health;
};

// Loads `config` (zones, GeoIP database, compiled steering) and marks every datacenter whose
// name is in `down` as down in every zone. A zone that fails to load is an error (with every
// failing file's message, one a line): a diff against a broken tree would hide the breakage.
// `same_db` (may be null), a tree loaded with the same database files, lends its open database
// and network index: walking a real database takes seconds and the result would be equal.
Result<std::unique_ptr<DiffTree>> load_diff_tree(zone::ServerConfig config, std::string label,
                                                 std::span<const std::string> down,
                                                 const DiffTree* same_db = nullptr);

// --- static records ---------------------------------------------------------------------

struct RecordChange {
  enum class Kind { added, removed, changed };
  Kind kind = Kind::changed;
  std::string zone;   // "example.com."
  std::string owner;  // "www.example.com."
  std::string type;   // "A"
  std::optional<uint32_t> old_ttl_s, new_ttl_s;
  std::vector<std::string> removed, added;  // RDATA in presentation format, sorted
};

struct RecordDiff {
  std::vector<std::string> zones_added, zones_removed;  // origins
  std::vector<RecordChange> changes;                    // by zone, owner, type
};

// Compares every RRset of every zone. The SOA serial is left out: an automatic serial follows
// the files' modification times, which a checkout or `git archive` changes without an edit.
RecordDiff diff_records(const zone::ZoneSet& before, const zone::ZoneSet& after);

// RDATA of `type` as presentation text (ldns), "\# N hex" (RFC 3597) when ldns cannot.
std::string rdata_text(uint16_t type, std::string_view rdata);

// --- clients ----------------------------------------------------------------------------

struct ClientSample {
  std::vector<IpPrefix> clients;
  std::string description;  // "1200 networks from clients.txt"
};

// One address or prefix a line ("192.0.2.1", "2001:db8::/48"); '#' starts a comment.
Result<ClientSample> read_clients(std::string_view text, const std::string& display_name);

// The located networks of the database (IPv4, then IPv6 without the regions aliased to the
// IPv4 tree): all of them if there are at most `max_clients`, else `max_clients` spread evenly
// over them, so the same database always gives the same sample.
ClientSample sample_clients(const geo::NetworkIndex& index, size_t max_clients);

// --- steering ---------------------------------------------------------------------------

// The clients of one steered name and query type that get another answer in the new version,
// grouped by (old answer, new answer). An answer is the set of datacenters that answered
// ("fra,iad"), "nodata", or, where the name is not steered in that version, what the server
// says instead ("static", "NXDOMAIN", "REFUSED").
struct Move {
  std::string name;  // "www.example.com."
  std::string qtype;
  std::string from, to;
  size_t clients = 0;
  std::vector<std::pair<std::string, size_t>> countries;  // most clients first; "??" unknown
  std::vector<std::string> examples;                      // the first few client networks
};

struct SteeringDiff {
  size_t clients = 0;        // in the sample
  size_t names = 0;          // steered names in either version
  size_t names_changed = 0;  // of which some client moves
  size_t answers_moved = 0;  // (client, name, type) triples whose answer changes
  std::vector<Move> moves;   // by name, type, then most clients first
};

inline constexpr size_t kMoveExamples = 3;

// Asks both versions every steered name (either version's) for A and AAAA on behalf of each
// client, sent as EDNS Client Subnet. `locate` (may be null) gives the countries.
SteeringDiff diff_steering(const DiffTree& before, const DiffTree& after,
                           std::span<const IpPrefix> clients, const geo::Database* locate);

// --- the command ------------------------------------------------------------------------

void print_diff(const RecordDiff& records, const SteeringDiff* steering,
                const std::string& clients_note, std::ostream& out);

// `geodns diff OLD NEW [options]` / `geodns diff --git REV1..REV2 [options]`. Exit code as
// diff(1): 0 no change, 1 changes, 2 error.
int run_diff(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace geodns::ops
