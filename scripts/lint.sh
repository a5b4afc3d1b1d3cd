#!/usr/bin/env bash
# The project's bans, each with what to use instead (see STYLE.md). Checks the files git knows
# about: tracked ones plus new ones that are not ignored. Prints "file:line: message" for each
# finding and exits 1 if there is any.
#
#   scripts/lint.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# Word boundaries spelled out: git grep's \< and \> depend on the platform's regex library.
B='(^|[^_[:alnum:]])'
E='([^_[:alnum:]]|$)'

# Pathspecs. In git pathspecs '*' also crosses '/', so 'src/*.cc' covers every sub-folder.
code_in() {
  local dir
  for dir in "$@"; do printf '%s\n' "$dir/*.cc" "$dir/*.h" "$dir/*.cpp" "$dir/*.hpp"; done
}
mapfile -t ALL_CODE < <(code_in src tests tools fuzz)
mapfile -t SRC_CODE < <(code_in src)
mapfile -t TEST_CODE < <(code_in tests)
MARKER_DIRS=(src tests tools fuzz scripts docs)
SELF=':(exclude)scripts/lint.sh'  # it spells out every banned word

findings=0

# Prints "file:line:text" for each line matching the extended regex in the pathspecs.
search() {
  local pattern=$1
  shift
  git grep --untracked -I -n -E -e "$pattern" -- "$@" "$SELF" || true
}

# Keeps the matches whose code, the text before any // comment, still matches the pattern.
in_code() {
  awk -v pattern="$1" '{
    text = $0
    sub(/^[^:]*:[0-9]+:/, "", text)
    sub(/\/\/.*/, "", text)
    if (text ~ pattern) print
  }'
}

# Keeps the lines that still hold a marker once TODO(#N) and TODO(basalt): are taken out.
bare_markers() {
  awk -v pattern="$B(TODO|FIXME|XXX)$E" '{
    text = $0
    sub(/^[^:]*:[0-9]+:/, "", text)
    gsub(/TODO\(#[0-9]+\)|TODO\(basalt\):/, "", text)
    if (text ~ pattern) print
  }'
}

# Prints each "file:line:text" of stdin as "file:line: message" and counts it.
report() {
  local message=$1 file line rest
  while IFS=: read -r file line rest; do
    echo "$file:$line: $message"
    findings=$((findings + 1))
  done
}

# Each check: its matches on stdin of report (process substitution keeps the count here).
report "marker without an owner: write TODO(#N) naming the issue, or TODO(basalt): and why" \
  < <(search "$B(TODO|FIXME|XXX)$E" "${MARKER_DIRS[@]}" | bare_markers)

REGEX="std::w?regex|std::regex_|#[[:space:]]*include[[:space:]]*<regex>"
report "std::regex is banned: use RE2 (linear time, no stack blow-up on hostile input)" \
  < <(search "$REGEX" "${ALL_CODE[@]}" | in_code "$REGEX")

report "sleep in a test: wait on an event/pipe/deadline instead" \
  < <(search "sleep_for|sleep_until|usleep|${B}sleep[[:space:]]*\(" "${TEST_CODE[@]}")

report "sleep in a test: wait on an event/pipe/deadline instead" \
  < <(search "time\.sleep|from[[:space:]]+time[[:space:]]+import.*${B}sleep$E" 'tests/*.py')

THROW="${B}throw$E"
report "throw outside src/config/: return an error value; exceptions only while loading config" \
  < <(search "$THROW" "${SRC_CODE[@]}" ':(exclude)src/config/' | in_code "$THROW")

report "machine-specific path: use a path relative to the repository, or a variable" \
  < <(search '/(work|root|home)/' . ':(exclude).gitignore')

if [ "$findings" -gt 0 ]; then
  echo "lint: $findings finding(s)" >&2
  exit 1
fi
