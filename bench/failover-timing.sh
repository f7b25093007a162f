#!/usr/bin/env bash
# How fast does a failed backend leave geodns' answers, and how fast does it come back?
#
# Starts three HTTP backends (python3 -m http.server) on 127.0.0.21/.22/.23:8080 and geodns
# with a roundrobin name over them (answers 3, http checks at the defaults: interval 1s,
# timeout min(500ms, interval/2) = 500ms, fall 3, rise 2). Then, RUNS times, against one
# backend (rotating):
#   refused:    kill the backend (connections are refused) -> time until its address is gone;
#               start it again -> time (from when it listens again) until its address is back.
#   blackholed: SIGSTOP the backend (the kernel still completes the handshake, the request
#               hangs: "accepts but never answers") -> time until gone; SIGCONT -> until back.
# Each failure is injected at a random phase of the check interval. Answers are polled every
# 50 ms with a UDP query (bench/failover_poll.py). Loopback only; everything stopped on exit.
#
#   bench/failover-timing.sh [--runs N] [--geodns PATH] [--timeout DURATION] [--gdnsd]
#
# --timeout sets the check timeout explicitly (e.g. 800ms, the old default) instead of the
# default min(500ms, interval / 2).
# --gdnsd additionally runs the same scenarios against gdnsd's http_status monitor (if
# installed), at its fastest settings (interval 2 s, timeout 1 s) with the same thresholds.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
RUNS=5
GEODNS="${GEODNS:-}"
WITH_GDNSD=0
TIMEOUT=""
DNS_PORT="${DNS_PORT:-5355}"
CONTROL_PORT="${CONTROL_PORT:-8055}"
GDNSD_PORT="${GDNSD_PORT:-5356}"
BACKENDS=(127.0.0.21 127.0.0.22 127.0.0.23)
NAME_GEODNS="www.fo.bench"
MAX_WAIT=20   # seconds, per poll

while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --geodns) GEODNS="$2"; shift 2 ;;
    --gdnsd) WITH_GDNSD=1; shift ;;
    --timeout) TIMEOUT="$2"; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
