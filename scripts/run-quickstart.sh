#!/usr/bin/env bash
# Runs the quickstart: two demo upstream services (users-1 on 127.0.0.1:9001, users-2 on 9002)
# and basalt with examples/quickstart.yaml in front of them. basalt's logs go to this terminal;
# Ctrl-C or SIGTERM stops all three. Exits with basalt's status when basalt stops on its own.
#
#   make build && scripts/run-quickstart.sh      # or simply: make run
set -euo pipefail
cd "$(dirname "$0")/.."

BIN_DIR=${BIN_DIR:-build/release}
CONFIG=${CONFIG:-examples/quickstart.yaml}
for bin in basalt basalt-demo; do
  if [ ! -x "$BIN_DIR/$bin" ]; then
    echo "run-quickstart: $BIN_DIR/$bin is missing; run 'make build' first" >&2
    exit 1
  fi
done

scratch=$(mktemp -d "${TMPDIR:-/tmp}/basalt-quickstart.XXXXXX")
pids=()

# basalt (started last) stops first and drains its in-flight requests while the demo
# services still answer them; then the demos stop.
stop_all() {
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  rm -rf "$scratch"
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap stop_all EXIT

# Starts one demo service and waits (up to 5 s) for its "listening" line.
start_demo() {
  local name=$1 address=$2 out="$scratch/$1.out"
  "$BIN_DIR/basalt-demo" --listen "$address" --name "$name" >"$out" &
  pids+=($!)
  for _ in $(seq 50); do
    grep -q '^listening ' "$out" && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "run-quickstart: demo service $name did not start on $address (port taken?)" >&2
  exit 1
}

start_demo users-1 127.0.0.1:9001
start_demo users-2 127.0.0.1:9002

cat <<'HINTS'
basalt quickstart: users-1 on :9001 and users-2 on :9002 behind basalt on :8080.
Try, from another terminal:
  curl -i localhost:8080/ping
  curl -i localhost:8080/users/42
  curl -i 'localhost:8080/users/42?status=503&delay=200'   # the demo obeys query parameters
  curl localhost:9901/metrics
  curl localhost:9901/ready
  curl localhost:9901/config
  curl localhost:9901/upstreams
Ctrl-C stops everything.
HINTS

# basalt runs as a job so that the traps fire while we wait (bash defers them until a
# foreground child exits). Asynchronous jobs ignore SIGINT, so the INT trap forwards a TERM.
"$BIN_DIR/basalt" run -c "$CONFIG" &
pids+=($!)
status=0
wait "${pids[-1]}" || status=$?
echo "run-quickstart: basalt exited with status $status" >&2
exit "$status"
