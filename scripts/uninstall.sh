#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make uninstall PREFIX=...`: removes exactly the files that `make install`
# recorded in PREFIX/share/snpref/install_manifest.txt (CMake's manifest, copied
# there so that uninstalling works after the build tree is gone; the build's own
# install_manifest.txt is the fallback), then the directories that become empty
# and belong to snpref (a path component named snpref*: share/doc/snpref,
# lib/snpref-sdk/..., never bin/ or share/man/man1/). Honours DESTDIR.
set -euo pipefail
prefix=${1:?usage: uninstall.sh PREFIX BUILD_DIR}
build=${2:?usage: uninstall.sh PREFIX BUILD_DIR}
root=$(realpath -m "${DESTDIR:-}$prefix")
copy=$root/share/snpref/install_manifest.txt
manifest=$copy
[ -f "$manifest" ] || manifest=$build/install_manifest.txt
if [ ! -f "$manifest" ]; then
  echo "uninstall: no install manifest in $root/share/snpref or $build: nothing removed" >&2
  exit 1
fi

# Inside an snpref-owned directory: some component below the prefix is snpref*.
owned() { case "/${1#"$root"/}/" in */snpref*/*) return 0 ;; *) return 1 ;; esac; }

removed=0 skipped=0
declare -A dirs=()
while IFS= read -r f || [ -n "$f" ]; do
  [ -n "$f" ] || continue
  abs=$(realpath -m "$f")
  case $abs in
  "$root"/*) ;;
  *) echo "uninstall: $f is not under $root (installed with another PREFIX?): left alone" >&2
     skipped=$((skipped + 1)); continue ;;
  esac
  if [ -e "$abs" ] || [ -L "$abs" ]; then
    rm -f -- "$abs"
    removed=$((removed + 1))
  fi
  dirs[$(dirname "$abs")]=1
done < "$manifest"
if [ "$manifest" = "$copy" ]; then
  rm -f -- "$copy"
  dirs[$(dirname "$copy")]=1
fi

# Deepest first, so that a parent is tried after its children.
for d in $(printf '%s\n' "${!dirs[@]}" | awk '{ print length($0) "\t" $0 }' | sort -rn | cut -f2-); do
  while [ "$d" != "$root" ] && owned "$d" && rmdir -- "$d" 2>/dev/null; do
    d=$(dirname "$d")
  done
done
note=""
[ "$skipped" -eq 0 ] || note=" ($skipped listed elsewhere, left alone)"
echo "uninstall: removed $removed files from $root$note" >&2
