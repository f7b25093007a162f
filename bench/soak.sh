#!/usr/bin/env bash
# Soak test: N minutes of mixed load with zone rewrites, reloads, health flaps and GeoIP swaps.
# Answers one question: after all that, did geodns stay up, keep answering, exit cleanly on
# SIGTERM, and keep its memory (VmRSS) flat?
#
#   bench/soak.sh [--minutes M] [--inflight N] [--chunk S] [--warmup S] [--max-rss-growth PCT]
#                 [--geodns PATH] [--keep]
#
# Starts (loopback only; everything stopped by PID on exit, Ctrl-C included):
#   - three python3 http.server backends on 127.0.0.41/.42/.43 (one free port);
#   - geodns with a temp config: listen 127.0.0.1:<free port>, threads 2, control on a free
#     port, state_dir and GeoIP file in the temp dir, zones = a copy of zones/ plus soak.test
#     (datacenters b1..b3 on the backends, http checks every 1s; www = roundrobin over them,
#     api = failover b1 > b2 > b3).
# Then for M minutes (default 10), on a 1 s tick:
#   - geodns-loadgen runs back to back in CHUNK-second runs (default 30, --inflight 64,
#     2 sockets), alternating query files: static names, NXDOMAIN, geo (--ecs-subnets 20000),
#     the health-steered names;
#   - a TCP trickle: one `dig +tcp` per second (rotating names);
#   - every 5 s soak.test.toml is rewritten (two versions in turn; write to temp + mv);
#   - every 7 s SIGHUP;
#   - every 20 s one backend is stopped or started (at most one down at a time);
#   - every 60 s the GeoIP file is swapped between geoip/demo.mmdb and tests/data/geo/flat.mmdb
#     (copy to temp + mv);
#   - every 10 s: geodns alive (kill -0), answers (one UDP dig), VmRSS and open fds sampled.
# At the end: geodns gets SIGTERM (must exit 0 within 10 s), its stderr is searched for
# sanitizer reports, and a summary is printed. FAIL (exit 1) if geodns died, missed a liveness
# dig, exited non-zero, printed "AddressSanitizer"/"LeakSanitizer"/"runtime error", or its
# RSS grew more than --max-rss-growth percent (default 20) between the end of the warm-up
# (--warmup, default 60 s) and the end.
#
# GEODNS_BIN (or --geodns) selects the server binary, e.g. GEODNS_BIN=build/asan/src/geodns.
# An ASan build's RSS climbs for the first ~50 s while its quarantine fills (77 -> 165 MB on
# the first run) and then levels off, so the default 60 s warm-up covers it; compare absolute
# RSS figures only between release builds. LOADGEN_BIN overrides the load generator.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
MINUTES=10
INFLIGHT=64
CHUNK=30
WARMUP=60
MAX_GROWTH=20
KEEP=0
GEODNS="${GEODNS_BIN:-${GEODNS:-}}"
LOADGEN="${LOADGEN_BIN:-}"
BACKENDS=(127.0.0.41 127.0.0.42 127.0.0.43)

while [[ $# -gt 0 ]]; do
  case "$1" in
    --minutes) MINUTES="$2"; shift 2 ;;
    --inflight) INFLIGHT="$2"; shift 2 ;;
    --chunk) CHUNK="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --max-rss-growth) MAX_GROWTH="$2"; shift 2 ;;
    --geodns) GEODNS="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,35p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ "$MINUTES" =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "--minutes must be a number" >&2; exit 2; }
