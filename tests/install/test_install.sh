#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 15, "Install and use outside the tree": builds a fresh tree of SOURCE in
# a temporary directory (never the caller's build tree), runs `make install
# PREFIX=$tmp/prefix`, deletes that build tree, and then checks that the
# installed snpref runs the demo and finds its bench guests, that a guest built
# out of tree against the installed SDK through CMake (find_package) and
# through pkg-config runs under it in plain and SNP mode, that `man -l`
# renders the man page, that bash completion completes commands, flags and
# values, and that `make uninstall` removes exactly what was installed.
#
# usage: test_install.sh SOURCE_DIR [UNICORN_WHEEL_DIR] [SNPREF_UNICORN]
# UNICORN_WHEEL_DIR (the caller's build/_deps/unicorn-2.1.4) seeds the fresh
# build so that no network is needed; it is copied, never referenced, so the
# RUNPATH check below would catch an installed binary that still needs it.
set -uo pipefail
src=${1:?usage: test_install.sh SOURCE_DIR [UNICORN_WHEEL_DIR] [SNPREF_UNICORN]}
wheel=${2:-}
unicorn=${3:-auto}
# A make above us (`make test`) must not hand its jobserver to ours.
unset MAKEFLAGS MFLAGS MAKELEVEL

tmp=$(mktemp -d "${TMPDIR:-/tmp}/snpref-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
build=$tmp/build
failed=0

ok() { echo "ok - $1"; }
fail() {
    echo "FAIL - $1: $2" >&2
    failed=$((failed + 1))
}
# expect NAME WANT_STATUS CMD...: runs CMD with stdout in $tmp/out, stderr in $tmp/err.
expect() {
    local name=$1 want=$2 rc
    shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" -ne "$want" ]; then
        fail "$name" "'$*' exited $rc, want $want; stderr: $(head -c 600 "$tmp/err")"
        return 1
    fi
    return 0
}
has() { grep -q -- "$2" "$1"; }

# --- install from a fresh build, then delete the build ----------------------
mkdir -p "$build/_deps" "$prefix/bin" "$prefix/share/man/man1" "$prefix/lib/pkgconfig"
if [ -n "$wheel" ]; then
    cp -al "$wheel" "$build/_deps/" 2>/dev/null || cp -a "$wheel" "$build/_deps/"
fi
# Someone else's files in the same prefix: uninstall must leave them.
touch "$prefix/bin/other-tool" "$prefix/share/man/man1/other.1" "$prefix/lib/pkgconfig/other.pc"

start=$(date +%s)
if ! make -C "$src" install BUILD="$build" PREFIX="$prefix" JOBS=2 \
        CMAKE_FLAGS="-DSNPREF_BUILD_TESTS=OFF -DSNPREF_UNICORN=$unicorn" >"$tmp/make.log" 2>&1; then
    tail -40 "$tmp/make.log" >&2
    echo "FAIL - make_install_builds_and_installs_into_the_prefix" >&2
    exit 1
fi
ok "make_install_builds_and_installs_into_the_prefix ($(($(date +%s) - start)) s)"
rm -rf "$build"
[ ! -e "$build" ] && ok "the_build_tree_is_deleted"

# --- the tool ---------------------------------------------------------------
tool=$prefix/bin/snpref
runpath=$(readelf -d "$tool" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p')
bad=""
IFS=: read -ra entries <<<"$runpath"
for e in "${entries[@]}"; do
    case $e in "$tmp"* | *_deps*) bad="$bad $e" ;; esac
done
if [ -z "$bad" ]; then
    ok "installed_binary_has_no_runpath_into_a_build_tree ($runpath)"
else
    fail "installed_binary_has_no_runpath_into_a_build_tree" "RUNPATH has$bad"
fi
ldd "$tool" >"$tmp/ldd" 2>&1
if has "$tmp/ldd" "not found"; then
    fail "installed_binary_resolves_every_library" "$(grep 'not found' "$tmp/ldd")"
elif [ -n "$wheel" ] && ! grep -q "libunicorn.so.2 => $prefix/" "$tmp/ldd"; then
    fail "installed_binary_resolves_every_library" "$(grep unicorn "$tmp/ldd")"
else
    ok "installed_binary_resolves_every_library"
fi

if expect "installed_snpref_runs_the_demo" 0 env -C / "$tool" run; then
    if has "$tmp/out" "demo: PASS"; then ok "installed_snpref_runs_the_demo"; else
        fail "installed_snpref_runs_the_demo" "no 'demo: PASS' in: $(tail -3 "$tmp/out")"; fi
fi
if expect "version_names_the_tool" 0 "$tool" --version && grep -Eq '^snpref [0-9]+\.[0-9]+' "$tmp/out"; then
    ok "version_names_the_tool"
fi

# bench loads its guests first: found, it is still measuring after 5 s (or
# done); not found, it stops at once with 66 and says where it looked.
timeout 5 "$tool" bench >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 124 ] || [ "$rc" -eq 0 ]; then
    ok "installed_bench_finds_its_guests_in_the_prefix"
else
    fail "installed_bench_finds_its_guests_in_the_prefix" "exit $rc: $(head -c 400 "$tmp/err")"
fi
mkdir -p "$tmp/bare/bin" "$tmp/bare/lib"
cp -a "$tool" "$tmp/bare/bin/" && cp -a "$prefix/lib/snpref" "$tmp/bare/lib/" 2>/dev/null
if expect "bench_without_its_guests_says_so_and_exits_66" 66 "$tmp/bare/bin/snpref" bench; then
    if has "$tmp/err" "bench_compute.elf" && has "$tmp/err" "make install"; then
        ok "bench_without_its_guests_says_so_and_exits_66"
    else
        fail "bench_without_its_guests_says_so_and_exits_66" "message: $(cat "$tmp/err")"
    fi
