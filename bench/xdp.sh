#!/usr/bin/env bash
# bench/xdp.sh: the AF_XDP path against the socket path and the two floors, on a veth pair
# between two network namespaces (tests/xdp/veth_rig.sh), as issue 15 measured Knot.
#
#   bench/xdp.sh [--rounds N] [--duration S] [--qps Q]
#                [--servers "generator geodns-xdp geodns-socket xdp-floor socket-floor knot-xdp knot-udp"]
#                [--workloads "static nxdomain"]
#
# Each server runs pinned to CPU 0 with one worker in the server namespace; Debian's kxdpgun
# (knot-dnsutils) sends from the client namespace pinned to CPU 1 at --qps (default 2M, i.e.
# as fast as it can). Rounds interleave the servers; per round the ratios to the floors are
# computed, then medianed. The generator's own rate (queries it sent per second) is printed
# with every figure: a server answering (nearly) all it was sent is limited by the generator,
# not by itself (marked "generator-bound"), and such a ratio says nothing about the server.
# Server "generator" starts nothing: kxdpgun's rate into the void is its own limit here.
# Per core: replies per CPU-second of the server process. Raw results go to bench/results/.
# Needs root.
#
# Environment: GEODNS_BIN (default build/release/src/geodns, else build/default/src/geodns),
# BENCH_BUILD (holds bench/geodns-floor and bench/geodns-xdp-floor; same default).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROUNDS=5
DURATION=5
QPS=2000000
SERVERS="generator geodns-xdp geodns-socket xdp-floor socket-floor knot-xdp knot-udp"
WORKLOADS="static nxdomain"
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --qps) QPS=$2; shift 2 ;;
    --servers) SERVERS=$2; shift 2 ;;
    --workloads) WORKLOADS=$2; shift 2 ;;
    -h|--help) sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "xdp.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
