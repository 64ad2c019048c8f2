#!/bin/sh
# SPDX-License-Identifier: MIT
# One regression case: a guest in one mode (docs/regression.md).
#   scripts/run-case.sh SNPREF GUEST.elf MODE VCPUS WANT OUTDIR
# MODE is a guests.tsv mode: plain, sev-es, snp, or a Secure AVIC fabric's
# name (savic, savic-xipi: --mode snp --apic NAME). Runs the guest with a
# trace, compares the exit status with WANT and writes OUTDIR/NAME.MODE.json,
# one JSON object with the verdict and the SHA-256 of the model binary, the
# guest image, the effective config (the trace header's "config") and the
# trace, so that a result names exactly what produced it; the same line goes
# to stdout. The console and stderr are kept in OUTDIR/NAME.MODE.log, the
# trace only with KEEP_TRACE=1. Exit 0 when the status is WANT, 1 otherwise,
# 2 on bad arguments.
set -u
if [ $# -ne 6 ]; then
    echo "usage: run-case.sh SNPREF GUEST.elf MODE VCPUS WANT OUTDIR" >&2
    exit 2
fi
tool=$1 elf=$2 mode=$3 vcpus=$4 want=$5 out=$6
name=$(basename "$elf" .elf)
case=$name.$mode
mkdir -p "$out" || exit 2
trace=$out/$case.jsonl
log=$out/$case.log
case $mode in
plain | sev-es | snp) set -- --mode "$mode" ;;
*) set -- --mode snp --apic "$mode" ;;
esac
# stdin closed: the guest's COM1 reads stdin.
"$tool" run "$elf" --vcpus "$vcpus" "$@" --trace "$trace" --quiet >"$log" 2>&1 </dev/null
got=$?
sha() { if [ -f "$1" ]; then sha256sum "$1" | cut -d' ' -f1; else echo none; fi; }
# The header is line 1; its config object runs from "config": to the last brace.
if [ -f "$trace" ]; then
    config_sha=$(head -n 1 "$trace" | sed 's/.*"config"://; s/,"events":.*//; s/}$//' | sha256sum | cut -d' ' -f1)
else
    config_sha=none
fi
verdict=fail
[ "$got" -eq "$want" ] && verdict=pass
line=$(printf '{"case":"%s","guest":"%s","mode":"%s","vcpus":%s,"want":%s,"status":%s,"result":"%s","model_sha256":"%s","guest_sha256":"%s","config_sha256":"%s","trace_sha256":"%s"}' \
    "$case" "$name" "$mode" "$vcpus" "$want" "$got" "$verdict" "$(sha "$tool")" "$(sha "$elf")" \
    "$config_sha" "$(sha "$trace")")
printf '%s\n' "$line" >"$out/$case.json.tmp" && mv "$out/$case.json.tmp" "$out/$case.json"
printf '%s\n' "$line"
[ "${KEEP_TRACE:-0}" = 1 ] || rm -f "$trace"
if [ "$verdict" = fail ]; then
    echo "run-case: $case: exit $got, want $want; the last lines of $log:" >&2
    tail -n 20 "$log" >&2
    exit 1
fi
exit 0
