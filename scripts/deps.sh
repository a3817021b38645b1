#!/usr/bin/env bash
# deps.sh — installs the Debian 12 packages plateau needs to build, test and run.
#
# Idempotent: packages already present are skipped, and `apt-get update` runs at most once.
# The list below is the one place where dependencies are pinned (by Debian 12 "bookworm" package
# name; the versions are the ones bookworm ships). Run as root, or with sudo available.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git
  clang libclang-rt-14-dev            # libFuzzer targets and LeakSanitizer runtime
  libzmq3-dev                         # bus (ZeroMQ 4.3, CURVE included)
  libprotobuf-c-dev protobuf-c-compiler
  libhiredis-dev redis-server         # shared state; tests start their own redis-server
  libcmocka-dev                       # unit tests
  libmicrohttpd-dev                   # HTTP: intake API, ops port, audit query
  libsodium-dev                       # hashes, signatures, CURVE key files, constant-time compares
  libjansson-dev                      # JSON with line/column errors
  libcsv-dev                          # streaming CSV
  libphonenumber-dev                  # number parsing (C++ library behind a small C shim)
  libprotobuf-dev                     # libphonenumber links libprotobuf: pl_phone needs it at link time
  libsqlite3-dev sqlite3              # audit index, readable by auditors with standard tools
  python3 python3-phonenumbers        # generator of the prefix → time-zone table
  tzdata                              # IANA zones read by the rules engine
  curl procps iproute2 psmisc         # local stack scripts and tests
  jq                                  # the simulation driver reads the generated bundle
)

missing=()
for p in "${PACKAGES[@]}"; do
  [[ $p == \#* ]] && continue
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "deps.sh: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO=(sudo)
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q >/dev/null
# --no-install-recommends keeps the machine small; policy-rc.d keeps the packaged redis from
# starting as a system service (plateau starts its own private instances).
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee /usr/sbin/policy-rc.d >/dev/null
  "${SUDO[@]}" chmod +x /usr/sbin/policy-rc.d
  trap '"${SUDO[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
fi
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
