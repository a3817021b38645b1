#!/usr/bin/env bash
# pacing.sh — predictive vs progressive talk-time share (issue 11).
#
#   bench/dialer/pacing.sh [--agents 50] [--hours 4] [--warm 6] [--speed 60] [--leads 60000]
#                          [--seed 1] [--person-scale 1]
#
# The same simulated floor twice (us-collect, --agents agents, same seed, same bundle) on a
# virtual clock running at --speed from Monday 14:00 UTC (09:00 in New York), once with
# `mode = predictive` and once with `mode = progressive` in the campaign file (abandon-target
# 3 % both): the agents' talk-time share, the time bridged to a callee (telsim's
# plateau_telsim_talk_ms_total) over their logged-in time (plateau_telsim_agent_ms_total, every
# state), the ratio, and the dialer's plateau_dialer_abandon_rate. Not on_call: a progressive
# call's agent is on_call from the dial, so its ringing would count as talk.
# --person-scale: telsim's PLATEAU_TELSIM_PERSON_SCALE (0.33: a cold list, about 12 % of calls
# reach a person). --warm: hours the floor runs (from 09:00 in New York) before the measured
# --hours begin, so that the campaign has the history of a floor at work: the abandon budget is
# over the legal period (30 days in the US), and with no history it allows a predictive dialer
# almost no line beyond its ready agents (pacing.h). Small run: --warm 0 --hours 0.5.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
export PL_BIN_DIR=${PL_BIN_DIR:-$ROOT/build-bench/bin}
AGENTS=50 HOURS=4 WARM=6 SPEED=60 LEADS=60000 SEED=1 START=2026-12-07 PERSON=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --agents) AGENTS=$2; shift 2 ;; --hours) HOURS=$2; shift 2 ;; --speed) SPEED=$2; shift 2 ;;
    --warm) WARM=$2; shift 2 ;;
    --leads) LEADS=$2; shift 2 ;; --seed) SEED=$2; shift 2 ;; --person-scale) PERSON=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;; *) echo "pacing: unknown option $1" >&2; exit 2 ;;
  esac
done
t0=$(date -u -d "$START 14:00:00" +%s)000
run_s=$(awk -v h="$HOURS" -v s="$SPEED" 'BEGIN {printf "%d", h * 3600 / s}')
warm_s=$(awk -v h="$WARM" -v s="$SPEED" 'BEGIN {printf "%d", h * 3600 / s}')
echo "pacing.sh: $AGENTS agents on us-collect, $WARM hours of warm-up then $HOURS measured, simulated at ${SPEED}× ($((warm_s + run_s)) s a mode), $LEADS leads, person scale $PERSON; load average $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A share rate
for mode in predictive progressive; do
  export PL_RUN_DIR=${PL_RUN_BASE:-/tmp/pl-bench-pacing}-$mode
  B=$PL_RUN_DIR/bundle
  scripts/stack.sh down >/dev/null 2>&1 || true
  rm -rf "$PL_RUN_DIR"; mkdir -p "$PL_RUN_DIR/extra"
  "$PL_BIN_DIR/plateau-simgen" --out "$B" --leads "$LEADS" --seed "$SEED" --start "$START" >/dev/null
  sed -i -E "s/^mode( *)= .*/mode\1= $mode/; s/^abandon-target( *)= .*/abandon-target\1= 3%/" "$B/campaigns/us-collect.campaign"
  echo "PLATEAU_CLOCK=virtual:$t0" >"$PL_RUN_DIR/extra/all.env"
  echo "PLATEAU_SCRUB_CAMPAIGNS_DIR=$B/campaigns" >"$PL_RUN_DIR/extra/scrub.env"
  echo "PLATEAU_CAMPAIGNS_DIR=$B/campaigns" >"$PL_RUN_DIR/extra/dialer.env"
  echo "PLATEAU_CAMPAIGNS_DIR=$B/campaigns" >"$PL_RUN_DIR/extra/intake.env"
  printf 'PLATEAU_TELSIM_SEED=%s\nPLATEAU_TELSIM_AGENTS=us-collect:%s\nPLATEAU_TELSIM_PERSON_SCALE=%s\n' \
    "$SEED" "$AGENTS" "$PERSON" >"$PL_RUN_DIR/extra/telsim.env"
  trap 'scripts/stack.sh down >/dev/null 2>&1 || true' EXIT
  scripts/stack.sh up >/dev/null
  set -a; . "$PL_RUN_DIR/stack.env"; set +a
  "$PL_BIN_DIR/plateauctl" leads submit "$B/leads/us-collect.ndjson" --campaign us-collect >/dev/null 2>&1 || true
  sleep 5                                        # scrub judges the leads on the standing clock
  promise=(); [[ -n ${PLATEAU_PROMISE_BUS:-} ]] && promise=(--to promise)
  "$PL_BIN_DIR/plateauctl" clock run "$t0" --speed "$SPEED" --to audit --to scrub --to telsim --to intake \
    --to "dialer@$PLATEAU_DIALER_BUS" "${promise[@]}" >/dev/null
  sleep "$warm_s"
  curl -fsS "$PLATEAU_TELSIM_OPS_URL/metrics" >"$PL_RUN_DIR/telsim.warm.metrics"
  sleep "$run_s"
  curl -fsS "$PLATEAU_TELSIM_OPS_URL/metrics" >"$PL_RUN_DIR/telsim.metrics"
  curl -fsS "$PLATEAU_DIALER_OPS_URL/metrics" >"$PL_RUN_DIR/dialer.metrics"
  # The measured hours only: the counters at their end less those at their start.
  share[$mode]=$(awk 'FNR == 1 { sign = (FILENAME ~ /warm/) ? -1 : 1 }
                      /^plateau_telsim_agent_ms_total\{.*campaign="us-collect"/ { t += sign * $NF }
                      /^plateau_telsim_talk_ms_total\{.*campaign="us-collect"/ { c += sign * $NF }
                      END { printf "%.4f", t ? c / t : 0 }' "$PL_RUN_DIR/telsim.warm.metrics" "$PL_RUN_DIR/telsim.metrics")
  rate[$mode]=$(awk '/^plateau_dialer_abandon_rate\{.*us-collect/ {print $NF}' "$PL_RUN_DIR/dialer.metrics" | head -n 1)
  printf '== %-11s talk-time share %5.1f %%, abandon rate %s %% (target 3 %%)\n' "$mode" \
    "$(awk -v s="${share[$mode]}" 'BEGIN {print 100 * s}')" \
    "$(awk -v r="${rate[$mode]:-}" 'BEGIN {if (r == "") print "?"; else printf "%.2f", 100 * r}')"
  scripts/stack.sh down >/dev/null 2>&1 || true
done
echo "ratio predictive / progressive: $(awk -v a="${share[predictive]}" -v b="${share[progressive]}" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}') (goal >= 1.3 with the abandon rate inside 3 %)"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
