# SPDX-License-Identifier: MIT
# Thin wrapper: each target installs what is missing, configures, builds, then acts.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
PREFIX ?= /usr/local

.PHONY: all setup configure build savic-guest run test kut bench attest-verify sanitize fuzz clean format install uninstall

all: build

setup:
	@bash scripts/setup.sh

configure: setup
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/tools/snpref run

# Linux 7.2.13 with the Secure AVIC driver, rebuilt from Debian's linux-source-7.2
# with X86_PAT and KVM_GUEST (scripts/build-savic-guest.sh; a few minutes, once):
# the kernel of the linux.savic.driver test, which `make test` needs.
SAVIC_GUEST ?= .cache/savic-guest
savic-guest:
	@bash scripts/build-savic-guest.sh $(SAVIC_GUEST)

test: build savic-guest
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# kvm-unit-tests from the shared peers directory under snpref against the QEMU baseline
# (docs/kvm-unit-tests.md); also part of `make test`.
kut: build
	cd $(BUILD) && ctest -L kut --output-on-failure

# QEMU 10 (the peer every figure is a ratio against) and the Linux initramfs
# come from scripts/bench-setup.sh, which only this target runs.
# BENCH_ARGS: the fastest of 3 runs of each command, against a shared host's noise.
LINUX_KERNEL ?= ../shared/guests/debian-6.1/vmlinuz
BENCH_ARGS ?= --repeat 3
bench: build
	@bash scripts/bench-setup.sh $(BUILD)
	$(BUILD)/tools/snpref bench --kernel $(LINUX_KERNEL) --initrd $(BUILD)/bench/initramfs.cpio.gz $(BENCH_ARGS)

# The model's certificate chain and an attestation report verified by virtee/snpguest,
# installed with cargo when missing (docs/attestation.md; not part of `make test`).
attest-verify: build
	@bash scripts/attest-verify.sh $(BUILD)

# The tool, the guest SDK (CMake package and pkg-config file), docs, man page and
# bash completion under PREFIX (docs/cli.md "Installing"); DESTDIR for staging.
# The manifest copy lets `make uninstall` work after the build tree is deleted.
install: build
	@DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"
	@install -m 644 $(BUILD)/install_manifest.txt "$(DESTDIR)$(PREFIX)/share/snpref/install_manifest.txt"

# Removes exactly what `make install` put under PREFIX (scripts/uninstall.sh).
uninstall:
	@DESTDIR="$(DESTDIR)" bash scripts/uninstall.sh "$(PREFIX)" $(BUILD)

# The whole test suite under ASan+UBSan, in its own build tree: every test of
# every label (no -L/-LE: the Linux boots, kvm-unit-tests, install, ...), each
# time limit stretched by SNPREF_TEST_TIME_SCALE (tests/CMakeLists.txt).
sanitize: savic-guest
	@$(MAKE) --no-print-directory build BUILD=build-asan CMAKE_FLAGS="-DSNPREF_SANITIZE=ON"
	cd build-asan && ctest --output-on-failure -j $(JOBS)

# libFuzzer targets for the trace reader and the KVM log importer, FUZZ_SECONDS
# (default 60) each; installs clang if it is missing (scripts/fuzz.sh).
fuzz:
	@bash scripts/fuzz.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h' '*.cpp')

clean:
	rm -rf $(BUILD) build-asan build-fuzz
