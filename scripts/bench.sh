#!/usr/bin/env bash
# bench.sh — `make bench`: builds in Release and runs every benchmark in bench/, each printing
# its figures beside its baseline measured in the same run. Never part of `make test`.
set -uo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j"${JOBS:-2}" 2>&1 | grep -E ': (error|warning|fatal error):|undefined reference' || true
status=0
for b in build-bench/bin/bench_*; do
  [[ -x $b ]] || continue
  echo "== $(basename "$b")"
  "$b" || status=1
done
# The dialer's stack benchmarks (bench/dialer): the local stack under /tmp with the Release binaries.
for s in bench/dialer/agents.sh bench/dialer/pacing.sh; do
  echo "== $s"
  PL_BIN_DIR=$PWD/build-bench/bin "$s" || status=1
done
exit $status
