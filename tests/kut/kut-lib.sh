# SPDX-License-Identifier: MIT
# Shared by tests/kut/kut.sh (the kvm-unit-tests suite under snpref) and
# scripts/kut-baseline.sh (the same binaries under QEMU): the tests, building
# kvm-unit-tests from the tarball in the shared peers directory, and each test's
# parameters as x86/unittests.cfg gives them. Sourced, not run.

# The x86 tests of issue 8 (docs/kvm-unit-tests.md).
KUT_TESTS="x2apic xapic eventinj smptest smptest3 tsc tsc_adjust ioapic"
# QEMU's default RAM for these tests (no -m in unittests.cfg): 128 MiB.
KUT_RAM_MB=128

kut_die() { echo "kut: $*" >&2; exit 1; }

# The tarball: $KUT_TARBALL, else the one kvm-unit-tests-*.tar.gz in the
# shared peers directory beside the project. Missing is a failure, never a skip.
kut_tarball() {
  local src=$1 t
  if [ -n "${KUT_TARBALL:-}" ]; then t=$KUT_TARBALL; else
    t=$(ls "$src"/../shared/peers/kvm-unit-tests-*.tar.gz 2>/dev/null | head -1 || true)
  fi
  [ -n "$t" ] && [ -f "$t" ] || kut_die "no kvm-unit-tests tarball (set KUT_TARBALL or put kvm-unit-tests-*.tar.gz in $src/../shared/peers)"
  echo "$t"
}

# Builds the .flat files the tests need into $2/kvm-unit-tests (once per tarball).
kut_build() {
  local src=$1 out=$2 tar stamp
  tar=$(kut_tarball "$src")
  stamp="$out/built-from"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$tar" ] && [ -f "$out/kvm-unit-tests/x86/apic.flat" ]; then
    return 0
  fi
  rm -rf "$out/kvm-unit-tests"
  mkdir -p "$out"
  tar xzf "$tar" -C "$out" || kut_die "cannot unpack $tar"
  [ -d "$out/kvm-unit-tests" ] || kut_die "$tar has no kvm-unit-tests/ directory"
  (cd "$out/kvm-unit-tests" && ./configure --arch=x86_64 >/dev/null &&
     make -j2 x86/apic.flat x86/eventinj.flat x86/smptest.flat x86/tsc.flat \
       x86/tsc_adjust.flat x86/ioapic.flat >"$out/build.log" 2>&1) ||
    { tail -20 "$out/build.log" >&2; kut_die "building kvm-unit-tests failed ($out/build.log)"; }
  echo "$tar" >"$stamp"
}

# kut_cfg DIR TEST KEY: the value of KEY in TEST's section of x86/unittests.cfg.
kut_cfg() {
  awk -v sec="[$2]" -v key="$3" '
    $0 == sec { on = 1; next }
    /^\[/ { on = 0 }
    on && $1 == key { sub(/^[^=]*= */, ""); print; exit }' "$1/x86/unittests.cfg"
}

# kut_cpu DIR TEST: the -cpu argument of TEST's qemu_params ("" if none).
kut_cpu() {
  kut_cfg "$1" "$2" qemu_params | sed -n 's/.*-cpu \([^ ]*\).*/\1/p'
}

# kut_env TEST FILE: the environment kvm-unit-tests read from the initrd.
# TEST_DEVICE=0 for the APIC tests: their test_pv_ipi is KVM's hypercall.
kut_env() {
  case $1 in
    x2apic|xapic) echo "TEST_DEVICE=0" >"$2" ;;
    *) : >"$2" ;;
  esac
}

# kut_pass_count LOG: the number of PASS: lines.
kut_pass_count() { grep -c '^PASS: ' "$1" || true; }