# shellcheck source=../scripts/find-geodns.sh
source "$ROOT/scripts/find-geodns.sh"
require_geodns "$ROOT"
(( RUNS >= 1 && RUNS <= 50 )) || { echo "--runs must be 1..50" >&2; exit 2; }
POLL="$HERE/failover_poll.py"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/geodns-fo-bench.XXXXXX")"
declare -A BPID=()   # backend address -> pid
PIDS=()              # everything else we started
cleanup() {
  local p
  for p in "${BPID[@]}" "${PIDS[@]}"; do
    [[ -n "$p" ]] || continue
    kill -CONT "$p" 2>/dev/null || true
    kill "$p" 2>/dev/null || true
  done
  for p in "${BPID[@]}" "${PIDS[@]}"; do [[ -n "$p" ]] && wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

listening() {  # $1 = address: true when 8080 accepts a connection within 0.2 s
  python3 -c 'import socket,sys; socket.create_connection((sys.argv[1], 8080), timeout=0.2).close()' \
    "$1" 2>/dev/null
}
start_backend() {
  local addr=$1 dir="$TMP/www-$1" i
  mkdir -p "$dir"
  echo ok >"$dir/index.html"
  python3 -m http.server 8080 --bind "$addr" --directory "$dir" >>"$TMP/http-$addr.log" 2>&1 &
  BPID[$addr]=$!
  for ((i = 0; i < 50; i++)); do
    listening "$addr" && return 0
    sleep 0.1
  done
  echo "backend $addr did not start" >&2
  cat "$TMP/http-$addr.log" >&2
  exit 1
}
stop_backend() {
  local addr=$1
  kill "${BPID[$addr]}" 2>/dev/null || true
  wait "${BPID[$addr]}" 2>/dev/null || true
  BPID[$addr]=""
}

# ---- geodns ------------------------------------------------------------------------------
mkdir -p "$TMP/zones" "$TMP/state"
cat >"$TMP/zones/fo.bench.toml" <<EOF
[zone]
name = "fo.bench."
[zone.soa]
mname = "ns1.fo.bench."
rname = "hostmaster.fo.bench."
[records]
"@" = ["NS ns1.fo.bench."]
ns1 = "A 127.0.0.1"
[datacenters.d1]
addresses = ["${BACKENDS[0]}"]
check = "web"
[datacenters.d2]
addresses = ["${BACKENDS[1]}"]
check = "web"
[datacenters.d3]
addresses = ["${BACKENDS[2]}"]
check = "web"
[checks.web]               # interval, timeout, fall, rise: defaults
type = "http"
port = 8080
path = "/"
$([[ -n "$TIMEOUT" ]] && echo "timeout = \"$TIMEOUT\"")
[steer.www]
ttl = 1
policy = "roundrobin"
datacenters = ["d1", "d2", "d3"]
answers = 3
EOF
cat >"$TMP/geodns.toml" <<EOF
[server]
listen = ["127.0.0.1:$DNS_PORT"]
threads = 1
zones = "zones"
geoip = ""
state_dir = "state"
log_level = "info"
[control]
listen = "127.0.0.1:$CONTROL_PORT"
EOF

for b in "${BACKENDS[@]}"; do start_backend "$b"; done

# ---- gdnsd (optional) --------------------------------------------------------------------
GDNSD_NOTE=""
if (( WITH_GDNSD )); then
  if command -v gdnsd >/dev/null; then
    # gdnsd 3.8 http_status at its fastest: interval 2 s (its minimum; 1 is "out of range
    # (2, 3600)"), timeout 1 s (integer seconds, must be < interval), and geodns' thresholds:
    # down_thresh 3 (fall), up_thresh 2 (rise), ok_thresh 2. gdnsd has no fast re-check.
    mkdir -p "$TMP/gdnsd/zones"
    cat >"$TMP/gdnsd/config" <<EOF
options => {
  listen => [ 127.0.0.1 ]
  dns_port => $GDNSD_PORT
  run_dir => $TMP/gdnsd/run
  state_dir => $TMP/gdnsd/state
}
service_types => {
  web => {
    plugin => http_status
    port => 8080
    url_path => /
    interval => 2
    timeout => 1
    up_thresh => 2
    ok_thresh => 2
    down_thresh => 3
  }
}
plugins => {
  multifo => {
    service_types => [ web ]
    www => { d1 => ${BACKENDS[0]}, d2 => ${BACKENDS[1]}, d3 => ${BACKENDS[2]} }
  }
}
EOF
    cat >"$TMP/gdnsd/zones/fo.bench" <<'EOF'
@ 3600 SOA ns1 hostmaster 1 3600 600 1209600 60
@ 3600 NS ns1
ns1 3600 A 127.0.0.1
www 1 DYNA multifo!www
EOF
    gdnsd -c "$TMP/gdnsd" start \
      >"$TMP/gdnsd.log" 2>&1 &
    PIDS+=("$!")
  else
    GDNSD_NOTE="gdnsd not installed: skipped"
    WITH_GDNSD=0
TIMEOUT=""
  fi
fi

"$GEODNS" serve --config "$TMP/geodns.toml" >"$TMP/geodns.log" 2>&1 &
GEODNS_PID=$!
PIDS+=("$GEODNS_PID")

all_up() {  # $1 = server:port, $2 = name
  local b
  for b in "${BACKENDS[@]}"; do
    python3 "$POLL" --server "$1" --name "$2" --addr "$b" --until back --max "$MAX_WAIT" >/dev/null \
      || { echo "$b never answered by $1" >&2; return 1; }
  done
}
if ! all_up "127.0.0.1:$DNS_PORT" "$NAME_GEODNS"; then cat "$TMP/geodns.log" >&2; exit 1; fi
SERVERS=("geodns|127.0.0.1:$DNS_PORT|$NAME_GEODNS")
if (( WITH_GDNSD )); then
  if all_up "127.0.0.1:$GDNSD_PORT" "www.fo.bench"; then
    SERVERS+=("gdnsd|127.0.0.1:$GDNSD_PORT|www.fo.bench")
  else
    GDNSD_NOTE="gdnsd did not come up: skipped (log: $(tail -3 "$TMP/gdnsd.log" | tr '\n' ' '))"
  fi
fi

now() { echo "$EPOCHREALTIME"; }
RESULTS="$TMP/results.tsv"
: >"$RESULTS"
RANDOM=42

# Polls every server for `addr` leaving/joining its answer, all from the same start time.
poll_all() {  # $1 = gone|back, $2 = addr, $3 = since, $4 = run, $5 = scenario
  local s label server name pids=() i=0
  for s in "${SERVERS[@]}"; do
    IFS='|' read -r label server name <<<"$s"
    python3 "$POLL" --server "$server" --name "$name" --addr "$2" --until "$1" --since "$3" \
      --every 0.05 --max "$MAX_WAIT" >"$TMP/poll-$i" &
    pids+=("$!")
    i=$((i + 1))
  done
  i=0
  for s in "${SERVERS[@]}"; do
    IFS='|' read -r label server name <<<"$s"
    wait "${pids[$i]}" || true
    printf '%s\t%s\t%s\t%s\t%s\n' "$label" "$5" "$4" "$1" "$(cat "$TMP/poll-$i")" >>"$RESULTS"
    i=$((i + 1))
  done
}
settle() {  # everything back and a random phase of the 1 s check interval
  for s in "${SERVERS[@]}"; do
    IFS='|' read -r _ server name <<<"$s"
    all_up "$server" "$name"
  done
  sleep "$((RANDOM % 1000 + 500))e-3"
}

for ((run = 1; run <= RUNS; run++)); do
  addr=${BACKENDS[$(((run - 1) % 3))]}
  echo "run $run/$RUNS: backend $addr" >&2

  settle
  t=$(now); stop_backend "$addr"
  poll_all gone "$addr" "$t" "$run" refused
  start_backend "$addr"; t=$(now)
  poll_all back "$addr" "$t" "$run" refused

  settle
  t=$(now); kill -STOP "${BPID[$addr]}"
  poll_all gone "$addr" "$t" "$run" blackholed
  t=$(now); kill -CONT "${BPID[$addr]}"
  poll_all back "$addr" "$t" "$run" blackholed
done

# ---- report ------------------------------------------------------------------------------
python3 - "$RESULTS" "$RUNS" "${TIMEOUT:-default (500ms)}" <<'EOF'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
runs = int(sys.argv[2])
servers = []
for r in rows:
    if r[0] not in servers:
        servers.append(r[0])
targets = {("refused", "gone"): 2000, ("blackholed", "gone"): 3000,
           ("refused", "back"): 3000, ("blackholed", "back"): 3000}
print(f"failover timing: {runs} runs, poll every 50 ms, times in ms, geodns check timeout {sys.argv[3]}")
print("(gone: from kill/SIGSTOP; back: from the backend listening again / SIGCONT)\n")
hdr = f"{'server':7} {'scenario':10} {'event':5} " + " ".join(f"{'run'+str(i+1):>6}" for i in range(runs)) + f" {'median':>7} {'target':>7}"
print(hdr)
print("-" * len(hdr))
for srv in servers:
    for scen in ("refused", "blackholed"):
        for ev in ("gone", "back"):
            vals = [r[4] for r in rows if r[0] == srv and r[1] == scen and r[3] == ev]
            nums = [float(v) for v in vals if v != "timeout"]
            med = statistics.median(nums) if len(nums) == len(vals) and nums else float("nan")
            tgt = targets[(scen, ev)] if srv == "geodns" else ""
            ok = "" if srv != "geodns" else ("  ok" if med <= tgt else "  MISSED")
            print(f"{srv:7} {scen:10} {ev:5} " + " ".join(f"{v:>6}" for v in vals) +
                  f" {med:7.0f} {str(tgt):>7}{ok}")
EOF
[[ -n "$GDNSD_NOTE" ]] && echo "$GDNSD_NOTE"
echo "geodns: $("$GEODNS" version 2>/dev/null | head -1)"
