#!/usr/bin/env bash
# Builds and runs every test: the default build (warnings as errors), the threaded tests
# (prober, workers, reload) under ThreadSanitizer, then the whole suite again under
# AddressSanitizer + UndefinedBehaviorSanitizer. Exits non-zero if anything fails.
#   ./test.sh            every build
#   ./test.sh --quick    default build only
#   ./test.sh --tsan     the ThreadSanitizer step only
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
jobs=$(nproc)

# Only the binaries whose tests run threads, to keep this step short.
tsan_targets=(health_unit_tests health_prober_integration_test transport_integration_test
  serve_reload_health_integration_test serve_reload_control_integration_test
  compiled_steering_integration_test)
tsan_tests='^(Prober|ProberIntegration|Transport|ServeReload|ServeReloadControl|ServeHealth|CompiledSteering)\.'
run_tsan() {
  cmake --preset tsan >/dev/null
  cmake --build --preset tsan -j"$jobs" --target "${tsan_targets[@]}"
  # A smaller "large zone" for the reload tests: ThreadSanitizer makes loading ~10x slower,
  # and what they check (the control loop answers while a reload runs) does not need 200k names.
  GEODNS_RELOAD_TEST_NAMES=30000 \
    TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp" \
    ctest --preset tsan -j"$jobs" --timeout 300 -R "$tsan_tests"
}
if [[ "${1:-}" == "--tsan" ]]; then
  run_tsan
  exit 0
fi

cmake --preset default >/dev/null
cmake --build --preset default -j"$jobs"
ctest --preset default -j"$jobs" --timeout 120

if [[ "${1:-}" != "--quick" ]]; then
  run_tsan
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j"$jobs"
  # The reload tests' large zone is smaller here for the same reason as under TSan.
  GEODNS_RELOAD_TEST_NAMES=50000 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --preset asan -j"$jobs" --timeout 300
fi
