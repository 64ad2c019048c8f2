#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make fuzz`: builds the libFuzzer targets of tests/fuzz with clang
# (-fsanitize=fuzzer,address,undefined) and runs each for a bounded time
# (FUZZ_SECONDS, default 60) from a seed corpus: tests/fuzz/seeds for the trace
# reader, the KVM log fixtures of tests/fixtures for the ftrace importer. A
# finding stops the run with the crashing input saved under $FUZZ_BUILD.
# Installs clang and its sanitizer runtimes if they are missing (only this
# target needs them; `make test` does not).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${FUZZ_SECONDS:-60}
OUT=${FUZZ_BUILD:-build-fuzz}

bash scripts/setup.sh # libcjson-dev, pkg-config

probe() {
  echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }' |
    clang -x c -fsanitize=fuzzer,address,undefined -o /dev/null - >/dev/null 2>&1
}
if ! command -v clang >/dev/null 2>&1 || ! probe; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  echo "fuzz: installing clang and its sanitizer runtimes" >&2
  $sudo apt-get install -y --no-install-recommends clang >/dev/null ||
    { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y --no-install-recommends clang >/dev/null; }
  if ! probe; then
    major=$(clang -dumpversion | cut -d. -f1)
    $sudo apt-get install -y --no-install-recommends "libclang-rt-${major}-dev" >/dev/null
  fi
  probe || { echo "fuzz: clang cannot build a libFuzzer target" >&2; exit 1; }
fi

mkdir -p "$OUT/corpus/reader" "$OUT/corpus/ftrace" "$OUT/crashes"
CFLAGS=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
        -D_GNU_SOURCE -DSNPREF_VERSION='"fuzz"' -Itraces -Iinclude $(pkg-config --cflags libcjson))
LIBS=($(pkg-config --libs libcjson))
TRACES=(traces/*.c) # the whole leaf library
clang "${CFLAGS[@]}" tests/fuzz/fuzz_reader.c "${TRACES[@]}" "${LIBS[@]}" -o "$OUT/fuzz_reader"
clang "${CFLAGS[@]}" tests/fuzz/fuzz_ftrace.c "${TRACES[@]}" "${LIBS[@]}" -o "$OUT/fuzz_ftrace"

run() { # target corpus seeds...
  local t=$1 corpus=$2
  shift 2
  echo "fuzz: $t for ${SECS}s" >&2
  "$OUT/$t" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$OUT/crashes/$t-" "$corpus" "$@"
}
run fuzz_reader "$OUT/corpus/reader" tests/fuzz/seeds
run fuzz_ftrace "$OUT/corpus/ftrace" tests/fixtures
echo "fuzz: no findings" >&2
