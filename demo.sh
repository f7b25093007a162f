#!/usr/bin/env bash
# Quick start: installs what is missing (Debian packages), builds a release binary and serves
# the shipped demo (zones/ + geoip/demo.mmdb) on 127.0.0.1:5353 and [::1]:5353 (geodns.toml).
# Stop it with Ctrl-C.
#   ./demo.sh            the demo as shipped
#   ./demo.sh --signed   the same zones signed with DNSSEC (keys made on first use in
#                        build/demo-signed/keys; the DS for a parent is printed)
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target geodns
args=()
# geodns.toml listens on 127.0.0.1 and ::1; a machine without IPv6 loopback gets IPv4 only.
if ! grep -qs '^00000000000000000000000000000001 ' /proc/net/if_inet6; then
  args+=(--listen 127.0.0.1:5353)
fi
config=geodns.toml
if [[ "${1:-}" == "--signed" ]]; then
  shift
  # A copy of the demo whose zones say dnssec = true, and a config naming the key directory.
  dir=build/demo-signed
  mkdir -p "$dir/zones"
  for f in zones/*.toml; do
    sed '/^\[zone\]$/a dnssec = true' "$f" >"$dir/zones/${f##*/}"
  done
  sed -e "s|^geoip = \"geoip/|geoip = \"$PWD/geoip/|" geodns.toml >"$dir/geodns.toml"
  printf '\n[dnssec]\nkey_directory = "keys"\n' >>"$dir/geodns.toml"
  config=$dir/geodns.toml
  for f in "$dir"/zones/*.toml; do
    # The zone's name key, else (as the loader does) the file's name.
    zone=$(sed -n 's/^name = "\([^"]*\)".*/\1/p' "$f" | head -n 1)
    [[ -n $zone ]] || zone=${f##*/} zone=${zone%.toml}
    [[ $zone == *. ]] || zone=$zone.
    if ! ls "$dir/keys/K$zone+"*.key >/dev/null 2>&1; then
      build/release/src/geodns dnssec keygen "$zone" --config "$config"
    fi
    echo "DS for the parent of $zone:"
    build/release/src/geodns dnssec ds "$zone" --config "$config"
  done
  echo "try: dig @127.0.0.1 -p 5353 www.example.com A +dnssec +subnet=46.4.0.0/16"
fi
exec build/release/src/geodns serve --config "$config" "${args[@]}" "$@"
