#!/usr/bin/env bash
# Is UDP unaffected while TCP carries thousands of clients (issue 12)? An open-loop UDP load
# (geodns-loadgen --rate: a fixed send schedule, so a busy server shows as loss and latency, not
# as a lower rate) against geodns and Knot, with no TCP load, then with 2,000 and 10,000 TCP
# clients (geodns-tcp-loadgen), in interleaved rounds; per round the UDP loss and latency with
# TCP load are paired with the same round's run without it.
#
#   bench/udp-under-tcp.sh [--rounds 5] [--duration 5] [--clients "2000 10000"]
#                          [--servers "geodns knot"] [--rate QPS] [--rate-fraction 0.4]
#                          [--server-cpu 0] [--gen-cpu 1] [--nice -10] [--build DIR]
#
# Servers: geodns, geodns-tcpN ([server.tcp] threads = N), knot, and geodns-b, the binary in
# $GEODNS_B_BIN, for an A/B of two builds in the same rounds, e.g.
#   GEODNS_B_BIN=/tmp/geodns-old bench/udp-under-tcp.sh --servers "geodns geodns-b knot"
#
# Layout: every server on --server-cpu, both generators on --gen-cpu (taskset), so the server's
# capacity is not what is left after the generators. The UDP generator runs SCHED_FIFO (chrt, when
# root) so the TCP generator on its core cannot delay its sends; its latencies come from the
# kernel's receive timestamps, so neither can they delay what it measures. The servers and the
# TCP generator each run in a session of their own whose autogroup gets --nice (root only;
# "" to leave it): on a machine shared with other work (kernel.sched_autogroup_enabled=1), every
# session otherwise gets an equal share of a core, and the server waits behind others' builds.
# The UDP rate is --rate, or --rate-fraction of the smallest closed-loop capacity measured at the
# start on this layout (the same rate for every server).
#
# Per run it also records where a UDP query could be lost outside the generator: the kernel's
# per-CPU backlog drops (/proc/net/softnet_stat), Udp InErrors/RcvbufErrors (/proc/net/snmp), the
# drops of the server's UDP sockets (/proc/net/udp), and for geodns the queries it counted
# (geodns_queries_total{protocol="udp"}). These are machine-wide counters: on a shared machine
# other traffic adds to them. Raw lines: bench/results/udp-under-tcp-<timestamp>.txt.
#
# Loopback only; every server runs in its own temp directory and is stopped by PID on exit.
set -euo pipefail

ROUNDS=5
DURATION=5
CLIENTS="2000 10000"
SERVERS="geodns knot"
RATE=0
RATE_FRACTION=0.4
SERVER_CPU=0
GEN_CPU=1
TCP_TIMEOUT_MS=5000
SERVER_NICE=-10
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$REPO/build/release

die() { echo "udp-under-tcp: $*" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --servers) SERVERS=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --rate-fraction) RATE_FRACTION=$2; shift 2 ;;
    --server-cpu) SERVER_CPU=$2; shift 2 ;;
    --gen-cpu) GEN_CPU=$2; shift 2 ;;
    --nice) SERVER_NICE=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    *) die "unknown argument $1" ;;
  esac
done

# shellcheck source=bench/tcp-servers.sh
source "$REPO/bench/tcp-servers.sh"
bench_tools

UDP_PRIO=()
if [[ $(id -u) == 0 ]] && command -v chrt >/dev/null; then UDP_PRIO=(chrt -f 10); fi
[[ $(id -u) == 0 ]] || SERVER_NICE=""  # a lower nice needs root

WORK=$(mktemp -d /tmp/geodns-udp-under-tcp-XXXXXX)
declare -A PIDS PORT CONTROL_PORT
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

WITH_CONTROL=1
write_queries "$WORK/queries.txt"
for s in $SERVERS; do start_server "$s"; done

field() { sed -n "s/.* $2=\([0-9.-]*\).*/\1/p" <<<" $1"; }

