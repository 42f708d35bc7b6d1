#!/usr/bin/env bash
# Prints "SONAME PACKAGE" for every shared library the given ELF files link directly (their
# NEEDED entries), the package found with dpkg -S. Used by tools/package.sh and
# tools/check-docker.sh to check that package Depends and the image's runtime stage cover them.
# Exit 1 when a library cannot be resolved or belongs to no package.
set -euo pipefail

status=0
lines=()
for binary in "$@"; do
  ldd_out=$(ldd "$binary")
  while read -r soname; do
    path=$(awk -v lib="$soname" '$1 == lib && $2 == "=>" { print $3 }' <<<"$ldd_out")
    if [ -z "$path" ] || [ "$path" = "not" ]; then
      echo "runtime-packages: $binary: $soname not found by ldd" >&2; status=1; continue
    fi
    # dpkg knows each file under the path its package shipped it at: /lib or /usr/lib.
    package=""
    for candidate in "$path" "${path#/usr}" "/usr$path" "$(readlink -f "$path")" \
                     "/usr$(readlink -f "$path")" "$(readlink -f "$path" | sed 's|^/usr||')"; do
      package=$(dpkg -S "$candidate" 2>/dev/null | head -n1 | cut -d: -f1) && [ -n "$package" ] && break
    done
    if [ -z "$package" ]; then
      echo "runtime-packages: $binary: $path ($soname) belongs to no package" >&2; status=1; continue
    fi
    lines+=("$soname $package")
  done < <(objdump -p "$binary" | awk '$1 == "NEEDED" { print $2 }')
done
if [ ${#lines[@]} -gt 0 ]; then printf '%s\n' "${lines[@]}" | sort -u; fi
exit "$status"
