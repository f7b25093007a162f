#!/usr/bin/env bash
# Installs the Debian 12 packages geodns needs to build, test and serve, if any is missing.
# Needs root (apt-get). Downloads nothing but Debian packages.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  # AF_XDP transport: libxdp/libbpf to load and attach, clang/llvm to build the BPF object;
  # iproute2/ethtool/xdp-tools for the veth rig of the XDP tests and bench/xdp.sh.
  libxdp-dev libbpf-dev clang llvm iproute2 ethtool xdp-tools curl
  libuv1-dev libldns-dev libmaxminddb-dev libtomlplusplus-dev libcurl4-openssl-dev
  nlohmann-json3-dev libsystemd-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  ldnsutils bind9-dnsutils knot-dnsutils knot python3-dnspython mmdb-bin
  unbound  # tests/dnssec/chain_test.py: the validating resolver (started with its own config)
  libmaxmind-db-writer-perl
  git gdnsd  # geodns diff --git tests; import --gdnsd is compared against a running gdnsd
  chromium chromium-driver  # the status page test (tests/dist/status_page_test.py)
  bird2 iproute2  # tests/anycast: BIRD and network namespaces
  systemd-container  # tests/dist/systemd_unit_test.sh: the unit under systemd-nspawn
  etcd-server etcd-client openssl  # fleet tests: their own etcd (TLS certificates by openssl)
)
if [[ "${1:-}" == "--fuzz" ]]; then
  packages+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages: ${missing[*]} (run as root to install them)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# The tests start their own knot, unbound and gdnsd on loopback: keep the packages from starting
# system-wide daemons on port 53 (unbound's would also take over the machine's resolver), by the
# Debian policy-rc.d convention, unless the machine already has a policy.
made_policy=0
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  made_policy=1
fi
trap '[[ $made_policy -eq 1 ]] && rm -f /usr/sbin/policy-rc.d' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# bird2 enables and starts its own bird.service (/etc/bird/bird.conf, /run/bird/bird.ctl) on
# install. The anycast test runs BIRDs of its own with their own sockets; a routing daemon
# that nobody configured has no business running on a build machine.
if [[ " ${missing[*]} " == *" bird2 "* ]] && [[ -d /run/systemd/system ]]; then
  systemctl disable --now bird.service >/dev/null 2>&1 || true
fi
# Debian's etcd-server starts a system etcd on 127.0.0.1:2379 where systemd runs: geodns
# tests start their own, and a stray one would answer a fleet configured with the defaults.
if [[ " ${missing[*]} " == *" etcd-server "* ]] && command -v systemctl >/dev/null &&
  systemctl is-system-running >/dev/null 2>&1; then
  systemctl disable --now etcd.service >/dev/null 2>&1 || true
fi
