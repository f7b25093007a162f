# shellcheck shell=bash disable=SC2004,SC2154  # PIDS, PORT, CONTROL_PORT: the caller's associative arrays
# Sourced by bench/tcp-load.sh and bench/udp-under-tcp.sh: start geodns and Knot on free loopback
# ports, each in its own directory under $WORK, serving the same static names.
#
# The caller sets WORK, REPO, GEODNS_BIN (or BUILD and SERVERS, then calls bench_tools), declares the associative arrays PIDS, PORT and
# CONTROL_PORT, and may set SERVER_CPU (taskset -c list for the servers), SERVER_NICE (a nice
# value for them), GEODNS_TCP (extra lines for geodns's [server.tcp], e.g. "max_connections =
# 12000"), GEODNS_B_BIN (the binary of the server named geodns-b, an A/B against GEODNS_BIN in
# the same rounds) and WITH_CONTROL=1 (geodns's control endpoint on a free port, for /metrics).

# The binaries under $BUILD (GEODNS_BIN, TCPGEN, UDPGEN), Knot dropped from SERVERS when it
# is not installed, and a descriptor per connection for clients and servers. The caller's
# die() reports.
bench_tools() {
  GEODNS_BIN=$BUILD/src/geodns
  TCPGEN=$BUILD/bench/geodns-tcp-loadgen
  UDPGEN=$BUILD/bench/geodns-loadgen
  local bin
  for bin in "$GEODNS_BIN" "$TCPGEN" "$UDPGEN"; do
    [[ -x $bin ]] || die "$bin missing: cmake --build $BUILD --target geodns geodns-loadgen geodns-tcp-loadgen"
  done
  if [[ " $SERVERS " == *" knot "* ]] && ! command -v knotd >/dev/null; then
    echo "${0##*/}: knotd not installed (apt-get install knot): geodns only" >&2
    SERVERS=${SERVERS//knot/}
  fi
  ulimit -n "$(ulimit -Hn)"
  [[ $(ulimit -n) -ge 12000 ]] || die "RLIMIT_NOFILE hard limit $(ulimit -Hn) is below 12000"
}

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Pins to SERVER_CPU when it is set: a server that shares no core with its load generators is
# measured, not the scheduler's split of two cores between them. A prefix, not a function: a
# function run in the background is a subshell, and $! would be its PID, not the server's.
# With SERVER_NICE the server gets a session of its own (setsid) whose autogroup is given that
# nice value (boost_autogroup): with kernel.sched_autogroup_enabled a plain nice only ranks
# tasks within one session, so other sessions' builds would still take their equal share.
server_prefix() {
  SERVER_PREFIX=()
  if [[ -n ${SERVER_NICE:-} ]]; then SERVER_PREFIX+=(setsid); fi
  if [[ -n ${SERVER_CPU:-} ]]; then SERVER_PREFIX+=(taskset -c "$SERVER_CPU"); fi
}

boost_autogroup() {  # $1 pid, $2 nice: only that process's own session is affected
  [[ -n ${2:-} && -w /proc/$1/autogroup ]] || return 0
  echo "$2" >"/proc/$1/autogroup" 2>/dev/null || true
  local tids=()
  [[ -r /proc/$1/task ]] && mapfile -t tids < <(ls "/proc/$1/task")
  if [[ ${#tids[@]} -gt 0 ]]; then renice -n "$2" -p "${tids[@]}" >/dev/null 2>&1 || true; fi
}

# The names both servers answer, from the demo zone (zones/example.com.toml).
write_queries() {  # $1 file
  cat >"$1" <<'QEOF'
ns1.example.com. A
ns2.example.com. A
mail2.example.com. A
ns1.example.com. AAAA
example.com. SOA
example.com. NS
QEOF
}

start_geodns() {  # $1 server name: geodns (the default TCP threads), geodns-b or geodns-tcpN
  local name=$1 dir tcp_section="" control='""' bin=$GEODNS_BIN
  if [[ $name == geodns-b ]]; then
    [[ -x ${GEODNS_B_BIN:-} ]] || die "geodns-b needs GEODNS_B_BIN, an executable"
    bin=$GEODNS_B_BIN
  fi
  dir=$WORK/$name
  mkdir -p "$dir"
  PORT[$name]=$(free_port)
  if [[ $name == geodns-tcp* ]]; then
    tcp_section=$'[server.tcp]\n'"threads = ${name#geodns-tcp}"
  fi
  if [[ -n ${GEODNS_TCP:-} ]]; then
    tcp_section=${tcp_section:-[server.tcp]}$'\n'"$GEODNS_TCP"
  fi
  if [[ ${WITH_CONTROL:-0} == 1 ]]; then
    CONTROL_PORT[$name]=$(free_port)
    control="\"127.0.0.1:${CONTROL_PORT[$name]}\""
  fi
  cat >"$dir/geodns.toml" <<GEOF
[server]
listen = ["127.0.0.1:${PORT[$name]}"]
threads = 2
log_level = "warn"
state_dir = "$dir"
$tcp_section
[control]
listen = $control
GEOF
  server_prefix
  "${SERVER_PREFIX[@]}" "$bin" serve --config "$dir/geodns.toml" --zones "$REPO/zones" \
    --geoip "$REPO/geoip/demo.mmdb" >"$dir/log" 2>&1 &
  PIDS[$name]=$!
}

start_knot() {
  local dir=$WORK/knot
  mkdir -p "$dir/db" "$dir/run" "$dir/zones"
  PORT[knot]=$(free_port)
  cat >"$dir/zones/example.com.zone" <<'ZEOF'
$TTL 3600
@     IN SOA ns1.example.com. hostmaster.example.com. 1 3600 600 1209600 60
@     IN NS  ns1.example.com.
@     IN NS  ns2.example.com.
ns1   IN A    198.51.100.53
ns1   IN AAAA 2001:db8:53::1
ns2   IN A    203.0.113.53
mail2 IN A    203.0.113.25
ZEOF
  # Workers as many as geodns's threads; Knot's TCP defaults otherwise (tcp-max-clients etc.).
  cat >"$dir/knot.conf" <<KEOF
server:
    rundir: "$dir/run"
    listen: 127.0.0.1@${PORT[knot]}
    udp-workers: 2
    tcp-workers: 2
    background-workers: 1
log:
  - target: stderr
    any: warning
database:
    storage: "$dir/db"
template:
  - id: default
    storage: "$dir/zones"
    journal-content: none
    zonefile-sync: -1
zone:
  - domain: example.com.
    file: "$dir/zones/example.com.zone"
KEOF
  server_prefix
  "${SERVER_PREFIX[@]}" knotd -c "$dir/knot.conf" >"$dir/log" 2>&1 &
  PIDS[knot]=$!
}

wait_ready() {  # $1 name
  for _ in $(seq 1 100); do
    kill -0 "${PIDS[$1]}" 2>/dev/null || { cat "$WORK/$1/log" >&2; die "$1 exited"; }
    if dig +short +tries=1 +time=1 @127.0.0.1 -p "${PORT[$1]}" ns1.example.com A +tcp 2>/dev/null |
      grep -q 198.51.100.53; then
      boost_autogroup "${PIDS[$1]}" "${SERVER_NICE:-}"
      return 0
    fi
    sleep 0.1
  done
  die "$1 does not answer"
}

start_server() {  # $1 name
  case $1 in
    geodns | geodns-b | geodns-tcp[0-9]*) start_geodns "$1" ;;
    knot) start_knot ;;
    *) die "unknown server $1 (geodns, geodns-b, geodns-tcpN, knot)" ;;
  esac
  wait_ready "$1"
}
