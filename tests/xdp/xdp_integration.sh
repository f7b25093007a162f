#!/usr/bin/env bash
# End to end over AF_XDP: geodns with [server] xdp on one end of a veth pair, queried from a
# second network namespace. Needs root (CI runs as root). Exits 77 (ctest: skipped) only when
# the kernel refuses to attach XDP, with the reason; any other problem fails.
#   xdp_integration.sh GEODNS_BINARY SOURCE_DIR
set -uo pipefail

GEODNS=$1
SRC=$2
source "$SRC/tests/xdp/veth_rig.sh"
PY=/usr/bin/python3

fail() {
  echo "FAIL: $*" >&2
  [[ -f "${LOG:-}" ]] && { echo "--- geodns log:" >&2; tail -30 "$LOG" >&2; }
  exit 1
}
pass() { echo "ok: $*"; }

if [[ $(id -u) -ne 0 ]]; then
  fail "the XDP integration test needs root (network namespaces, XDP attach)"
fi
for tool in ip ethtool dig xdp-loader; do
  command -v "$tool" >/dev/null || fail "$tool missing (scripts/install-deps.sh installs it)"
done

TMP=$(mktemp -d /tmp/geodns-xdp-test.XXXXXX)
PID=
LOAD_PID=
cleanup() {
  [[ -n "$LOAD_PID" ]] && kill "$LOAD_PID" 2>/dev/null && wait "$LOAD_PID" 2>/dev/null
  [[ -n "$PID" ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  rig_down
  rm -rf "$TMP"
}
trap cleanup EXIT
rig_up "t$$" || fail "cannot build the veth rig"
S="ip netns exec $RIG_SRV"
C="ip netns exec $RIG_CLI"

mkdir -p "$TMP/zones"
big=""
for i in 1 2 3 4 5 6 7 8 9 10; do  # ~1340 bytes of answer
  big+="'TXT \"big record $i: $(printf 'x%.0s' {1..100})\"', "
done
cat >"$TMP/zones/xdp.test.toml" <<ZONE
[zone]
name = "xdp.test."
ttl = 300
[zone.soa]
mname = "ns1.xdp.test."
rname = "hostmaster.xdp.test."
[records]
"@" = "NS ns1.xdp.test."
ns1 = ["A $RIG_SRV4", "AAAA $RIG_SRV6"]
static = ["A 192.0.2.1", "AAAA 2001:db8::1"]
reload = 'TXT "before"'
big = [$big]
[datacenters.eu]
addresses = ["192.0.2.10"]
[datacenters.na]
addresses = ["198.51.100.10"]
[steer.www]
policy = "geo"
ttl = 30
map.EU = ["eu"]
map.default = ["na"]
ZONE
CONTROL=127.0.0.1:8053
cat >"$TMP/geodns.toml" <<CONF
[server]
listen = ["$RIG_SRV4:53", "[$RIG_SRV6]:53"]
xdp = ["$RIG_SRV_IF"]
threads = 1
max_udp_payload = 4096
zones = "zones"
geoip = "$SRC/geoip/demo.mmdb"
[control]
listen = "$CONTROL"
CONF

LOG=$TMP/geodns.log
start_geodns() {
  # Emptied here, not by the background job's redirection: the wait below must not find the
  # previous run's "ready" before the new process has truncated the file.
  : >"$LOG"
  $S "$GEODNS" serve --config "$TMP/geodns.toml" "$@" >>"$LOG" 2>&1 &
  PID=$!
  for _ in $(seq 1 100); do
    grep -q "event=ready" "$LOG" && return 0
    if ! kill -0 "$PID" 2>/dev/null; then
      wait "$PID"
      PID=
      return 1
    fi
    sleep 0.1
  done
  fail "geodns did not become ready"
}
if ! start_geodns --query-log; then
  if grep -q "event=xdp_error.*attach failed" "$LOG" && ! grep -q "needs root" "$LOG"; then
    echo "SKIP: the kernel refuses to attach XDP here: $(grep -o 'error=.*' "$LOG" | head -1)"
    exit 77
  fi
  fail "geodns did not start"
fi
grep -q "event=xdp_listening interface=$RIG_SRV_IF queue=0" "$LOG" || fail "no XDP queue served"

metric() {  # metric NAME LABELS -> value (0 when absent)
  local v
  local series="$1{$2} "
  [[ -z "$2" ]] && series="$1 "
  # Samples only: a line that starts with the series (not the # HELP / # TYPE lines).
  v=$($S curl -s "http://$CONTROL/metrics" | awk -v s="$series" 'index($0, s) == 1 {print $NF}')
  echo "${v:-0}"
}
xdp_rx() { metric geodns_xdp_packets_total 'result="received"'; }
xdp_tx() { metric geodns_xdp_packets_total 'result="sent"'; }
dq() { $C dig +time=2 +tries=2 "$@"; }

# 1. UDP over IPv4 goes through XDP, with the right answer.
rx0=$(xdp_rx)
tx0=$(xdp_tx)
out=$(dq +short @"$RIG_SRV4" static.xdp.test A)
[[ "$out" == "192.0.2.1" ]] || fail "UDP/IPv4 static answer: '$out'"
rx1=$(xdp_rx)
tx1=$(xdp_tx)
((rx1 == rx0 + 1 && tx1 == tx0 + 1)) || fail "XDP counters: received $rx0->$rx1 sent $tx0->$tx1"
# The query log sees it with the client's address from the frame (drained every 200 ms).
logged=
for _ in $(seq 1 30); do
  grep -Eq "event=query client=$RIG_CLI4 proto=udp name=static.xdp.test" "$LOG" && logged=1 && break
  sleep 0.1
done
[[ -n "$logged" ]] || fail "the XDP query is not in the query log"
pass "UDP/IPv4 answered over XDP (counted, logged with the client's address)"

# 1b. /status shows the XDP path per interface and queue, with that queue's own counters
# (the metrics sum all queues; the rig's veth has one, so the two must agree).
$S curl -s "http://$CONTROL/status" >"$TMP/status.json" || fail "GET /status"
"$PY" - "$TMP/status.json" "$RIG_SRV_IF" "$(xdp_rx)" "$(xdp_tx)" <<'PY' || fail "/status XDP section"
import json, sys
status = json.load(open(sys.argv[1]))
iface, rx, tx = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
x = status["xdp"]
assert x["enabled"] is True, x
assert len(x["queues"]) == 1, x
q = x["queues"][0]
want = {"interface": iface, "queue": 0, "mode": "native", "socket": "copy",
        "received": rx, "sent": tx, "dropped": 0, "malformed": 0}
assert q == want, f"{q} != {want}"
assert status["transport"]["xdp_received"] == rx, status["transport"]
PY
pass "/status: XDP on $RIG_SRV_IF queue 0, native, copy mode, its counters"
# The status page draws that section (its script runs in Chromium, as for tests/dist).
if [[ -x /usr/bin/chromium ]]; then
  dom=$($S timeout 60 /usr/bin/chromium --headless --no-sandbox --disable-gpu \
    --user-data-dir="$TMP/chromium" --virtual-time-budget=5000 --dump-dom "http://$CONTROL/" \
    2>/dev/null | tr '\n' ' ')
  row=$(grep -o "<tr data-xdp=\"$RIG_SRV_IF/0\">.*</tr>" <<<"$dom" | sed 's|</tr>.*||')
  grep -q "native" <<<"$row" && grep -q "<td>copy</td>" <<<"$row" ||
    fail "the status page's AF_XDP section has no native/copy row for $RIG_SRV_IF/0: ${row:-none}"
  pass "the status page shows the XDP queue"
else
  echo "note: /usr/bin/chromium not installed: the page's AF_XDP section is not checked"
fi

# 2. TCP stays on the kernel's sockets: answered, and not counted by XDP.
out=$(dq +tcp +short @"$RIG_SRV4" static.xdp.test AAAA)
[[ "$out" == "2001:db8::1" ]] || fail "TCP answer: '$out'"
(($(xdp_rx) == rx1)) || fail "a TCP query went through the XDP counters"
pass "TCP answered by the socket path"

# 3. ECS over XDP: the subnet decides the answer and the scope comes back.
out=$(dq @"$RIG_SRV4" www.xdp.test A +subnet=81.2.69.0/24)
grep -q "192.0.2.10" <<<"$out" || fail "ECS EU answer: $out"
grep -Eq "CLIENT-SUBNET: 81.2.69.0/24/[0-9]+" <<<"$out" || fail "no ECS option in: $out"
out=$(dq +short @"$RIG_SRV4" www.xdp.test A +subnet=8.8.8.0/24)
[[ "$out" == "198.51.100.10" ]] || fail "ECS default answer: '$out'"
pass "ECS steers over XDP"

# 4. IPv6 over XDP.
rx2=$(xdp_rx)
out=$(dq +short @"$RIG_SRV6" static.xdp.test AAAA)
[[ "$out" == "2001:db8::1" ]] || fail "UDP/IPv6 answer: '$out'"
(($(xdp_rx) == rx2 + 1)) || fail "the IPv6 query did not go through XDP"
pass "UDP/IPv6 answered over XDP"

# 5 and 6. A query with IPv4 options and a fragmented one: the program passes both to the
# kernel, whose socket answers; XDP counts neither.
udp_queries() { metric geodns_queries_total 'protocol="udp"'; }
rx3=$(xdp_rx)
q3=$(udp_queries)
$C "$PY" - "$RIG_SRV4" <<'PY' || fail "IPv4 options / fragmented queries not answered"
import socket, struct, sys
server = sys.argv[1]
def query(name, qid, pad=0):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 1)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00" + struct.pack(">HH", 1, 1)
    # OPT with a PADDING option (RFC 7830): makes the datagram as large as we want.
    opt = struct.pack(">HH", 12, pad) + b"\x00" * pad if pad else b""
    q += b"\x00" + struct.pack(">HHIH", 41, 4096, 0, len(opt)) + opt
    return q
def ask(sock, q, qid):
    sock.settimeout(3)
    for _ in range(3):
        sock.sendto(q, (server, 53))
        try:
            r, _ = sock.recvfrom(65535)
        except socket.timeout:
            continue
        if struct.unpack(">H", r[:2])[0] == qid and b"\xc0\x00\x02\x01" in r:
            return True
    return False
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
# Three NOPs and an end-of-options: IHL 6.
s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, b"\x01\x01\x01\x00")
ok1 = ask(s, query("static.xdp.test", 0x4242), 0x4242)
f = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
IP_MTU_DISCOVER, IP_PMTUDISC_DONT = 10, 0
f.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT)
ok2 = ask(f, query("static.xdp.test", 0x4343, 3000), 0x4343)  # > MTU: fragmented
print("options:", ok1, "fragmented:", ok2)
sys.exit(0 if ok1 and ok2 else 1)
PY
(($(xdp_rx) == rx3)) || fail "a query with IP options or fragments went through XDP"
(($(udp_queries) >= q3 + 2)) || fail "the socket path did not count the passed queries"
pass "IPv4 options and fragments answered by the kernel's socket"

