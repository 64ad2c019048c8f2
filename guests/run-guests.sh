#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs every guest of a build in every mode it is written for (guests.tsv, see
# guests/CMakeLists.txt) and compares the exit status with the expected one.
#   guests/run-guests.sh BUILD_DIR [MODE...] [-- NAME...]
# MODE filters the modes (default: all of each guest's); NAME the guests.
# Logs go to BUILD_DIR/guests/logs/NAME.MODE.log. Exit status 1 if any failed.
set -u
build=${1:?usage: run-guests.sh BUILD_DIR [MODE...] [-- NAME...]}
shift
modes=""
names=""
while [ $# -gt 0 ]; do
    if [ "$1" = "--" ]; then shift; names="$*"; break; fi
    modes="$modes $1"
    shift
done
tool=$build/tools/snpref
manifest=$build/guests/guests.tsv
logs=$build/guests/logs
mkdir -p "$logs"
fail=0
pass=0
tab=$(printf '\t')
while IFS="$tab" read -r name vcpus want gmodes; do
    [ -n "$names" ] && case " $names " in *" $name "*) ;; *) continue ;; esac
    for m in $(echo "$gmodes" | tr ',' ' '); do
        [ -n "$modes" ] && case " $modes " in *" $m "*) ;; *) continue ;; esac
        log=$logs/$name.$m.log
        # A Secure AVIC fabric's name (savic, savic-xipi) stands for SNP with it.
        case $m in
        plain | sev-es | snp) set -- --mode "$m" ;;
        *) set -- --mode snp --apic "$m" ;;
        esac
        # stdin is the manifest: the guest's UART must not read it (COM1 takes stdin).
        timeout 300 "$tool" run "$build/guests/$name.elf" --vcpus "$vcpus" "$@" >"$log" 2>&1 </dev/null
        got=$?
        if [ "$got" -eq "$want" ]; then
            pass=$((pass + 1))
            printf 'ok   %-20s %-7s exit %s\n' "$name" "$m" "$got"
        else
            fail=$((fail + 1))
            printf 'FAIL %-20s %-7s exit %s, want %s (%s)\n' "$name" "$m" "$got" "$want" "$log"
        fi
    done
done <"$manifest"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
