#!/usr/bin/env bash
# bench/steer-memory.sh: resident memory of geodns and gdnsd serving the same steered names on
# the same GeoIP database, after load (both compile every map against the database at start).
#
#   bench/steer-memory.sh [--names 100] [--shared] [--geoip FILE] [--gdnsd-geoip FILE] [--keep]
#
# Each name n<i> has its own map (gdnsd: one map per name): EU -> two datacenters that vary with
# i, NA/AS/SA/OC/default fixed, DE -> one datacenter, and a nets entry 10.<i>.0.0/16 of its own,
# so no two names have the same map; with --shared every name uses one map (gdnsd: one map for
# every resource), without nets entries. Defaults: the real CC0 country database
# (geoip/fetch-real-db.sh) for geodns and its GeoIP2-layout copy (bench/real-to-geoip2.pl) for
# gdnsd, which reads only that layout; the two hold the same networks.
#
# Prints, per server, the seconds from start to the first correct steered answer (load and
# compile) and VmRSS of its process tree one second later. Loopback only; each server is
# stopped by its PID on exit. Environment: GEODNS_BIN (default build/release/src/geodns).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NAMES=100
GEOIP=$REPO/geoip/real/geo-whois-asn-country.mmdb
GDNSD_GEOIP=$REPO/geoip/real/geo-whois-asn-country-geoip2.mmdb
GEODNS_BIN=${GEODNS_BIN:-$REPO/build/release/src/geodns}
KEEP=0
SHARED=0

while [[ $# -gt 0 ]]; do
  case $1 in
    --names) NAMES=$2; shift 2 ;;
    --geoip) GEOIP=$2; shift 2 ;;
    --gdnsd-geoip) GDNSD_GEOIP=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --shared) SHARED=1; shift ;;
    -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

log() { echo "steer-memory: $*" >&2; }
die() { log "$*"; exit 1; }

[[ -x $GEODNS_BIN ]] || die "no geodns binary at $GEODNS_BIN (cmake --build --preset release)"
[[ -f $GEOIP ]] || die "no GeoIP database at $GEOIP (geoip/fetch-real-db.sh)"
command -v dig >/dev/null || die "dig is missing (apt-get install bind9-dnsutils)"

