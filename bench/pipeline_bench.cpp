// Google Benchmark of the query pipeline without sockets: request bytes in, response bytes
// out, on the shipped demo zones and GeoIP database. Reports ns per query and heap allocations
// per query (operator new is counted for the whole process; the expected figure is 0).
//
//   build/release/bench/geodns-pipeline-bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
//
// Instruction counts (deterministic, unlike wall-clock time on a shared machine): only the
// timed loops are instrumented, so setup (zone load, steering compile) costs nothing there:
//   valgrind --tool=callgrind --instr-atstart=no build/release/bench/geodns-pipeline-bench
//       --benchmark_filter=BM_GeoEcsRealCompiled --benchmark_min_time=0.2
// then Ir of Pipeline::respond (inclusive) / its calls (bench/README.md).
#include <benchmark/benchmark.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define GEODNS_INSTR_START() CALLGRIND_START_INSTRUMENTATION
#define GEODNS_INSTR_STOP() CALLGRIND_STOP_INSTRUMENTATION
#else
#define GEODNS_INSTR_START() (void)0
#define GEODNS_INSTR_STOP() (void)0
#endif

#include "../tests/support/alloc_counter.h"
#include "../tests/unit/dns/test_query.h"
#include "../tests/unit/pipeline/dnssec_fixture.h"
#include "server/pipeline.h"
#include "server/steer_compiler.h"
#include "zone/loader.h"

using geodns::testing::g_allocations;

namespace geodns::server {
namespace {

using dns::testing::QueryBuilder;

struct World {
  static constexpr dns::CookieSecret kSecret = {1, 2,  3,  4,  5,  6,  7,  8,
                                                9, 10, 11, 12, 13, 14, 15, 16};
  Snapshots snapshots;
  Published<steer::HealthView> health;
  std::unique_ptr<Pipeline> pipeline;

