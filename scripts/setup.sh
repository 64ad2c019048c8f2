#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages snpref builds against, and only the missing ones.
# Called by `make run`, `make test` and `make bench`; safe to run again.
set -euo pipefail

pkgs=(pkg-config libsystemc-dev libcjson-dev check libsubunit-dev libcapstone-dev libssl-dev
      help2man man-db # help2man: the man page `make install` installs; man-db: its test
      libxml2-dev # libxml2: `check --junit-merge` reads JUnit files
      busybox-static cpio # the initramfs of the real-kernel scenarios (scripts/mkinitramfs.sh)
      python3-jsonschema libxml2-utils) # compare --json schema; xmllint: the JUnit checks
# python3 + pip fetch the official Unicorn 2.1.4 wheel when the system has no Unicorn >= 2.1
# (scripts/fetch-unicorn.sh); they are not needed once a build tree holds it.
if ! python3 -m pip --version >/dev/null 2>&1; then pkgs+=(python3 python3-pip); fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "setup: need root to install: ${missing[*]} (run: apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet; update only when an install fails.
if ! $sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; then
  $sudo apt-get update -q >/dev/null
  $sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
fi
