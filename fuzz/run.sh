#!/bin/sh
# Builds the libFuzzer targets (clang, ASan+UBSan) in build/fuzz and runs each one for a
# bounded time. Exits non-zero if any target finds a crash, leak, timeout or OOM; the input
# is left in build/fuzz/artifacts/ (add it to fuzz/regressions/<target>/ once understood).
#   fuzz/run.sh [seconds per target, default 60] [target...]
# New inputs found while fuzzing go to build/fuzz/work/<target>/ (not committed); the
# committed seeds in fuzz/corpus/<target>/ are only read.
set -eu

SECONDS_PER_TARGET=${1:-60}
[ $# -gt 0 ] && shift
TARGETS=${*:-"fuzz_pipeline fuzz_zone fuzz_frame"}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build/fuzz"
JOBS=${JOBS:-2}
# UBSan findings with a stack, like ASan's.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"

cmake -S "$ROOT" -B "$BUILD" -DGEODNS_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGEODNS_BUILD_TESTS=OFF \
  -DGEODNS_BUILD_BENCH=OFF >/dev/null
# shellcheck disable=SC2086 # TARGETS is a word list
cmake --build "$BUILD" -j "$JOBS" --target $TARGETS

mkdir -p "$BUILD/artifacts"
status=0
for target in $TARGETS; do
  seeds="$ROOT/fuzz/corpus/${target#fuzz_}"
  regressions="$ROOT/fuzz/regressions/${target#fuzz_}"
  work="$BUILD/work/${target#fuzz_}"
  mkdir -p "$work"
  # Known crashers first, one by one: each that still fails is reported (and fails the run),
  # then fuzzing goes on to look for new ones.
  for input in $(find "$regressions" -type f ! -name '.*' 2>/dev/null | sort); do
    if ! "$BUILD/fuzz/$target" "$input" >"$BUILD/$target.regression.log" 2>&1; then
      echo "$target: regression $(basename "$input") still fails:" >&2
      grep -E 'runtime error|ERROR|SUMMARY' "$BUILD/$target.regression.log" | head -3 >&2
      status=1
    fi
  done
  echo "== $target: ${SECONDS_PER_TARGET}s"
  if "$BUILD/fuzz/$target" -max_total_time="$SECONDS_PER_TARGET" -timeout=5 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/$target-" \
      "$work" "$seeds" >"$BUILD/$target.log" 2>&1; then
    grep -E '^stat::(number_of_executed_units|new_units_added)|INITED' "$BUILD/$target.log" || true
  else
    echo "$target: FAILED (log: $BUILD/$target.log)" >&2
    grep -E 'ERROR|SUMMARY|Test unit written' "$BUILD/$target.log" >&2 || true
    status=1
  fi
done
exit $status
