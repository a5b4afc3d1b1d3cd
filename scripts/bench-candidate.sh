#!/usr/bin/env bash
# proxy-bench candidate wrapper: writes a one-worker basalt config that proxies everything on
# 127.0.0.1:PORT to UPSTREAM, with the JSON access log written to a file, then becomes basalt
# (exec), as proxy-bench requires of a candidate.
#
#   scripts/bench-candidate.sh 18080 127.0.0.1:18081 /tmp/scratch      # what `make bench` passes
set -euo pipefail
if [ $# -ne 3 ]; then
  echo "usage: $0 PORT UPSTREAM TMPDIR" >&2
  exit 2
fi
PORT=$1 UPSTREAM=$2 DIR=$3
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BASALT=${BASALT:-$ROOT/build/release/basalt}

mkdir -p "$DIR"
cat >"$DIR/basalt.yaml" <<YAML
workers: 1
listeners: [ { name: public, address: 127.0.0.1:$PORT } ]
admin: { enabled: false }
access_log: { path: "$DIR/access.log" }
upstreams:
  - name: origin
    endpoints: [ { address: $UPSTREAM } ]
    pool: { max_idle: 256 }
routes:
  - name: all
    match: { path_prefix: / }
    upstream: origin
YAML
exec "$BASALT" run -c "$DIR/basalt.yaml"
