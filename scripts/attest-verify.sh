#!/bin/bash
# SPDX-License-Identifier: MIT
# `make attest-verify`: the model's attestation checked by virtee/snpguest
# (docs/attestation.md). Installs snpguest from crates.io with cargo when it is
# missing (never part of `make test`, which verifies with OpenSSL alone), then
# verifies two reports with their ARK/ASK/VCEK chains:
#  - OUT: the one the attestation unit suite gets by playing the guest
#    (tests/unit/test_model_attest.c, the chain as the PSP model holds it);
#  - OUT/guest: the one the SDK guest snp_attest asked for itself under
#    `snpref run --mode snp`, with the certificate table it received
#    (tests/scenarios/test_attest.c, case "report", writes both);
#  - OUT/linux: the one Linux 7.2's sev-guest driver fetched through
#    configfs-tsm as an SNP guest, with the auxblob's chain
#    (tests/scenarios/test_linux_boot.c, case "snp_7_2_tsm").
# `snpguest verify certs` and `snpguest verify attestation` on each; non-zero
# exit if any fails.
set -euo pipefail
BUILD=${1:-build}
OUT=${2:-$BUILD/attest}
export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v snpguest >/dev/null; then
    command -v cargo >/dev/null || { echo "attest-verify: cargo is needed to install snpguest" >&2; exit 1; }
    cargo install snpguest
fi
rm -rf "$OUT" && mkdir -p "$OUT"
SNPREF_ATTEST_OUT="$OUT" "$BUILD/tests/test_model_attest" >/dev/null
SNPREF_ATTEST_OUT="$OUT" CK_RUN_CASE=report "$BUILD/tests/scenarios/test_attest" >/dev/null
SNPREF_ATTEST_OUT="$OUT" CK_RUN_CASE=snp_7_2_tsm "$BUILD/tests/scenarios/test_linux_boot" >/dev/null
for d in "$OUT" "$OUT/guest" "$OUT/linux"; do
    echo "== snpguest $(snpguest --version | awk '{print $2}'): verify certs $d"
    snpguest verify certs "$d"
    echo "== snpguest verify attestation $d $d/report.bin"
    snpguest verify attestation "$d" "$d/report.bin"
done
