#!/usr/bin/env bash
# 10,000 health-check targets on geodns' single prober thread.
#
# Generates a zone with TARGETS addresses 127.1.x.y (100 datacenters of 100 addresses, one
# roundrobin name over all of them), each with a `tcp` (connect-only) check at the defaults
# (interval 1s, timeout 500ms, fall 3, rise 2), and one accept-and-close listener
# (bench/health_scale_listener.py) bound to 0.0.0.0:PORT: on Linux all of 127.0.0.0/8 is local,
# so that one socket accepts connections to every 127.1.x.y, and no packet leaves loopback.
# Once every target is up it measures, over MEASURE seconds: geodns' CPU (process and
# per-thread, from /proc), checks per second (from the control endpoint's /status), VmRSS.
# Then it stops the listener (a mass failure: every target refuses) and times how long until
# every target is down.
#
#   bench/health-scale.sh [--targets N] [--measure SECONDS] [--wait-up SECONDS] [--no-state]
#                         [--geodns PATH]
#
# --no-state runs geodns without a state_dir (no health.state written on transitions); by
# default a state_dir is used, as in production.
# Bounded: at most ~2 x WAIT_UP + MEASURE + 15 seconds; everything it starts is stopped on exit.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
TARGETS=10000
MEASURE=30
WAIT_UP=90
STATE=1
GEODNS="${GEODNS:-}"
DNS_PORT="${DNS_PORT:-5357}"
CONTROL_PORT="${CONTROL_PORT:-8057}"
CHECK_PORT="${CHECK_PORT:-28081}"

while [[ $# -gt 0 ]]; do
  case "$1" in
    --targets) TARGETS="$2"; shift 2 ;;
    --measure) MEASURE="$2"; shift 2 ;;
    --wait-up) WAIT_UP="$2"; shift 2 ;;
    --no-state) STATE=0; shift ;;
    --geodns) GEODNS="$2"; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
# shellcheck source=../scripts/find-geodns.sh
source "$ROOT/scripts/find-geodns.sh"
require_geodns "$ROOT"
(( TARGETS >= 100 && TARGETS <= 60000 )) || { echo "--targets must be 100..60000" >&2; exit 2; }
(( MEASURE >= 5 && MEASURE <= 120 )) || { echo "--measure must be 5..120" >&2; exit 2; }
(( WAIT_UP >= 5 && WAIT_UP <= 300 )) || { echo "--wait-up must be 5..300" >&2; exit 2; }

# Every check holds a socket for a moment; leave room above the target count.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "open files limit: $(ulimit -n)"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/geodns-scale.XXXXXX")"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- zone --------------------------------------------------------------------------------
mkdir -p "$TMP/zones" "$TMP/state"
python3 - "$TARGETS" "$CHECK_PORT" >"$TMP/zones/scale.bench.toml" <<'EOF'
import sys
n, port = int(sys.argv[1]), int(sys.argv[2])
per_dc = 100
print('[zone]\nname = "scale.bench."\n[zone.soa]\nmname = "ns1.scale.bench."\n'
      'rname = "hostmaster.scale.bench."\n[records]\n"@" = ["NS ns1.scale.bench."]\n'
      'ns1 = "A 127.0.0.1"\n')
print(f'[checks.tcp]\ntype = "tcp"\nport = {port}\n')  # interval/timeout/fall/rise: defaults
addrs = [f"127.1.{i // 250}.{i % 250 + 1}" for i in range(n)]
dcs = []
for d in range(0, n, per_dc):
    name = f"d{d // per_dc}"
    dcs.append(name)
    lst = ", ".join(f'"{a}"' for a in addrs[d:d + per_dc])
    print(f'[datacenters.{name}]\naddresses = [{lst}]\ncheck = "tcp"\n')
print('[steer.www]\nttl = 30\npolicy = "roundrobin"\nanswers = 4\ndatacenters = [' +
      ", ".join(f'"{d}"' for d in dcs) + ']')
EOF
STATE_DIR=""
((STATE)) && STATE_DIR="state"
cat >"$TMP/geodns.toml" <<EOF
[server]
listen = ["127.0.0.1:$DNS_PORT"]
threads = 1
zones = "zones"
geoip = ""
state_dir = "$STATE_DIR"
log_level = "warn"
[control]
listen = "127.0.0.1:$CONTROL_PORT"
EOF

