#!/usr/bin/env bash
# demo.sh — `make demo`: build, then a simulated day on the floor, end to end, and its report.
#
# A CRM's leads for three campaigns (French canvassing, US collection with a Florida share, UK
# canvassing) go through the intake and scrub — registry copies, internal opt-outs and consents
# loaded first — then two dialer replicas call them against telsim's fifty simulated agents on a
# virtual clock at 1000× (a day in about 90 s), every rule re-checked at each dial and every
# decision audited. 40 % into the day the replica pacing the campaigns is SIGKILLed and the other
# takes over. Then the independent checker recomputes compliance from the audit export and the
# input alone and prints the report: calls by the callee's local hour against the windows,
# outcomes, abandon rate against budget, suppressions by reason, and its verdict. Last, the
# audit tells the story of a lead that asked to be called back, and verifies its chains. A
# webhook receiver standing for the CRM gets every verdict, call outcome, disposition and promise
# change, signed (notify); and six CRM exports (Salesforce, HubSpot, Zoho, Dynamics, Pipedrive)
# are imported by their presets, then again as duplicates.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-2}
LEADS=${DEMO_LEADS:-3000}

echo "== build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$JOBS" 2>&1 | grep -E ': (error|warning|fatal error):|undefined reference' || true
for b in plateau-dialer plateau-telsim plateau-scrub plateau-intake plateau-audit plateau-notify plateau-simgen plateau-check plateauctl; do
  [[ -x build/bin/$b ]] || { echo "demo: build failed ($b missing)"; exit 1; }
done

cleanup() { scripts/stack.sh down >/dev/null 2>&1 || true; }
trap cleanup EXIT INT TERM
rc=0
scripts/sim.sh --leads "$LEADS" --days 1 --speed 1000 --kill-dialer --keep --out run/sim || rc=$?
if [[ ! -f run/stack.env ]]; then
  echo "demo: FAILED — the simulation did not run (exit $rc; logs in run/logs/)"; exit 1
fi
set -a; . run/stack.env; set +a

echo
# The floor has stopped (the day is over); the audit tells one lead's story, from its intake to
# its callback, each decision with the rules it applied, in the callee's local time.
lead=$(jq -r -n 'first(inputs | select(.type == "call.disposition" and .evidence.disposition.code == "callback")
                  | .lead_id) // empty' run/sim/export.ndjson)
if [[ -n $lead ]]; then
  echo "---------------- a lead that asked to be called back: plateauctl audit why $lead ----------------"
  build/bin/plateauctl audit why "$lead" | grep -E '^[0-9]{4}-|rule (fr|us|uk)\.hours|schedule:|disposition:' | head -n 40 || true
fi
# A CRM's own exports, as a sales team would send them: each recognised by its header (the
# preset says where the record id, every phone, the postal code and the country go), then the
# same files again, which the intake recognises as the same records.
echo "---------------- CRM exports through the intake (docs/crm.md) ----------------"
crm_import() {
  curl -sS -H "Authorization: Bearer $PLATEAU_API_TOKEN" -H 'Content-Type: text/csv' --data-binary @"$1" \
    "$PLATEAU_INTAKE_URL/v1/leads?campaign=fr-canvass&country=FR&results=errors" | jq -c 'select(.summary) | .summary'
}
for f in tests/data/crm/*.csv; do
  first=$(crm_import "$f") again=$(crm_import "$f")
  printf '   %-24s preset %-10s %s rows: %s accepted, %s rejected; sent again: %s duplicates\n' "$(basename "$f")" \
    "$(jq -r '.mapping // "-"' <<<"$first")" "$(jq -r .items <<<"$first")" "$(jq -r .accepted <<<"$first")" \
    "$(jq -r .rejected <<<"$first")" "$(jq -r .duplicate <<<"$again")"
done
echo "---------------- audit: plateauctl audit verify ----------------"
verify_rc=0
build/bin/plateauctl audit verify | jq -r '(.chains[] | "chain \(.chain): \(if .ok then "OK" else "FAILED" end), \(.records) records, \(.checkpoints) checkpoints"), (if .verified then "verified" else "NOT verified" end)' \
  || verify_rc=1
echo "====================================================="
echo "takeover: $(cat run/sim/takeover.txt 2>/dev/null | sed 's/^ *//')"
echo "webhooks: $(head -1 run/sim/webhooks.txt 2>/dev/null | sed 's/^ *//')"
if ((rc == 4)); then
  echo "demo: FAILED — the CRM's endpoint did not get every webhook (run/sim/webhooks.txt)"; exit 1
elif ((rc != 0)); then
  echo "demo: FAILED — the checker found violations (run/sim/report.txt, run/sim/report.json)"; exit 1
fi
if ((verify_rc != 0)); then
  echo "demo: FAILED — the audit chains did not verify"; exit 1
fi
echo "demo: OK — a day of three campaigns, every call checked at its dial, the checker's verdict: PASS; every webhook at the CRM's endpoint"