DURATION=$(awk -v m="$MINUTES" 'BEGIN { printf "%d", m * 60 + 0.5 }')
(( DURATION >= 20 && DURATION <= 24 * 3600 )) || { echo "--minutes must be 0.34..1440" >&2; exit 2; }
(( INFLIGHT >= 1 && INFLIGHT <= 4096 )) || { echo "--inflight must be 1..4096" >&2; exit 2; }
(( CHUNK >= 5 && CHUNK <= 600 )) || { echo "--chunk must be 5..600" >&2; exit 2; }
(( WARMUP >= 0 )) || { echo "--warmup must be >= 0" >&2; exit 2; }
[[ "$MAX_GROWTH" =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "--max-rss-growth must be a number" >&2; exit 2; }
# The steady-state baseline is the first sample at or after the warm-up; keep at least two
# samples after it.
if (( WARMUP > DURATION - 20 )); then WARMUP=$(( (DURATION / 2) / 10 * 10 )); fi

# shellcheck source=../scripts/find-geodns.sh
source "$ROOT/scripts/find-geodns.sh"
require_geodns "$ROOT"
if [[ -z "$LOADGEN" ]]; then
  for c in "$ROOT/build/release/bench/geodns-loadgen" "$ROOT/build/default/bench/geodns-loadgen"; do
    [[ -x "$c" ]] && { LOADGEN="$c"; break; }
  done
fi
[[ -n "$LOADGEN" && -x "$LOADGEN" ]] || {
  echo "geodns-loadgen not found: cmake --build --preset release --target geodns-loadgen (or set LOADGEN_BIN)" >&2
  exit 1
}
for tool in dig python3 curl awk; do
  command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }
done
GEO_A="$ROOT/geoip/demo.mmdb"
GEO_B="$ROOT/tests/data/geo/flat.mmdb"
for f in "$GEO_A" "$GEO_B"; do [[ -f "$f" ]] || { echo "missing $f" >&2; exit 1; }; done

