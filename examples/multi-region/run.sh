#!/usr/bin/env bash
# Multi-region demo: geodns on 127.0.0.1:5355 with zones/multi.example.toml and the demo GeoIP
# database. Clients are placed with EDNS Client Subnet (dig +subnet=...), so every region can
# be played from this machine; datacenters are taken down with `geodns ctl drain`, as a
# failed health check would. Shows, with dig:
#   1. EU: 70 % fra / 30 % ams (weighted pool, per resolver), and iad once both are down
#   2. NA: a 5 % canary (hashed pool: sticky per client subnet), iad failing over to ord
#   3. APAC: the nearest datacenter
#   4. capacity spillover: nrt's clients spread over sin and syd in proportion 2:1
#   5. the apex, steered beside its static records
#
#   examples/multi-region/run.sh     # uses build/release/src/geodns or build/default/src/geodns,
#                                    # or set GEODNS=/path/to/geodns
#
# Everything it starts is stopped on exit (Ctrl-C included); all traffic stays on loopback.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
NAME="www.multi.example"
DNS_PORT=5355
CONTROL=127.0.0.1:8055
WAIT_MAX_S=15 # give up waiting for a drain to show after this long

GEODNS="${GEODNS:-}"
# shellcheck source=../../scripts/find-geodns.sh
source "$ROOT/scripts/find-geodns.sh"
require_geodns "$ROOT"
command -v dig >/dev/null || { echo "dig is required (Debian: bind9-dnsutils)" >&2; exit 1; }

TMP="$(mktemp -d "${TMPDIR:-/tmp}/geodns-multi-region.XXXXXX")"
GEODNS_PID=""
cleanup() {
  if [[ -n "$GEODNS_PID" ]]; then
    kill "$GEODNS_PID" 2>/dev/null || true
    wait "$GEODNS_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- helpers -----------------------------------------------------------------------------
ask() { # $1 = client subnet, [$2 = resolver address]: the first address answered for $NAME
  dig @127.0.0.1 -p "$DNS_PORT" ${2:+-b "$2"} "$NAME" A +subnet="$1" +short +tries=1 +time=1 \
    2>/dev/null | grep -E '^[0-9.]+$' | head -n 1 || true
}
dc_of() { # address -> datacenter name (the zone gives each datacenter one address)
  case "$1" in
    192.0.2.10) echo fra ;;
    192.0.2.20) echo ams ;;
    198.51.100.10) echo iad ;;
    198.51.100.20) echo ord ;;
    198.51.100.99) echo canary ;;
    203.0.113.10) echo sin ;;
    203.0.113.20) echo nrt ;;
    203.0.113.30) echo syd ;;
    "") echo "(no answer)" ;;
    *) echo "$1" ;;
  esac
}
subnets() { # $1 = "a.b", $2 = count: a.b.0.0/24, a.b.1.0/24, ... (all inside one database network)
  local i
  for ((i = 0; i < $2; i++)); do echo "$1.$i.0/24"; done
}
count_dcs() { # reads addresses, one a line; prints how many each datacenter got. $1 = what
  local -A count=()
  local a dc total=0
  while read -r a; do
    dc=$(dc_of "$a")
    count[$dc]=$((${count[$dc]:-0} + 1))
    total=$((total + 1))
  done
  for dc in "${!count[@]}"; do
    local permille=$((count[$dc] * 1000 / total))
    printf '    %-8s %4d of %d %s  (%d.%d %%)\n' "$dc" "${count[$dc]}" "$total" "$1" \
      $((permille / 10)) $((permille % 10))
  done | sort -k2 -nr
}
tally() { # $1 = "a.b", $2 = count: which datacenter answers each client /24 in a.b.0.0/16
  local s
  for s in $(subnets "$1" "$2"); do printf '%s\n' "$(ask "$s")"; done | count_dcs "client subnets"
}
tally_resolvers() { # $1 = client subnet, $2 = count: the same client asked by $2 resolvers
  local i          # (source addresses 127.0.1.1, 127.0.1.2, ...: all of 127/8 is loopback)
  for ((i = 1; i <= $2; i++)); do printf '%s\n' "$(ask "$1" "127.0.1.$i")"; done | count_dcs "resolvers"
}
ctl() { "$GEODNS" ctl --control "$CONTROL" "$@" >/dev/null; }
wait_for() { # $1 = client subnet, $2 = datacenter it must get: polls until it does
  local i
  for ((i = 0; i < WAIT_MAX_S * 10; i++)); do
    [[ "$(dc_of "$(ask "$1")")" == "$2" ]] && return 0
    sleep 0.1
  done
  echo "  $1 still does not get $2 after ${WAIT_MAX_S}s" >&2
  exit 1
}
wait_leaves() { # $1 = client subnet, $2 = datacenter: polls until another one answers it
  local i dc
  for ((i = 0; i < WAIT_MAX_S * 10; i++)); do
    dc=$(dc_of "$(ask "$1")")
    [[ "$dc" != "$2" && "$dc" != "(no answer)" ]] && return 0
    sleep 0.1
  done
  echo "  $1 still gets $2 after ${WAIT_MAX_S}s" >&2
  exit 1
}
show() { # prints and runs a dig command
  echo "\$ dig @127.0.0.1 -p $DNS_PORT $* +short"
  dig @127.0.0.1 -p "$DNS_PORT" "$@" +short | sed 's/^/  /'
}

