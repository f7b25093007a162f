#!/bin/sh
# Optional: fetch a real, freely licensed country database (CC0-1.0 data from the
# ip-location-db project, built from RIR whois and ASN data) into geoip/real/, which git
# ignores. Never run by the build or the tests; a test that finds the file also checks it loads.
#
# Usage: geoip/fetch-real-db.sh [VERSION]
# The version is pinned so that a given checkout always serves the same data; pass another
# one (see `npm view @ip-location-db/geo-whois-asn-country-mmdb versions`) to update.
set -eu

PACKAGE=@ip-location-db/geo-whois-asn-country-mmdb
VERSION=${1:-2.3.2026061719}
FILE=geo-whois-asn-country.mmdb

here=$(cd "$(dirname "$0")" && pwd)
dest="$here/real"
command -v npm >/dev/null 2>&1 || { echo "fetch-real-db.sh: npm is required (apt-get install npm)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# --ignore-scripts: the package is data only; nothing of it needs to run.
(cd "$tmp" && npm install --silent --no-audit --no-fund --ignore-scripts --prefix "$tmp" \
  "$PACKAGE@$VERSION" >/dev/null)

src=$(find "$tmp/node_modules/$PACKAGE" -name "$FILE" -type f | head -n 1)
if [ -z "$src" ]; then
  echo "fetch-real-db.sh: $FILE not found in $PACKAGE@$VERSION" >&2
  exit 1
fi

mkdir -p "$dest"
cp "$src" "$dest/$FILE.tmp"
mv "$dest/$FILE.tmp" "$dest/$FILE"
echo "wrote $dest/$FILE ($PACKAGE@$VERSION)"
if command -v mmdblookup >/dev/null 2>&1; then
  mmdblookup -f "$dest/$FILE" -i 8.8.8.8 country_code
fi
