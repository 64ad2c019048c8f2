#!/bin/bash
# SPDX-License-Identifier: MIT
# `make attest-verify`: the model's attestation checked by virtee/snpguest
# (docs/attestation.md). Installs snpguest from crates.io with cargo when it is
# missing (never part of `make test`, which verifies with OpenSSL alone), has
# the attestation suite write the model's ARK/ASK/VCEK chain and a report from
# an SNP system into OUT, then runs `snpguest verify certs` and
# `snpguest verify attestation` on them. Non-zero exit if either fails.
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
echo "== snpguest $(snpguest --version | awk '{print $2}'): verify certs $OUT"
snpguest verify certs "$OUT"
echo "== snpguest verify attestation $OUT $OUT/report.bin"
snpguest verify attestation "$OUT" "$OUT/report.bin"