declare -A PIDS=()
WORK=$(mktemp -d /tmp/geodns-steer-memory.XXXXXX)
stop_pid() {
  kill "$1" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true
}
cleanup() {
  local s
  for s in "${!PIDS[@]}"; do stop_pid "${PIDS[$s]}"; done
  if [[ $KEEP -eq 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

free_port() {
  /usr/bin/python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

descendants() {  # $1 pid: it and every process below it
  local p
  echo "$1"
  for p in $(pgrep -P "$1" 2>/dev/null || true); do descendants "$p"; done
}

tree_rss_kb() {
  local sum=0 p v
  for p in $(descendants "$1"); do
    v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null) || continue
    sum=$((sum + ${v:-0}))
  done
  echo "$sum"
}

DCS=(fra iad sin gru)
ADDR=([0]=192.0.2.10 [1]=198.51.100.10 [2]=203.0.113.10 [3]=203.0.113.20)

write_geodns() {  # $1 zones dir
  mkdir -p "$1"
  {
    cat <<'EOF'
[zone]
name = "steer.example."
[zone.soa]
mname = "ns1.steer.example."
rname = "hostmaster.steer.example."
[records]
"@" = "NS ns1.steer.example."
ns1 = "A 192.0.2.53"
[datacenters.fra]
addresses = ["192.0.2.10"]
[datacenters.iad]
addresses = ["198.51.100.10"]
[datacenters.sin]
addresses = ["203.0.113.10"]
[datacenters.gru]
addresses = ["203.0.113.20"]
EOF
    local i k
    for ((i = 0; i < NAMES; i++)); do
      k=$((SHARED ? NAMES - 1 : i))  # shared: every name has the last name's map
      printf '[steer.n%d]\npolicy = "geo"\nanswers = 1\n' "$i"
      printf 'map.EU = ["%s", "%s"]\n' "${DCS[k % 4]}" "${DCS[(k + 1) % 4]}"
      printf 'map.DE = ["%s"]\n' "${DCS[(k + 2) % 4]}"
      printf 'map.NA = ["iad", "fra"]\nmap.AS = ["sin", "fra"]\nmap.SA = ["gru", "iad"]\n'
      printf 'map.OC = ["sin", "iad"]\nmap.default = ["iad", "fra"]\n'
      [[ $SHARED -eq 1 ]] || printf 'nets."10.%d.0.0/16" = ["fra"]\n' "$((i % 256))"
    done
  } >"$1/steer.example.toml"
}

write_gdnsd() {  # $1 config dir, $2 port
  local dir=$1 i
  mkdir -p "$dir/zones" "$dir/run" "$dir/state"
  {
    # shellcheck disable=SC2016 # zone-file directives
    printf '$ORIGIN steer.example.\n$TTL 3600\n'
    printf '@ SOA ns1.steer.example. hostmaster.steer.example. 1 3600 600 1209600 60\n'
    printf '@ NS ns1.steer.example.\nns1 A 192.0.2.53\n'
    for ((i = 0; i < NAMES; i++)); do printf 'n%d 30 DYNA geoip!r%d\n' "$i" "$i"; done
  } >"$dir/zones/steer.example"
  {
    cat <<EOF
options => {
  listen => { "127.0.0.1:$2" => { udp_threads => 1, tcp_threads => 1 } }
  edns_client_subnet => true
  run_dir => "$dir/run"
  state_dir => "$dir/state"
}
plugins => { geoip => {
  maps => {
EOF
    for ((i = 0; i < NAMES; i++)); do
      [[ $SHARED -eq 1 && $i -ne $((NAMES - 1)) ]] && continue
      cat <<EOF
    m$i => {
      geoip2_db => "$GDNSD_GEOIP"
      datacenters => [fra, iad, sin, gru]
      map => {
        EU => { DE => [${DCS[(i + 2) % 4]}], default => [${DCS[i % 4]}, ${DCS[(i + 1) % 4]}] }
        NA => [iad, fra]
        AS => [sin, fra]
        SA => [gru, iad]
        OC => [sin, iad]
        default => [iad, fra]
      }
$([[ $SHARED -eq 1 ]] || echo "      nets => { 10.$((i % 256)).0.0/16 => [fra] }")
    }
EOF
    done
    echo '  }'
    echo '  resources => {'
    for ((i = 0; i < NAMES; i++)); do
      echo "    r$i => { map => m$((SHARED ? NAMES - 1 : i)), dcmap => { fra => ${ADDR[0]}, iad => ${ADDR[1]}, sin => ${ADDR[2]}, gru => ${ADDR[3]} } }"
    done
    echo '  }'
    echo '} }'
  } >"$dir/config"
}

# Waits for the last name's steered answer from Germany (map.DE); prints seconds since $3.
wait_ready() {  # $1 server, $2 port, $3 start epoch
  local want=${ADDR[(NAMES - 1 + 2) % 4]} got
  for _ in $(seq 1200); do
    kill -0 "${PIDS[$1]}" 2>/dev/null || die "$1 exited; log: $(tail -5 "$WORK/$1.log")"
    got=$(dig @127.0.0.1 -p "$2" +time=1 +tries=1 +short "n$((NAMES - 1)).steer.example" A \
      +subnet=46.4.0.0/24 2>/dev/null || true)
    if [[ $got == "$want" ]]; then
      awk -v a="$3" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'
      return 0
    fi
    sleep 0.1
  done
  die "$1 did not answer n$((NAMES - 1)) with $want within 120 s"
}

printf '%-8s %10s %10s   (%d steered names, %s)\n' server "load(s)" "rss(MiB)" "$NAMES" \
  "$([[ $SHARED -eq 1 ]] && echo "one shared map" || echo "own map each")"
run() {  # $1 server
  local s=$1 port t0 load rss
  port=$(free_port)
  t0=$(date +%s.%N)
  case $s in
    geodns)
      write_geodns "$WORK/geodns/zones"
      t0=$(date +%s.%N)
      "$GEODNS_BIN" serve --zones "$WORK/geodns/zones" --geoip "$GEOIP" \
        --listen "127.0.0.1:$port" --threads 1 --control "" --state-dir "$WORK/geodns/state" \
        >"$WORK/$s.log" 2>&1 &
      ;;
    gdnsd)
      write_gdnsd "$WORK/gdnsd" "$port"
      gdnsd -c "$WORK/gdnsd" checkconf >"$WORK/gdnsd-check.log" 2>&1 ||
        die "gdnsd checkconf: $(tail -5 "$WORK/gdnsd-check.log")"
      t0=$(date +%s.%N)
      gdnsd -c "$WORK/gdnsd" start >"$WORK/$s.log" 2>&1 &
      ;;
  esac
  PIDS[$s]=$!
  load=$(wait_ready "$s" "$port" "$t0")
  sleep 1
  rss=$(tree_rss_kb "${PIDS[$s]}")
  printf '%-8s %10s %10.1f\n' "$s" "$load" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')"
  stop_pid "${PIDS[$s]}"
  unset "PIDS[$s]"
}

run geodns
if ! command -v gdnsd >/dev/null; then
  log "gdnsd not installed (apt-get install gdnsd): geodns only"
elif [[ ! -f $GDNSD_GEOIP ]]; then
  log "no $GDNSD_GEOIP (bench/real-to-geoip2.pl makes it): geodns only"
else
  run gdnsd
fi