fi

# --- guests built out of tree against the installed SDK ---------------------
# run_guest NAME IMAGE BUILD: the image passes in plain and in SNP mode.
run_guest() {
    local name=$1 img=$2 how=$3 mode
    for mode in plain snp; do
        expect "$name ($mode)" 0 "$tool" run "$img" --vcpus 1 --mode "$mode" --quiet || continue
        if has "$tmp/out" "hello ($how): self-IPI vector 0x40 taken once: PASS"; then
            ok "$name ($mode)"
        else
            fail "$name ($mode)" "console: $(head -c 400 "$tmp/out")"
        fi
    done
}
if cmake -S "$src/tests/install/hello" -B "$tmp/hello-cmake" -DCMAKE_PREFIX_PATH="$prefix" \
        >"$tmp/cmake.log" 2>&1 && cmake --build "$tmp/hello-cmake" >>"$tmp/cmake.log" 2>&1; then
    run_guest "guest_built_with_find_package_runs" "$tmp/hello-cmake/hello.elf" cmake
else
    fail "guest_built_with_find_package_runs" "$(tail -20 "$tmp/cmake.log")"
fi

mkdir -p "$tmp/hello-pc"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
cc=${CC:-cc}
if $cc $(pkg-config --cflags snpref-sdk) -O2 '-DHELLO_BUILD="pkg-config"' \
        -c "$src/tests/install/hello/hello.c" -o "$tmp/hello-pc/hello.o" 2>"$tmp/pc.log" &&
    $cc "$tmp/hello-pc/hello.o" $(pkg-config --libs snpref-sdk) -o "$tmp/hello-pc/hello.elf" 2>>"$tmp/pc.log"; then
    run_guest "guest_built_with_pkg_config_runs" "$tmp/hello-pc/hello.elf" pkg-config
else
    fail "guest_built_with_pkg_config_runs" "$(cat "$tmp/pc.log")"
fi

# --- man page and completion ------------------------------------------------
man=$prefix/share/man/man1/snpref.1
if expect "man_renders_the_man_page" 0 env MANPAGER=cat MANWIDTH=80 man --warnings -l "$man"; then
    if has "$tmp/out" "SNPREF(1)" && has "$tmp/out" "run \[GUEST.elf\]" && has "$tmp/out" "--exit-style" &&
        [ ! -s "$tmp/err" ]; then
        ok "man_renders_the_man_page"
    else
        fail "man_renders_the_man_page" "output $(head -c 300 "$tmp/out"); warnings $(cat "$tmp/err")"
    fi
fi

# complete WANT WORD...: the completion of the last WORD, sorted, is WANT.
mkdir -p "$tmp/files" && touch "$tmp/files/a.elf" "$tmp/files/b.json" "$tmp/files/c.txt"
complete_is() {
    local want=$1 got
    shift
    got=$(cd "$tmp/files" && bash --norc --noprofile -c '
        source "$1"; shift
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _snpref
        printf "%s\n" "${COMPREPLY[@]}" | sort | xargs' _ \
        "$prefix/share/bash-completion/completions/snpref" "$@")
    if [ "$got" = "$want" ]; then ok "bash_completion_of '$*' is '$want'"; else
        fail "bash_completion_of '$*'" "got '$got', want '$want'"; fi
}
complete_is "replay run" snpref r
complete_is "--quantum --quiet" snpref run --qu
complete_is "sev-es snp" snpref run --mode s
# Fabric names come from the installed tool itself, whatever fabrics it has.
# (the unindented lines: each fabric's capabilities follow it, indented)
fabrics=$("$tool" fabrics | awk '/^[^ ]/ {print $1}' | sort | xargs)
case " $fabrics " in *" emulated "*) ;; *) fail "snpref_fabrics_lists_emulated" "got '$fabrics'" ;; esac
complete_is "$fabrics" "$tool" run --apic ""
complete_is "$(printf 'emulated,%s\n' $fabrics | grep '^emulated,s' | xargs)" "$tool" compare --fabrics emulated,s
complete_is "a.elf" snpref run ""
complete_is "b.json" snpref run --config ""
complete_is "ftrace" snpref import f
complete_is "ftrace perfetto vcd" snpref export ""
complete_is "ftrace" snpref export f
complete_is "$fabrics" "$tool" compare --a ""
complete_is "console" snpref compare --ignore c
complete_is "--trace --trace-events" snpref run --trace

# --- uninstall --------------------------------------------------------------
if expect "uninstall_removes_exactly_what_was_installed" 0 \
        make -C "$src" uninstall PREFIX="$prefix" BUILD="$build"; then
    left=$(cd "$prefix" && find . -type f | sort | xargs)
    dirs=$(cd "$prefix" && find . -name '*snpref*' | xargs)
    if [ "$left" = "./bin/other-tool ./lib/pkgconfig/other.pc ./share/man/man1/other.1" ] && [ -z "$dirs" ]; then
        ok "uninstall_removes_exactly_what_was_installed"
    else
        fail "uninstall_removes_exactly_what_was_installed" "left: $left; snpref paths: $dirs"
    fi
fi

[ "$failed" -eq 0 ] || { echo "$failed check(s) failed" >&2; exit 1; }
echo "all install checks passed"
