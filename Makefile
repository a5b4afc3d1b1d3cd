# Developer entry points. On a fresh Debian 12 machine, `make run` builds and starts the
# quickstart and `make test` runs every check CI runs. See docs/development.md.
#
#   make run                  # build, then basalt + two demo upstreams (Ctrl-C stops them)
#   make test                 # deps, lint, format-check, release + ASan/UBSan tests, short fuzz
#   make fuzz FUZZ_SECONDS=300

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 30
TEST_FUZZ_SECONDS ?= 20
BENCH ?= ../shared/bench/proxy-bench
BENCH_ARGS ?=
# LeakSanitizer needs ptrace-like access; set ASAN_OPTIONS=detect_leaks=0 where it is denied.
ASAN_OPTIONS ?= detect_leaks=1:check_initialization_order=1
UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS UBSAN_OPTIONS

RELEASE := build/release
ASAN := build/asan
CMAKE := cmake -S . -G Ninja

# Steps run one after another; ninja and ctest use the cores inside each step.
.NOTPARALLEL:
.PHONY: all deps build run test test-release test-asan lint format format-check fuzz bench clean

all: build

# Every target that needs a tool depends on this; it is quiet and quick when nothing is missing.
deps:
	scripts/install-deps.sh

# Configures only when the tree has no build.ninja yet; after that ninja re-runs cmake itself
# when a CMakeLists.txt or a globbed folder changes.
$(RELEASE)/build.ninja: | deps
	$(CMAKE) -B $(RELEASE) -DCMAKE_BUILD_TYPE=RelWithDebInfo

# The sanitizer build: Debug at -O1 keeps assert()s and stack traces and runs tests fast enough.
$(ASAN)/build.ninja: | deps
	$(CMAKE) -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
	  -DBASALT_SANITIZE=ON

build: deps $(RELEASE)/build.ninja
	ninja -C $(RELEASE) -j $(JOBS) basalt basalt-demo

run: build
	scripts/run-quickstart.sh

test: deps lint format-check test-release test-asan
	$(MAKE) fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)

test-release: deps $(RELEASE)/build.ninja
	ninja -C $(RELEASE) -j $(JOBS)
	ctest --test-dir $(RELEASE) --output-on-failure -j $(JOBS)

test-asan: deps $(ASAN)/build.ninja
	ninja -C $(ASAN) -j $(JOBS)
	ctest --test-dir $(ASAN) --output-on-failure -j $(JOBS)

lint:
	scripts/lint.sh

format:
	scripts/format-check.sh --fix

format-check: deps
	scripts/format-check.sh

fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) JOBS=$(JOBS) scripts/fuzz.sh

bench: build
	$(BENCH) --candidate-name basalt \
	  --candidate-cmd '$(CURDIR)/scripts/bench-candidate.sh {port} {upstream} {tmpdir}' \
	  --json build/bench.json $(BENCH_ARGS)

clean:
	rm -rf build
