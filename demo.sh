#!/usr/bin/env bash
# Quick start: installs what is missing (Debian packages), builds a release binary and serves
# the shipped demo (zones/ + geoip/demo.mmdb) on 127.0.0.1:5353 and [::1]:5353 (geodns.toml).
# Stop it with Ctrl-C.
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
exec build/release/src/geodns serve --config geodns.toml "${args[@]}" "$@"