# Counters a lost query could show up in, outside the generator (see the header).
softnet_drops() {  # column 2 of each CPU's line (hex), comma-separated: cpu0,cpu1,...
  local v out=""
  while read -r _ v _; do out+="${out:+,}$((16#$v))"; done </proc/net/softnet_stat
  echo "$out"
}
udp_snmp() {  # $1 column name in the Udp: lines of /proc/net/snmp
  awk -v col="$1" '/^Udp:/ { if (!h) { for (i = 2; i <= NF; i++) if ($i == col) c = i; h = 1 } else { print $c; exit } }' /proc/net/snmp
}
socket_drops() {  # $1 port: drops of the unconnected UDP sockets bound to it
  local hex
  hex=$(printf '%04X' "$1")
  awk -v p=":$hex" 'NR > 1 && substr($2, length($2) - 4) == p && $3 == "00000000:0000" { d += $NF } END { print d + 0 }' /proc/net/udp
}
server_udp_queries() {  # $1 server: geodns_queries_total{protocol="udp"}, or -1
  [[ -n ${CONTROL_PORT[$1]:-} ]] || { echo -1; return; }
  curl -s "http://127.0.0.1:${CONTROL_PORT[$1]}/metrics" |
    sed -n 's/^geodns_queries_total{protocol="udp"} \([0-9.e+]*\)$/\1/p' | awk '{ printf "%d\n", $1 }'
}
snapshot() {  # $1 server
  echo "$(softnet_drops) $(udp_snmp InErrors) $(udp_snmp RcvbufErrors) $(socket_drops "${PORT[$1]}") $(server_udp_queries "$1")"
}
deltas() {  # $1 before, $2 after
  local -a b a
  read -r -a b <<<"$1"
  read -r -a a <<<"$2"
  local q=-1 i total=0 per_cpu=""
  [[ ${a[4]} -ge 0 ]] && q=$((a[4] - b[4]))
  local -a sb sa
  IFS=, read -r -a sb <<<"${b[0]}"
  IFS=, read -r -a sa <<<"${a[0]}"
  for i in "${!sa[@]}"; do
    per_cpu+="${per_cpu:+,}$((sa[i] - sb[i]))"
    total=$((total + sa[i] - sb[i]))
  done
  echo "softnet_drops=$total softnet_drops_by_cpu=$per_cpu udp_inerrors=$((a[1] - b[1])) udp_rcvbuf_errors=$((a[2] - b[2])) server_socket_drops=$((a[3] - b[3])) server_udp_queries=$q"
}

udp_open() {  # $1 server, $2 rate
  "${UDP_PRIO[@]}" taskset -c "$GEN_CPU" "$UDPGEN" --queries "$WORK/queries.txt" \
    --server 127.0.0.1 --port "${PORT[$1]}" --rate "$2" --duration "$DURATION" --sockets 16 \
    --timeout-ms 1000 --quiet 2>/dev/null | grep '^result'
}

mkdir -p "$REPO/bench/results"
RAW=$REPO/bench/results/udp-under-tcp-$(date -u +%Y%m%dT%H%M%SZ).txt

# Capacity on this layout: the closed loop from GEN_CPU, median of 3 runs. 64 in flight: at 256
# Knot's default 208 KiB socket buffer overflows, and each drop stalls a closed-loop slot for
# the whole timeout, which measures the buffer, not the server.
if [[ $RATE == 0 ]]; then
  min_cap=0
  for s in $SERVERS; do
    caps=()
    for _ in 1 2 3; do
      line=$("${UDP_PRIO[@]}" taskset -c "$GEN_CPU" "$UDPGEN" --queries "$WORK/queries.txt" \
        --server 127.0.0.1 --port "${PORT[$s]}" --duration 2 --sockets 16 --inflight 64 --quiet \
        2>/dev/null |
        grep '^result')
      caps+=("$(field "$line" qps)")
    done
    cap=$(printf '%s\n' "${caps[@]}" | sort -n | sed -n 2p)
    echo "capacity $s closed loop (server cpu $SERVER_CPU, generator cpu $GEN_CPU): median $cap q/s" \
      "of ${caps[*]}" | tee -a "$RAW"
    if [[ $min_cap == 0 || ${cap%.*} -lt $min_cap ]]; then min_cap=${cap%.*}; fi
  done
  RATE=$(awk -v c="$min_cap" -v f="$RATE_FRACTION" 'BEGIN { printf "%d", int(c * f / 1000) * 1000 }')
  [[ $RATE -gt 0 ]] || die "capacity measurement failed"
fi
echo "# udp-under-tcp rounds=$ROUNDS duration=$DURATION clients=\"$CLIENTS\" rate=$RATE" \
  "server_cpu=$SERVER_CPU gen_cpu=$GEN_CPU udp_prio=\"${UDP_PRIO[*]}\" nice=\"$SERVER_NICE\"" \
  "host=$(hostname)" \
  "nproc=$(nproc) load=\"$(cut -d' ' -f1-3 /proc/loadavg)\"" | tee -a "$RAW"

