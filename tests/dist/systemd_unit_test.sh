#!/usr/bin/env bash
# The shipped unit (dist/geodns.service) and README's XDP drop-in under a real systemd: Debian's
# systemd booted by systemd-nspawn on a tmpfs root over the host's /usr (--volatile=yes: the
# container writes nothing of the host's), inside the server namespace of the veth rig
# (tests/xdp/veth_rig.sh), queried with dig from the client namespace.
#   1. the unit as shipped: Type=notify start, DynamicUser, port 53 through
#      CAP_NET_BIND_SERVICE alone, UDP and TCP answers, `systemctl reload`, stop;
#   2. with the drop-in (extracted from README.md, so the text operators copy is the one run):
#      UDP through XDP (the XDP counters), SIGKILL -> Restart=on-failure -> the stale program
#      replaced without CAP_SYS_ADMIN (the id recorded in the state directory), stop detaches.
# Needs root. Exits 77 (ctest: skipped) only when the kernel refuses XDP, for step 2.
#   systemd_unit_test.sh GEODNS_BINARY SOURCE_DIR
set -uo pipefail

GEODNS=$1
SRC=$2
source "$SRC/tests/xdp/veth_rig.sh"

fail() {
  echo "FAIL: $*" >&2
  if [[ -n "${LEADER:-}" ]]; then
    echo "--- journal of geodns.service:" >&2
    $IN journalctl -u geodns --no-pager 2>&1 | tail -25 >&2
  fi
  [[ -f "${TMP:-}/nspawn.log" ]] && { echo "--- nspawn:" >&2; tail -15 "$TMP/nspawn.log" >&2; }
  exit 1
}
pass() { echo "ok (${SECONDS}s): $*"; }

[[ $(id -u) -eq 0 ]] || fail "needs root (network namespaces, systemd-nspawn, XDP)"
for tool in systemd-nspawn nsenter ip dig curl; do
  command -v "$tool" >/dev/null || fail "$tool missing (scripts/install-deps.sh installs it)"
done

TMP=$(mktemp -d /tmp/geodns-systemd-test.XXXXXX)
NSPAWN_PID=
LEADER=
IN=
cleanup() {
  if [[ -n "$NSPAWN_PID" ]] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
    kill "$NSPAWN_PID" 2>/dev/null  # SIGTERM: nspawn powers the container off
    for _ in $(seq 1 40); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$NSPAWN_PID" 2>/dev/null
    wait "$NSPAWN_PID" 2>/dev/null
  fi
  rig_down
  rm -rf "$TMP"
}
trap cleanup EXIT
rig_up "u$$" || fail "cannot build the veth rig"
CLI="ip netns exec $RIG_CLI"

# What the container sees: the binary, /etc/geodns, the unit with its drop-in directory.
mkdir -p "$TMP/opt" "$TMP/etc/zones" "$TMP/units/geodns.service.d"
cp "$GEODNS" "$TMP/opt/geodns"
sed -e 's|/usr/local/bin/geodns|/opt/geodns/geodns|g' "$SRC/dist/geodns.service" \
  >"$TMP/units/geodns.service"
grep -q '^ExecStart=/opt/geodns/geodns serve' "$TMP/units/geodns.service" ||
  fail "dist/geodns.service has no ExecStart of /usr/local/bin/geodns to point at the test binary"
write_zone() {  # $1 the TXT value of version.unit.test
  cat >"$TMP/etc/zones/unit.test.toml" <<ZONE
[zone]
name = "unit.test."
ttl = 300
[zone.soa]
mname = "ns1.unit.test."
rname = "hostmaster.unit.test."
[records]
"@" = "NS ns1.unit.test."
ns1 = "A $RIG_SRV4"
www = "A 192.0.2.80"
version = 'TXT "$1"'
ZONE
}
write_config() {  # $1 extra [server] lines
  cat >"$TMP/etc/geodns.toml" <<CONF
[server]
listen = ["$RIG_SRV4:53"]
threads = 1
zones = "zones"
geoip = ""
$1
[control]
listen = "127.0.0.1:8053"
CONF
}
write_zone one
write_config ""

# The drop-in as README.md prints it: the first ini block of its XDP section.
awk '/^## XDP/ { x = 1 } x && /^```ini/ { on = 1; next } on && /^```/ { exit } on' \
  "$SRC/README.md" >"$TMP/xdp.conf"
grep -q '^AmbientCapabilities=' "$TMP/xdp.conf" || fail "no drop-in found in README.md's XDP section"

# basic.target: none of the host's installed servers (Knot, NSD, Unbound...) is started with it.
# The unit wants network-online.target; in here nothing manages the links (the rig's are
# configured already), so networkd's wait for them would hold every start for two minutes.
# The container may hand the service only what it has: nspawn's defaults lack CAP_NET_ADMIN,
# CAP_BPF, CAP_PERFMON and CAP_IPC_LOCK (and filter bpf()); the unit then narrows them.
systemd-nspawn --directory=/ --volatile=yes --boot --register=no --keep-unit --quiet \
  --machine="geodns-u$$" --capability=CAP_NET_ADMIN,CAP_BPF,CAP_PERFMON,CAP_IPC_LOCK \
  --system-call-filter=bpf --network-namespace-path="/run/netns/$RIG_SRV" \
  --bind-ro="$TMP/opt:/opt/geodns" --bind-ro="$TMP/etc:/etc/geodns" \
  --bind-ro="$TMP/units/geodns.service:/etc/systemd/system/geodns.service" \
  --bind-ro="$TMP/units/geodns.service.d:/etc/systemd/system/geodns.service.d" \
  -- systemd.firstboot=off systemd.unit=basic.target \
  systemd.mask=systemd-networkd-wait-online.service >"$TMP/nspawn.log" 2>&1 </dev/null &
