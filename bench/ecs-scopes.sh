#!/usr/bin/env bash
# bench/ecs-scopes.sh: the ECS scopes geodns and gdnsd announce for the same geo map over the
# same database, for 20,000 distinct client /24s (bench/ecs_scopes.py): mean scope length,
# distinct lengths and distinct scope networks (the cache entries a resolver keeps).
#
#   bench/ecs-scopes.sh [--geoip FILE] [--gdnsd-geoip FILE] [--subnets N]
#
# Default database: geoip/demo.mmdb. gdnsd reads only the GeoIP2 schema: --gdnsd-geoip gives it
# the same networks in that layout (for the real flat country database, the copy that
# bench/real-to-geoip2.pl writes, which is the default when --geoip is that database); without
# one, a flat database is measured on geodns only. GEODNS_BIN as in bench/compare. Both servers
# listen on 127.0.0.1 only and are stopped by PID on exit.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/geo-map.sh
source "$REPO/bench/geo-map.sh"
GEODNS_BIN=${GEODNS_BIN:-$REPO/build/release/src/geodns}
MMDB=$REPO/geoip/demo.mmdb
REAL_MMDB=$REPO/geoip/real/geo-whois-asn-country.mmdb
GDNSD_MMDB=""
SUBNETS=20000
while [[ $# -gt 0 ]]; do
  case $1 in
    --geoip) MMDB=$2; shift 2 ;;
    --gdnsd-geoip) GDNSD_MMDB=$2; shift 2 ;;
    --subnets) SUBNETS=$2; shift 2 ;;
    *) echo "ecs-scopes: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -x $GEODNS_BIN ]] || { echo "ecs-scopes: no geodns at $GEODNS_BIN" >&2; exit 2; }
[[ -f $MMDB ]] || { echo "ecs-scopes: no database at $MMDB" >&2; exit 2; }
if [[ -z $GDNSD_MMDB ]]; then
  if [[ $MMDB == "$REPO/geoip/demo.mmdb" ]]; then
    GDNSD_MMDB=$MMDB
  elif [[ $MMDB -ef $REAL_MMDB && -f $REPO/geoip/real/geo-whois-asn-country-geoip2.mmdb ]]; then
    GDNSD_MMDB=$REPO/geoip/real/geo-whois-asn-country-geoip2.mmdb
  fi
fi
WORK=$(mktemp -d /tmp/geodns-scopes.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

mkdir -p "$WORK/geodns"
{
  cat <<'TOML'
[zone]
name = "bench.example."
[zone.soa]
mname = "ns1.bench.example."
rname = "hostmaster.bench.example."
[records]
"@" = ["NS ns1.bench.example."]
ns1 = "A 192.0.2.53"
TOML
  geo_map_toml
} >"$WORK/geodns/bench.example.toml"
GPORT=$(free_port)
"$GEODNS_BIN" serve --zones "$WORK/geodns" --geoip "$MMDB" --listen "127.0.0.1:$GPORT" \
  --control "127.0.0.1:$(free_port)" --threads 1 >"$WORK/geodns.log" 2>&1 &
PIDS+=($!)

run_gdnsd=0
if command -v gdnsd >/dev/null && [[ -n $GDNSD_MMDB ]]; then
  run_gdnsd=1
  DPORT=$(free_port)
  mkdir -p "$WORK/gdnsd/zones" "$WORK/gdnsd/run" "$WORK/gdnsd/state"
  # shellcheck disable=SC2016 # $ORIGIN and $TTL are zone-file directives
  printf '$ORIGIN bench.example.\n$TTL 3600\n@ SOA ns1 hostmaster 1 3600 600 1209600 60\n@ NS ns1\nns1 A 192.0.2.53\nwww 30 DYNA geoip!www\n' \
    >"$WORK/gdnsd/zones/bench.example"
  cat >"$WORK/gdnsd/config" <<CONF
options => {
  listen => { "127.0.0.1:$DPORT" => { udp_threads => 1, tcp_threads => 1 } }
  edns_client_subnet => true
  run_dir => "$WORK/gdnsd/run"
  state_dir => "$WORK/gdnsd/state"
}
$(geo_map_gdnsd "$GDNSD_MMDB")
CONF
  gdnsd -c "$WORK/gdnsd" start >"$WORK/gdnsd.log" 2>&1 &
  PIDS+=($!)
fi

ready() {  # $1 port
  for _ in $(seq 1 200); do
    dig @127.0.0.1 -p "$1" +time=1 +tries=1 +short www.bench.example A 2>/dev/null | grep -q . && return 0
    sleep 0.05
  done
  return 1
}
ready "$GPORT" || { cat "$WORK/geodns.log" >&2; exit 1; }
printf 'geodns %s\n' "$(/usr/bin/python3 "$REPO/bench/ecs_scopes.py" --port "$GPORT" --subnets "$SUBNETS")"
if [[ $run_gdnsd -eq 1 ]]; then
  ready "$DPORT" || { cat "$WORK/gdnsd.log" >&2; exit 1; }
  printf 'gdnsd  %s\n' "$(/usr/bin/python3 "$REPO/bench/ecs_scopes.py" --port "$DPORT" --subnets "$SUBNETS")"
else
  echo "gdnsd  skipped (not installed, or no GeoIP2-layout database: see --gdnsd-geoip)"
fi