# 7. Answers are sized to the MTU: over it they get TC (the pipeline truncates). ~1340
# bytes fit at MTU 1500 (1472 of payload); at 1280 (the least IPv6 allows) only 1252 do.
out=$(dq +norec +bufsize=4096 +ignore @"$RIG_SRV4" big.xdp.test TXT)
grep -q "flags: qr aa;" <<<"$out" || fail "the big answer should fit at MTU 1500: $out"
ip -n "$RIG_SRV" link set "$RIG_SRV_IF" mtu 1280 || fail "cannot lower the MTU"
kill "$PID" && wait "$PID"
PID=
start_geodns || fail "restart at MTU 1280"
out=$(dq +norec +bufsize=4096 +ignore @"$RIG_SRV4" big.xdp.test TXT)
grep -q "flags: qr aa tc;" <<<"$out" || fail "answer over the MTU without TC: $out"
rx4=$(xdp_rx)
((rx4 >= 1)) || fail "the big query did not go through XDP"
pass "answers over the MTU get TC"

# 8. A reload under load: a zone edit shows over XDP while queries keep being answered.
LOADLOG=$TMP/load.log
(
  lost=0
  for _ in $(seq 1 4000); do
    [[ -f "$TMP/stop-load" ]] && break
    $C dig +time=2 +tries=2 +short @"$RIG_SRV4" static.xdp.test A | grep -q 192.0.2.1 ||
      lost=$((lost + 1))
  done
  echo "$lost" >"$LOADLOG"
) &
LOAD_PID=$!
sleep 1
sed -i 's/TXT "before"/TXT "after"/' "$TMP/zones/xdp.test.toml"
seen=
for _ in $(seq 1 100); do
  if dq +short @"$RIG_SRV4" reload.xdp.test TXT | grep -q '"after"'; then
    seen=1
    break
  fi
  sleep 0.1
