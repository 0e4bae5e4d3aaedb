#!/usr/bin/env bash
# Prints the C and C++ compilers found on PATH, one name a line: a whitelist for `make run`.
# The distcc client rewrites gcc to <triple>-gcc, so triple-prefixed names are listed too.
set -euo pipefail
IFS=: read -r -a dirs <<< "$PATH"
for dir in "${dirs[@]}"; do
  [[ -d "$dir" && "$dir" != /usr/lib/distcc* ]] || continue
  for path in "$dir"/*; do
    name=${path##*/}
    [[ -x "$path" && ! -d "$path" ]] || continue
    if [[ "$name" =~ ^([A-Za-z0-9_.]+-)*(gcc|g\+\+|cc|c\+\+|clang|clang\+\+)(-[0-9.]+)?$ ]]; then echo "$name"; fi
  done
done | sort -u
