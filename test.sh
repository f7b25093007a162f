#!/usr/bin/env bash
# Builds and runs every test: the default build (warnings as errors), then the whole suite
# again under AddressSanitizer + UndefinedBehaviorSanitizer. Exits non-zero if anything fails.
#   ./test.sh            both builds
#   ./test.sh --quick    default build only
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
jobs=$(nproc)

cmake --preset default >/dev/null
cmake --build --preset default -j"$jobs"
ctest --preset default -j"$jobs" --timeout 120

if [[ "${1:-}" != "--quick" ]]; then
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j"$jobs"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --preset asan -j"$jobs" --timeout 300
fi
