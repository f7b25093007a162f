# Sourced by the bench and example scripts: geodns_binary ROOT prints the geodns binary to use,
# the release preset's first (./demo.sh builds it), then the default preset's; nothing if
# neither is built. require_geodns ROOT does that for an unset $GEODNS and exits with a
# message when there is none.
geodns_binary() {
  local c
  for c in "$1/build/release/src/geodns" "$1/build/default/src/geodns"; do
    if [[ -x "$c" ]]; then
      printf '%s\n' "$c"
      return 0
    fi
  done
  return 1
}

require_geodns() {
  [[ -n "${GEODNS:-}" ]] || GEODNS="$(geodns_binary "$1" || true)"
  [[ -z "$GEODNS" || "$GEODNS" == /* ]] || GEODNS="$PWD/$GEODNS"
  if [[ -z "$GEODNS" || ! -x "$GEODNS" ]]; then
    echo "geodns binary not found: build it (./demo.sh, or cmake --preset release &&" \
      "cmake --build --preset release --target geodns), or name one (--geodns PATH or GEODNS=)" >&2
    exit 1
  fi
}
