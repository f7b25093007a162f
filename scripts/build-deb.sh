#!/usr/bin/env bash
# Builds the Debian package from this tree: installs the packaging tools and the build
# dependencies if missing (Debian packages only; needs root for that), copies the tree to a
# scratch directory (dpkg-buildpackage writes into the source tree and its parent), runs
# `dpkg-buildpackage -us -uc -b` there, then lintian on the result.
#   scripts/build-deb.sh [--output DIR]     default DIR: build/deb
# Prints the path of the .deb on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
out=$src/build/deb
while (($#)); do
  case $1 in
    --output) out=$2; shift 2 ;;
    *) echo "usage: scripts/build-deb.sh [--output DIR]" >&2; exit 2 ;;
  esac
done

# The build dependencies are the ones scripts/install-deps.sh installs for a source build;
# the tools are what dpkg-buildpackage, dh and lintian need.
scripts/install-deps.sh
tools=(dpkg-dev debhelper lintian)
missing=()
for p in "${tools[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "build-deb: missing packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  echo "build-deb: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

version=$(dpkg-parsechangelog -l debian/changelog -S Version)
arch=$(dpkg --print-architecture)
# A fixed scratch path, so ccache (if CMAKE_CXX_COMPILER_LAUNCHER says so) hits on a rebuild:
# the file-prefix map of Debian's flags puts the path into every compile command.
scratch=${TMPDIR:-/tmp}/geodns-deb
rm -rf "$scratch"
mkdir -p "$scratch/geodns-$version"
# The tree as it is, committed or not, without build outputs or ignored files (geoip/real);
# symlinks stay symlinks, files deleted but not yet committed are skipped.
git ls-files -z --cached --others --exclude-standard |
  tar --null --no-recursion --ignore-failed-read -T - -cf - 2>/dev/null |
  tar -xf - -C "$scratch/geodns-$version"

cd "$scratch/geodns-$version"
dpkg-checkbuilddeps
# With ccache on the machine, a rebuild of an unchanged file is a cache hit. debhelper points
# HOME at a scratch directory during the build, so the cache directory is named explicitly.
if command -v ccache >/dev/null && [[ -z "${CMAKE_CXX_COMPILER_LAUNCHER:-}" ]]; then
  export CMAKE_CXX_COMPILER_LAUNCHER=ccache CMAKE_C_COMPILER_LAUNCHER=ccache
fi
if [[ "${CMAKE_CXX_COMPILER_LAUNCHER:-}" == ccache && -z "${CCACHE_DIR:-}" ]]; then
  CCACHE_DIR=$(ccache --get-config cache_dir)
  export CCACHE_DIR
fi
DEB_BUILD_OPTIONS="parallel=${GEODNS_DEB_JOBS:-$(nproc)} ${DEB_BUILD_OPTIONS:-}" \
  nice dpkg-buildpackage -us -uc -b
cd "$scratch"
changes=geodns_${version}_${arch}.changes
# An error or warning tag fails the build; info and pedantic tags are printed. A tag we keep
# is overridden with its reason in debian/geodns.lintian-overrides.
lintian --fail-on error,warning --info --display-info "$changes"
mkdir -p "$out"
cp "geodns_${version}_${arch}.deb" "$out/"
cd /
rm -rf "$scratch"
echo "$out/geodns_${version}_${arch}.deb"
