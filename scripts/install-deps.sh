#!/usr/bin/env bash
# Installs the Debian 12 packages that building, testing, fuzzing and benchmarking basalt need.
# Idempotent: prints nothing and touches nothing when every package is already installed.
#
#   scripts/install-deps.sh          # as root, or as a user with sudo
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libboost-url1.81-dev libyaml-cpp-dev libre2-dev nlohmann-json3-dev
  libvalijson-dev libgtest-dev
  python3 curl
  clang-14 clang-format-14 libclang-rt-14-dev libfuzzer-14-dev
  prometheus nghttp2-client wrk
)

# One dpkg-query for all packages; unknown ones print nothing (and an error we drop).
status=$(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)
missing=()
for pkg in "${PACKAGES[@]}"; do
  grep -qx "$pkg install ok installed" <<<"$status" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=()
[ "$(id -u)" -eq 0 ] || SUDO=(sudo)

# Packages such as prometheus start a system service when installed. A policy-rc.d that exits
# 101 tells invoke-rc.d and deb-systemd-invoke not to start anything; an existing one is kept.
POLICY=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$POLICY" >/dev/null
  "${SUDO[@]}" chmod 755 "$POLICY"
  own_policy=1
fi
remove_policy() {
  if [ "$own_policy" -eq 1 ]; then "${SUDO[@]}" rm -f "$POLICY"; fi
}
trap remove_policy EXIT

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends "${missing[@]}"
