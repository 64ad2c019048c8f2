#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Regenerates tests/kut/qemu-baseline.txt: the kvm-unit-tests binaries the kut
# suite runs (tests/kut/kut.sh), under QEMU 10 TCG with the command line of
# kvm-unit-tests' x86/run (pc-testdev, isa-debug-exit at 0xf4, -kernel, -smp,
# the -cpu of unittests.cfg, the same environment file as -initrd). Installs
# QEMU 10 from Debian bookworm-backports when qemu-system-x86_64 is older or
# missing; `make test` never does (it only reads the committed baseline).
#   scripts/kut-baseline.sh [BUILD_DIR]
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
. "$src/tests/kut/kut-lib.sh"

qemu_major() { qemu-system-x86_64 --version 2>/dev/null | sed -n 's/^QEMU emulator version \([0-9]*\).*/\1/p'; }
if [ "$(qemu_major)" = "" ] || [ "$(qemu_major)" -lt 10 ]; then
  echo "kut-baseline: installing QEMU 10 from bookworm-backports" >&2
  echo "deb http://deb.debian.org/debian bookworm-backports main" >/etc/apt/sources.list.d/backports.list
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -t bookworm-backports qemu-system-x86 >/dev/null
fi
version=$(qemu-system-x86_64 --version | head -1)

out=$build/kut
kut_build "$src" "$out"
kut=$out/kvm-unit-tests
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
dest=$src/tests/kut/qemu-baseline.txt
{
  echo "# kvm-unit-tests $(basename "$(kut_tarball "$src")" .tar.gz) under $version, -accel tcg,"
  echo "# written by scripts/kut-baseline.sh; tests/kut/kut.sh requires snpref to pass at least"
  echo "# as many checks per test. Columns: test PASS FAIL SKIP (lines of the console)."
} >"$tmp/baseline"
for t in $KUT_TESTS; do
  file=$(kut_cfg "$kut" "$t" file)
  smp=$(kut_cfg "$kut" "$t" smp); smp=${smp:-1}
  cpu=$(kut_cpu "$kut" "$t")
  kut_env "$t" "$tmp/$t.env"
  args=(--no-reboot -nodefaults -global kvm-pit.lost_tick_policy=discard
        -device pc-testdev -device isa-debug-exit,iobase=0xf4,iosize=0x4 -display none
        -serial stdio -device pci-testdev -machine accel=tcg -m "$KUT_RAM_MB"
        -kernel "x86/$file" -smp "$smp" -initrd "$tmp/$t.env")
  [ -n "$cpu" ] && args+=(-cpu "$cpu")
  (cd "$kut" && timeout 300 qemu-system-x86_64 "${args[@]}" </dev/null) >"$tmp/$t.log" 2>&1 || true
  grep -q '^SUMMARY: ' "$tmp/$t.log" || { cat "$tmp/$t.log" >&2; kut_die "QEMU printed no SUMMARY for $t"; }
  line="$t $(kut_pass_count "$tmp/$t.log") $(grep -c '^FAIL: ' "$tmp/$t.log" || true) $(grep -c '^SKIP: ' "$tmp/$t.log" || true)"
  echo "kut-baseline: $line ($(grep -m1 '^SUMMARY: ' "$tmp/$t.log"))" >&2
  echo "$line" >>"$tmp/baseline"
done
cp "$tmp/baseline" "$dest"
echo "kut-baseline: wrote $dest" >&2