NSPAWN_PID=$!
for _ in $(seq 1 120); do
  LEADER=$(pgrep -P "$NSPAWN_PID" -x systemd | head -1)
  [[ -n "$LEADER" ]] && break
  kill -0 "$NSPAWN_PID" 2>/dev/null || fail "systemd-nspawn exited"
  sleep 0.25
done
[[ -n "$LEADER" ]] || fail "the container's systemd did not start"
IN="nsenter -t $LEADER -m -u -i -p --"
state=
for _ in $(seq 1 240); do  # until its manager answers and the boot is over (60 s at most)
  state=$($IN systemctl is-system-running 2>/dev/null)
  [[ $state == running || $state == degraded ]] && break
  sleep 0.25
done
[[ $state == running || $state == degraded ]] || fail "the container did not boot (state: $state)"
pass "systemd $($IN systemctl --version | head -1 | cut -d' ' -f2) booted in a container"

svc() { $IN systemctl show geodns -p "$1" --value; }
ask() {  # $1 name, $2 type, rest: dig options -> the answer's data
  local name=$1 type=$2
  shift 2
  $CLI dig +short +tries=1 +time=2 "$@" @"$RIG_SRV4" "$name" "$type"
}

# 1. The unit as shipped.
$IN systemctl start geodns || fail "systemctl start geodns (shipped unit)"
[[ $(svc ActiveState) == active && $(svc StatusText) == serving ]] ||
  fail "not active/serving after start (Type=notify): $(svc ActiveState) $(svc StatusText)"
main=$(svc MainPID)
uid=$($IN ps -o uid= -p "$main" | tr -d ' ')
[[ -n $uid && $uid -ne 0 ]] || fail "the service runs as uid '$uid', not a dynamic user"
pass "Type=notify start: active, status 'serving', uid $uid (DynamicUser)"
[[ $(ask www.unit.test A) == 192.0.2.80 ]] || fail "no UDP answer on port 53"
[[ $(ask www.unit.test A +tcp) == 192.0.2.80 ]] || fail "no TCP answer on port 53"
pass "UDP and TCP answers on port 53 with CAP_NET_BIND_SERVICE alone"
write_zone two
$IN systemctl reload geodns || fail "systemctl reload geodns"
[[ $(ask version.unit.test TXT) == '"two"' ]] || fail "the reload did not serve the edited zone"
[[ $(svc MainPID) == "$main" ]] || fail "the reload restarted the process"
pass "systemctl reload: the edited zone served by the same process"
$IN systemctl stop geodns || fail "systemctl stop geodns"
[[ $(svc Result) == success ]] || fail "stop result: $(svc Result)"
pass "systemctl stop: result success"

# 2. With the drop-in and [server] xdp.
cp "$TMP/xdp.conf" "$TMP/units/geodns.service.d/xdp.conf"
write_config "xdp = [\"$RIG_SRV_IF\"]"
$IN systemctl daemon-reload
if ! $IN systemctl start geodns; then
  why=$($IN journalctl -u geodns --no-pager | grep -o 'error="xdp [^"]*' | tail -1)
  if [[ $why == *"attach failed"* && $why != *"needs root"* && $why != *"Permission"* &&
    $why != *"not permitted"* ]]; then
    echo "SKIP: the kernel refuses XDP on veth here: ${why#error=}"
    exit 77
  fi
  fail "systemctl start geodns with the README drop-in: ${why#error=}"
fi
caps=$($IN grep CapEff "/proc/$(svc MainPID)/status" | cut -f2)
[[ $(svc ActiveState) == active ]] || fail "not active with the drop-in"
[[ $(ask www.unit.test A) == 192.0.2.80 ]] || fail "no answer through XDP"
[[ $(ask www.unit.test A +tcp) == 192.0.2.80 ]] || fail "no TCP answer with XDP on"
received=$(ip netns exec "$RIG_SRV" curl -s 127.0.0.1:8053/metrics |
  sed -n 's/^geodns_xdp_packets_total{result="received"} //p')
[[ ${received:-0} -ge 1 ]] || fail "the UDP query did not go through XDP (received=${received:-none})"
pass "with the drop-in: UDP through XDP (received $received), TCP on the socket, CapEff $caps"
old=$(svc MainPID)
$IN systemctl kill -s KILL geodns
for _ in $(seq 1 60); do
  [[ $(svc NRestarts) -ge 1 && $(svc ActiveState) == active && $(svc MainPID) != "$old" ]] && break
  sleep 0.25
done
[[ $(svc NRestarts) -ge 1 && $(svc ActiveState) == active ]] ||
  fail "not restarted after SIGKILL (NRestarts=$(svc NRestarts), $(svc ActiveState))"
$IN journalctl -u geodns --no-pager | grep -q 'event=xdp_stale_program_replaced' ||
  fail "the restarted geodns did not replace the program its killed predecessor left"
[[ $(ask www.unit.test A) == 192.0.2.80 ]] || fail "no answer through XDP after the restart"
pass "SIGKILL: restarted by systemd, the stale XDP program replaced without CAP_SYS_ADMIN"
$IN systemctl stop geodns || fail "systemctl stop geodns (XDP)"
if ip -n "$RIG_SRV" link show "$RIG_SRV_IF" | grep -q 'prog/xdp'; then
  fail "the XDP program is still attached after stop"
fi
$IN journalctl -u geodns --no-pager | grep -q 'event=xdp_detach_failed' &&
  fail "a detach failed (journal: xdp_detach_failed)"
pass "systemctl stop: the XDP program detached"
echo "PASS"
