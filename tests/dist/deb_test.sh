#!/usr/bin/env bash
# The Debian package end to end: build it (scripts/build-deb.sh: dpkg-buildpackage + lintian),
# install it with apt, `geodns check` the installed /etc/geodns, verify the unit with
# systemd-analyze and print its security exposure, serve the installed config as the packaged
# user (with the unit's ExecStart flags, on free loopback ports: systemd need not run here)
# until dig gets the steered answers, then purge the package and leave the machine as it was.
#   usage: deb_test.sh SOURCE_DIR WORK_DIR
#
# Opt-in (GEODNS_PACKAGE_TEST=1, set by .ci/run): it installs and removes a package on the
# machine and compiles the whole tree once more, which must not happen on a developer's
# `./test.sh` nor run beside the timing-sensitive integration tests.
set -euo pipefail
skip() {
  echo "SKIP: $*"
  exit 77
}
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

[[ "${GEODNS_PACKAGE_TEST:-}" == 1 ]] ||
  skip "set GEODNS_PACKAGE_TEST=1 to build, install and purge the geodns package here (.ci/run does)"
[[ $(id -u) -eq 0 ]] || skip "needs root: installs the .deb with apt and purges it"
command -v dpkg-buildpackage >/dev/null || skip "dpkg-buildpackage is not available (dpkg-dev)"
installed geodns && skip "a geodns package is already installed here; the test will not touch it"

src=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
user_existed=0
getent passwd geodns >/dev/null && user_existed=1
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    wait "$pid" 2>/dev/null || true
  fi
  if installed geodns || dpkg-query -W geodns >/dev/null 2>&1; then
    apt-get purge -y -qq geodns >/dev/null 2>&1 || true
  fi
  # Debian keeps a purged package's system user; a test run leaves none behind.
  if ((user_existed == 0)) && getent passwd geodns >/dev/null; then
    userdel geodns 2>/dev/null || true
    if getent group geodns >/dev/null; then groupdel geodns 2>/dev/null || true; fi
  fi
}
trap cleanup EXIT
export DEBIAN_FRONTEND=noninteractive

echo "== build"
if [[ -n "${GEODNS_PACKAGE_DEB:-}" ]]; then
  # A .deb built before (scripts/build-deb.sh), to iterate on the steps below.
  deb=$GEODNS_PACKAGE_DEB
  echo "testing $deb (GEODNS_PACKAGE_DEB), not building"
else
  start=$(date +%s)
  "$src/scripts/build-deb.sh" --output "$work" >"$work/build.log" 2>&1 ||
    { tail -50 "$work/build.log"; fail "build-deb.sh failed (log: $work/build.log)"; }
  deb=$(tail -1 "$work/build.log")
  echo "built $deb in $(($(date +%s) - start)) s; lintian tags not overridden:"
  grep -E '^[EWIPX]: ' "$work/build.log" || echo "  none"
fi
[[ -f "$deb" ]] || fail "no .deb: $deb"

echo "== install with apt"
apt-get install -y -qq "$deb" >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "apt-get install"; }
for f in /usr/sbin/geodns /lib/systemd/system/geodns.service /etc/geodns/geodns.toml \
  /etc/geodns/zones/example.com.toml /usr/share/geodns/demo.mmdb \
  /usr/share/man/man8/geodns.8.gz /usr/share/man/man5/geodns.toml.5.gz \
  /usr/share/geodns/grafana/geodns-dashboard.json /usr/share/geodns/prometheus/geodns-alerts.yml \
  /usr/share/doc/geodns/README.Debian /usr/share/doc/geodns/copyright; do
  [[ -e "$f" ]] || fail "the package does not install $f"
done
conffiles=$(dpkg-query -W -f='${Conffiles}' geodns)
for f in /etc/geodns/geodns.toml /etc/geodns/zones/example.com.toml; do
  grep -q " $f " <<<"$conffiles" || fail "$f is not a conffile"