# ---- cleanup -----------------------------------------------------------------------------
TMP="$(mktemp -d "${TMPDIR:-/tmp}/geodns-soak.XXXXXX")"
declare -A BPID=()   # backend address -> pid ("" when stopped)
GEODNS_PID=""
LOAD_PID=""
TCP_PID=""
cleanup() {
  local p
  for p in "$LOAD_PID" "$TCP_PID" "${BPID[@]}" "$GEODNS_PID"; do
    [[ -n "$p" ]] && kill "$p" 2>/dev/null || true
  done
  for p in "$LOAD_PID" "$TCP_PID" "${BPID[@]}" "$GEODNS_PID"; do
    [[ -n "$p" ]] && wait "$p" 2>/dev/null || true
  done
  if (( KEEP )); then echo "temp dir kept: $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now_us() { echo "${EPOCHREALTIME/./}"; }
log() { printf '[%4ss] %s\n' "${T:-0}" "$*"; }

# ---- ports -------------------------------------------------------------------------------
# A port free for both UDP and TCP on 127.0.0.1 (DNS), one free TCP port (control), and one
# TCP port free on every backend address.
read -r DNS_PORT CONTROL_PORT BACKEND_PORT < <(python3 - "${BACKENDS[@]}" <<'EOF'
import socket, sys
def free_tcp(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((addr, 0)); p = s.getsockname()[1]; s.close(); return p
def free_both(addr, port):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind((addr, port))
        except OSError:
            return False
        finally:
            s.close()
    return True
dns = next(p for p in (free_tcp("127.0.0.1") for _ in range(50)) if free_both("127.0.0.1", p))
ctl = next(p for p in (free_tcp("127.0.0.1") for _ in range(50)) if p != dns)
back = next(p for p in (free_tcp(sys.argv[1]) for _ in range(50))
            if p not in (dns, ctl) and all(free_both(a, p) for a in sys.argv[1:]))
print(dns, ctl, back)
EOF
)
[[ -n "${BACKEND_PORT:-}" ]] || { echo "could not find free ports" >&2; exit 1; }

# ---- backends ----------------------------------------------------------------------------
listening() {  # $1 = address
  python3 -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=0.2).close()' \
    "$1" "$BACKEND_PORT" 2>/dev/null
}
start_backend() {  # $1 = address; waits (at most 5 s) until it accepts connections
  local addr=$1 dir="$TMP/www-$1" i
  mkdir -p "$dir"
  echo ok >"$dir/index.html"
  python3 -m http.server "$BACKEND_PORT" --bind "$addr" --directory "$dir" >>"$TMP/http-$addr.log" 2>&1 &
  BPID[$addr]=$!
  for ((i = 0; i < 50; i++)); do
    listening "$addr" && return 0
    kill -0 "${BPID[$addr]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "backend $addr did not start; its log:" >&2
  tail -5 "$TMP/http-$addr.log" >&2
  return 1
}
stop_backend() {  # $1 = address
  local addr=$1
  [[ -n "${BPID[$addr]:-}" ]] || return 0
  kill "${BPID[$addr]}" 2>/dev/null || true
  wait "${BPID[$addr]}" 2>/dev/null || true
  BPID[$addr]=""
}

# ---- zones, config, GeoIP ----------------------------------------------------------------
mkdir -p "$TMP/zones" "$TMP/state" "$TMP/staging" "$TMP/chunks"
cp "$ROOT"/zones/*.toml "$TMP/zones/"
SOAK_ZONE="$TMP/zones/soak.test.toml"

write_soak_zone() {  # $1 = A|B; writes to staging, then renames over the live file
  local v=$1 tmpf="$TMP/staging/soak.test.toml.$1" i net ttl extra
  if [[ $v == A ]]; then net=10.0; ttl=5; extra=""; else net=10.1; ttl=6; extra='extra = ["A 192.0.2.99", "TXT \"only in version B\""]'; fi
  {
    cat <<EOF
# soak test zone, version $v (bench/soak.sh rewrites it every 5 s)
[zone]
name = "soak.test."
ttl = 300

[zone.soa]
mname = "ns1.soak.test."
rname = "hostmaster.soak.test."

[records]
"@" = ["NS ns1.soak.test.", 'TXT "version $v"']
ns1 = "A 127.0.0.1"
version = 'TXT "$v"'
$extra
EOF
    for ((i = 1; i <= 50; i++)); do echo "host$i = \"A $net.$((i / 256)).$((i % 256))\""; done
    cat <<EOF

[datacenters.b1]
addresses = ["${BACKENDS[0]}"]
check = "web"

[datacenters.b2]
addresses = ["${BACKENDS[1]}"]
check = "web"

[datacenters.b3]
addresses = ["${BACKENDS[2]}"]
check = "web"

[checks.web]
type = "http"
port = $BACKEND_PORT
path = "/"
interval = "1s"

[steer.www]
ttl = $ttl
policy = "roundrobin"
datacenters = ["b1", "b2", "b3"]
answers = 3

[steer.api]
ttl = $ttl
policy = "failover"
datacenters = ["b1", "b2", "b3"]
EOF
  } >"$tmpf"
  mv -f "$tmpf" "$SOAK_ZONE"
}
write_soak_zone A

GEOIP="$TMP/geoip.mmdb"
swap_geoip() {  # $1 = source file
  cp "$1" "$TMP/staging/geoip.mmdb.tmp"
  mv -f "$TMP/staging/geoip.mmdb.tmp" "$GEOIP"
}
swap_geoip "$GEO_A"

cat >"$TMP/geodns.toml" <<EOF
[server]
listen = ["127.0.0.1:$DNS_PORT"]
threads = 2
zones = "zones"
geoip = "geoip.mmdb"
state_dir = "state"
log_level = "info"

[control]
listen = "127.0.0.1:$CONTROL_PORT"
EOF

# ---- query files -------------------------------------------------------------------------
{
  echo "example.com. SOA"; echo "example.com. NS"; echo "example.com. MX"; echo "example.com. TXT"
  echo "example.com. CAA"; echo "ns1.example.com. A"; echo "ns1.example.com. AAAA"
  echo "mail.example.com. A"; echo "alias.example.com. A"; echo "txt.example.com. TXT"
  echo "long._domainkey.example.com. TXT"; echo "_sip._tcp.example.com. SRV"
  echo "foo.wild.example.com. A"; echo "a.b.c.example.com. A"; echo "c.example.com. A"
  echo "www.sub.example.com. A"; echo "10.2.0.192.in-addr.arpa. PTR"
  echo "ns1.soak.test. A"; echo "version.soak.test. TXT"; echo "soak.test. SOA"
  for ((i = 1; i <= 50; i++)); do echo "host$i.soak.test. A"; done
} >"$TMP/q-static.txt"
{
  for ((i = 0; i < 2000; i++)); do
    echo "nx$i.example.com. A"
    echo "nx$i.soak.test. AAAA"
  done
  echo "ns1.soak.test. AAAA"           # NODATA
  echo "not-our-zone.example.org. A"   # REFUSED
} >"$TMP/q-nxdomain.txt"
printf '%s\n' "www.example.com. A" "near.example.com. A" "www.example.com. AAAA" >"$TMP/q-geo.txt"
printf '%s\n' "www.soak.test. A" "api.soak.test. A" >"$TMP/q-steer.txt"
KINDS=(static nxdomain geo steer)

# ---- start -------------------------------------------------------------------------------
for b in "${BACKENDS[@]}"; do start_backend "$b"; done

"$GEODNS" serve --config "$TMP/geodns.toml" >"$TMP/geodns.log" 2>&1 &
GEODNS_PID=$!

dig_ok() {  # one liveness query: ns1.soak.test A must be 127.0.0.1
  dig @127.0.0.1 -p "$DNS_PORT" ns1.soak.test A +short +tries=3 +time=1 2>/dev/null | grep -qx '127\.0\.0\.1'
}
up=0
for ((i = 0; i < 100; i++)); do
  if dig_ok; then up=1; break; fi
  kill -0 "$GEODNS_PID" 2>/dev/null || break
  sleep 0.1
done
if (( ! up )); then
  echo "geodns did not come up; its log:" >&2
  tail -30 "$TMP/geodns.log" >&2
  exit 1
fi
# All three backends in the steered answer before the clock starts (at most 10 s).
for ((i = 0; i < 100; i++)); do
  n=$(dig @127.0.0.1 -p "$DNS_PORT" www.soak.test A +short +tries=1 +time=1 2>/dev/null | grep -c '^127\.0\.0\.4' || true)
  (( n == 3 )) && break
  sleep 0.1
done

SERIAL_START=$(dig @127.0.0.1 -p "$DNS_PORT" soak.test SOA +short +tries=2 +time=1 2>/dev/null | awk '{ print $3 }' || true)
echo "geodns:   $GEODNS ($("$GEODNS" version 2>/dev/null | head -1 || true)), pid $GEODNS_PID"
echo "listen:   127.0.0.1:$DNS_PORT (UDP+TCP), control 127.0.0.1:$CONTROL_PORT, threads 2"
echo "backends: ${BACKENDS[*]} port $BACKEND_PORT (http checks every 1s)"
echo "plan:     ${DURATION}s; loadgen ${CHUNK}s chunks, inflight $INFLIGHT, kinds ${KINDS[*]};" \
  "zone rewrite/5s, SIGHUP/7s, backend flap/20s, GeoIP swap/60s, sample/10s; warm-up ${WARMUP}s"
echo

# ---- state -------------------------------------------------------------------------------
REWRITES=0; SIGHUPS=0; FLAPS=0; GEOSWAPS=0
ZONE_VER=A; GEO_CUR=A
FLAP_IDX=0; FLAP_DOWN=""          # index of the backend currently stopped, "" if none
CHUNK_N=0; LOAD_KIND=""
TCP_OK=0; TCP_FAIL=0; TCP_N=0
DIG_FAIL=0; DEAD=0; DEAD_AT=""; STEER_N=0; STEER_OK=0
SAMPLE_T=(); SAMPLE_RSS=(); SAMPLE_FD=()
RESULTS="$TMP/results.log"; : >"$RESULTS"
TCP_NAMES=("ns1.soak.test. A" "www.soak.test. A" "long._domainkey.example.com. TXT" "example.com. MX" "nxtcp.soak.test. A")

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$GEODNS_PID/status" 2>/dev/null || echo 0; }
fd_count() { local a=(/proc/"$GEODNS_PID"/fd/*); [[ -e "${a[0]}" ]] && echo "${#a[@]}" || echo 0; }
queries_so_far() { awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^answered=/) { split($i, kv, "="); s += kv[2] } } END { printf "%d", s }' "$RESULTS"; }

reap_load() {  # collects a finished loadgen chunk's result line
  local rc=0 line
  wait "$LOAD_PID" || rc=$?
  line=$(grep '^result ' "$TMP/chunks/$CHUNK_N.out" || true)
  [[ -n "$line" ]] || line="result sent=0 answered=0 lost=0"
  echo "kind=$LOAD_KIND chunk=$CHUNK_N rc=$rc ${line#result }" >>"$RESULTS"
  LOAD_PID=""
}
start_load() {  # $1 = seconds
  local ecs=()
  LOAD_KIND=${KINDS[$((CHUNK_N % ${#KINDS[@]}))]}
  CHUNK_N=$((CHUNK_N + 1))
  [[ $LOAD_KIND == geo ]] && ecs=(--ecs-subnets 20000)
  "$LOADGEN" --queries "$TMP/q-$LOAD_KIND.txt" --server 127.0.0.1 --port "$DNS_PORT" \
    --duration "$1" --inflight "$INFLIGHT" --sockets 2 --timeout-ms 1000 --quiet "${ecs[@]}" \
    >"$TMP/chunks/$CHUNK_N.out" 2>&1 &
  LOAD_PID=$!
}
reap_tcp() {
  local rc=0
  wait "$TCP_PID" || rc=$?
  if (( rc == 0 )) && grep -q 'status: \(NOERROR\|NXDOMAIN\)' "$TMP/tcp.out"; then
    TCP_OK=$((TCP_OK + 1))
  else
    TCP_FAIL=$((TCP_FAIL + 1))
  fi
  TCP_PID=""
}
start_tcp() {
  local q=${TCP_NAMES[$((TCP_N % ${#TCP_NAMES[@]}))]}
  TCP_N=$((TCP_N + 1))
  # shellcheck disable=SC2086
  dig @127.0.0.1 -p "$DNS_PORT" +tcp +tries=1 +time=2 $q >"$TMP/tcp.out" 2>&1 &
  TCP_PID=$!
}
sample() {
  local rss fds
  if ! kill -0 "$GEODNS_PID" 2>/dev/null; then
    DEAD=1; DEAD_AT=$T
    log "geodns is GONE"
    return
  fi
  rss=$(rss_kb); fds=$(fd_count)
  SAMPLE_T+=("$T"); SAMPLE_RSS+=("$rss"); SAMPLE_FD+=("$fds")
  local answer="ok"
  if ! dig_ok; then DIG_FAIL=$((DIG_FAIL + 1)); answer="NO ANSWER"; fi
  # Steering follows the flaps: 10 s after a flap (T % 20 == 10) the answer of www.soak.test
  # must be exactly the running backends. Reported, not a FAIL criterion.
  local steer=""
  if (( T % 20 == 10 )); then
    local want="" got b i
    for ((i = 0; i < ${#BACKENDS[@]}; i++)); do
      [[ "$FLAP_DOWN" == "$i" ]] || want+="${BACKENDS[$i]} "
    done
    got=$(dig @127.0.0.1 -p "$DNS_PORT" www.soak.test A +short +tries=3 +time=1 2>/dev/null | sort | tr '\n' ' ' || true)
    STEER_N=$((STEER_N + 1))
    if [[ "$got" == "$want" ]]; then STEER_OK=$((STEER_OK + 1)); steer=" steer=ok"; else steer=" steer=MISMATCH(want '${want% }' got '${got% }')"; fi
  fi
  log "rss=${rss}kB fds=$fds dig=$answer$steer answered=$(queries_so_far) tcp_ok=$TCP_OK tcp_fail=$TCP_FAIL" \
    "rewrites=$REWRITES sighup=$SIGHUPS flaps=$FLAPS geoip_swaps=$GEOSWAPS"
}

# ---- main loop ---------------------------------------------------------------------------
T=0
START_US=$(now_us)
sample
for ((T = 1; T <= DURATION; T++)); do
  target=$((START_US + T * 1000000))
  delta=$((target - $(now_us)))
  if (( delta > 0 )); then sleep "$(printf '%d.%06d' $((delta / 1000000)) $((delta % 1000000)))"; fi

  # load: next chunk as soon as the previous one is done (none shorter than 3 s at the end)
  if [[ -n "$LOAD_PID" ]] && ! kill -0 "$LOAD_PID" 2>/dev/null; then reap_load; fi
  left=$((DURATION - T))
  if [[ -z "$LOAD_PID" ]] && (( left >= 3 )); then start_load $((left < CHUNK ? left : CHUNK)); fi

  # TCP trickle: one query a second
  [[ -n "$TCP_PID" ]] && reap_tcp
  (( T < DURATION )) && start_tcp

  if (( T % 5 == 0 )); then
    if [[ $ZONE_VER == A ]]; then ZONE_VER=B; else ZONE_VER=A; fi
    write_soak_zone "$ZONE_VER"; REWRITES=$((REWRITES + 1))
  fi
  if (( T % 7 == 0 )); then
    kill -HUP "$GEODNS_PID" 2>/dev/null && SIGHUPS=$((SIGHUPS + 1))
  fi
  if (( T % 20 == 0 && T < DURATION )); then
    if [[ -z "$FLAP_DOWN" ]]; then
      stop_backend "${BACKENDS[$FLAP_IDX]}"; FLAP_DOWN=$FLAP_IDX
      log "flap: stopped ${BACKENDS[$FLAP_IDX]}"
    else
      start_backend "${BACKENDS[$FLAP_DOWN]}" || true; FLAP_DOWN=""
      log "flap: started ${BACKENDS[$FLAP_IDX]}"
      FLAP_IDX=$(((FLAP_IDX + 1) % ${#BACKENDS[@]}))
    fi
    FLAPS=$((FLAPS + 1))
  fi
  if (( T % 60 == 0 && T < DURATION )); then
    if [[ $GEO_CUR == A ]]; then swap_geoip "$GEO_B"; GEO_CUR=B; else swap_geoip "$GEO_A"; GEO_CUR=A; fi
    GEOSWAPS=$((GEOSWAPS + 1))
    log "geoip: now $([[ $GEO_CUR == A ]] && echo geoip/demo.mmdb || echo tests/data/geo/flat.mmdb)"
  fi
  if (( T % 10 == 0 )); then
    sample
    (( DEAD )) && break
  fi
done
T=$DURATION
ELAPSED=$(awk -v a="$START_US" -v b="$(now_us)" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')

# ---- wind down ---------------------------------------------------------------------------
# the last chunk ends on its own (duration + timeout); bounded wait, then stop it
for ((i = 0; i < 150 && ${#LOAD_PID} > 0; i++)); do
  kill -0 "$LOAD_PID" 2>/dev/null || break
  sleep 0.1
done
if [[ -n "$LOAD_PID" ]]; then kill "$LOAD_PID" 2>/dev/null || true; reap_load; fi
[[ -n "$TCP_PID" ]] && reap_tcp

METRICS=$(curl -s --max-time 3 "http://127.0.0.1:$CONTROL_PORT/metrics" || true)
metric() {  # $1 = metric name (summed over labels)
  awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $NF; found = 1 } END { if (found) printf "%d", s; else printf "n/a" }' <<<"$METRICS"
}
SERIAL_END=$(dig @127.0.0.1 -p "$DNS_PORT" soak.test SOA +short +tries=2 +time=1 2>/dev/null | awk '{ print $3 }' || true)

# geodns: SIGTERM, must exit 0 within 10 s
EXIT_CODE="n/a"
if (( ! DEAD )) && kill -0 "$GEODNS_PID" 2>/dev/null; then
  kill -TERM "$GEODNS_PID"
  for ((i = 0; i < 100; i++)); do
    kill -0 "$GEODNS_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$GEODNS_PID" 2>/dev/null; then
    kill -KILL "$GEODNS_PID" 2>/dev/null || true
    wait "$GEODNS_PID" 2>/dev/null || true
    EXIT_CODE="still running 10 s after SIGTERM (killed)"
  else
    EXIT_CODE=0
    wait "$GEODNS_PID" || EXIT_CODE=$?
  fi
else
  EXIT_CODE=0
  wait "$GEODNS_PID" || EXIT_CODE=$?
  EXIT_CODE="died during the run (status $EXIT_CODE)"
fi
GEODNS_PID=""
for b in "${BACKENDS[@]}"; do stop_backend "$b"; done

# ---- report ------------------------------------------------------------------------------
n=${#SAMPLE_T[@]}
BASE_IDX=-1
for ((i = 0; i < n; i++)); do
  if (( SAMPLE_T[i] >= WARMUP )); then BASE_IDX=$i; break; fi
done
RSS_FIRST=${SAMPLE_RSS[0]:-0}; FD_FIRST=${SAMPLE_FD[0]:-0}
RSS_END=${SAMPLE_RSS[$((n - 1))]:-0}; FD_END=${SAMPLE_FD[$((n - 1))]:-0}; T_END=${SAMPLE_T[$((n - 1))]:-0}
RSS_MAX=0; RSS_MAX_T=0
for ((i = 0; i < n; i++)); do
  if (( SAMPLE_RSS[i] > RSS_MAX )); then RSS_MAX=${SAMPLE_RSS[i]}; RSS_MAX_T=${SAMPLE_T[i]}; fi
done
if (( BASE_IDX >= 0 )); then
  RSS_BASE=${SAMPLE_RSS[$BASE_IDX]}; T_BASE="${SAMPLE_T[$BASE_IDX]}s"; FD_BASE=${SAMPLE_FD[$BASE_IDX]}
  GROWTH=$(awk -v a="$RSS_BASE" -v b="$RSS_END" 'BEGIN { if (a > 0) printf "%+.1f", (b - a) * 100 / a; else print "n/a" }')
  STEADY_MAX=0
  for ((i = BASE_IDX; i < n; i++)); do (( SAMPLE_RSS[i] > STEADY_MAX )) && STEADY_MAX=${SAMPLE_RSS[i]}; done
else
  RSS_BASE="n/a"; T_BASE="n/a"; FD_BASE="n/a"; GROWTH="n/a"; STEADY_MAX="n/a"
fi

read -r Q_CHUNKS Q_SENT Q_ANS Q_LOST Q_LATE Q_MISM Q_BADRC < <(awk '
  { c++; for (i = 1; i <= NF; i++) { split($i, kv, "=");
      if (kv[1] == "sent") s += kv[2]; else if (kv[1] == "answered") a += kv[2];
      else if (kv[1] == "lost") l += kv[2]; else if (kv[1] == "late") lt += kv[2];
      else if (kv[1] == "mismatched") m += kv[2]; else if (kv[1] == "rc" && kv[2] != 0) bad++ } }
  END { printf "%d %d %d %d %d %d %d\n", c, s, a, l, lt, m, bad }' "$RESULTS")

SAN_HITS=$(grep -cE 'AddressSanitizer|LeakSanitizer|ThreadSanitizer|runtime error' "$TMP/geodns.log" || true)
RELOAD_ERR_LOG=$(grep -c 'event=reload_error' "$TMP/geodns.log" || true)

echo
echo "================ soak summary ================"
echo "duration:        ${ELAPSED}s wall (${DURATION}s planned)$( (( DEAD )) && echo ", stopped early: geodns died at ~${DEAD_AT}s")"
echo "queries (UDP):   answered $Q_ANS, lost $Q_LOST, sent $Q_SENT over $Q_CHUNKS loadgen runs (late $Q_LATE, mismatched $Q_MISM, runs with non-zero exit $Q_BADRC)"
awk '{ k = ""; a = 0; l = 0; d = 0; for (i = 1; i <= NF; i++) { split($i, kv, "=");
         if (kv[1] == "kind") k = kv[2]; else if (kv[1] == "answered") a = kv[2];
         else if (kv[1] == "lost") l = kv[2]; else if (kv[1] == "duration_s") d = kv[2] }
       n[k]++; A[k] += a; L[k] += l; D[k] += d }
     END { for (k in n) printf "  %-9s %2d runs  answered %10d  lost %6d  avg %7.0f qps\n", k, n[k], A[k], L[k], (D[k] > 0 ? A[k] / D[k] : 0) }' "$RESULTS" | sort
echo "queries (TCP):   $TCP_OK ok, $TCP_FAIL failed (dig +tcp, one a second)"
echo "reloads:         $SIGHUPS SIGHUPs, $REWRITES zone rewrites (inotify), $GEOSWAPS GeoIP swaps;" \
  "geodns_reloads_total=$(metric geodns_reloads_total) geodns_reload_errors_total=$(metric geodns_reload_errors_total)" \
  "(reload_error log lines: $RELOAD_ERR_LOG); soak.test serial ${SERIAL_START:-n/a} -> ${SERIAL_END:-n/a}"
echo "flaps:           $FLAPS backend stops/starts; geodns_health_transitions_total=$(metric geodns_health_transitions_total)"
echo "server metrics:  geodns_queries_total=$(metric geodns_queries_total) geodns_dropped_total=$(metric geodns_dropped_total) geodns_fail_open_total=$(metric geodns_fail_open_total)"
echo "liveness:        $n samples, $DIG_FAIL without an answer; steering checks (10 s after each flap): $STEER_OK/$STEER_N matched the running backends"
echo "geodns log:      $(grep -o 'event=[a-z_]*' "$TMP/geodns.log" | sort | uniq -c | awk '$2 ~ /reload_done|reload_error|zone_loaded|geoip|health_change/ { printf "%s%s=%s", sep, substr($2, 7), $1; sep = " " }')"
echo "RSS (VmRSS):     first ${RSS_FIRST} kB (t=0), steady-state start ${RSS_BASE} kB (t=${T_BASE})," \
  "max ${RSS_MAX} kB (t=${RSS_MAX_T}s; after warm-up ${STEADY_MAX} kB), end ${RSS_END} kB (t=${T_END}s)"
echo "RSS growth:      ${GROWTH}% from t=${T_BASE} to the end (limit +${MAX_GROWTH}%)"
echo "open fds:        start $FD_FIRST, steady-state start $FD_BASE, end $FD_END"
echo "exit on SIGTERM: $EXIT_CODE"
echo "sanitizer/UB:    $SAN_HITS matching lines in geodns's stderr"

FAILS=()
(( DEAD )) && FAILS+=("geodns died (~${DEAD_AT}s)")
(( DIG_FAIL > 0 )) && FAILS+=("$DIG_FAIL liveness digs unanswered")
[[ "$EXIT_CODE" == 0 ]] || FAILS+=("exit on SIGTERM: $EXIT_CODE")
(( SAN_HITS > 0 )) && FAILS+=("sanitizer/runtime error reports in stderr")
if [[ "$GROWTH" == n/a ]]; then
  FAILS+=("no RSS sample after the warm-up")
elif awk -v g="$GROWTH" -v m="$MAX_GROWTH" 'BEGIN { exit !(g > m) }'; then
  FAILS+=("RSS grew ${GROWTH}% (> ${MAX_GROWTH}%)")
fi
(( Q_ANS > 0 )) || FAILS+=("no query answered")

if (( ${#FAILS[@]} == 0 )); then
  echo "RESULT: PASS (no crash, answering throughout, clean exit, RSS stable)"
  exit 0
fi
echo "RESULT: FAIL: $(IFS=';'; echo "${FAILS[*]}")"
echo "--- last lines of geodns's stderr ---"
tail -20 "$TMP/geodns.log"
if (( SAN_HITS > 0 )); then grep -E -A5 'AddressSanitizer|LeakSanitizer|runtime error' "$TMP/geodns.log" | head -40; fi
exit 1
