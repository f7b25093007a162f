#!/usr/bin/env bash
# dnsperf against geodns on one worker thread, serving the demo zones: static names, NXDOMAIN,
# and the geo-steered www with one fixed ECS subnet (dnsperf sends the same -E option with
# every query; bench/compare uses geodns-loadgen for 20,000 distinct subnets).
#
#   bench/dnsperf.sh [seconds]       (default 10 per workload)
#
# The server is pinned to CPU 0 and dnsperf to CPU 1. dnsperf itself tops out near 120k qps on
# one core here, so these figures bound dnsperf as much as geodns: see bench/compare for the
# saturating closed-loop generator. Traffic goes to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
if ! command -v dnsperf >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dnsperf >/dev/null
fi
bin=${GEODNS_BIN:-build/release/src/geodns}
if [[ ! -x $bin ]]; then
  cmake --preset release >/dev/null
  cmake --build --preset release -j"$(nproc)" --target geodns
fi
port=${PORT:-15353}
tmp=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

cat >"$tmp/geodns.toml" <<CONF
[server]
listen = ["127.0.0.1:$port"]
threads = 1
log_level = "warn"
[control]
listen = ""
CONF
taskset -c 0 "$bin" serve --config "$tmp/geodns.toml" --zones zones --geoip geoip/demo.mmdb &
pid=$!
for _ in $(seq 50); do
  dig @127.0.0.1 -p "$port" +time=1 +tries=1 ns1.example.com >/dev/null 2>&1 && break
  sleep 0.1
done

for n in ns1 ns2 mail mail2 www2 sip sip2 txt; do echo "$n.example.com A"; done >"$tmp/static.txt"
for i in $(seq 1 200); do echo "nx$i.example.com A"; done >"$tmp/nx.txt"
echo "www.example.com A" >"$tmp/geo.txt"

run() {  # name, datafile, extra dnsperf args...
  local name=$1 file=$2
  shift 2
  local out
  out=$(taskset -c 1 dnsperf -s 127.0.0.1 -p "$port" -d "$file" -l "$seconds" -c 8 -q 500 "$@" 2>&1)
  printf '%-10s %s   %s\n' "$name" "$(grep -E 'Queries per second' <<<"$out" | awk '{print $4 " qps"}')" \
    "$(grep -E 'Queries lost' <<<"$out" | sed 's/^ *//')"
}
echo "geodns, one worker on CPU 0; dnsperf on CPU 1; ${seconds}s per workload"
run static "$tmp/static.txt"
run nxdomain "$tmp/nx.txt"
# ECS option 8: family 1, source /24, scope 0, 81.2.69.0 (GB -> fra)
run geo+ecs "$tmp/geo.txt" -E 8:00011800510245
