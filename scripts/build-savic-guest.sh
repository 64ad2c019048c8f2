#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Rebuilds the shared Linux 7.2.13 Secure AVIC guest with the three options
# the real driver needs to reach its IPI, timer and EOI paths on any machine:
#   scripts/build-savic-guest.sh OUTDIR
# Why (docs/guest-abi.md "Linux's Secure AVIC driver"): the shared kernel has no
# CONFIG_X86_PAT (the decompressor's __sme_early_enc_dec BUGs under the reset
# PAT) and no CONFIG_KVM_GUEST/PARAVIRT (without a known hypervisor
# x2apic_available() is false, so x2apic_disable() reads the APIC through
# savic_read before savic_probe has set the driver up).
#
# Same source and recipe as the shared asset: Debian sid's linux-source-7.2
# 7.2.13-1, checked against the sha256 recorded in the asset's README,
# tinyconfig plus the asset's fragment in one allnoconfig pass; this adds
# MTRR (X86_PAT depends on it), X86_PAT, PARAVIRT and KVM_GUEST. The model
# names itself KVM for such a run with a CPUID override (tests/linux/
# savic-kvm.json). This is setup, run by `make test-savic-driver`, never by a
# test: it downloads. OUTDIR gets bzImage, System.map and config.
set -euo pipefail
out=${1:?usage: build-savic-guest.sh OUTDIR}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
version=7.2.13-1
deb_sha256=30a8c5fc63f9028a62e6d7b3f7f43bee67425dbce2a05fceba83f9b87c92083d
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$out/work
# The stamp is this script's hash: a changed recipe rebuilds, an unchanged one is a no-op.
stamp=$(sha256sum "$0" | cut -d' ' -f1)
if [ -f "$out/bzImage" ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ]; then
  exit 0
fi
rm -f "$out/stamp"

need=()
for tool in flex bison bc gcc make xz; do command -v "$tool" >/dev/null || need+=("$tool"); done
[ -f /usr/include/libelf.h ] || need+=(libelf-dev)
[ -f /usr/include/openssl/ssl.h ] || need+=(libssl-dev)
if [ ${#need[@]} -gt 0 ]; then
  echo "build-savic-guest: installing kernel build dependencies (${need[*]})"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    build-essential flex bison bc libelf-dev libssl-dev xz-utils >/dev/null
fi

# A private apt state: sid's index is read for this one package and the
# host's sources stay as they are.
mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial"
deb=$work/linux-source-7.2_${version}_all.deb
if [ ! -f "$deb" ] || ! echo "$deb_sha256  $deb" | sha256sum -c --quiet 2>/dev/null; then
  echo 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main' \
    > "$work/apt/sources.list"
  opts=(-o "Dir::Etc::SourceList=$work/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache"
        -o APT::Sandbox::User=root) # the files are root's: no _apt download sandbox
  if ! apt-get "${opts[@]}" update -qq || ! (cd "$work" && apt-get "${opts[@]}" download -qq "linux-source-7.2=$version"); then
    echo "build-savic-guest: cannot download linux-source-7.2 $version from Debian sid; put the .deb (sha256 $deb_sha256) at $deb and run again" >&2
    exit 1
  fi
fi
if ! echo "$deb_sha256  $deb" | sha256sum -c --quiet; then
  echo "build-savic-guest: $deb does not have the sha256 of linux-source-7.2 $version" >&2
  exit 1
fi

src=$work/linux-source-7.2
if [ ! -f "$src/Makefile" ]; then
  rm -rf "$work/deb" "$src"
  dpkg-deb -x "$deb" "$work/deb"
  tar -xf "$work/deb/usr/src/linux-source-7.2.tar.xz" -C "$work"
  rm -rf "$work/deb"
fi

# The shared asset's fragment (its README, "Config"), then what this build adds.
cat > "$work/fragment" <<'EOF'
CONFIG_64BIT=y
CONFIG_LOCALVERSION="-snpref-kvm"
# CONFIG_LOCALVERSION_AUTO is not set
CONFIG_DEFAULT_HOSTNAME="snpref"
CONFIG_KERNEL_GZIP=y
# CONFIG_MODULES is not set
# CONFIG_NET is not set
# CONFIG_BLOCK is not set
CONFIG_SMP=y
CONFIG_NR_CPUS=64
CONFIG_HYPERVISOR_GUEST=y
CONFIG_X86_X2APIC=y
CONFIG_PVH=y
CONFIG_ACPI=y
CONFIG_HIGH_RES_TIMERS=y
CONFIG_NO_HZ_IDLE=y
CONFIG_CPU_SUP_AMD=y
CONFIG_EFI=y
CONFIG_EFI_STUB=y
CONFIG_RELOCATABLE=y
# CONFIG_RANDOMIZE_BASE is not set
CONFIG_AMD_MEM_ENCRYPT=y
CONFIG_AMD_SECURE_AVIC=y
CONFIG_VIRT_DRIVERS=y
CONFIG_SEV_GUEST=y
CONFIG_PRINTK=y
CONFIG_PRINTK_TIME=y
CONFIG_EARLY_PRINTK=y
CONFIG_BUG=y
CONFIG_KALLSYMS=y
CONFIG_TTY=y
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y
CONFIG_DEVPORT=y
CONFIG_MULTIUSER=y
CONFIG_FUTEX=y
CONFIG_POSIX_TIMERS=y
CONFIG_BINFMT_ELF=y
CONFIG_BINFMT_SCRIPT=y
CONFIG_BLK_DEV_INITRD=y
CONFIG_RD_GZIP=y
CONFIG_DEVTMPFS=y
CONFIG_DEVTMPFS_MOUNT=y
CONFIG_PROC_FS=y
CONFIG_SYSFS=y
CONFIG_MTRR=y
CONFIG_X86_PAT=y
CONFIG_PARAVIRT=y
CONFIG_KVM_GUEST=y
EOF
cd "$src"
{ cat kernel/configs/tiny-base.config
  grep -v '^CONFIG_KERNEL_XZ=' kernel/configs/tiny.config
  cat arch/x86/configs/tiny.config "$work/fragment"; } > "$work/allconfig"
export KBUILD_BUILD_TIMESTAMP="Thu Jan  1 00:00:00 UTC 2026" KBUILD_BUILD_USER=snpref KBUILD_BUILD_HOST=snpref
KCONFIG_ALLCONFIG="$work/allconfig" make -s ARCH=x86_64 allnoconfig
make -s ARCH=x86_64 olddefconfig
bad=0
while read -r line; do
  case "$line" in
    CONFIG_*) grep -qxF "$line" .config || { echo "build-savic-guest: config lost: $line" >&2; bad=1; } ;;
  esac
done < "$work/fragment"
[ $bad = 0 ] || exit 1
echo "build-savic-guest: make -j$jobs bzImage (a few minutes)"
make -s ARCH=x86_64 -j"$jobs" bzImage
cp arch/x86/boot/bzImage System.map "$out/"
cp .config "$out/config"
cd "$out"
rm -rf "$src" # 1.5 GB of objects; the .deb stays for a rebuild
echo "$stamp" > "$out/stamp"
