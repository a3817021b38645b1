#!/usr/bin/env bash
# fuzz.sh — `make fuzz`: every libFuzzer target for PL_FUZZ_SECONDS each (default 300), with its
# seed corpus and a growing corpus under build-fuzz/corpus/. Findings are left as crash-* files.
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${PL_FUZZ_SECONDS:-300}
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build build-fuzz -j"${JOBS:-2}" --target fuzz_all 2>&1 | grep -E ': (error|warning|fatal error):|undefined reference' || true
status=0
for f in build-fuzz/bin/fuzz_*; do
  [[ -x $f ]] || continue
  name=$(basename "$f")
  mkdir -p "build-fuzz/corpus/$name"
  seeds=tests/fuzz/seeds/${name#fuzz_}
  echo "== $name for ${secs}s"
  "$f" -max_total_time="$secs" -print_final_stats=1 "build-fuzz/corpus/$name" ${seeds:+$( [[ -d $seeds ]] && echo "$seeds")} 2>&1 | tail -n 12 || status=1
done
exit $status
