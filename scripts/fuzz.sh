#!/usr/bin/env bash
# Builds the HTTP/1 request parser fuzz target with clang, libFuzzer, ASan and UBSan in
# build/fuzz, and runs it for FUZZ_SECONDS on a scratch copy of the seed corpus (the seeds in
# git stay as they are). Exits non-zero when the fuzzer finds a crash, a leak or a timeout; the
# input that did it is left in build/fuzz/artifacts/.
#
#   FUZZ_SECONDS=300 scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-30}
BUILD=build/fuzz
TARGET=fuzz_h1_request
SEEDS=fuzz/corpus/h1_request
CXX=${FUZZ_CXX:-clang++-14}
JOBS=${JOBS:-$(nproc)}

if [ ! -f fuzz/h1_request_fuzz.cc ]; then
  echo "fuzz: fuzz/h1_request_fuzz.cc is missing; there is nothing to fuzz" >&2
  exit 2
fi

# Clang 14's -fsanitize=function fails to compile C++20 coroutines ("cannot represent a
# difference across sections"), so that one UBSan check is left out. UBSan findings stop the run
# like ASan ones do. Debug at -O1 keeps assert()s on and stays fast.
SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=function"
SAN+=" -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
  -DCMAKE_CXX_COMPILER="$CXX" -DCMAKE_CXX_FLAGS="$SAN" \
  -DBASALT_FUZZ=ON -DBASALT_TESTS=OFF >/dev/null
ninja -C "$BUILD" -j "$JOBS" "$TARGET"

# The fuzzer adds what it learns to its first corpus directory: give it a scratch copy.
work=$(mktemp -d "${TMPDIR:-/tmp}/basalt-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -R "$SEEDS/." "$work/"
mkdir -p "$BUILD/artifacts"

echo "fuzz: running $TARGET for ${FUZZ_SECONDS}s on $(ls "$work" | wc -l) seeds"
"$BUILD/$TARGET" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/" "$work"