# ---- listener + geodns -------------------------------------------------------------------
TOTAL_S=$((WAIT_UP + MEASURE + 120))  # a backstop only: cleanup stops it
python3 "$HERE/health_scale_listener.py" --port "$CHECK_PORT" --seconds "$TOTAL_S" \
  >"$TMP/listener.log" 2>&1 &
LISTENER_PID=$!
PIDS+=("$LISTENER_PID")
sleep 0.3
kill -0 "$LISTENER_PID" 2>/dev/null || { cat "$TMP/listener.log" >&2; exit 1; }

START=$EPOCHREALTIME
"$GEODNS" serve --config "$TMP/geodns.toml" >"$TMP/geodns.log" 2>&1 &
GEODNS_PID=$!
PIDS+=("$GEODNS_PID")

# One /status snapshot: "<epoch> <checks> <up> <down> <unknown> <top failure results>"
snapshot() {
  local t
  t=$EPOCHREALTIME
  curl -s --max-time 10 "http://127.0.0.1:$CONTROL_PORT/status" >"$TMP/status.json" || return 1
  python3 - "$TMP/status.json" "$t" <<'EOF'
import collections, json, sys
j = json.load(open(sys.argv[1]))
ts = j.get("targets", [])
st = collections.Counter(t["state"] for t in ts)
fails = collections.Counter(t["last_result"] for t in ts if t["state"] != "up")
checks = sum(t["checks"] for t in ts)
top = ";".join(f"{k}={v}" for k, v in fails.most_common(3))
print(sys.argv[2], checks, st.get("up", 0), st.get("down", 0), st.get("unknown", 0), len(ts), top or "-")
EOF
}
cpu_ticks() {  # utime+stime of the process, in clock ticks
  awk '{ print $14 + $15 }' "/proc/$GEODNS_PID/stat"
}
thread_ticks() {  # "tid comm ticks" per thread
  local f
  for f in /proc/"$GEODNS_PID"/task/*/stat; do
    sed -E 's/^([0-9]+) \((.*)\) (.*)$/\1 \2 \3/' "$f" | awk '{ print $1, $2, $14 + $15 }'
  done
}

echo "geodns pid $GEODNS_PID, $TARGETS tcp targets on port $CHECK_PORT," \
  "state_dir ${STATE_DIR:-none}, waiting until all are up..."
UP_AT=""
DEADLINE=$(( ${START%.*} + WAIT_UP ))
for ((i = 0; i < 300 && ${EPOCHREALTIME%.*} < DEADLINE; i++)); do
  sleep 2
  kill -0 "$GEODNS_PID" 2>/dev/null || { echo "geodns exited" >&2; cat "$TMP/geodns.log" >&2; exit 1; }
  if s=$(snapshot 2>/dev/null); then
    read -r ts _ up down unknown n top <<<"$s"
    printf '  t+%4.1fs: up %s, down %s, unknown %s of %s (%s)\n' \
      "$(awk -v a="$START" -v b="$ts" 'BEGIN { print b - a }')" "$up" "$down" "$unknown" "$n" "$top"
    if [[ "$n" == "$TARGETS" && "$up" == "$TARGETS" ]]; then
      UP_AT=$EPOCHREALTIME
      break
    fi
  fi
done
[[ -n "$UP_AT" ]] || echo "WARNING: not every target was up after ${WAIT_UP}s; measuring anyway"
kill -0 "$LISTENER_PID" 2>/dev/null || { echo "the listener exited early" >&2; cat "$TMP/listener.log" >&2; exit 1; }
if [[ -n "$UP_AT" ]]; then
  awk -v a="$START" -v b="$UP_AT" 'BEGIN { printf "all %d targets up %.1f s after start\n", '"$TARGETS"', b - a }'
fi

# ---- measurement window ------------------------------------------------------------------
S0=$(snapshot)
C0=$(cpu_ticks); T0=$EPOCHREALTIME
thread_ticks >"$TMP/threads0"
LISTEN0=$(awk '{ print $14 + $15 }' "/proc/$LISTENER_PID/stat")
sleep "$MEASURE"
C1=$(cpu_ticks); T1=$EPOCHREALTIME
thread_ticks >"$TMP/threads1"
LISTEN1=$(awk '{ print $14 + $15 }' "/proc/$LISTENER_PID/stat")
RSS=$(awk '/^VmRSS/ { print $2 }' "/proc/$GEODNS_PID/status")
HWM=$(awk '/^VmHWM/ { print $2 }' "/proc/$GEODNS_PID/status")
FDS=$(ls "/proc/$GEODNS_PID/fd" | wc -l)
S1=$(snapshot)
DIG=$(dig @127.0.0.1 -p "$DNS_PORT" www.scale.bench A +short +time=1 +tries=1 | tr '\n' ' ')

HZ=$(getconf CLK_TCK)
python3 - "$S0" "$S1" "$C0" "$C1" "$T0" "$T1" "$HZ" "$TMP/threads0" "$TMP/threads1" \
  "$LISTEN0" "$LISTEN1" "$RSS" "$HWM" "$FDS" "$TARGETS" <<'EOF'
import sys
(s0, s1, c0, c1, t0, t1, hz, th0, th1, l0, l1, rss, hwm, fds, n) = sys.argv[1:]
s0, s1 = s0.split(), s1.split()
hz, wall = int(hz), float(t1) - float(t0)
cpu = (int(c1) - int(c0)) / hz / wall * 100
checks_rate = (int(s1[1]) - int(s0[1])) / (float(s1[0]) - float(s0[0]))
def load(p):
    out = {}
    for line in open(p):
        tid, comm, ticks = line.split()
        out[tid] = (comm, int(ticks))
    return out
a, b = load(th0), load(th1)
threads = sorted(((b[t][1] - a.get(t, (None, 0))[1]) / hz / wall * 100, t, b[t][0]) for t in b)
threads.reverse()
print()
print(f"targets                 {n} (tcp connect checks, interval 1s, timeout 500ms)")
print(f"window                  {wall:.1f} s after every target was up")
print(f"checks/s (from /status) {checks_rate:.0f}  (expected ~{n}/s at interval 1s)")
print(f"state at end            up {s1[2]}, down {s1[3]}, unknown {s1[4]} ({s1[6]})")
print(f"geodns CPU              {cpu:.1f} % of one core (utime+stime, whole process)")
for pct, tid, comm in threads:
    print(f"  thread {tid:>7} {comm:<16} {pct:5.1f} %")
print(f"  -> busiest thread (the prober) {threads[0][0]:.1f} % of one core")
print(f"listener CPU            {(int(l1) - int(l0)) / hz / wall * 100:.1f} % (python accept+close)")
print(f"geodns VmRSS            {int(rss) / 1024:.1f} MiB (peak VmHWM {int(hwm) / 1024:.1f} MiB)")
print(f"geodns open fds         {fds}")
EOF
echo "dig www.scale.bench:      $DIG"

# ---- mass failure: the listener stops, every target's port refuses connections ------------
echo
echo "mass failure: stopping the listener; every target now fails (connection refused)..."
kill "$LISTENER_PID" 2>/dev/null || true
wait "$LISTENER_PID" 2>/dev/null || true
PIDS=("$GEODNS_PID")   # the listener is gone: never signal its pid again
FAIL_AT=$EPOCHREALTIME
DOWN_AT=""
DEADLINE=$(( ${FAIL_AT%.*} + WAIT_UP ))
for ((i = 0; i < 300 && ${EPOCHREALTIME%.*} < DEADLINE; i++)); do
  sleep 1
  if s=$(snapshot 2>/dev/null); then
    read -r ts _ up down unknown n top <<<"$s"
    printf '  t+%4.1fs: up %s, down %s of %s\n' \
      "$(awk -v a="$FAIL_AT" -v b="$ts" 'BEGIN { print b - a }')" "$up" "$down" "$n"
    if [[ "$down" == "$TARGETS" ]]; then DOWN_AT=$ts; break; fi
  fi
done
if [[ -n "$DOWN_AT" ]]; then
  awk -v a="$FAIL_AT" -v b="$DOWN_AT" 'BEGIN { printf "all %d targets down %.1f s after the failure (sampled every ~1-2 s)\n", '"$TARGETS"', b - a }'
else
  echo "NOT all targets down after ${WAIT_UP}s"
fi
grep -c . "$TMP/geodns.log" >/dev/null && { echo "geodns log (last 5 lines):"; tail -5 "$TMP/geodns.log"; }