for round in $(seq 1 "$ROUNDS"); do
  for s in $SERVERS; do
    for c in 0 $CLIENTS; do
      tcp_line="" tcp_pid=""
      if [[ $c -gt 0 ]]; then
        # The TCP load starts first and outlasts the UDP run: every UDP query meets it at full
        # strength (10,000 connects take a moment).
        setsid taskset -c "$GEN_CPU" "$TCPGEN" --queries "$WORK/queries.txt" --server 127.0.0.1 \
          --port "${PORT[$s]}" --clients "$c" --per-conn 3 --sources 200 \
          --duration $((DURATION + 3)) --timeout-ms "$TCP_TIMEOUT_MS" --keepalive \
          >"$WORK/tcp.out" 2>&1 &
        tcp_pid=$!
        boost_autogroup "$tcp_pid" "$SERVER_NICE"
        sleep 1.5
      fi
      before=$(snapshot "$s")
      udp=$(udp_open "$s" "$RATE")
      sleep 0.2  # the server's counters are per worker and summed on a scrape
      after=$(snapshot "$s")
      if [[ -n $tcp_pid ]]; then
        wait "$tcp_pid" || true
        tcp_line=$(grep '^result' "$WORK/tcp.out" | sed 's/^result /tcp_/; s/ \([a-z_0-9]*\)=/ tcp_\1=/g')
      fi
      echo "round=$round server=$s clients=$c $udp $(deltas "$before" "$after")" \
        "load1=$(cut -d' ' -f1 /proc/loadavg) $tcp_line" | tee -a "$RAW"
    done
  done
done

echo
echo "medians over $ROUNDS rounds at $RATE q/s UDP (raw: $RAW):"
awk '
  function val(k,   i, kv) { for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) return kv[2] } return "" }
  function median(arr, key, count,   i, j, t, v) {
    for (i = 1; i <= count; i++) v[i] = arr[key, i] + 0
    for (i = 1; i <= count; i++) for (j = i + 1; j <= count; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return v[int((count + 1) / 2)]
  }
  /^round=/ {
    key = val("server") " clients=" val("clients")
    if (!(key in n)) name[++keys] = key
    i = ++n[key]
    sendq[key, i] = val("send_qps"); p50[key, i] = val("p50_us"); p99[key, i] = val("p99_us")
    p999[key, i] = val("p999_us"); tcpq[key, i] = val("tcp_qps"); tcpl[key, i] = val("tcp_lost")
    lost[key] += val("lost"); sent[key] += val("sent"); soft[key] += val("softnet_drops")
    sdrop[key] += val("server_socket_drops"); late[key] += val("late")
    if (val("clients") == 0) { base50[val("server"), val("round")] = val("p50_us"); base99[val("server"), val("round")] = val("p99_us") }
    else if (base99[val("server"), val("round")] > 0) {
      j = ++nr[key]
      r50[key, j] = val("p50_us") / base50[val("server"), val("round")]
      r99[key, j] = val("p99_us") / base99[val("server"), val("round")]
    }
  }
  END {
    printf "%-22s %9s %7s %7s %8s %8s %8s %9s %9s %13s %9s %9s\n", "server, TCP clients", "send q/s",
      "p50 us", "p99 us", "p99.9 us", "p50 x", "p99 x", "lost", "of sent", "softnet drop", "TCP q/s", "TCP lost"
    for (k = 1; k <= keys; k++) {
      key = name[k]
      printf "%-22s %9d %7d %7d %8d %8s %8s %9d %9d %13d %9s %9s\n", key, median(sendq, key, n[key]),
        median(p50, key, n[key]), median(p99, key, n[key]), median(p999, key, n[key]),
        nr[key] ? sprintf("%.2f", median(r50, key, nr[key])) : "-",
        nr[key] ? sprintf("%.2f", median(r99, key, nr[key])) : "-",
        lost[key], sent[key], soft[key],
        tcpq[key, 1] != "" ? median(tcpq, key, n[key]) : "-", tcpl[key, 1] != "" ? median(tcpl, key, n[key]) : "-"
    }
    print "(p50 x, p99 x: median over rounds of the ratio to the same round without TCP; lost and softnet drops: totals)"
  }' "$RAW" | tee -a "$RAW"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$RAW"
