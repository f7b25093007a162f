#!/usr/bin/env bash
# TCP under thousands of clients (issue 12): geodns, and Knot when knotd is installed, serving
# the same static names, each measured with geodns-tcp-loadgen at 2,000 and 10,000 concurrent
# clients while geodns-loadgen runs a UDP load against the same server, plus the UDP load
# alone as the baseline. Rounds are interleaved (server by server within each round) and the
# medians printed; raw lines go to bench/results/tcp-<timestamp>.txt.
#
#   bench/tcp-load.sh [--rounds N] [--duration S] [--clients "2000 10000"] [--servers "geodns knot"]
#                     [--timeout-ms MS] [--build DIR]
#
# A server name geodns-tcpN runs geodns with [server.tcp] threads = N (0: every worker serves
# UDP and TCP; N > 0: N TCP-only workers beside the 2 UDP-only ones), e.g.
#   bench/tcp-load.sh --servers "geodns-tcp0 geodns-tcp1 knot"
# and the summary gives, per server, the median of each round's UDP-with-TCP / UDP-alone ratio.
#
# Loopback only; every server runs in its own temp directory and is stopped by PID on exit.
set -euo pipefail

ROUNDS=3
DURATION=5
CLIENTS="2000 10000"
SERVERS="geodns knot"
TIMEOUT_MS=10000
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$REPO/build/release

die() { echo "tcp-load: $*" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --servers) SERVERS=$2; shift 2 ;;
    --timeout-ms) TIMEOUT_MS=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    *) die "unknown argument $1" ;;
  esac
done

# shellcheck source=bench/tcp-servers.sh
source "$REPO/bench/tcp-servers.sh"
bench_tools

WORK=$(mktemp -d /tmp/geodns-tcp-load-XXXXXX)
declare -A PIDS PORT CONTROL_PORT
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

write_queries "$WORK/queries.txt"
for s in $SERVERS; do start_server "$s"; done

mkdir -p "$REPO/bench/results"
RAW=$REPO/bench/results/tcp-$(date -u +%Y%m%dT%H%M%SZ).txt
echo "# tcp-load rounds=$ROUNDS duration=$DURATION clients=\"$CLIENTS\" timeout_ms=$TIMEOUT_MS" \
  "host=$(hostname) nproc=$(nproc) load=\"$(cut -d' ' -f1-3 /proc/loadavg)\"" >"$RAW"

field() { sed -n "s/.* $2=\([0-9.]*\).*/\1/p" <<<" $1"; }

udp_run() {  # $1 server
  "$UDPGEN" --queries "$WORK/queries.txt" --server 127.0.0.1 --port "${PORT[$1]}" \
    --duration "$DURATION" --inflight 64 --sockets 4 --quiet 2>/dev/null | grep '^result'
}

for round in $(seq 1 "$ROUNDS"); do
  for s in $SERVERS; do
    line=$(udp_run "$s")
    echo "round=$round server=$s mode=udp-alone $line" | tee -a "$RAW"
    for c in $CLIENTS; do
      udp_out=$WORK/udp.out
      udp_run "$s" >"$udp_out" &
      udp_pid=$!
      tcp=$("$TCPGEN" --queries "$WORK/queries.txt" --server 127.0.0.1 --port "${PORT[$s]}" \
        --clients "$c" --per-conn 3 --sources 200 --duration "$DURATION" \
        --timeout-ms "$TIMEOUT_MS" --keepalive | grep '^result')
      wait "$udp_pid" || true
      echo "round=$round server=$s mode=tcp clients=$c $tcp" | tee -a "$RAW"
      echo "round=$round server=$s mode=udp-with-tcp clients=$c $(cat "$udp_out")" | tee -a "$RAW"
    done
  done
done

# Medians per (server, mode, clients).
echo
echo "medians over $ROUNDS rounds (raw: $RAW):"
awk '
  function val(k,   i, kv) { for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) return kv[2] } return "" }
  /^round=/ {
    key = val("server") " " val("mode") (val("clients") != "" && val("mode") != "udp-alone" ? " clients=" val("clients") : "")
    n[key]++
    qps[key, n[key]] = val("qps"); p50[key, n[key]] = val("p50_us"); p99[key, n[key]] = val("p99_us")
    lost[key, n[key]] = val("lost"); order[key] = order[key] ? order[key] : ++keys; name[keys] = key
    if (val("mode") == "udp-alone") alone[val("server"), val("round")] = val("qps")
    if (val("mode") == "udp-with-tcp" && alone[val("server"), val("round")] > 0) {
      rkey = val("server") " udp-with-tcp/udp-alone clients=" val("clients")
      nr[rkey]++; ratio[rkey, nr[rkey]] = val("qps") / alone[val("server"), val("round")]
      if (!rseen[rkey]++) rname[++rkeys] = rkey
    }
  }
  function median(arr, key, count,   i, j, t, v) {
    for (i = 1; i <= count; i++) v[i] = arr[key, i] + 0
    for (i = 1; i <= count; i++) for (j = i + 1; j <= count; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return v[int((count + 1) / 2)]
  }
  END {
    for (k = 1; k <= keys; k++) {
      key = name[k]
      printf "%-36s qps=%d p50_us=%d p99_us=%d lost=%d\n", key, median(qps, key, n[key]),
        median(p50, key, n[key]), median(p99, key, n[key]), median(lost, key, n[key])
    }
    for (k = 1; k <= rkeys; k++) {
      printf "%-52s ratio=%.2f (median of %d rounds)\n", rname[k], median(ratio, rname[k], nr[rname[k]]), nr[rname[k]]
    }
  }' "$RAW" | tee -a "$RAW"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$RAW"