die() { echo "xdp.sh: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "needs root (namespaces, XDP)"
command -v kxdpgun >/dev/null || die "kxdpgun missing (apt-get install knot-dnsutils)"
BUILD=${BENCH_BUILD:-$REPO/build/release}
[[ -x $BUILD/bench/geodns-xdp-floor ]] || BUILD=$REPO/build/default
GEODNS_BIN=${GEODNS_BIN:-$BUILD/src/geodns}
FLOOR=$BUILD/bench/geodns-floor
XDP_FLOOR=$BUILD/bench/geodns-xdp-floor
for b in "$GEODNS_BIN" "$FLOOR" "$XDP_FLOOR"; do
  [[ -x $b ]] || die "$b missing: cmake --build --preset release --target geodns geodns-floor geodns-xdp-floor"
done

source "$REPO/tests/xdp/veth_rig.sh"
TMP=$(mktemp -d /tmp/geodns-xdp-bench.XXXXXX)
SPID=
cleanup() {
  [[ -n "$SPID" ]] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
  rig_down
  rm -rf "$TMP"
}
trap cleanup EXIT
rig_up "p$$" || die "cannot build the veth rig"
S="ip netns exec $RIG_SRV"
C="ip netns exec $RIG_CLI"

# One zone, the same for geodns and Knot: a static A and nothing else (NXDOMAIN below it).
mkdir -p "$TMP/zones" "$TMP/knot/db" "$TMP/knot/run"
cat >"$TMP/zones/bench.test.toml" <<ZONE
[zone]
name = "bench.test."
ttl = 300
[zone.soa]
mname = "ns1.bench.test."
rname = "hostmaster.bench.test."
[records]
"@" = "NS ns1.bench.test."
ns1 = "A $RIG_SRV4"
static = "A 192.0.2.1"
ZONE
cat >"$TMP/knot/bench.test.zone" <<ZONE
\$ORIGIN bench.test.
\$TTL 300
@ SOA ns1 hostmaster 1 3600 600 1209600 60
@ NS ns1
ns1 A $RIG_SRV4
static A 192.0.2.1
ZONE
write_knot() {  # $1: xdp or udp
  local xdp=""
  [[ $1 == xdp ]] && xdp=$'xdp:\n    listen: '"$RIG_SRV_IF"$'@53\n    udp: on'
  cat >"$TMP/knot/knot.conf" <<CONF
server:
    rundir: "$TMP/knot/run"
    listen: $RIG_SRV4@53
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
$xdp
log:
  - target: stderr
    any: warning
database:
    storage: "$TMP/knot/db"
zone:
  - domain: bench.test.
    file: "$TMP/knot/bench.test.zone"
    journal-content: none
    zonefile-sync: -1
CONF
}
printf 'static.bench.test A\n' >"$TMP/q_static"
for i in $(seq 1 1000); do echo "nx$i.bench.test A"; done >"$TMP/q_nxdomain"

start_server() {  # $1 server
  local log=$TMP/server.log
  case $1 in
    generator) SPID= && return 0 ;;
    geodns-xdp | geodns-socket | geodns-xdp-base)
      local xdp=() bin=$GEODNS_BIN
      [[ $1 == geodns-xdp* ]] && xdp=(--xdp "$RIG_SRV_IF")
      if [[ $1 == geodns-xdp-base ]]; then
        bin=${GEODNS_BASE_BIN:-}
        [[ -x $bin ]] || die "geodns-xdp-base needs GEODNS_BASE_BIN (another geodns binary)"
      fi
      $S taskset -c 0 "$bin" serve --zones "$TMP/zones" --geoip "" --listen "$RIG_SRV4:53" \
        --threads 1 --control "" --log-level warn "${xdp[@]}" >"$log" 2>&1 &
      ;;
    socket-floor) $S "$FLOOR" --address "$RIG_SRV4" --port 53 --cpu 0 >"$log" 2>&1 & ;;
    xdp-floor)
      $S "$XDP_FLOOR" --interface "$RIG_SRV_IF" --listen "$RIG_SRV4:53" --cpu 0 >"$log" 2>&1 &
      ;;
    knot-xdp | knot-udp)
      write_knot "${1#knot-}"
      $S taskset -c 0 knotd -c "$TMP/knot/knot.conf" >"$log" 2>&1 &
      ;;
    *) die "unknown server $1" ;;
  esac
  SPID=$!
  # Ready when a query gets a reply (the floors' echo has no answer: dig's status is enough).
  for _ in $(seq 1 50); do
    $C dig +time=1 +tries=1 @"$RIG_SRV4" static.bench.test A >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  cat "$log" >&2
  die "$1 did not answer"
}
stop_server() {
  kill "$SPID" 2>/dev/null || true
  wait "$SPID" 2>/dev/null || true
  SPID=
  # Knot (and kxdpgun) leave their XDP program attached on exit (issue 15).
  ip -n "$RIG_SRV" link set dev "$RIG_SRV_IF" xdp off 2>/dev/null || true
}
gun() {  # $1 workload -> "replies_per_s sent_per_s"
  local out
  out=$($C taskset -c 1 kxdpgun -t "$DURATION" -Q "$QPS" -F 1 -i "$TMP/q_$1" -I "$RIG_CLI_IF" \
    "$RIG_SRV4" 2>&1)
  ip -n "$RIG_CLI" link set dev "$RIG_CLI_IF" xdp off 2>/dev/null || true
  local sent replies
  sent=$(awk '/total queries:/ {gsub(/\(/,"",$4); print $4}' <<<"$out")
  replies=$(awk '/total replies:/ {gsub(/\(/,"",$4); print $4}' <<<"$out")
  echo "${replies:-0} ${sent:-0}"
}

