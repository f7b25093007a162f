#!/usr/bin/env bash
# Anycast with BIRD end to end (README "Anycast with BIRD"): two sites and a router, each a
# network namespace this test creates, joined by veth pairs. Each site runs BIRD with
# dist/anycast/bird.conf (only its defines rewritten), geodns on the anycast addresses
# 192.0.2.53 and fd00:53::53 (same zone, NSID site-a / site-b) and dist/anycast/
# geodns-anycast-check. The router runs BIRD with eBGP + BFD to both sites and prefers site-a
# (local_pref 200 against 100: best path, not ECMP, so every query has one expected site). A
# client in the router namespace queries both addresses at a fixed rate throughout while the
# test kills, hangs and restarts site-a's parts; the report prints per event the queries
# lost, how long answers were missing and when the router's route moved, and fails when the
# other site did not take over, or when a site joining cost a query.
#   usage: anycast_test.sh GEODNS_BINARY SOURCE_DIR WORK_DIR
#
# Needs root (network namespaces); skips when not root or when `ip netns add` is refused.
# Every process is started and stopped by PID; the namespaces go on exit, even on failure.
set -euo pipefail
skip() {
  echo "SKIP: $*"
  exit 77
}
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

geodns=$1
src=$2
work=$3
checker=$src/dist/anycast/geodns-anycast-check
client=$src/tests/anycast/anycast_client.py
[[ $(id -u) -eq 0 ]] || skip "needs root: creates network namespaces"
for tool in bird birdc ip /usr/bin/python3; do
  command -v "$tool" >/dev/null || fail "$tool is missing (scripts/install-deps.sh installs bird2)"
done
/usr/bin/python3 -c 'import dns.message' 2>/dev/null ||
  fail "python3-dnspython is missing (scripts/install-deps.sh)"
[[ -x "$geodns" ]] || fail "no geodns binary at $geodns"

rm -rf "$work"
mkdir -p "$work"/{r,a,b}
tag=gdac$$
R=${tag}r
declare -A ns=([a]=${tag}a [b]=${tag}b)
declare -A pid=()
created=()
cleanup() {
  local p
  for p in "${pid[@]}"; do
    kill -CONT "$p" 2>/dev/null || true # a stopped process cannot act on SIGTERM
    kill -TERM "$p" 2>/dev/null || true
  done
  for p in "${pid[@]}"; do
    for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  for n in "${created[@]}"; do ip netns del "$n" 2>/dev/null || true; done
}
trap cleanup EXIT

# start NAME NAMESPACE COMMAND...: in the background, its output in WORK/NAME.log.
start() {
  local name=$1 netns=$2
  shift 2
  ip netns exec "$netns" "$@" >"$work/$name.log" 2>&1 &
  pid[$name]=$!
}
stop() { # stop NAME: SIGTERM, then wait for it
  local p=${pid[$1]}
  kill -TERM "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
  unset "pid[$1]"
}
# The whole run is one timeline: each event is a line "time name expected-site router-dev"
# written just before the event happens.
mark() { echo "$(date +%s.%N) $*" >>"$work/marks.txt"; }
# wait_route DEV: both service routes at the router point into DEV (ra: site-a, rb: site-b).
wait_route() {
  for _ in $(seq 400); do
    if ip -n "$R" -4 route show 192.0.2.53/32 | grep -q " dev $1 " &&
      ip -n "$R" -6 route show fd00:53::53/128 | grep -q " dev $1 "; then
      return 0
    fi
    sleep 0.05
  done
  ip -n "$R" -4 route show 192.0.2.53/32
  ip -n "$R" -6 route show fd00:53::53/128
  for log in "$work"/*.log; do
    echo "--- ${log##*/}"
    tail -n 5 "$log"
  done
  fail "the service routes did not move to $1 within 20 s (logs in $work)"
}
# Answers from the new site for the report's last-second check; then the next event comes at a
# random point of the checkers' 500 ms round, so the figures are not all best or worst case.
settle() { sleep "2.$(printf %03d $((RANDOM % 500)))"; }
# wait_backup: the router holds site-b's routes too (after a session reset BGP takes a
# moment), so that a failure at site-a is measured against a backup that is there.
wait_backup() {
  for _ in $(seq 400); do
    if ip netns exec "$R" birdc -s "$work/r/bird.ctl" show route 192.0.2.53/32 | grep -q site_b4 &&
      ip netns exec "$R" birdc -s "$work/r/bird.ctl" show route fd00:53::53/128 | grep -q site_b6; then
      return 0
    fi
    sleep 0.05
  done
  ip netns exec "$R" birdc -s "$work/r/bird.ctl" show protocols
  fail "the router has no route from site-b within 20 s (logs in $work)"
}

