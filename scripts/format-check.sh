#!/usr/bin/env bash
# Checks that every C++ file git knows about (tracked, plus new ones not ignored) is formatted
# by .clang-format; with --fix, rewrites them in place instead.
#
#   scripts/format-check.sh          # lists offending lines, exits 1 if any
#   scripts/format-check.sh --fix    # what `make format` runs
set -euo pipefail
cd "$(dirname "$0")/.."

# clang-format 14 is what CI installs; another version may format differently.
CLANG_FORMAT=${CLANG_FORMAT:-$(command -v clang-format-14 || command -v clang-format || true)}
if [ -z "$CLANG_FORMAT" ]; then
  echo "format-check: clang-format-14 not found (run scripts/install-deps.sh)" >&2
  exit 2
fi

# Deleted-but-still-tracked files are skipped.
mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.cc' '*.h' |
                     sort -u | while read -r f; do [ -f "$f" ] && echo "$f"; done)
[ ${#files[@]} -eq 0 ] && exit 0

if [ "${1:-}" = "--fix" ]; then
  "$CLANG_FORMAT" -i --style=file "${files[@]}"
  exit 0
fi
if ! "$CLANG_FORMAT" --dry-run --Werror --style=file "${files[@]}"; then
  echo "format-check: run 'make format' to fix the files above" >&2
  exit 1
fi
