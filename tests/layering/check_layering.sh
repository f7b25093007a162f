#!/usr/bin/env bash
# The layering rule of DESIGN.md's architecture list: a folder of src/ may include only the
# folders listed before it (common first, main last), never one after it. Fails, naming
# every offending file:line, when an #include "folder/..." points the wrong way.
#   check_layering.sh SRC_DIR
set -euo pipefail
src=${1:?usage: check_layering.sh SRC_DIR}
# DESIGN.md, "Architecture": the order is the allowed direction of includes.
order=(common dns dnssec geo steer zone fleet health server ops main)

rank() {
  local i
  for i in "${!order[@]}"; do
    [[ ${order[$i]} == "$1" ]] && { echo "$i"; return; }
  done
  echo -1
}

status=0
checked=0
while IFS= read -r -d '' file; do
  rel=${file#"$src"/}
  folder=${rel%%/*}
  [[ $rel == */* ]] || folder=main  # src/main.cpp
  own=$(rank "$folder")
  if ((own < 0)); then
    echo "$rel: folder \"$folder\" is not in DESIGN.md's architecture list" >&2
    status=1
    continue
  fi
  checked=$((checked + 1))
  while IFS=: read -r line included; do
    target=${included%%/*}
    other=$(rank "$target")
    ((other < 0)) && continue  # a system or third-party header
    if ((other > own)); then
      echo "$rel:$line: $folder may not include $included ($target comes after $folder)" >&2
      status=1
    fi
  done < <(grep -n -E '^[[:space:]]*#[[:space:]]*include[[:space:]]+"[a-z_]+/' "$file" |
           sed -E 's/^([0-9]+):[^"]*"([^"]+)".*/\1:\2/')
done < <(find "$src" \( -name '*.h' -o -name '*.cpp' \) -print0 | sort -z)

if ((checked == 0)); then
  echo "no source files under $src" >&2
  exit 1
fi
exit $status
