#!/usr/bin/env bash
# agents.sh — simulated agents one node carries at real-time speed (issue 11).
#
#   bench/dialer/agents.sh [--agents "500 1000 2000"] [--seconds 300] [--leads 20000] [--seed 1]
#
# For each A: the local stack (scripts/stack.sh, PL_RUN_DIR under /tmp, PL_BIN_DIR build-bench/bin)
# on the real clock, telsim with PLATEAU_TELSIM_AGENTS=us-collect:<A>, a plateau-simgen bundle's
# campaigns and leads through the intake; after --seconds, the agents' occupancy from telsim's
# plateau_telsim_agent_ms_total{campaign,state}, calls/s, and the CPU seconds of every process
# (utime + stime from /proc). Small run: --agents 50 --seconds 60 --leads 3000.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
export PL_BIN_DIR=${PL_BIN_DIR:-$ROOT/build-bench/bin}
AGENTS="500 1000 2000" SECONDS_RUN=300 LEADS=20000 SEED=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --agents) AGENTS=$2; shift 2 ;; --seconds) SECONDS_RUN=$2; shift 2 ;;
    --leads) LEADS=$2; shift 2 ;; --seed) SEED=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;; *) echo "agents: unknown option $1" >&2; exit 2 ;;
  esac
done
cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
echo "agents.sh: real-time floor, us-collect, $SECONDS_RUN s a run; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for A in $AGENTS; do
  export PL_RUN_DIR=${PL_RUN_BASE:-/tmp/pl-bench-agents}-$A
  B=$PL_RUN_DIR/bundle
  scripts/stack.sh down >/dev/null 2>&1 || true
  rm -rf "$PL_RUN_DIR"; mkdir -p "$PL_RUN_DIR/extra"
  "$PL_BIN_DIR/plateau-simgen" --out "$B" --leads "$LEADS" --seed "$SEED" --start "$(date -u +%F)" >/dev/null
  echo "PLATEAU_SCRUB_CAMPAIGNS_DIR=$B/campaigns" >"$PL_RUN_DIR/extra/scrub.env"
  echo "PLATEAU_CAMPAIGNS_DIR=$B/campaigns" >"$PL_RUN_DIR/extra/dialer.env"
  echo "PLATEAU_CAMPAIGNS_DIR=$B/campaigns" >"$PL_RUN_DIR/extra/intake.env"
  printf 'PLATEAU_TELSIM_SEED=%s\nPLATEAU_TELSIM_AGENTS=us-collect:%s\n' "$SEED" "$A" >"$PL_RUN_DIR/extra/telsim.env"
  trap 'scripts/stack.sh down >/dev/null 2>&1 || true' EXIT
  scripts/stack.sh up >/dev/null
  set -a; . "$PL_RUN_DIR/stack.env"; set +a
  [[ -f $B/leads/us-collect.ndjson ]] && "$PL_BIN_DIR/plateauctl" leads submit "$B/leads/us-collect.ndjson" --campaign us-collect >/dev/null 2>&1 || true
  declare -A c0=()
  for p in "$PL_RUN_DIR"/pids/*.pid; do c0[$(basename "$p" .pid)]=$(cpu_of "$(cat "$p")"); done
  m0=$(curl -fsS "$PLATEAU_TELSIM_OPS_URL/metrics" | awk '/^plateau_telsim_calls_placed_total/ {s+=$2} END {print s+0}')
  sleep "$SECONDS_RUN"
  curl -fsS "$PLATEAU_TELSIM_OPS_URL/metrics" >"$PL_RUN_DIR/telsim.metrics"
  m1=$(awk '/^plateau_telsim_calls_placed_total/ {s+=$2} END {print s+0}' "$PL_RUN_DIR/telsim.metrics")
  echo "== A = $A: $(( m1 - m0 )) calls in $SECONDS_RUN s ($(awk -v c=$((m1 - m0)) -v s="$SECONDS_RUN" 'BEGIN {printf "%.2f", c / s}') calls/s)"
  awk -F'[{}" ]+' '/^plateau_telsim_agent_ms_total\{.*campaign="us-collect"/ {
        for (i = 2; i < NF; i++) if ($i ~ /(^|,)state=$/) st = $(i + 1); v[st] = $NF; t += $NF }
      /^plateau_telsim_talk_ms_total\{.*campaign="us-collect"/ { talk += $NF }
      END { for (s in v) printf "   %-10s %5.1f %%\n", s, 100 * v[s] / t
            printf "   %-10s %5.1f %% (bridged to a callee)\n", "talk", 100 * talk / t }' "$PL_RUN_DIR/telsim.metrics"
  clk=$(getconf CLK_TCK)
  for p in "$PL_RUN_DIR"/pids/*.pid; do
    n=$(basename "$p" .pid)
    printf '   cpu %-10s %6.1f %% of a core\n' "$n" "$(awk -v a="${c0[$n]:-0}" -v b="$(cpu_of "$(cat "$p")")" -v k="$clk" -v s="$SECONDS_RUN" 'BEGIN {print 100 * (b - a) / k / s}')"
  done
  unset c0
  scripts/stack.sh down >/dev/null 2>&1 || true
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