# ---- start -------------------------------------------------------------------------------
echo "== starting geodns on 127.0.0.1:$DNS_PORT (control on $CONTROL)"
"$GEODNS" serve --config "$HERE/geodns.toml" >"$TMP/geodns.log" 2>&1 &
GEODNS_PID=$!
for ((i = 0; i < 50; i++)); do
  [[ -n "$(ask 81.2.69.0/24)" ]] && break
  if ! kill -0 "$GEODNS_PID" 2>/dev/null; then
    echo "geodns exited; its log:" >&2
    cat "$TMP/geodns.log" >&2
    exit 1
  fi
  sleep 0.1
done

echo
echo "== 1. Europe: 70 % fra / 30 % ams   (a German client asked through 200 resolvers)"
echo "      weighted pools pick per resolver, so that each resolver's cached answer holds"
echo "      one datacenter for both A and AAAA"
show "$NAME" +subnet=46.4.0.0/24
tally_resolvers 46.4.0.0/24 200
echo "  fra and ams both down: Europe goes to iad"
ctl drain fra --reason "multi-region demo"
ctl drain ams --reason "multi-region demo"
wait_for 46.4.0.0/24 iad
tally 46.4 20
ctl undrain fra
ctl undrain ams
wait_leaves 46.4.0.0/24 iad

echo
echo "== 2. North America: 5 % canary   (256 client subnets in 24.48.0.0/16, Canada)"
echo "      a hashed pool picks per client subnet: a subnet keeps its datacenter"
tally 24.48 256
CANARY=""
IAD_SUBNET=""
for s in $(subnets 24.48 256); do
  case "$(dc_of "$(ask "$s")")" in
    canary) [[ -n "$CANARY" ]] || CANARY=$s ;;
    iad) [[ -n "$IAD_SUBNET" ]] || IAD_SUBNET=$s ;;
  esac
done
if [[ -n "$CANARY" ]]; then
  echo "  a canary subnet stays on the canary (hashed on the client subnet):"
  for i in 1 2 3; do printf '    %s -> %s\n' "$CANARY" "$(dc_of "$(ask "$CANARY")")"; done
fi
echo "  iad down: the 95 % fail over to ord, the canary keeps its share"
ctl drain iad --reason "multi-region demo"
wait_leaves "${IAD_SUBNET:-24.48.0.0/24}" iad
tally 24.48 256
ctl undrain iad

echo
echo "== 3. Asia-Pacific: the nearest of sin, nrt and syd"
for c in "133.1.0.0/24 Osaka" "202.108.0.0/24 Beijing" "14.139.0.0/24 Delhi" \
  "1.1.1.0/24 Sydney" "203.97.0.0/24 Auckland"; do
  subnet=${c% *}
  printf '    %-16s %-9s -> %s\n' "$subnet" "${c#* }" "$(dc_of "$(ask "$subnet")")"
done

echo
echo "== 4. Capacity spillover: nrt down; its clients spread over sin (capacity 200) and"
echo "      syd (capacity 100), not all onto the next nearest   (200 subnets in 133.1.0.0/16)"
echo "  before:"
tally 133.1 200
ctl drain nrt --reason "multi-region demo"
wait_leaves 133.1.0.0/24 nrt
echo "  nrt drained:"
tally 133.1 200
ctl undrain nrt

echo
echo "== 5. The apex is steered too, beside its static NS, MX and TXT"
show multi.example A +subnet=46.4.0.0/24
show multi.example A +subnet=24.48.0.0/24
show multi.example MX

echo
echo "done; stopping geodns."