  // `geoip`: the database; `compiled`: publish compiled steering tables as the daemon does.
  explicit World(const std::string& geoip = std::string(GEODNS_SOURCE_DIR) + "/geoip/demo.mmdb",
                 bool compiled = false) {
    zone::ServerConfig config;
    auto report = zone::load_zone_dir(std::string(GEODNS_SOURCE_DIR) + "/zones", config, nullptr);
    if (!report.errors.empty()) {
      std::fprintf(stderr, "%s\n", report.errors.front().to_string().c_str());
      std::exit(1);
    }
    snapshots.zones.publish(report.zones);
    auto db = geo::Database::open(geoip);
    if (!db) {
      std::fprintf(stderr, "%s\n", db.error().to_string().c_str());
      std::exit(1);
    }
    snapshots.geoip.publish(db.value());
    if (compiled) {
      auto set = compile_steering(report.zones, db.value(), nullptr);
      if (!set) {
        std::fprintf(stderr, "%s\n", set.error().to_string().c_str());
        std::exit(1);
      }
      snapshots.steering.publish(set.value());
    }
    health.publish(std::make_shared<steer::HealthView>());
    snapshots.health = &health;
    PipelineConfig pc;
    pc.cookie_secrets = {kSecret};
    pipeline = std::make_unique<Pipeline>(snapshots, pc, 7);
    pipeline->begin_batch();
  }
};

World& world() {
  static World w;
  return w;
}

const std::string kReal = std::string(GEODNS_SOURCE_DIR) + "/geoip/real/geo-whois-asn-country.mmdb";

World& compiled_world() {
  static World w(std::string(GEODNS_SOURCE_DIR) + "/geoip/demo.mmdb", true);
  return w;
}
World& real_world() {
  static World w(kReal, false);
  return w;
}
World& real_compiled_world() {
  static World w(kReal, true);
  return w;
}

void run(benchmark::State& state, const std::vector<std::vector<uint8_t>>& queries,
         World& w = world()) {
  Pipeline& p = *w.pipeline;
  std::vector<uint8_t> out(65535);
  ClientInfo ci;
  ci.address = *IpAddress::parse("192.0.2.1");
  size_t i = 0;
  size_t bytes = 0;
  const uint64_t before = g_allocations.load();
  GEODNS_INSTR_START();  // no-ops unless run under valgrind
  for (auto _ : state) {
    bytes += p.respond(queries[i], ci, out);
    if (++i == queries.size()) i = 0;
  }
  GEODNS_INSTR_STOP();
  benchmark::DoNotOptimize(bytes);
  state.counters["allocs_per_query"] = benchmark::Counter(
      static_cast<double>(g_allocations.load() - before), benchmark::Counter::kAvgIterations);
  state.SetItemsProcessed(state.iterations());
}

void BM_Static(benchmark::State& state) {
  std::vector<std::vector<uint8_t>> q;
  for (const char* name :
       {"ns1.example.com", "www2.example.com", "mail.example.com", "sip.example.com"}) {
    QueryBuilder b;
    b.name = name;
    b.edns = true;
    q.push_back(b.build());
  }
  run(state, q);
}
BENCHMARK(BM_Static);

// The static names again, from a resolver that sends back the server cookie it was given
// (BIND does by default): the cookie is checked (one SipHash) and returned.
void BM_StaticCookie(benchmark::State& state) {
  std::vector<std::vector<uint8_t>> q;
  const uint8_t client[8] = {0x24, 0x64, 0xc4, 0xab, 0xcf, 0x10, 0xc9, 0x57};
  uint8_t server[16];
  const auto now = static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
  dns::make_server_cookie(client, *IpAddress::parse("192.0.2.1"), now, World::kSecret, server);
  std::vector<uint8_t> cookie(client, client + 8);
  cookie.insert(cookie.end(), server, server + 16);
  for (const char* name :
       {"ns1.example.com", "www2.example.com", "mail.example.com", "sip.example.com"}) {
    QueryBuilder b;
    b.name = name;
    b.cookie(cookie);
    q.push_back(b.build());
  }
  run(state, q);
}
BENCHMARK(BM_StaticCookie);

void BM_Nxdomain(benchmark::State& state) {
  std::vector<std::vector<uint8_t>> q;
  for (int i = 0; i < 64; ++i) {
    QueryBuilder b;
    b.name = "nx" + std::to_string(i) + ".example.com";
    b.edns = true;
    q.push_back(b.build());
  }
  run(state, q);
}
BENCHMARK(BM_Nxdomain);

// Geo+ECS from 20,000 distinct /24 subnets spread over real-looking public space, so the
// database walk is not served from a few hot cache lines.
std::vector<std::vector<uint8_t>> geo_ecs_queries() {
  std::vector<std::vector<uint8_t>> q;
  uint32_t x = 12345;
  for (int i = 0; i < 20000; ++i) {
    x = x * 1103515245U + 12345U;
    uint8_t a = static_cast<uint8_t>(1 + (x >> 24) % 222);
    if (a == 10 || a == 127) a = 81;
    QueryBuilder b;
    b.name = "www.example.com";
    b.ecs(1, 24, 0, {a, static_cast<uint8_t>(x >> 16), static_cast<uint8_t>(x >> 8)});
    q.push_back(b.build());
  }
  // A few that hit the demo database's real networks for sure.
  for (std::vector<uint8_t> s : {std::vector<uint8_t>{81, 2, 69}, {8, 8, 8}, {1, 1, 1}}) {
    QueryBuilder b;
    b.name = "www.example.com";
    b.ecs(1, 24, 0, s);
    q.push_back(b.build());
  }
  return q;
}

// Runtime path: libmaxminddb lookup, then map matching.
void BM_GeoEcs(benchmark::State& state) {
  run(state, geo_ecs_queries());
}
BENCHMARK(BM_GeoEcs);

// The same queries answered from compiled tables.
void BM_GeoEcsCompiled(benchmark::State& state) {
  run(state, geo_ecs_queries(), compiled_world());
}
BENCHMARK(BM_GeoEcsCompiled);

// On the real CC0 country database (about 1.3 M nodes), when it has been fetched.
void BM_GeoEcsReal(benchmark::State& state) {
  if (!std::filesystem::exists(kReal)) {
    state.SkipWithError("geoip/real/geo-whois-asn-country.mmdb absent (geoip/fetch-real-db.sh)");
    return;
  }
  run(state, geo_ecs_queries(), real_world());
}
BENCHMARK(BM_GeoEcsReal);

void BM_GeoEcsRealCompiled(benchmark::State& state) {
  if (!std::filesystem::exists(kReal)) {
    state.SkipWithError("geoip/real/geo-whois-asn-country.mmdb absent (geoip/fetch-real-db.sh)");
    return;
  }
  run(state, geo_ecs_queries(), real_compiled_world());
}
BENCHMARK(BM_GeoEcsRealCompiled);

// DNSSEC (issue 13), on the signed test zone of tests/unit/pipeline/dnssec_fixture.h: the
// same queries with and without DO, so the cost of signatures is side by side with the
// unsigned answer. `bytes_per_answer` is the response size.
using testing::SignedPipelineFixture;

SignedPipelineFixture& signed_world(dnssec::Algorithm alg) {
  static SignedPipelineFixture ecdsa(dnssec::Algorithm::ecdsap256sha256);
  static SignedPipelineFixture ed25519(dnssec::Algorithm::ed25519);
  SignedPipelineFixture& f = alg == dnssec::Algorithm::ed25519 ? ed25519 : ecdsa;
  if (!f.error.empty()) {
    std::fprintf(stderr, "%s\n", f.error.c_str());
    std::exit(1);
  }
  return f;
}

void run_signed(benchmark::State& state, const std::vector<std::vector<uint8_t>>& queries,
                Pipeline& p) {
  std::vector<uint8_t> out(65535);
  ClientInfo ci;
  ci.address = *IpAddress::parse("192.0.2.1");
  // Warm the signature cache (every rotation of the steered names) outside the timing.
  for (int warm = 0; warm < 64; ++warm) {
    for (const auto& q : queries) p.respond(q, ci, out);
  }
  size_t i = 0;
  size_t bytes = 0;
  const uint64_t before = g_allocations.load();
  GEODNS_INSTR_START();  // the timed loop only: not the zone build nor the warm-up
  for (auto _ : state) {
    bytes += p.respond(queries[i], ci, out);
    if (++i == queries.size()) i = 0;
  }
  GEODNS_INSTR_STOP();
  state.counters["allocs_per_query"] = benchmark::Counter(
      static_cast<double>(g_allocations.load() - before), benchmark::Counter::kAvgIterations);
  state.counters["bytes_per_answer"] =
      benchmark::Counter(static_cast<double>(bytes), benchmark::Counter::kAvgIterations);
  state.SetItemsProcessed(state.iterations());
}

std::vector<std::vector<uint8_t>> signed_queries(std::initializer_list<const char*> names,
                                                 bool dnssec_ok) {
  std::vector<std::vector<uint8_t>> q;
  for (const char* name : names) {
    q.push_back(SignedPipelineFixture::dnssec_query(name, dns::rrtype::A, dnssec_ok).build());
  }
  return q;
}

// Static names: state.range(0) = DO, range(1) = 1 for Ed25519.
void BM_SignedStatic(benchmark::State& state) {
  auto& f = signed_world(state.range(1) != 0 ? dnssec::Algorithm::ed25519
                                             : dnssec::Algorithm::ecdsap256sha256);
  run_signed(state,
             signed_queries(
                 {"static.signed.test", "ns1.signed.test", "mail.signed.test", "chain.signed.test"},
                 state.range(0) != 0),
             *f.pipeline);
}
BENCHMARK(BM_SignedStatic)->ArgNames({"do", "ed25519"})->Args({0, 0})->Args({1, 0})->Args({1, 1});

// Steered names (roundrobin 2 of 5, geo, steered CNAME) with a warm signature cache.
void BM_SignedSteeredWarm(benchmark::State& state) {
  auto& f = signed_world(state.range(1) != 0 ? dnssec::Algorithm::ed25519
                                             : dnssec::Algorithm::ecdsap256sha256);
  run_signed(
      state,
      signed_queries({"www.signed.test", "geo.signed.test", "cdn.signed.test", "x.svc.signed.test"},
                     state.range(0) != 0),
      *f.pipeline);
}
BENCHMARK(BM_SignedSteeredWarm)
    ->ArgNames({"do", "ed25519"})
    ->Args({0, 0})
    ->Args({1, 0})
    ->Args({1, 1});

// Compact denial of names asked before (warm cache), and the same without DO.
void BM_SignedNxdomainWarm(benchmark::State& state) {
  auto& f = signed_world(state.range(1) != 0 ? dnssec::Algorithm::ed25519
                                             : dnssec::Algorithm::ecdsap256sha256);
  run_signed(state,
             signed_queries({"nx1.signed.test", "nx2.signed.test", "nx3.signed.test"},
                            state.range(0) != 0),
             *f.pipeline);
}
BENCHMARK(BM_SignedNxdomainWarm)
    ->ArgNames({"do", "ed25519"})
    ->Args({0, 0})
    ->Args({1, 0})
    ->Args({1, 1});

// Every query a signature-cache miss: distinct nonexistent names, each signed online (one
// RRSIG of the NSEC; the SOA's is static). The time per query minus BM_SignedNxdomainWarm's
// is the cost of one signature.
void BM_SignatureMiss(benchmark::State& state) {
  const auto alg =
      state.range(0) != 0 ? dnssec::Algorithm::ed25519 : dnssec::Algorithm::ecdsap256sha256;
  PipelineConfig pc;
  pc.signature_cache_entries = 16;  // far fewer entries than names: every one a miss
  static SignedPipelineFixture ecdsa(dnssec::Algorithm::ecdsap256sha256, pc);
  static SignedPipelineFixture ed25519(dnssec::Algorithm::ed25519, pc);
  SignedPipelineFixture& f = alg == dnssec::Algorithm::ed25519 ? ed25519 : ecdsa;
  std::vector<std::vector<uint8_t>> q;
  for (int i = 0; i < 4096; ++i) {
    q.push_back(SignedPipelineFixture::dnssec_query("miss" + std::to_string(i) + ".signed.test",
                                                    dns::rrtype::A)
                    .build());
  }
  std::vector<uint8_t> out(65535);
  ClientInfo ci;
  ci.address = *IpAddress::parse("192.0.2.1");
  size_t i = 0;
  size_t bytes = 0;
  const uint64_t signed_before = f.counters.dnssec.signed_online.load();
  for (auto _ : state) {
    bytes += f.pipeline->respond(q[i], ci, out);
    if (++i == q.size()) i = 0;
  }
  state.counters["signatures_per_query"] = benchmark::Counter(
      static_cast<double>(f.counters.dnssec.signed_online.load() - signed_before),
      benchmark::Counter::kAvgIterations);
  state.counters["bytes_per_answer"] =
      benchmark::Counter(static_cast<double>(bytes), benchmark::Counter::kAvgIterations);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SignatureMiss)->ArgNames({"ed25519"})->Arg(0)->Arg(1);

}  // namespace
}  // namespace geodns::server

BENCHMARK_MAIN();
