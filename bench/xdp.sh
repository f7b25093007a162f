#!/usr/bin/env bash
# bench/xdp.sh: the AF_XDP path against the socket path and the two floors, on a veth pair
# between two network namespaces (tests/xdp/veth_rig.sh), as issue 15 measured Knot.
#
#   bench/xdp.sh [--rounds N] [--duration S] [--qps Q] [--generator kxdpgun|gun]
#                [--servers "generator geodns-xdp geodns-socket xdp-floor socket-floor knot-xdp
#                            knot-udp gdnsd"]
#                [--workloads "static nxdomain geo"]
#
# Each server runs pinned to CPU 0 with one worker in the server namespace; the generator
# sends from the client namespace pinned to CPU 1 at --qps (default 2M, i.e. as fast as it
# can): Debian's kxdpgun (knot-dnsutils) for static and NXDOMAIN (--generator gun: ours),
# and ours, bench/geodns-xdp-gun, for geo, since kxdpgun cannot send ECS. geo is a geo-steered
# name on the real country database (geoip/real/, geoip/fetch-real-db.sh; gdnsd reads its
# GeoIP2 copy, bench/real-to-geoip2.pl) with ECS from 20,000 distinct /24s; it is skipped with
# a message when the database is absent, and Knot has no geo answers, so it sits geo out.
# Rounds interleave the servers; per round the ratios to the floors are computed, then
# medianed. The generator's own rate (queries it sent per second) is printed with every
# figure: a server answering (nearly) all it was sent is limited by the generator, not by
# itself (marked "generator-bound"), and such a ratio says nothing about the server. Server
# "generator" starts nothing: the generator's rate into the void is its own limit here.
# Per core: replies per CPU-second of the server process. Raw results go to bench/results/.
# Needs root.
#
# Environment: GEODNS_BIN (default build/release/src/geodns, else build/default/src/geodns),
# BENCH_BUILD (holds bench/geodns-floor, bench/geodns-xdp-floor and bench/geodns-xdp-gun; same
# default), GEODNS_BASE_BIN (a second geodns, measured as server geodns-xdp-base for A/B runs),
# XDP_FLOOR_BASE_BIN (likewise a second XDP floor, server xdp-floor-base).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROUNDS=5
DURATION=5
QPS=2000000
SERVERS="generator geodns-xdp geodns-socket xdp-floor socket-floor knot-xdp knot-udp gdnsd"
WORKLOADS="static nxdomain geo"
GENERATOR=kxdpgun
ECS_SUBNETS=20000
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --qps) QPS=$2; shift 2 ;;
    --servers) SERVERS=$2; shift 2 ;;
    --workloads) WORKLOADS=$2; shift 2 ;;
    --generator) GENERATOR=$2; shift 2 ;;
    -h|--help) sed -n '2,29p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "xdp.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
