#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# kvm-unit-tests under snpref (docs/kvm-unit-tests.md):
#   kut.sh build SRC OUT                   unpack and build kvm-unit-tests into OUT
#   kut.sh run SRC OUT SNPREF [TEST...]    run the tests under SNPREF
# SRC is the project's source tree, OUT a directory in the build tree. Each test
# runs with its x86/unittests.cfg parameters: -smp as --vcpus, the -cpu feature
# flags as --cpu-features (snpref has one CPU model: the model name is dropped,
# "max" is kept), extra_params' -append as --append, the environment file as
# --initrd (as kvm-unit-tests' run script passes it to QEMU). It writes
# OUT/results/TEST.log (the console), OUT/results/TEST.result (one line),
# OUT/results/summary.txt and the JUnit file OUT/kut-junit.xml, and fails when
# a test prints no SUMMARY: line or passes fewer checks than QEMU did on the
# same binary (tests/kut/qemu-baseline.txt).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/kut-lib.sh"

cmd=${1:-}; src=${2:-}; out=${3:-}
[ -n "$cmd" ] && [ -n "$src" ] && [ -n "$out" ] || kut_die "usage: kut.sh build|run SRC OUT [SNPREF [TEST...]]"
# Absolute paths: each run happens inside the kvm-unit-tests tree.
abs() { (cd "$(dirname "$1")" && echo "$(pwd)/$(basename "$1")"); }
mkdir -p "$out"
src=$(abs "$src"); out=$(abs "$out")
kut=$out/kvm-unit-tests

if [ "$cmd" = build ]; then
  kut_build "$src" "$out"
  echo "kut: kvm-unit-tests built in $kut"
  exit 0
fi
[ "$cmd" = run ] || kut_die "unknown command '$cmd'"
snpref=${4:-}
[ -x "$snpref" ] || kut_die "snpref binary '$snpref' is not executable"
snpref=$(abs "$snpref")
shift 4
tests=${*:-$KUT_TESTS}
[ -f "$kut/x86/apic.flat" ] || kut_die "$kut/x86/apic.flat missing: run the kut_build test (kut.sh build) first"
baseline=$src/tests/kut/qemu-baseline.txt
[ -f "$baseline" ] || kut_die "$baseline missing (scripts/kut-baseline.sh makes it)"

# -cpu MODEL,+a,-b as snpref's --cpu-features (tests/kut/kut-lib.sh kut_cpu).
cpu_features() {
  local cpu=$1 model feats
  [ -n "$cpu" ] || return 0
  model=${cpu%%,*}
  feats=""
  [ "$model" != "$cpu" ] && feats=${cpu#*,}
  case $model in
    qemu64) echo "$feats" ;;
    max) echo "max${feats:+,$feats}" ;;
    *) kut_die "-cpu model '$model' has no snpref equivalent" ;;
  esac
}

xml_escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'; }

res=$out/results
rm -rf "$res"; mkdir -p "$res"
failed=0; cases=""; ntests=0; nfail=0
for t in $tests; do
  file=$(kut_cfg "$kut" "$t" file)
  [ -n "$file" ] || kut_die "no test [$t] in $kut/x86/unittests.cfg"
  smp=$(kut_cfg "$kut" "$t" smp); smp=${smp:-1}
  feats=$(cpu_features "$(kut_cpu "$kut" "$t")")
  append=$(kut_cfg "$kut" "$t" extra_params | sed -n "s/.*-append '\([^']*\)'.*/\1/p; s/.*-append \"\([^\"]*\)\".*/\1/p")
  kut_env "$t" "$res/$t.env"
  args=(run --kernel "$kut/x86/$file" --initrd "$res/$t.env" --vcpus "$smp"
        --ram-mb "$KUT_RAM_MB" --exit-style qemu --quiet --max-insns 4000000000)
  [ -n "$feats" ] && args+=(--cpu-features "$feats")
  [ -n "$append" ] && args+=(--append "$append")
  rc=0
  (cd "$kut" && "$snpref" "${args[@]}" </dev/null) >"$res/$t.log" 2>&1 || rc=$?
  pass=$(kut_pass_count "$res/$t.log")
  fail=$(grep -c '^FAIL: ' "$res/$t.log" || true)
  skip=$(grep -c '^SKIP: ' "$res/$t.log" || true)
  summary=$(grep -m1 '^SUMMARY: ' "$res/$t.log" || true)
  want=$(awk -v t="$t" '$1 == t { print $2 }' "$baseline")
  [ -n "$want" ] || kut_die "$baseline has no line for $t"
  why=""
  [ -n "$summary" ] || why="no SUMMARY: line (snpref exit status $rc)"
  [ -z "$why" ] && [ "$pass" -lt "$want" ] && why="$pass checks passed, QEMU passes $want"
  verdict=ok; [ -n "$why" ] && { verdict=FAIL; failed=1; nfail=$((nfail + 1)); }
  ntests=$((ntests + 1))
  line="$t pass=$pass fail=$fail skip=$skip qemu_pass=$want status=$rc verdict=$verdict${why:+ ($why)}"
  echo "$line" | tee "$res/$t.result"
  echo "$line" >>"$res/summary.txt"
  cases+="  <testcase classname=\"kut\" name=\"$t\">"
  if [ -n "$why" ]; then
    cases+="<failure message=\"$(echo "$why" | xml_escape)\">$(tail -30 "$res/$t.log" | xml_escape)</failure>"
  fi
  cases+="<system-out>$(echo "$summary" | xml_escape)</system-out></testcase>"$'\n'
done
{
  echo '<?xml version="1.0" encoding="UTF-8"?>'
  echo "<testsuites><testsuite name=\"kvm-unit-tests\" tests=\"$ntests\" failures=\"$nfail\">"
  printf '%s' "$cases"
  echo '</testsuite></testsuites>'
} >"$out/kut-junit.xml"
echo "kut: $((ntests - nfail))/$ntests tests at least as good as QEMU; JUnit in $out/kut-junit.xml"
exit $failed
