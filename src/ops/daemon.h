// `geodns serve`: loads everything, starts the prober and the workers, then runs the control
// loop (signals, file watching, reload) on the calling thread until SIGTERM/SIGINT.
#pragma once

#include "ops/options.h"

namespace geodns::ops {

// Returns the process exit code: 0 after a clean stop, 1 when the configuration is broken
// or the sockets cannot be bound.
int run_daemon(const CommonOptions& options);

}  // namespace geodns::ops
