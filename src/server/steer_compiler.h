// Compiles every geo/nearest rule of the published ZoneSet against the published GeoIP
// database (steer/compiled.h) on its own thread, and publishes the result for the pipelines.
// The packet path uses a compiled table only while it matches the ZoneSet and database the
// pipeline is serving, so a reload is never answered from stale tables: until the new set is
// published, the runtime path answers.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/published.h"
#include "common/result.h"
#include "geo/database.h"
#include "geo/mmdb_walk.h"
#include "steer/compiled.h"
#include "zone/zone_set.h"

namespace geodns::server {

struct CompiledSteering {
  // Kept alive so that the Rule pointers below can never be reused by other rules.
  std::shared_ptr<const zone::ZoneSet> zones;
  geo::DatabasePtr database;  // nullptr: compiled without a database (nets overlay alone)
  // The database's networks while compiling (and the [server] asn_db ones); nullptr once the
  // set is built: only a compile needs them (compile_steering walks them again if it must).
  geo::NetworkIndexPtr index;
  geo::NetworkIndexPtr asn_index;
  // Sorted by rule address (find()).
  std::vector<std::pair<const steer::Rule*, const steer::CompiledRule*>> by_rule;
  // Per zone, sorted by zone address: the table of each of its rules by rule index (nullptr:
  // not compiled). The pipeline looks a zone up once and then indexes by Node::rule, with no
  // search per query.
  std::vector<std::pair<const zone::Zone*, std::vector<const steer::CompiledRule*>>> by_zone;
  // Owners, one per distinct targeting (canonical_key); reused by the next compile when the
  // database is the same.
  std::unordered_map<std::string, std::shared_ptr<const steer::CompiledRule>> tables;
  // The database runs the tables share (one per distinct map), for the next compile.
  steer::CompileCache bases;

  // Nullptr when the rule is not compiled here.
  const steer::CompiledRule* find(const steer::Rule* rule) const noexcept;
  // The tables of `zone`'s rules, indexed like Zone::rules; empty when it has none here.
  std::span<const steer::CompiledRule* const> tables_of(const zone::Zone* zone) const noexcept;
  size_t bytes() const noexcept;  // index, bases and tables, each counted once
};

// Builds the compiled set for (zones, database). `previous` (may be nullptr) lends its network
// index and tables when the database is the same, so a zone reload compiles only new rules.
Result<std::shared_ptr<const CompiledSteering>> compile_steering(
    std::shared_ptr<const zone::ZoneSet> zones, geo::DatabasePtr database,
    const CompiledSteering* previous);

class SteerCompiler {
 public:
  SteerCompiler(const Published<zone::ZoneSet>& zones, const Published<geo::Database>& geoip,
                Published<CompiledSteering>* out);
  ~SteerCompiler();
  SteerCompiler(const SteerCompiler&) = delete;
  SteerCompiler& operator=(const SteerCompiler&) = delete;

  // The zones or the database were published again: compile the current pair (coalesced:
  // several calls during one compile lead to one more compile).
  void changed();
  // Blocks until every change notified so far is compiled (or failed). For tests and benches.
  void wait_idle();

 private:
  void run();

  const Published<zone::ZoneSet>& zones_;
  const Published<geo::Database>& geoip_;
  Published<CompiledSteering>* out_;
  std::mutex mutex_;
  std::condition_variable cv_;
  uint64_t requested_ = 0;  // changes notified
  uint64_t done_ = 0;       // changes compiled
  bool stop_ = false;
  std::thread thread_;  // last: started once every member above exists
};

}  // namespace geodns::server
