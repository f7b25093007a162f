// `geodns explain NAME --client ADDR[/PREFIX] [--type A|AAAA]`: runs the very pipeline the
// server runs on a query carrying the client as EDNS Client Subnet, and prints why the answer
// is what it is: location, matched rule, candidates with health, answer, TTL and ECS scope.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "common/ip.h"
#include "common/result.h"
#include "ops/options.h"

namespace geodns::server {
struct Snapshots;
}

namespace geodns::ops {

struct ExplainRequest {
  std::string name;
  std::string client;  // "81.2.69.160" or "81.2.69.0/24"
  std::string type = "A";
};

// A wire-format query for (name, type) carrying `client` as EDNS Client Subnet, as explain
// and diff put it to the pipeline (ID 0x1234, one OPT record, payload 1232).
std::vector<uint8_t> ecs_query(const std::string& wire_name, uint16_t qtype,
                               const IpPrefix& client);

// Prints the explanation to `out`. Errors (bad name, bad address, broken config) come back.
Status explain(const zone::ServerConfig& config, const ExplainRequest& request, std::ostream& out);

// The same against published snapshots: the running daemon's, so health is live (GET /explain).
Status explain_live(const server::Snapshots& snapshots, const ExplainRequest& request,
                    std::ostream& out);

// `geodns check`: validates the config, every zone and the database; prints each error.
// Returns the number of errors.
size_t check(const zone::ServerConfig& config, std::ostream& out, std::ostream& err);

}  // namespace geodns::ops