echo "== namespaces"
ip netns add "$R" 2>"$work/netns.err" || skip "ip netns add refused: $(cat "$work/netns.err")"
created+=("$R")
for s in a b; do
  ip netns add "${ns[$s]}"
  created+=("${ns[$s]}")
done
for n in "${created[@]}"; do
  ip netns exec "$n" sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
  ip -n "$n" link set lo up
done
i=0
for s in a b; do
  i=$((i + 1))
  n=${ns[$s]}
  ip -n "$R" link add "r$s" type veth peer name up0 netns "$n"
  ip -n "$R" addr add "10.53.$i.1/30" dev "r$s"
  ip -n "$R" addr add "fd00:53:$i::1/64" dev "r$s"
  ip -n "$R" link set "r$s" up
  ip -n "$n" addr add "10.53.$i.2/30" dev up0
  ip -n "$n" addr add "fd00:53:$i::2/64" dev up0
  ip -n "$n" link set up0 up
  # The service addresses, local at both sites: geodns binds them whether announced or not.
  ip -n "$n" addr add 192.0.2.53/32 dev lo
  ip -n "$n" addr add fd00:53::53/128 dev lo
  # The announcement's switch: the checker holds this device open while geodns is fine.
  ip -n "$n" tuntap add dev geodns-ac0 mode tun
  ip netns exec "$n" sysctl -qw net.ipv6.conf.geodns-ac0.disable_ipv6=1 # as the unit does
  ip -n "$n" link set geodns-ac0 up
  # A backend address that swallows packets (a tun device nobody holds drops them): its TCP
  # check takes the whole timeout, so the first round of health checks (geodns "warming")
  # lasts 3 s.
  ip -n "$n" tuntap add dev sink0 mode tun
  ip -n "$n" link set sink0 up
  ip -n "$n" route add 10.53.9.0/24 dev sink0
done

echo "== BIRD"
# The site config is the shipped one; only its defines change (each must be found).
setdef() { # setdef FILE NAME VALUE
  grep -q "^define $2 = " "$1" || fail "dist/anycast/bird.conf has no define $2"
  sed -i "s|^define $2 = [^;]*;|define $2 = $3;|" "$1"
}
i=0
for s in a b; do
  i=$((i + 1))
  conf=$work/$s/bird.conf
  cp "$src/dist/anycast/bird.conf" "$conf"
  setdef "$conf" SITE_ID "10.53.$i.2"
  setdef "$conf" SITE_AS 64512
  setdef "$conf" UPSTREAM_AS 64500
  setdef "$conf" UPSTREAM4 "10.53.$i.1"
  setdef "$conf" UPSTREAM6 "fd00:53:$i::1"
  setdef "$conf" SERVICE4 192.0.2.53/32
  setdef "$conf" SERVICE6 fd00:53::53/128
  grep -q '^log syslog' "$conf" || fail "dist/anycast/bird.conf: no 'log syslog' line to redirect"
  sed -i "s|^log syslog.*|log \"$work/$s/bird-events.log\" all;|" "$conf"
