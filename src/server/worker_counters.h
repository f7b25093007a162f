// One counter block per worker thread: the pipeline's, the rate limiter's and the transport's
// counters side by side. The worker thread is the only writer (relaxed atomics, no locked
// instruction, no allocation); the control thread sums the blocks for /metrics and /status.
// The daemon owns the blocks and registers each once, when its worker starts; the block
// outlives the worker (the pool stops first), so reading it never races its destruction.
#pragma once

#include "server/answer_slots.h"
#include "server/dnssec_counters.h"
#include "server/pipeline_counters.h"
#include "server/rrl.h"
#include "server/transport_stats.h"

namespace geodns::server {

struct WorkerCounters {
  Counters pipeline;            // queries, rcodes (as sent, after RRL), types, cookies, steering
  RrlCounters rrl;              // responses dropped / slipped by rate limiting
  TransportCounters transport;  // sockets: sends dropped, TCP rejected, idle/stall closes
  AnswerCounters answers;       // steered answers by name and by datacenter (answer_slots.h)
  DnssecCounters dnssec;        // online signing: signature cache hits and misses
};

}  // namespace geodns::server
