// `geodns dnssec keygen | ds | status | activate | retire ZONE ...`: the keys of signed zones
// (issue 13). Keys live in BIND's file format in the key directory ([dnssec] key_directory,
// default <state_dir>/keys); a running server picks changes up on its next reload.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace geodns::ops {

// `args` are the words after "dnssec". Exit status 0 on success, 1 on an error, 2 on a usage
// error. `now_unix` is the time keys are generated and timed at (0 = the clock).
int run_dnssec(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
               int64_t now_unix = 0);

}  // namespace geodns::ops