done
cat >"$work/r/bird.conf" <<EOF
# The upstream router: learns the service routes from both sites, site-a preferred.
router id 10.53.0.1;
log "$work/r/bird-events.log" all;
protocol device { scan time 10; }
protocol kernel { ipv4 { import none; export all; }; }
protocol kernel { ipv6 { import none; export all; }; }
protocol bfd {
  interface "*" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; };
}
template bgp site {
  local as 64500;
  hold time 3;
  keepalive time 1;
  connect delay time 1;
  connect retry time 5;
  error wait time 1, 10;
  graceful restart off;
  bfd on;
}
protocol bgp site_a4 from site {
  neighbor 10.53.1.2 as 64512;
  ipv4 { import filter { if net = 192.0.2.53/32 then { bgp_local_pref = 200; accept; } reject; }; export none; };
}
protocol bgp site_b4 from site {
  neighbor 10.53.2.2 as 64512;
  ipv4 { import filter { if net = 192.0.2.53/32 then { bgp_local_pref = 100; accept; } reject; }; export none; };
}
protocol bgp site_a6 from site {
  neighbor fd00:53:1::2 as 64512;
  ipv6 { import filter { if net = fd00:53::53/128 then { bgp_local_pref = 200; accept; } reject; }; export none; };
}
protocol bgp site_b6 from site {
  neighbor fd00:53:2::2 as 64512;
  ipv6 { import filter { if net = fd00:53::53/128 then { bgp_local_pref = 100; accept; } reject; }; export none; };
}
EOF
for s in r a b; do
  bird -p -c "$work/$s/bird.conf" || fail "bird -p rejects $work/$s/bird.conf"
done
# -f: stays in the foreground, so $! is BIRD itself; its own socket and pidfile per namespace.
# Real-time priority (chrt execs BIRD, same PID): BFD declares a session down after 300 ms
# without packets, and a BIRD that waits that long for a core on a machine busy compiling
# would flap the very session a failover needs (README: give BIRD priority in production too).
start bird_r "$R" chrt -f 10 bird -f -c "$work/r/bird.conf" -s "$work/r/bird.ctl" \
  -P "$work/r/bird.pid"
for s in a b; do
  start "bird_$s" "${ns[$s]}" chrt -f 10 bird -f -c "$work/$s/bird.conf" \
    -s "$work/$s/bird.ctl" -P "$work/$s/bird.pid"
done

echo "== geodns"
for s in a b; do
  mkdir -p "$work/$s/zones"
  cat >"$work/$s/geodns.toml" <<EOF
[server]
listen = ["192.0.2.53:53", "[fd00:53::53]:53"]
threads = 1
zones = "zones"
geoip = ""
nsid = "site-$s"

[server.tcp]
threads = 0

[control]
listen = "127.0.0.1:8053"
EOF
  # The same zone at both sites; only NSID tells them apart.
  cat >"$work/$s/zones/anycast.test.toml" <<'EOF'
[zone]
name = "anycast.test."
ttl = 60

[zone.soa]
mname = "ns.anycast.test."
rname = "hostmaster.anycast.test."

[records]
"@" = ["NS ns.anycast.test."]
ns = ["A 192.0.2.53", "AAAA fd00:53::53"]

[datacenters.slow]
addresses = ["10.53.9.9"]
check = "silent"

[checks.silent]
type = "tcp"
port = 443
interval = "10s"
timeout = "3s"

[steer.www]
policy = "failover"
datacenters = ["slow"]
EOF
done
start_geodns() { start "geodns_$1" "${ns[$1]}" "$geodns" serve --config "$work/$1/geodns.toml"; }
start_checker() {
  start "checker_$1" "${ns[$1]}" /usr/bin/python3 "$checker" --interface geodns-ac0 \
    --dns 192.0.2.53 --dns '[fd00:53::53]:53' --zone anycast.test. --control 127.0.0.1:8053 \
    --interval 0.5 --timeout 0.25 --rise 2 --fall 2
}
for s in a b; do start_geodns "$s"; done
for s in a b; do start_checker "$s"; done
start routes "$R" ip -ts monitor route
echo "== waiting for site-a's routes at the router"
wait_route ra
ip netns exec "$R" birdc -s "$work/r/bird.ctl" show protocols

