# SPDX-License-Identifier: MIT
# Thin wrapper: each target installs what is missing, configures, builds, then acts.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all setup configure build run test bench sanitize fuzz clean format

all: build

setup:
	@bash scripts/setup.sh

configure: setup
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/tools/snpref run

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: build
	$(BUILD)/tools/snpref bench

# The whole test suite under ASan+UBSan, in its own build tree.
sanitize:
	@$(MAKE) --no-print-directory test BUILD=build-asan CMAKE_FLAGS="-DSNPREF_SANITIZE=ON"

# libFuzzer targets for the trace reader and the KVM log importer, FUZZ_SECONDS
# (default 60) each; installs clang if it is missing (scripts/fuzz.sh).
fuzz:
	@bash scripts/fuzz.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h' '*.cpp')

clean:
	rm -rf $(BUILD) build-asan build-fuzz
