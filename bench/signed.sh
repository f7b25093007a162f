# bench/signed.sh: the signed servers of bench/compare --dnssec (sourced by bench/compare; uses
# its PORT, WORK, GEODNS_BIN, MMDB, LOADGEN_BIN and helpers).
#
#   geodns-signed  geodns serving bench.example. with `dnssec = true`, keys from
#                  `geodns dnssec keygen` in its own key directory ([dnssec] key_directory),
#                  static RRsets signed at load, www (steered) signed online
#   knot-signed    Knot serving the same zone with automatic signing (a KASP policy,
#                  `dnssec-signing: on`), NSEC, the same algorithm, one combined signing key
#
# Workload nxcold (with --dnssec): NXDOMAIN queries for names never asked before, a new set
# of 1,000,000 each round, so that geodns signs every compact-denial NSEC online (a signature
# cache miss per query) where nxdomain's 10,000 names are answered from a warm cache. Server
# CPU per answer on nxcold, signed minus unsigned (the same names without DO's records), is
# the cost of signing a denial online: a cache miss with its larger answer. Knot signed its
# NSEC chain at load, so its difference is only the larger answer (the control).
#
# With --dnssec every query carries DO (geodns-loadgen --dnssec-ok), so the unsigned servers
# answer the same queries without signatures: signed/unsigned is the price of signing for the
# same traffic. After the rounds it prints the paired ratios and the answer sizes (dig +dnssec,
# "MSG SIZE rcvd") for ECDSAP256SHA256 and Ed25519.
#
# SIGNED_ALGORITHM (ecdsap256sha256 | ed25519, default ecdsap256sha256) picks the algorithm
# of the measured rounds. SIGNED_KEYGEN=ldns makes geodns's keys with ldns-keygen (BIND-format
# files in the key directory) instead of `geodns dnssec keygen`. SIGNED_CACHE=N sets geodns's
# [dnssec] signature_cache (entries per worker; default: geodns's own default).
# shellcheck shell=bash
# shellcheck disable=SC2004,SC2034,SC2153 # PORT and PIDS belong to bench/compare, which sources this

SIGNED_ALGORITHM=${SIGNED_ALGORITHM:-ecdsap256sha256}
SIGNED_KEYGEN=${SIGNED_KEYGEN:-geodns}
SIGNED_CACHE=${SIGNED_CACHE:-}

# geodns's keygen option for an algorithm, by Knot's policy name.
geodns_algorithm_args() {  # $1 algorithm
  case $1 in
    ecdsap256sha256) echo "" ;;  # the default
    ed25519) echo "--algorithm ed25519" ;;
    *) die "unknown DNSSEC algorithm $1 (ecdsap256sha256 | ed25519)" ;;
  esac
}

geodns_can_sign() {
  [[ -x $GEODNS_BIN ]] || return 1
  [[ $SIGNED_KEYGEN == ldns ]] && return 0
  "$GEODNS_BIN" --help 2>&1 | grep -q dnssec
}

signed_available() {  # $1 server name; says why not, once
  case $1 in
    geodns-signed)
      if ! geodns_can_sign; then
        log "skipping geodns-signed: $GEODNS_BIN has no 'dnssec' command (issue 13 not merged)"
        return 1
      fi
      ;;
  esac
  return 0
}

