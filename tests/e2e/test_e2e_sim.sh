#!/usr/bin/env bash
# test_e2e_sim.sh — the compliance simulation in small, under chaos: a generated day of three
# campaigns through the whole stack while every plateau service is SIGKILLed in turn and started
# again (scrub, the intake, the promise service, the audit, telsim the telephony stand-in, notify,
# then the dialer replica pacing the campaigns: sim.sh --chaos), then the independent checker on
# the audit export, and the CRM's webhook endpoint's deliveries against that export. It passes only if the checker passes (no call outside its windows, no cap, list,
# opt-out or consent broken, no attempt id used twice, every lead finished, scheduled or
# explained, every abandon rate inside budget and
# equal to the dialer's own pacing reports), the other replica took the campaigns over within
# 10 s, and every campaign placed calls and reported its abandon rate.
set -euo pipefail
ROOT=${PL_SOURCE_DIR:?}
export PL_BIN_DIR=${PL_BIN_DIR:?}
export PL_RUN_DIR
PL_RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/pl-sim-XXXXXX")
trap 'PL_RUN_DIR=$PL_RUN_DIR "$ROOT/scripts/stack.sh" down >/dev/null 2>&1 || true; rm -rf "$PL_RUN_DIR"' EXIT
out=$PL_RUN_DIR/out
rc=0
"$ROOT/scripts/sim.sh" --leads "${PL_SIM_LEADS:-900}" --days 1 --speed "${PL_SIM_SPEED:-1000}" \
  --seed "${PL_SIM_SEED:-7}" --chaos --out "$out" || rc=$?
fail() { echo "test_e2e_sim: $*" >&2; exit 1; }
((rc == 0)) || fail "the checker or the webhooks did not pass (exit $rc): see the report above"
r=$out/report.json
[[ $(jq -r .verdict "$r" | tr A-Z a-z) == pass ]] || fail "verdict $(jq -r .verdict "$r")"
[[ -s $out/takeover_ms ]] || fail "no takeover measured"
kills=$(grep -c '^ *SIGKILL' "$out/chaos.txt" || true)
((kills == 7)) || fail "$kills services killed, 7 expected: $(cat "$out/chaos.txt")"
((  $(cat "$out/takeover_ms") < 10000 )) || fail "takeover took $(cat "$out/takeover_ms") ms"
for c in fr-canvass us-collect uk-sales; do
  n=$(jq --arg c "$c" '.campaigns[] | select(.name == $c) | .calls' "$r")
  ((n > 0)) || fail "$c placed no call"
  # The dialer's own abandon figures, which the checker compared with the records (a mismatch
  # would be a pacing_mismatch violation, and the verdict would not be pass).
  reports=$(jq --arg c "$c" 'select(.type == "pacing.report" and .campaign == $c
                                    and (.evidence.pacing.live_answered // 0) > 0)' "$out/export.ndjson" | jq -s length)
  ((reports > 0)) || fail "$c: no pacing report with a live-answered call"
done
# The collection campaign's right-party contacts, as the checker counts them from the audit
# (conversations on debt-collection calls): the denominator of promises per contact.
rpc=$(jq '.campaigns[] | select(.name == "us-collect") | .promises.rpc // 0' "$r")
((rpc > 0)) || fail "us-collect: no right-party contact in the report"
# The CRM's endpoint got the webhooks (sim.sh exits 4 otherwise): say how many.
[[ -s $out/webhooks.txt ]] || fail "no webhook figures: was notify in the stack?"
echo "test_e2e_sim: pass — $(jq '[.campaigns[].calls] | add' "$r") calls, $kills services killed in turn, takeover $(cat "$out/takeover_ms") ms; us-collect: $rpc right-party contacts; webhooks: $(head -1 "$out/webhooks.txt" | sed 's/^ *//')"
