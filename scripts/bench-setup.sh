#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What `make bench` needs beyond the build, installed only when missing and
# never by `make test`:
#   scripts/bench-setup.sh BUILD_DIR
#  - QEMU >= 10 (qemu-system-x86_64), the TCG peer the bench measures against,
#    from Debian bookworm-backports (bookworm itself has 7.2);
#  - perf (Debian linux-perf), to profile what the bench shows;
#  - BUILD_DIR/bench/initramfs.cpio.gz, the busybox initramfs of the Linux
#    scenario tests (scripts/mkinitramfs.sh), which both sides boot.
set -euo pipefail
build=${1:?usage: bench-setup.sh BUILD_DIR}
here=$(cd "$(dirname "$0")/.." && pwd)

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "bench-setup: need root to install QEMU 10 from bookworm-backports" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive

qemu_major() {
  command -v qemu-system-x86_64 >/dev/null 2>&1 || { echo 0; return; }
  qemu-system-x86_64 --version | sed -n '1s/.*version \([0-9]*\)\..*/\1/p'
}

if [ "$(qemu_major)" -lt 10 ]; then
  list=/etc/apt/sources.list.d/backports.list
  if ! grep -qs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null; then
    echo "bench-setup: adding bookworm-backports ($list)" >&2
    echo 'deb http://deb.debian.org/debian bookworm-backports main' | $sudo tee "$list" >/dev/null
  fi
  echo "bench-setup: installing qemu-system-x86 from bookworm-backports" >&2
  $sudo apt-get update -q >/dev/null
  $sudo apt-get install -y --no-install-recommends -t bookworm-backports qemu-system-x86 >/dev/null
  if [ "$(qemu_major)" -lt 10 ]; then
    echo "bench-setup: qemu-system-x86_64 is $(qemu-system-x86_64 --version | head -1), need >= 10" >&2
    exit 1
  fi
fi
if ! command -v perf >/dev/null 2>&1; then
  $sudo apt-get install -y --no-install-recommends linux-perf >/dev/null || \
    echo "bench-setup: linux-perf not installed (only needed to profile)" >&2
fi

mkdir -p "$build/bench"
initrd="$build/bench/initramfs.cpio.gz"
if [ ! -s "$initrd" ] || [ "$here/tests/linux/init" -nt "$initrd" ]; then
  bash "$here/scripts/mkinitramfs.sh" "$initrd"
fi