done
[[ -n "$seen" ]] || fail "the reloaded zone never showed over XDP"
sleep 1
touch "$TMP/stop-load"
wait "$LOAD_PID"
LOAD_PID=
lost=$(cat "$LOADLOG")
[[ "$lost" == "0" ]] || fail "$lost queries unanswered during the reload"
grep -q "event=reload" "$LOG" || grep -q "event=zone_loaded.*xdp.test" "$LOG" || fail "no reload logged"
pass "reload under load over XDP (no query lost)"

# 8b. Response rate limiting over XDP: it keys on the client address read from the frame.
kill "$PID" && wait "$PID"
PID=
cp "$TMP/geodns.toml" "$TMP/geodns.toml.orig"
printf '[server.rrl]\nenabled = true\nresponses_per_second = 2\nslip = 0\n' >>"$TMP/geodns.toml"
start_geodns || fail "start with RRL"
rx5=$(xdp_rx)
answered=$($C "$PY" - "$RIG_SRV4" <<'PY'
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
q = struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0) + b"\x06static\x03xdp\x04test\x00\x00\x01\x00\x01"
for _ in range(50):
    s.sendto(q, (sys.argv[1], 53))
s.settimeout(0.5)
n = 0
try:
    while True:
        s.recvfrom(4096)
        n += 1