write_geodns_signed() {  # $1 dir, $2 names, $3 algorithm, $4 listen port, $5 control port
  local dir=$1 names=$2 alg=$3
  write_geodns_zone "$dir/zones" "$names"
  sed -i 's/^ttl = 3600$/ttl = 3600\ndnssec = true/' "$dir/zones/bench.example.toml"
  grep -q '^dnssec = true$' "$dir/zones/bench.example.toml" || die "could not mark the zone signed"
  mkdir -p "$dir/keys"
  chmod 700 "$dir/keys"
  cat >"$dir/geodns.toml" <<EOF
[server]
listen = ["127.0.0.1:$4"]
threads = 1
zones = "zones"
geoip = "$MMDB"
log_level = "warn"

[control]
listen = "127.0.0.1:$5"

[dnssec]
key_directory = "keys"
EOF
  [[ -z $SIGNED_CACHE ]] || echo "signature_cache = $SIGNED_CACHE" >>"$dir/geodns.toml"
  if [[ $SIGNED_KEYGEN == ldns ]]; then
    local ldns_alg=ECDSAP256SHA256
    [[ $alg == ed25519 ]] && ldns_alg=ED25519
    (cd "$dir/keys" && ldns-keygen -a "$ldns_alg" -k bench.example && rm -f ./*.ds) \
      >"$dir/keygen.log" 2>&1 || { cat "$dir/keygen.log" >&2; die "ldns-keygen failed"; }
  else
    # shellcheck disable=SC2046 # the algorithm option is zero or two words
    "$GEODNS_BIN" dnssec keygen --config "$dir/geodns.toml" $(geodns_algorithm_args "$alg") \
      bench.example. >"$dir/keygen.log" 2>&1 || { cat "$dir/keygen.log" >&2; die "geodns dnssec keygen failed"; }
  fi
  "$GEODNS_BIN" check --config "$dir/geodns.toml" >"$dir/check.log" 2>&1 ||
    { cat "$dir/check.log" >&2; die "geodns check rejected the signed zone"; }
}

write_knot_signed() {  # $1 dir, $2 names, $3 algorithm, $4 port
  local dir=$1
  mkdir -p "$dir/zones" "$dir/db" "$dir/run"
  write_rfc1035_zone "$dir/zones/bench.example.zone" "$2"
  cat >"$dir/knot.conf" <<EOF
server:
    rundir: "$dir/run"
    listen: 127.0.0.1@$4
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: warning
database:
    storage: "$dir/db"
policy:
  - id: bench
    algorithm: $3
    single-type-signing: on  # one combined key, as geodns dnssec keygen makes by default
    nsec3: off
    rrsig-lifetime: 14d
    rrsig-refresh: 7d
template:
  - id: default
    storage: "$dir/zones"
    zonefile-sync: -1
zone:
  - domain: bench.example.
    file: "$dir/zones/bench.example.zone"
    dnssec-signing: on
    dnssec-policy: bench
EOF
  knotc -c "$dir/knot.conf" conf-check >"$dir/checkconf.log" 2>&1 ||
    { cat "$dir/checkconf.log" >&2; die "knot (signed) configuration rejected"; }
}

prepare_signed() {  # $1 name, $2 names
  local name=$1 dir=$WORK/$1
  case $name in
    geodns-signed) write_geodns_signed "$dir" "$2" "$SIGNED_ALGORITHM" "${PORT[geodns-signed]}" \
      "${PORT[geodns-signed-control]}" ;;
    knot-signed) write_knot_signed "$dir" "$2" "$SIGNED_ALGORITHM" "${PORT[knot-signed]}" ;;
  esac
}

launch_signed() {  # $1 name; sets PIDS[name]
  local name=$1 dir=$WORK/$1
  case $name in
    geodns-signed)
      taskset -c "$SERVER_CPU" "$GEODNS_BIN" serve --config "$dir/geodns.toml" \
        --threads 1 >"$dir/log" 2>&1 &
      ;;
    knot-signed) taskset -c "$SERVER_CPU" knotd -c "$dir/knot.conf" >"$dir/log" 2>&1 & ;;
  esac
  PIDS[$name]=$!
}

# A signed server must sign: RRSIG over host1's A with DO, none without (RFC 3225), and (geodns)
# an RRSIG over the steered answer. Then one warm-up second of each workload, so that the
# measured rounds see geodns's signature cache warm (the steered answer sets are few).
verify_signed() {  # $1 name
  local name=$1 port=${PORT[$1]} out i wl ecs
  for ((i = 0; i < 100; i++)); do
    out=$(dig_q "$port" +dnssec host1.bench.example A)
    grep -q 'RRSIG.*A 1[35] ' <<<"$out" && break
    sleep 0.1
  done
  grep -q 'RRSIG.*A 1[35] ' <<<"$out" || die "$name: no RRSIG over host1 A with DO: $out"
  out=$(dig_q "$port" host1.bench.example A)
  ! grep -q RRSIG <<<"$out" || die "$name: RRSIG without DO: $out"
  if [[ $name == geodns-signed ]]; then
    out=$(dig_q "$port" +dnssec +subnet=81.2.69.0/24 www.bench.example A)
    grep -q 'RRSIG.*A 1[35] ' <<<"$out" || die "$name: steered www not signed: $out"
  fi
  for wl in static nxdomain geo; do
    ecs=()
    if [[ $wl == geo ]]; then
      has_geo "$name" || continue
      ecs=(--ecs-subnets "$ECS_SUBNETS")
    fi
    "$LOADGEN_BIN" --queries "$WORK/q-$wl.txt" --server 127.0.0.1 --port "$port" --duration 1 \
      --inflight "$INFLIGHT" --cpu "$GEN_CPU" --quiet --dnssec-ok "${ecs[@]}" >/dev/null ||
      die "warm-up of $name ($wl) failed"
  done
  log "  $name signs (RRSIG with DO only), warmed up"
}

write_signed_workloads() {
  local r
  [[ " $WORKLOADS " == *" nxcold "* ]] || return 0
  for ((r = 1; r <= ROUNDS; r++)); do
    awk -v r="$r" 'BEGIN { for (i = 0; i < 1000000; i++) printf "cold%d-%d.bench.example. A\n", r, i }' \
      >"$WORK/q-nxcold-$r.txt"
  done
  cp "$WORK/q-nxcold-1.txt" "$WORK/q-nxcold.txt"  # for anything that asks without a round
}

# CPU microseconds per answer, median over rounds: 1e6 / qps_per_core.
us_per_answer() {  # $1 workload, $2 server
  local r v
  for ((r = 1; r <= ROUNDS; r++)); do
    v=$(grep "^round=$r workload=$1 server=$2 " "$RAW" | field qps_per_core)
    [[ -n $v && $v != 0 ]] && awk -v v="$v" 'BEGIN { printf "%.3f\n", 1e6 / v }'
  done | median
}

print_signed_tables() {
  local wl a b col
  printf '\nsigned / unsigned, all queries with DO (median over rounds of the per-round ratio)\n'
  printf '%-9s %-28s %10s %12s\n' workload pair qps qps/core
  for wl in $WORKLOADS; do
    [[ $wl == georeal ]] && continue
    for col in "geodns-signed geodns" "knot-signed knot" "geodns-signed knot-signed" \
      "geodns knot"; do
      read -r a b <<<"$col"
      if ! grep -q " workload=$wl server=$a " "$RAW" || ! grep -q " workload=$wl server=$b " "$RAW"; then
        continue
      fi
      printf '%-9s %-28s %10s %12s\n' "$wl" "$a/$b" "$(ratio_med "$wl" "$a" "$b" qps)" \
        "$(ratio_med "$wl" "$a" "$b" qps_per_core)"
    done
  done
  [[ " $WORKLOADS " == *" nxcold "* ]] || return 0
  printf '\nserver CPU per answer, us (median over rounds of 1e6 / qps_per_core)\n'
  printf '%-15s %10s %10s %16s %12s\n' server nxdomain nxcold "unsigned nxcold" "signing cost"
  for a in $ACTIVE; do
    [[ $a == *-signed ]] || continue
    local warm cold plain
    warm=$(us_per_answer nxdomain "$a")
    cold=$(us_per_answer nxcold "$a")
    plain=$(us_per_answer nxcold "${a%-signed}")
    printf '%-15s %10s %10s %16s %12s\n' "$a" "$warm" "$cold" "$plain" \
      "$(awk -v p="$plain" -v c="$cold" 'BEGIN { if (p == "n/a" || c == "n/a") print "n/a"; else printf "%.2f", c - p }')"
  done
}

msg_size() {  # $1 port, dig args: "MSG SIZE rcvd" of the answer (no cookie: geodns answers one, Knot not)
  local port=$1; shift
  dig_q "$port" +dnssec +bufsize=1232 +nocookie "$@" | awk '/MSG SIZE/ { print $NF }'
}

# Answer sizes per algorithm: each signed server started again on a spare port with that
# algorithm, the same queries with DO (and without, for the unsigned baseline).
signed_sizes() {
  local alg dir port=${PORT[sizes]} pid who
  printf '\nanswer sizes, bytes (dig +dnssec, MSG SIZE rcvd; unsigned: the same query to the unsigned server)\n'
  printf '%-15s %-16s %8s %8s %8s %8s\n' server algorithm host1/A nx/A www/A DNSKEY
  for who in knot geodns; do
    if [[ " $ACTIVE " == *" $who "* ]]; then
      printf '%-15s %-16s %8s %8s %8s %8s\n' "$who" unsigned \
        "$(msg_size "${PORT[$who]}" host1.bench.example A)" \
        "$(msg_size "${PORT[$who]}" nx-size.bench.example A)" \
        "$(has_geo "$who" && msg_size "${PORT[$who]}" +subnet=81.2.69.0/24 www.bench.example A || echo n/a)" \
        "-"
    fi
    [[ $who == geodns ]] && ! geodns_can_sign && { printf '%-15s %s\n' geodns-signed \
      "n/a: $GEODNS_BIN has no 'dnssec' command"; continue; }
    for alg in ecdsap256sha256 ed25519; do
      dir=$WORK/sizes-$who-$alg
      mkdir -p "$dir"
      if [[ $who == knot ]]; then
        write_knot_signed "$dir" "$STATIC_NAMES" "$alg" "$port"
        knotd -c "$dir/knot.conf" >"$dir/log" 2>&1 &
      else
        write_geodns_signed "$dir" "$STATIC_NAMES" "$alg" "$port" "${PORT[sizes-control]}"
        "$GEODNS_BIN" serve --config "$dir/geodns.toml" --threads 1 >"$dir/log" 2>&1 &
      fi
      pid=$!
      PIDS[sizes]=$pid
      local i
      for ((i = 0; i < 100; i++)); do
        dig_q "$port" +dnssec host1.bench.example A | grep -q 'RRSIG.*A 1[35] ' && break
        sleep 0.1
      done
      printf '%-15s %-16s %8s %8s %8s %8s\n' "$who-signed" "$alg" \
        "$(msg_size "$port" host1.bench.example A)" "$(msg_size "$port" nx-size.bench.example A)" \
        "$([[ $who == geodns ]] && msg_size "$port" +subnet=81.2.69.0/24 www.bench.example A || echo n/a)" \
        "$(msg_size "$port" bench.example DNSKEY)"
      stop_server sizes
    done
  done
}