die() { echo "xdp.sh: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "needs root (namespaces, XDP)"
[[ $GENERATOR == kxdpgun || $GENERATOR == gun ]] || die "--generator: kxdpgun or gun"
[[ $GENERATOR == gun ]] || command -v kxdpgun >/dev/null ||
  die "kxdpgun missing (apt-get install knot-dnsutils), or use --generator gun"
BUILD=${BENCH_BUILD:-$REPO/build/release}
[[ -x $BUILD/bench/geodns-xdp-floor ]] || BUILD=$REPO/build/default
GEODNS_BIN=${GEODNS_BIN:-$BUILD/src/geodns}
FLOOR=$BUILD/bench/geodns-floor
XDP_FLOOR=$BUILD/bench/geodns-xdp-floor
GUN=$BUILD/bench/geodns-xdp-gun
for b in "$GEODNS_BIN" "$FLOOR" "$XDP_FLOOR" "$GUN"; do
  [[ -x $b ]] ||
    die "$b missing: cmake --build --preset release --target geodns geodns-floor geodns-xdp-floor geodns-xdp-gun"
done
REAL_MMDB=$REPO/geoip/real/geo-whois-asn-country.mmdb
REAL_GEOIP2_MMDB=$REPO/geoip/real/geo-whois-asn-country-geoip2.mmdb  # bench/real-to-geoip2.pl
if [[ " $WORKLOADS " == *" geo "* && ! -f $REAL_MMDB ]]; then
  echo "xdp.sh: skipping workload geo: no real database at $REAL_MMDB (geoip/fetch-real-db.sh)" >&2
  WORKLOADS=$(tr ' ' '\n' <<<"$WORKLOADS" | grep -vx geo | tr '\n' ' ')
fi
if [[ " $SERVERS " == *" gdnsd "* ]] && ! command -v gdnsd >/dev/null; then
  echo "xdp.sh: skipping server gdnsd: not installed (apt-get install gdnsd)" >&2
  SERVERS=$(tr ' ' '\n' <<<"$SERVERS" | grep -vx gdnsd | tr '\n' ' ')
fi

source "$REPO/tests/xdp/veth_rig.sh"
# shellcheck source=bench/geo-map.sh
source "$REPO/bench/geo-map.sh"
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
# geo: the same zone plus a geo-steered www (bench/geo-map.sh: continents to four data
# centres), for geodns on the real database; gdnsd gets the same map on its GeoIP2 copy.
mkdir -p "$TMP/zones-geo"
{
  cat "$TMP/zones/bench.test.toml"
  geo_map_toml
} >"$TMP/zones-geo/bench.test.toml"
write_gdnsd() {  # $1 workload: the config (and zone) in $TMP/gdnsd
  local dir=$TMP/gdnsd plugins=""
  rm -rf "$dir" && mkdir -p "$dir/zones" "$dir/run" "$dir/state"
  { cat "$TMP/knot/bench.test.zone"; [[ $1 == geo ]] && echo 'www 30 DYNA geoip!www'; } \
    >"$dir/zones/bench.test"
  if [[ $1 == geo ]]; then
    plugins=$(geo_map_gdnsd "$REAL_GEOIP2_MMDB")
  fi
  cat >"$dir/config" <<CONF
options => {
  listen => { "$RIG_SRV4:53" => { udp_threads => 1, tcp_threads => 1 } }
  edns_client_subnet => true
  run_dir => "$dir/run"
  state_dir => "$dir/state"
}
$plugins
CONF
}
printf 'static.bench.test A\n' >"$TMP/q_static"
for i in $(seq 1 1000); do echo "nx$i.bench.test A"; done >"$TMP/q_nxdomain"
printf 'www.bench.test A\n' >"$TMP/q_geo"

# Which servers run a workload: Knot serves no geo answers; gdnsd runs geo only on the
# GeoIP2 copy of the real database (it cannot read the flat one).
serves() {  # $1 server $2 workload
  [[ $2 != geo ]] && return 0
  case $1 in
    knot-*) return 1 ;;
    gdnsd) [[ -f $REAL_GEOIP2_MMDB ]] ;;
    *) return 0 ;;
  esac
}
if [[ " $WORKLOADS " == *" geo "* && " $SERVERS " == *" gdnsd "* && ! -f $REAL_GEOIP2_MMDB ]]; then
  echo "xdp.sh: gdnsd sits geo out: no $REAL_GEOIP2_MMDB (bench/real-to-geoip2.pl makes it)" >&2
fi

