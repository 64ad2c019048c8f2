#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Provisions Unicorn 2.1.4 into DIR from its official PyPI wheel, which carries
# unicorn/lib/libunicorn.so.2, libunicorn.a and the C headers. Used only when
# pkg-config finds no Unicorn >= 2.1 (Debian 12 ships 2.0.1, whose stores all take
# the slow softmmu path: see docs/unicorn.md).
# The wheel's sha256 is pinned so that a changed artefact fails loudly.
set -euo pipefail
dir=${1:?usage: fetch-unicorn.sh DIR}
version=2.1.4
wheel=unicorn-2.1.4-cp37-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
sha256=9d6e6dea140560de4ebd8446661f7ef84a357d428c14a3ef09dacd306ec8c239

if [ "$(uname -m)" != x86_64 ]; then
  echo "fetch-unicorn: only the x86_64 wheel is pinned; install Unicorn >= 2.1 so pkg-config finds it" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: \
  --platform manylinux2014_x86_64 --dest "$tmp" "unicorn==$version" >&2
got=$(sha256sum "$tmp/$wheel" | cut -d' ' -f1)
if [ "$got" != "$sha256" ]; then
  echo "fetch-unicorn: $wheel has sha256 $got, expected $sha256" >&2
  exit 1
fi
rm -rf "$dir.partial"
mkdir -p "$dir.partial"
python3 -m zipfile -e "$tmp/$wheel" "$dir.partial"
test -f "$dir.partial/unicorn/lib/libunicorn.so.2"
test -f "$dir.partial/unicorn/include/unicorn/unicorn.h"
rm -rf "$dir"
mv "$dir.partial" "$dir"
echo "fetch-unicorn: Unicorn $version in $dir" >&2
