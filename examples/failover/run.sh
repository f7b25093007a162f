#!/usr/bin/env bash
# Failover demo: two HTTP backends on 127.0.0.11 and 127.0.0.12 (port 8080), geodns on
# 127.0.0.1:5354 answering www.failover.example with the healthy ones. Stops backend b, waits
# until its address leaves the answers, starts it again, waits until it is back.
#
#   examples/failover/run.sh                 # uses build/release/src/geodns (./demo.sh builds it), or set GEODNS=/path/to/geodns
#
# Everything it starts is stopped on exit (Ctrl-C included); all traffic stays on loopback.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
NAME="www.failover.example"
A=127.0.0.11
B=127.0.0.12
DNS_PORT=5354
POLL_MS=100         # how often dig asks while waiting
WAIT_MAX_S=30       # give up waiting after this long

# ---- the geodns binary -------------------------------------------------------------------
GEODNS="${GEODNS:-}"
# shellcheck source=../../scripts/find-geodns.sh
source "$ROOT/scripts/find-geodns.sh"
require_geodns "$ROOT"
for tool in dig python3; do
  command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }
done

# ---- cleanup -----------------------------------------------------------------------------
TMP="$(mktemp -d "${TMPDIR:-/tmp}/geodns-failover.XXXXXX")"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_pid() {
  local keep=() p
  for p in "${PIDS[@]}"; do [[ "$p" == "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
answers() {  # the A records of $NAME, sorted, space-separated; empty if no answer
  dig @127.0.0.1 -p "$DNS_PORT" "$NAME" A +short +tries=1 +time=1 2>/dev/null |
    grep -E '^[0-9.]+$' | sort | tr '\n' ' ' || true
}

# ---- backends ----------------------------------------------------------------------------
start_backend() {  # $1 = address, $2 = variable that receives the pid
  local addr=$1 dir="$TMP/www-$1"
  mkdir -p "$dir"
  echo "backend $addr" >"$dir/index.html"
  python3 -m http.server 8080 --bind "$addr" --directory "$dir" >"$TMP/http-$addr.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  printf -v "$2" '%s' "$pid"
  # Wait until it serves (at most 5 s).
  local i
  for ((i = 0; i < 50; i++)); do
    if python3 - "$addr" <<'EOF' 2>/dev/null; then return 0; fi
import socket, sys
socket.create_connection((sys.argv[1], 8080), timeout=0.2).close()
EOF
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "backend $addr did not start; its log:" >&2
  cat "$TMP/http-$addr.log" >&2
  exit 1
}

wait_for() {  # $1 = "gone"|"back", $2 = address; prints the elapsed time
  local what=$1 addr=$2 start elapsed i cur
  start=$(now_ms)
  for ((i = 0; i < WAIT_MAX_S * 1000 / POLL_MS; i++)); do
    cur=$(answers)
    if [[ $what == gone && " $cur" != *" $addr "* ]] || [[ $what == back && " $cur" == *" $addr "* ]]; then
      elapsed=$(($(now_ms) - start))
      printf '  %s is %s after %d.%03d s   (answers now: %s)\n' "$addr" "$what" \
        $((elapsed / 1000)) $((elapsed % 1000)) "${cur% }"
      return 0
    fi
    sleep "0.$(printf '%03d' "$POLL_MS")"
  done
  echo "  $addr still not $what after ${WAIT_MAX_S}s" >&2
  return 1
}

echo "== starting backends a ($A) and b ($B) on port 8080"
start_backend "$A" PID_A
start_backend "$B" PID_B

echo "== starting geodns on 127.0.0.1:$DNS_PORT (control on 127.0.0.1:8054)"
mkdir -p "$TMP/state"
"$GEODNS" serve --config "$HERE/geodns.toml" --state-dir "$TMP/state" \
  >"$TMP/geodns.log" 2>&1 &
GEODNS_PID=$!
PIDS+=("$GEODNS_PID")
for ((i = 0; i < 50; i++)); do
  [[ -n "$(answers)" ]] && break
  if ! kill -0 "$GEODNS_PID" 2>/dev/null; then
    echo "geodns exited; its log:" >&2
    cat "$TMP/geodns.log" >&2
    exit 1
  fi
  sleep 0.1
done

echo
echo "\$ dig @127.0.0.1 -p $DNS_PORT $NAME +short"
dig @127.0.0.1 -p "$DNS_PORT" "$NAME" +short

echo
echo "== stopping backend b ($B): its port now refuses connections"
kill "$PID_B"
wait "$PID_B" 2>/dev/null || true
forget_pid "$PID_B"           # it is gone: never signal that pid again
wait_for gone "$B"
echo "\$ dig @127.0.0.1 -p $DNS_PORT $NAME +short"
dig @127.0.0.1 -p "$DNS_PORT" "$NAME" +short

echo
echo "== starting backend b again"
start_backend "$B" PID_B
wait_for back "$B"
echo "\$ dig @127.0.0.1 -p $DNS_PORT $NAME +short"
dig @127.0.0.1 -p "$DNS_PORT" "$NAME" +short

echo
echo "== health transitions logged by geodns"
grep -E 'health|transition' "$TMP/geodns.log" | grep -E "$A|$B" || true
echo
echo "done; stopping everything."