HZ=$(getconf CLK_TCK)
cpu_ticks() {
  if [[ -n "$SPID" ]]; then awk '{print $14 + $15}' "/proc/$SPID/stat" 2>/dev/null || echo 0; else echo 0; fi
}
RESULTS=${RESULTS:-$REPO/bench/results/xdp-$(date -u +%Y%m%dT%H%M%SZ).txt}
mkdir -p "$(dirname "$RESULTS")"
: >"$RESULTS"
echo "# raw results: $RESULTS (round workload server replies/s sent/s replies-per-core-s)"
echo "# $(date -u +%FT%TZ) kernel $(uname -r), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# rounds $ROUNDS, ${DURATION}s each, kxdpgun -Q $QPS on CPU 1, servers on CPU 0"
for round in $(seq 1 "$ROUNDS"); do
  for w in $WORKLOADS; do
    for s in $SERVERS; do
      if [[ $s == knot-* ]] && ! command -v knotd >/dev/null; then continue; fi
      start_server "$s"
      t0=$(cpu_ticks)
      read -r replies sent < <(gun "$w")
      t1=$(cpu_ticks)
      stop_server
      # Per core: replies per CPU-second the server process used (all its threads, user +
      # system), robust to a loaded machine that gives the server only part of its core.
      percore=$(awk -v r="$replies" -v d="$DURATION" -v t=$((t1 - t0)) -v hz="$HZ" \
        'BEGIN {printf "%.0f", (t > 0 ? r * d / (t / hz) : 0)}')
      echo "$round $w $s $replies $sent $percore" >>"$RESULTS"
      bound=""
      if [[ $s != generator ]] && ((sent > 0 && replies * 100 >= sent * 98)); then
        bound="  generator-bound"
      fi
      printf 'round %d %-9s %-14s %8d replies/s  %8d per core-s  (generator sent %d/s)%s\n' \
        "$round" "$w" "$s" "$replies" "$percore" "$sent" "$bound"
    done
  done
done

median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print 0; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
echo
echo "# medians over $ROUNDS rounds: replies/s, replies per core-second, [generator's sent/s]"
for w in $WORKLOADS; do
  for s in $SERVERS; do
    if [[ $s == generator ]]; then
      g=$(awk -v w="$w" '$2==w && $3=="generator" {print $5}' "$RESULTS" | median)
      printf '%-9s %-14s sends %0.f/s on its own (its limit)\n' "$w" generator "$g"
      continue
    fi
    m=$(awk -v w="$w" -v s="$s" '$2==w && $3==s {print $4}' "$RESULTS" | median)
    g=$(awk -v w="$w" -v s="$s" '$2==w && $3==s {print $5}' "$RESULTS" | median)
    c=$(awk -v w="$w" -v s="$s" '$2==w && $3==s {print $6}' "$RESULTS" | median)
    [[ $m == 0 ]] && continue
    printf '%-9s %-14s %9.0f %9.0f  [%0.f]\n' "$w" "$s" "$m" "$c" "$g"
  done
done
echo
echo "# paired ratios (per round, then the median): by replies/s, and per core-second"
ratio() {  # $1 workload $2 a $3 b
  local r c
  r=$(awk -v w="$1" -v a="$2" -v b="$3" '
    $2==w && $3==a {x[$1]=$4} $2==w && $3==b {y[$1]=$4}
    END {for (k in x) if (y[k] > 0) print x[k]/y[k]}' "$RESULTS" | median)
  c=$(awk -v w="$1" -v a="$2" -v b="$3" '
    $2==w && $3==a {x[$1]=$6} $2==w && $3==b {y[$1]=$6}
    END {for (k in x) if (y[k] > 0) print x[k]/y[k]}' "$RESULTS" | median)
  [[ $r != 0 ]] && printf '%-9s %-14s / %-14s %5.2f  %5.2f per core\n' "$1" "$2" "$3" "$r" "$c"
  return 0
}
for w in $WORKLOADS; do
  ratio "$w" geodns-xdp xdp-floor
  ratio "$w" geodns-xdp-base xdp-floor
  ratio "$w" geodns-xdp geodns-xdp-base
  ratio "$w" geodns-xdp geodns-socket
  ratio "$w" geodns-socket socket-floor
  ratio "$w" xdp-floor socket-floor
  ratio "$w" geodns-xdp knot-xdp
  ratio "$w" knot-xdp knot-udp
done
