#!/usr/bin/env bash
# Checks dist/geodns-alerts.yml with `promtool check rules` and runs its unit tests
# (tests/dist/alerts_test.yml: every alert fires on its synthetic series and stays quiet on
# the others).   usage: alerts_test.sh SOURCE_DIR CACHE_DIR
#
# promtool comes from Debian's prometheus package. When it is not installed, the package is
# downloaded (apt-get download: no root, nothing installed) and promtool, a static binary but
# for libc, is taken out of it into CACHE_DIR. Installing the package instead would start a
# Prometheus server on :9090 on any machine running systemd, a side effect no test may have.
set -euo pipefail
src=$1
cache=$2

promtool=$(command -v promtool || true)
if [[ -z "$promtool" ]]; then
  promtool="$cache/prometheus-deb/usr/bin/promtool"
  if [[ ! -x "$promtool" ]]; then
    if ! command -v apt-get >/dev/null; then
      echo "SKIP: no promtool and no apt-get to fetch Debian's prometheus package"
      exit 77
    fi
    mkdir -p "$cache"
    (cd "$cache" && rm -f prometheus_*.deb && apt-get download -qq prometheus)
    rm -rf "$cache/prometheus-deb"
    dpkg-deb -x "$cache"/prometheus_*.deb "$cache/prometheus-deb"
    rm -f "$cache"/prometheus_*.deb
  fi
fi
"$promtool" --version 2>&1 | head -1
"$promtool" check rules "$src/dist/geodns-alerts.yml"
"$promtool" test rules "$src/tests/dist/alerts_test.yml"
