#!/usr/bin/env bash
# test.sh — the whole suite, as `make test` and CI run it.
#
#   1. Debug build with -Werror; unit, integration and e2e tests (integration tests start their
#      own redis-server on free loopback ports and remove it afterwards), and the Kubernetes
#      manifests' (label deploy: rendered, validated offline, held to the services' sources).
#   2. The same under AddressSanitizer + UndefinedBehaviorSanitizer (LeakSanitizer included).
#   3. A short pass of every fuzz target (clang, libFuzzer); longer runs: `make fuzz`.
# Prints one closing line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-2}
passed=0
failed=0
status=0

run_suite() {   # name, build dir, ctest label regex
  local name=$1 dir=$2 labels=$3 log
  log=$(mktemp)
  echo "== $name: ctest -L '$labels'"
  ctest --test-dir "$dir" -L "$labels" -j"$JOBS" --output-on-failure 2>&1 | tee "$log"
  local line p t
  line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -n 1)
  if [[ -z $line ]]; then
    echo "$name: ctest did not run (see above)"; failed=$((failed + 1)); status=1
  else
    t=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
    local f; f=$(sed -E 's/.*, ([0-9]+) tests failed.*/\1/' <<<"$line")
    p=$((t - f)); passed=$((passed + p)); failed=$((failed + f))
    ((f == 0)) || status=1
  fi
  rm -f "$log"
}

build() {   # dir, build type, [extra cmake -D args…], [--target T]
  local dir=$1 type=$2 target=(); shift 2
  local args=()
  while (($#)); do
    if [[ $1 == --target ]]; then target=(--target "$2"); shift 2; else args+=("$1"); shift; fi
  done
  echo "== build $dir ($type)"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" "${args[@]}" >/dev/null || return 1
  cmake --build "$dir" -j"$JOBS" "${target[@]}" 2>&1 | grep -E ': (error|warning|fatal error):|Error [0-9]|undefined reference' ; return "${PIPESTATUS[0]}"
}

SECONDS=0
if build build Debug; then
  # The compliance simulation (label sim) runs once, on the Debug build: minutes of a whole stack.
  # The manifests' checks (label deploy) need no build and run once, here, too.
  run_suite "debug" build 'unit|integration|e2e|security|sim|deploy'
else
  echo "debug build failed"; failed=$((failed + 1)); status=1
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if build build-san Sanitize; then
  run_suite "asan+ubsan" build-san 'unit|integration|e2e|security'
else
  echo "sanitizer build failed"; failed=$((failed + 1)); status=1
fi

if build build-fuzz Fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ --target fuzz_all; then
  if ctest --test-dir build-fuzz -N -L fuzz 2>/dev/null | grep -q 'Test *#'; then
    run_suite "fuzz (short)" build-fuzz 'fuzz'
  fi
else
  echo "fuzz build failed"; failed=$((failed + 1)); status=1
fi

echo "== whole suite in ${SECONDS}s"
echo "test: $passed passed, $failed failed"
exit $status