start_server() {  # $1 server $2 workload [$3 attempts so far]
  local log=$TMP/server.log zones=$TMP/zones geoip=""
  [[ $2 == geo ]] && zones=$TMP/zones-geo geoip=$REAL_MMDB
  case $1 in
    generator) SPID= && return 0 ;;
    geodns-xdp | geodns-socket | geodns-xdp-base)
      local xdp=() bin=$GEODNS_BIN
      [[ $1 == geodns-xdp* ]] && xdp=(--xdp "$RIG_SRV_IF")
      if [[ $1 == geodns-xdp-base ]]; then
        bin=${GEODNS_BASE_BIN:-}
        [[ -x $bin ]] || die "geodns-xdp-base needs GEODNS_BASE_BIN (another geodns binary)"
      fi
      $S taskset -c 0 "$bin" serve --zones "$zones" --geoip "$geoip" --listen "$RIG_SRV4:53" \
        --threads 1 --control "" --log-level warn "${xdp[@]}" >"$log" 2>&1 &
      ;;
    socket-floor) $S "$FLOOR" --address "$RIG_SRV4" --port 53 --cpu 0 >"$log" 2>&1 & ;;
    xdp-floor | xdp-floor-base)
      local floor=$XDP_FLOOR
      if [[ $1 == xdp-floor-base ]]; then
        floor=${XDP_FLOOR_BASE_BIN:-}
        [[ -x $floor ]] || die "xdp-floor-base needs XDP_FLOOR_BASE_BIN (another geodns-xdp-floor)"
      fi
      $S "$floor" --interface "$RIG_SRV_IF" --listen "$RIG_SRV4:53" --cpu 0 >"$log" 2>&1 &
      ;;
    knot-xdp | knot-udp)
      write_knot "${1#knot-}"
      $S taskset -c 0 knotd -c "$TMP/knot/knot.conf" >"$log" 2>&1 &
      ;;
    gdnsd)
      write_gdnsd "$2"
      $S taskset -c 0 gdnsd -c "$TMP/gdnsd" start >"$log" 2>&1 &
      ;;
    *) die "unknown server $1" ;;
  esac
  SPID=$!
  # The AF_XDP socket of the server stopped just before is released by the kernel a little
  # later: a bind in that window fails with EBUSY. Start again (bounded) rather than give up.
  if [[ $1 == *xdp* && ${3:-0} -lt 10 ]]; then
    sleep 0.2
    if ! kill -0 "$SPID" 2>/dev/null && grep -q "resource busy" "$log"; then
      wait "$SPID" 2>/dev/null || true
      sleep 0.5
      start_server "$1" "$2" $((${3:-0} + 1))
      return
    fi
  fi
  # Ready when a query gets a reply (the floors' echo has no answer: dig's status is enough).
  local ready=0
  for _ in $(seq 1 100); do
    $C dig +time=1 +tries=1 @"$RIG_SRV4" static.bench.test A >/dev/null 2>&1 && { ready=1; break; }
    sleep 0.1
  done
  ((ready)) || { cat "$log" >&2; die "$1 did not answer"; }
  # geo: the answer must follow the client subnet (an EU /24 to fra, a NA one to iad).
  if [[ $2 == geo && $1 != *floor* ]]; then
    local eu na
    eu=$($C dig +time=1 +tries=1 +short @"$RIG_SRV4" www.bench.test A +subnet=81.2.69.0/24)
    na=$($C dig +time=1 +tries=1 +short @"$RIG_SRV4" www.bench.test A +subnet=8.8.8.0/24)
    [[ $eu == 192.0.2.10 && $na == 198.51.100.10 ]] ||
      { cat "$log" >&2; die "$1: www gave '$eu' for an EU subnet, '$na' for a NA one"; }
  fi
}
stop_server() {
  kill "$SPID" 2>/dev/null || true
  wait "$SPID" 2>/dev/null || true
  SPID=
  # Knot (and kxdpgun) leave their XDP program attached on exit (issue 15).
  ip -n "$RIG_SRV" link set dev "$RIG_SRV_IF" xdp off 2>/dev/null || true
}
SRV_MAC=$($S cat "/sys/class/net/$RIG_SRV_IF/address")
generator_of() {  # $1 workload
  if [[ $1 == geo || $GENERATOR == gun ]]; then echo gun; else echo kxdpgun; fi
}
gun() {  # $1 workload -> "replies_per_s sent_per_s"
  local out
  if [[ $(generator_of "$1") == gun ]]; then
    local ecs=()
    [[ $1 == geo ]] && ecs=(--ecs-subnets "$ECS_SUBNETS")
    out=$($C "$GUN" --interface "$RIG_CLI_IF" --source "$RIG_CLI4" --destination "$RIG_SRV4" \
      --dst-mac "$SRV_MAC" --queries "$TMP/q_$1" --duration "$DURATION" --rate "$QPS" --cpu 1 \
      "${ecs[@]}" 2>&1)
  else
    out=$($C taskset -c 1 kxdpgun -t "$DURATION" -Q "$QPS" -F 1 -i "$TMP/q_$1" -I "$RIG_CLI_IF" \
      "$RIG_SRV4" 2>&1)
  fi
  ip -n "$RIG_CLI" link set dev "$RIG_CLI_IF" xdp off 2>/dev/null || true
  local sent replies
  sent=$(awk '/total queries:/ {gsub(/\(/,"",$4); print $4}' <<<"$out")
  replies=$(awk '/total replies:/ {gsub(/\(/,"",$4); print $4}' <<<"$out")
  echo "${replies:-0} ${sent:-0}"
}

HZ=$(getconf CLK_TCK)
cpu_ticks() {  # utime + stime of the server and its children (all threads)
  [[ -n "$SPID" ]] || { echo 0; return 0; }
  local total=0 p v
  for p in $SPID $(pgrep -P "$SPID" 2>/dev/null); do
    v=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}') || continue
    total=$((total + ${v:-0}))
  done
  echo "$total"
}
RESULTS=${RESULTS:-$REPO/bench/results/xdp-$(date -u +%Y%m%dT%H%M%SZ).txt}
mkdir -p "$(dirname "$RESULTS")"
: >"$RESULTS"
echo "# raw results: $RESULTS (round workload server replies/s sent/s replies-per-core-s)"
echo "# $(date -u +%FT%TZ) kernel $(uname -r), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# rounds $ROUNDS, ${DURATION}s each, generator at $QPS/s on CPU 1 (geo: geodns-xdp-gun," \
  "ECS from $ECS_SUBNETS /24s; others: $GENERATOR), servers on CPU 0"
for round in $(seq 1 "$ROUNDS"); do
  for w in $WORKLOADS; do
    for s in $SERVERS; do
      if [[ $s == knot-* ]] && ! command -v knotd >/dev/null; then continue; fi
      serves "$s" "$w" || continue
      start_server "$s" "$w"
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
  ratio "$w" geodns-xdp xdp-floor-base
  ratio "$w" geodns-xdp-base xdp-floor-base
  ratio "$w" xdp-floor xdp-floor-base
  ratio "$w" geodns-xdp geodns-socket
  ratio "$w" geodns-socket socket-floor
  ratio "$w" xdp-floor socket-floor
  ratio "$w" geodns-xdp knot-xdp
  ratio "$w" knot-xdp knot-udp
  ratio "$w" geodns-xdp gdnsd
  ratio "$w" geodns-socket gdnsd
done
