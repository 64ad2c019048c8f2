#!/bin/sh
# SPDX-License-Identifier: MIT
# The regression runner's test (tests/cases/CMakeLists.txt, docs/regression.md):
#  1. `ctest -N -L guest` lists exactly one test per guest x mode of the
#     manifest (scripts/list-cases.sh), each named guest.NAME.MODE;
#  2. a sharded `ctest -j2 --output-junit` of six cases writes six JUnit
#     testcases, none failed, and six results whose hashes are the model's,
#     the guest's and a config's (64 hex digits);
#  3. a case run twice gives the same trace hash (the traces are
#     deterministic, so a farm can compare results across machines).
# The inner ctest runs in a scratch directory of its own (its Testing/ is not
# the outer run's): a CTestTestfile there includes the build's cases.
#   tests/cases/test_runner.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "test_runner: $*" >&2; exit 1; }

printf 'subdirs("%s/tests/cases")\n' "$build" >"$tmp/CTestTestfile.cmake"
cd "$tmp"

"$src/scripts/list-cases.sh" "$build" >cases.txt
want=$(wc -l <cases.txt)
[ "$want" -gt 50 ] || fail "only $want cases in the manifest"
ctest -N -L '^guest$' >listed.txt
got=$(grep -c 'Test *#[0-9]*: guest\.' listed.txt || true)
[ "$got" -eq "$want" ] || fail "ctest lists $got guest tests, the manifest has $want cases"
while read -r name mode vcpus exit; do
    grep -q ": guest\.$name\.$mode\$" listed.txt || fail "no ctest test guest.$name.$mode"
done <cases.txt
echo "test_runner: ctest lists the $want cases, one per guest x mode"

re='^guest\.(demo|ipi_smp|tpr_ppr)\.(plain|snp)$'
ctest -j2 -R "$re" --output-junit "$tmp/r.xml" >run.txt || fail "the sharded run failed: $(cat run.txt)"
n=$(xmllint --xpath 'count(//testcase)' r.xml)
[ "$n" -eq 6 ] || fail "$n JUnit testcases, want 6"
for status in $(xmllint --xpath '//testcase/@status' r.xml | sed 's/status=//g; s/"//g'); do
    [ "$status" = run ] || fail "a testcase has status $status"
done
[ "$(xmllint --xpath 'count(//testcase/failure)' r.xml)" -eq 0 ] || fail "failures in r.xml"
model=$(sha256sum "$build/tools/snpref" | cut -d' ' -f1)
for g in demo ipi_smp tpr_ppr; do
    for m in plain snp; do
        res=$build/cases/$g.$m.json
        [ -f "$res" ] || fail "no result $res"
        grep -q "\"case\":\"$g.$m\".*\"result\":\"pass\"" "$res" || fail "$res: $(cat "$res")"
        grep -q "\"model_sha256\":\"$model\"" "$res" || fail "$res: not the model's hash"
        gsha=$(sha256sum "$build/guests/$g.elf" | cut -d' ' -f1)
        grep -q "\"guest_sha256\":\"$gsha\"" "$res" || fail "$res: not the guest's hash"
        grep -Eq '"config_sha256":"[0-9a-f]{64}"' "$res" || fail "$res: no config hash"
    done
done
echo "test_runner: 6 cases sharded, 6 JUnit testcases, 6 results with their hashes"

a=$("$src/scripts/run-case.sh" "$build/tools/snpref" "$build/guests/ipi_smp.elf" plain 4 0 "$tmp/one" |
    sed 's/.*"trace_sha256":"\([0-9a-f]*\)".*/\1/')
b=$("$src/scripts/run-case.sh" "$build/tools/snpref" "$build/guests/ipi_smp.elf" plain 4 0 "$tmp/two" |
    sed 's/.*"trace_sha256":"\([0-9a-f]*\)".*/\1/')
[ -n "$a" ] && [ "$a" = "$b" ] || fail "the same case gave traces $a and $b"
# A case whose status is not the expected one fails, with a result saying so.
if "$src/scripts/run-case.sh" "$build/tools/snpref" "$build/guests/ipi_smp.elf" plain 4 7 "$tmp/bad" \
    >/dev/null 2>&1; then
    fail "a case expecting exit 7 passed"
fi
grep -q '"result":"fail"' "$tmp/bad/ipi_smp.plain.json" || fail "no failed result"
echo "test_runner: a case run twice has one trace hash; a wrong status fails"