done
getent passwd geodns >/dev/null || fail "postinst did not create the geodns user"
[[ $(stat -c %U /var/lib/geodns) == geodns ]] || fail "/var/lib/geodns is not owned by geodns"
echo "user: $(getent passwd geodns)"

echo "== geodns check /etc/geodns"
/usr/sbin/geodns check --config /etc/geodns/geodns.toml || fail "geodns check on the installed config"
/usr/sbin/geodns serve --help | grep -q "usage: geodns serve" || fail "serve --help"

echo "== systemd-analyze"
unit=/lib/systemd/system/geodns.service
if ! command -v systemd-analyze >/dev/null; then
  apt-get install -y -qq --no-install-recommends systemd >/dev/null
fi
grep -q '^User=geodns$' "$unit" || fail "the unit does not run as geodns"
grep -q '^ExecStart=/usr/sbin/geodns serve' "$unit" || fail "the unit does not start /usr/sbin/geodns"
systemd-analyze verify "$unit" || fail "systemd-analyze verify rejects the unit"
echo "systemd-analyze verify: ok"
# --offline reads the unit file itself, so it works without a running systemd (systemd 252).
systemd-analyze security --offline=yes --no-pager "$unit" >"$work/security.txt" 2>&1 ||
  { cat "$work/security.txt"; fail "systemd-analyze security"; }
grep -E '^✗|^✓' "$work/security.txt" | grep '^✗' || true
grep -i 'overall exposure level' "$work/security.txt" || fail "no exposure level"

echo "== serve as the geodns user"
free_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 40000))
    if ! ss -Hlnu "sport = :$p" | grep -q . && ! ss -Hlnt "sport = :$p" | grep -q .; then
      echo "$p"
      return
    fi
  done
  fail "no free port"
}
port=$(free_port)
control=$(free_port)
# The unit's ExecStart (config, state dir) plus loopback ports; setpriv execs, so $! is the
# server itself, running as geodns without new privileges, as under the unit.
read -r -a exec_start <<<"$(sed -n 's/^ExecStart=//p' "$unit")"
setpriv --reuid=geodns --regid=geodns --init-groups --no-new-privs -- "${exec_start[@]}" \
  --listen "127.0.0.1:$port" --control "127.0.0.1:$control" >"$work/serve.log" 2>&1 &
pid=$!
answer=""
for _ in $(seq 100); do
  answer=$(dig @127.0.0.1 -p "$port" +short +time=1 +tries=1 www.example.com A +subnet=81.2.69.0/24 2>/dev/null || true)
  # +short prints dig's own errors ("connection refused" before the socket is bound) too.
  grep -qE '^[0-9.]+$' <<<"$answer" && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/serve.log"; fail "geodns exited"; }
  sleep 0.2
done
echo "Europe: $(tr '\n' ' ' <<<"$answer")"
grep -qx '192.0.2.1[01]' <<<"$answer" || { cat "$work/serve.log"; fail "no fra answer for 81.2.69.0/24"; }
na=$(dig @127.0.0.1 -p "$port" +short www.example.com A +subnet=8.8.8.0/24)
echo "North America: $(tr '\n' ' ' <<<"$na")"
grep -qx '198.51.100.1[01]' <<<"$na" || fail "no iad answer for 8.8.8.0/24"
mx=$(dig @127.0.0.1 -p "$port" +short example.com MX)
grep -q 'mail.example.com.' <<<"$mx" || fail "no MX from the example zone"
[[ $(ps -o user= -p "$pid") == geodns ]] || fail "the server does not run as geodns"
metrics=$(curl -fsS "http://127.0.0.1:$control/metrics") || fail "/metrics"
grep -q '^geodns_build_info' <<<"$metrics" || fail "/metrics has no geodns_build_info"
kill "$pid"
wait "$pid" || true
pid=""

echo "== purge"
apt-get purge -y -qq geodns >/dev/null
for f in /usr/sbin/geodns /etc/geodns /var/lib/geodns /lib/systemd/system/geodns.service; do
  [[ ! -e "$f" ]] || fail "$f is left after purge"
done
echo "ok"