echo "== client: 200 queries/s (100 per address) from the router namespace"
start client "$R" /usr/bin/python3 "$client" send "$work/queries.txt" 200 200 192.0.2.53 fd00:53::53
sleep 0.5
mark baseline site-a
settle

echo "== kill -9 site-a's geodns"
wait_backup
mark kill_geodns site-b rb
kill -KILL "${pid[geodns_a]}"
wait "${pid[geodns_a]}" 2>/dev/null || true
wait_route rb
settle

echo "== restart it: not announced while warming"
mark join_after_restart site-a ra
start_geodns a
warming_seen=0
for _ in $(seq 100); do
  health=$(ip netns exec "${ns[a]}" /usr/bin/python3 -c '
import json, urllib.request
print(json.load(urllib.request.urlopen("http://127.0.0.1:8053/status", timeout=1))["health"])' \
    2>/dev/null || true)
  if [[ "$health" == warming ]]; then
    warming_seen=1
    ip -n "$R" -4 route show 192.0.2.53/32 | grep -q " dev rb " ||
      fail "site-a is announced while its geodns is warming"
    break
  fi
  sleep 0.05
done
((warming_seen)) || fail "never saw site-a's geodns warming (its /status): the not-ready case was not exercised"
wait_route ra
settle

echo "== SIGSTOP site-a's geodns (a hang: queries time out)"
wait_backup
mark hang_geodns site-b rb
kill -STOP "${pid[geodns_a]}"
wait_route rb
settle
mark recover_from_hang site-a ra
kill -CONT "${pid[geodns_a]}"
wait_route ra
settle

echo "== kill -9 site-a's checker (the announcement's dead-man switch)"
wait_backup
mark kill_checker site-b rb
kill -KILL "${pid[checker_a]}"
wait "${pid[checker_a]}" 2>/dev/null || true
wait_route rb
settle
mark recover_checker site-a ra
start_checker a
wait_route ra
settle

echo "== SIGSTOP site-a's BIRD (a frozen host: BFD at the router)"
wait_backup
mark freeze_bird site-b rb
kill -STOP "${pid[bird_a]}"
wait_route rb
settle
mark recover_bird site-a ra
kill -CONT "${pid[bird_a]}"
wait_route ra
settle

echo "== graceful stop: SIGTERM the checker (withdraws, waits 1 s), then stop geodns"
wait_backup
mark graceful_stop site-b rb
stop checker_a
stop geodns_a
wait_route rb
settle

echo "== geodns answers but its /status says warming: still not announced"
# geodns answers only after its first round of checks, or after that round's bound: the
# checker's /status test is what keeps a site out in the second case. A stand-in control
# endpoint says "warming" until told otherwise; geodns itself answers DNS meanwhile.
mark not_ready_status site-b rb
echo warming >"$work/a/health"
start fake_control "${ns[a]}" /usr/bin/python3 -c '
import http.server, json, sys
state = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"ok\n" if self.path == "/healthz" else json.dumps({"health": open(state).read().strip()}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", 8054), H).serve_forever()' "$work/a/health"
start_geodns a
start "checker_a" "${ns[a]}" /usr/bin/python3 "$checker" --interface geodns-ac0 \
  --dns 192.0.2.53 --dns '[fd00:53::53]:53' --zone anycast.test. --control 127.0.0.1:8054
for _ in $(seq 100); do
  ip netns exec "${ns[a]}" dig +short +tries=1 +time=1 @192.0.2.53 anycast.test. SOA | grep -q hostmaster && break
  sleep 0.1
done
sleep 2 # four rounds of the checker, all "not ready"
ip -n "$R" -4 route show 192.0.2.53/32 | grep -q " dev rb " ||
  fail "site-a is announced while its /status says warming"
mark join_when_ready site-a ra
echo ready >"$work/a/health"
wait_route ra
settle
mark end -
stop client
stop routes

echo "== report"
/usr/bin/python3 "$client" report "$work/queries.txt" "$work/marks.txt" "$work/routes.log" ||
  fail "see the report above (logs in $work)"
echo "PASS: the other site answered after every failure; no query lost when a site joined"
