#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the busybox initramfs of the real-kernel scenarios, reproducibly:
#   scripts/mkinitramfs.sh OUT.cpio.gz [EXTRA_PROGRAM]
# From Debian's busybox-static (/bin/busybox) and cpio; tests/linux/init is
# its /init; EXTRA_PROGRAM, if given, becomes /bin/probe. Every entry has
# mtime 2026-01-01 and owner 0:0, the list is sorted and gzip stores no name
# or time, so the same inputs give the same bytes. Device nodes need root
# (mknod), as CI and `make test` have.
set -euo pipefail
out=${1:?usage: mkinitramfs.sh OUT.cpio.gz [EXTRA_PROGRAM]}
extra=${2:-}
here=$(cd "$(dirname "$0")/.." && pwd)
busybox=${BUSYBOX:-/bin/busybox}
for need in "$busybox" "$(command -v cpio || true)"; do
  if [ -z "$need" ] || [ ! -x "$need" ]; then
    echo "mkinitramfs: ${need:-cpio} is missing: install busybox-static and cpio (scripts/setup.sh)" >&2
    exit 66
  fi
done
if ! file -b "$busybox" 2>/dev/null | grep -q 'statically linked' && ldd "$busybox" >/dev/null 2>&1; then
  echo "mkinitramfs: $busybox is not static: install busybox-static" >&2
  exit 66
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp,root}
cp "$busybox" "$root/bin/busybox"
for app in sh ls cat echo mount uname grep head dmesg dd printf poweroff reboot sleep mkdir od; do
  ln -s busybox "$root/bin/$app"
done
install -m 0755 "$here/tests/linux/init" "$root/init"
[ -n "$extra" ] && install -m 0755 "$extra" "$root/bin/probe"
mknod -m 0600 "$root/dev/console" c 5 1
mknod -m 0666 "$root/dev/null" c 1 3
mknod -m 0640 "$root/dev/port" c 1 4
mknod -m 0660 "$root/dev/ttyS0" c 4 64
find "$root" -exec touch -h -d '2026-01-01 00:00:00 UTC' {} +
tmp="$out.tmp.$$"
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible) |
  gzip -9 -n > "$tmp"
mv "$tmp" "$out"
