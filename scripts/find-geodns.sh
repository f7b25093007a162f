# Sourced by the bench and example scripts: geodns_binary ROOT prints the geodns binary to use,
# the release preset's first (./demo.sh builds it), then the default preset's; nothing if
# neither is built.
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
