#!/bin/sh
# SPDX-License-Identifier: MIT
# Every regression case of a build, one per line: NAME MODE VCPUS WANT, from
# BUILD/guests/guests.tsv with each guest's modes expanded (docs/regression.md).
# Benchmarks (bench_*) are `make bench`'s, not cases.
#   scripts/list-cases.sh BUILD_DIR
set -u
manifest=${1:?usage: list-cases.sh BUILD_DIR}/guests/guests.tsv
[ -f "$manifest" ] || { echo "list-cases: $manifest: no such file (build first)" >&2; exit 66; }
tab=$(printf '\t')
while IFS="$tab" read -r name vcpus want modes; do
    case $name in bench_*) continue ;; esac
    for m in $(echo "$modes" | tr ',' ' '); do
        echo "$name $m $vcpus $want"
    done
done <"$manifest"