except socket.timeout:
    pass
print(n)
PY
)
dropped=$(metric geodns_rrl_dropped_total "")
(($(xdp_rx) >= rx5 + 50)) || fail "the RRL burst did not go through XDP"
((answered > 0 && answered < 50)) || fail "RRL over XDP: $answered of 50 answered"
((dropped > 0)) || fail "RRL over XDP: nothing counted as dropped"
mv "$TMP/geodns.toml.orig" "$TMP/geodns.toml"
pass "RRL limits a burst over XDP ($answered of 50 answered, $dropped dropped)"

# 9. A killed geodns leaves its program; the next start replaces it, and a clean stop
# leaves the interface without XDP.
kill -9 "$PID"
wait "$PID" 2>/dev/null
PID=
$S xdp-loader status "$RIG_SRV_IF" | grep -q geodns_xdp || fail "no stale program after kill -9"
start_geodns || fail "restart after kill -9"
grep -q "event=xdp_stale_program_replaced" "$LOG" || fail "the stale program was not replaced"
out=$(dq +short @"$RIG_SRV4" static.xdp.test A)
[[ "$out" == "192.0.2.1" ]] || fail "answer after replacing the stale program: '$out'"
kill "$PID" && wait "$PID"
PID=
$S xdp-loader status "$RIG_SRV_IF" | grep -q geodns_xdp && fail "program left attached after stop"
pass "stale program replaced; clean detach on stop"

# 10. A missing interface is a start-up error naming it.
sed -i "s/xdp = \[\"$RIG_SRV_IF\"\]/xdp = [\"nosuch0\"]/" "$TMP/geodns.toml"
$S "$GEODNS" serve --config "$TMP/geodns.toml" >"$LOG" 2>&1 &
PID=$!
wait "$PID"
status=$?
PID=
# Non-zero rather than exactly 1: a sanitizer build may exit with its own code on top.
((status != 0)) || fail "a missing interface should fail the start"
grep -q "event=ready" "$LOG" && fail "ready despite a missing interface"
grep -q "xdp nosuch0: no such interface" "$LOG" || fail "no error naming the interface"
pass "missing interface reported"

# 11. Without privileges: the error says which ones are needed (not a driver refusal).
chmod 755 "$TMP" "$TMP/zones"
chmod 644 "$TMP/zones/xdp.test.toml" "$TMP/geodns.toml"
$S setpriv --reuid=65534 --regid=65534 --clear-groups "$GEODNS" serve --config "$TMP/geodns.toml" \
  --listen "$RIG_SRV4:5353" --control "" --xdp "$RIG_SRV_IF" >"$LOG" 2>&1 &
PID=$!
wait "$PID"
status=$?
PID=
((status != 0)) || fail "an unprivileged start should fail"
grep -q "event=ready" "$LOG" && fail "ready without privileges"
grep -q "xdp $RIG_SRV_IF: .*needs root, or CAP_NET_ADMIN, CAP_BPF and CAP_PERFMON" "$LOG" ||
  fail "no privilege error naming the interface"
grep -q "allows generic" "$LOG" && fail "a privilege error must not suggest generic mode"
pass "missing privileges reported"

echo "all XDP integration checks passed"
