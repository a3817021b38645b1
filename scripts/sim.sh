#!/usr/bin/env bash
# sim.sh — the compliance simulation: a generated bundle of leads, lists, opt-outs and consents
# through the local stack (intake → scrub → dialer ⇄ telsim, everything audited) on a virtual
# clock that runs at --speed, then the audit export judged by the independent checker.
#
#   scripts/sim.sh [--leads N] [--days D] [--speed S] [--seed S] [--start YYYY-MM-DD] [--out DIR]
#                  [--dialers N] [--replicas N] [--redis single|cluster] [--kill-dialer] [--chaos]
#                  [--keep]
#
# Defaults: 3,000 leads, 1 day, 1000× (a day in about 90 s), seed 1, start Monday 2026-12-07,
# two dialer replicas. --kill-dialer SIGKILLs the replica pacing the campaigns 40 % into the run
# and reports how long the other took to take them over (the checker then proves that no
# attempt was placed twice and no lead was lost). --chaos SIGKILLs every service in turn while
# the clock runs — scrub, the intake, the promise service, the audit, telsim, notify, then the
# dialer replica pacing the campaigns — and starts each again a second later, as Kubernetes would; the
# checker then proves that nothing was lost, placed twice or broken, and the audit is verified.
# On a Redis Cluster (--redis cluster) a master is killed and started again too; with Sentinel
# (--redis sentinel) the master is killed, a replica promoted, and the old one rejoins.
# --replicas N runs N instances of each stateless service (intake, scrub, dialer, promise) and
# --redis cluster puts Redis in a Cluster of three masters (--replicas > 1 implies it), --redis
# sentinel behind three sentinels (a master, two replicas, WAIT for one on every step), as
# `make up REPLICAS=3` does. --keep leaves the stack up afterwards (the demo asks it questions; `make down` stops it).
# The run starts at 07:00 UTC on the start date and ends at 07:30 UTC D days later, when the
# calling windows of the three campaigns' home zones are closed (Hawaii's closes at 07:00 UTC);
# then every campaign is paused and the calls in flight end, so that each lead is finished or
# waits, scheduled, for its next window. When the stack runs notify, a webhook receiver stands
# for the CRM (scripts/webhook-receiver.py): subscribed before the leads come, it must get every
# verdict, call outcome, disposition and promise change the audit holds for the leads, signed,
# once after de-duplication, each lead's in order. Writes under --out (default run/sim): bundle/,
# export.ndjson, report.json, report.txt, webhooks.ndjson, webhooks.txt. Exit status: the
# checker's (0 pass, 1 violations, 2 bad input), 3 when the run itself failed, 4 when the
# checker passed but the webhooks did not.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN=${PL_BIN_DIR:-$ROOT/build/bin}
LEADS=3000 DAYS=1 SPEED=1000 SEED=1 START=2026-12-07 OUT="" DIALERS=2 KILL=0 CHAOS=0 KEEP=0
REPLICAS=1 REDIS=${REDIS:-}
while [[ $# -gt 0 ]]; do
  case $1 in
    --leads) LEADS=$2; shift 2 ;;
    --days) DAYS=$2; shift 2 ;;
    --speed) SPEED=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --start) START=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --dialers) DIALERS=$2; shift 2 ;;
    --kill-dialer) KILL=1; shift ;;
    --chaos) KILL=1 CHAOS=1; shift ;;
    --replicas) REPLICAS=$2; shift 2 ;;
    --redis) REDIS=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "sim: unknown option $1" >&2; exit 2 ;;
  esac
done
export PL_RUN_DIR=${PL_RUN_DIR:-$ROOT/run}
OUT=${OUT:-$PL_RUN_DIR/sim}
for b in plateau-simgen plateau-check plateauctl plateau-dialer plateau-telsim plateau-scrub plateau-intake plateau-audit; do
  [[ -x $BIN/$b ]] || { echo "sim: $BIN/$b is not built" >&2; exit 3; }
done

fail() { echo "sim: $*" >&2; exit 3; }
now_ms() { date +%s%3N; }
t0=$(date -u -d "$START 07:00:00" +%s)000 || fail "--start $START is not a date"
t_end=$((t0 + DAYS * 86400000 + 30 * 60000))

echo "== bundle: $LEADS leads, seed $SEED, from $START ($DAYS day(s) at ${SPEED}×)"
rm -rf "$OUT"; mkdir -p "$OUT"
"$BIN/plateau-simgen" --out "$OUT/bundle" --leads "$LEADS" --seed "$SEED" --start "$START" >/dev/null
B=$OUT/bundle

echo "== stack on a standing virtual clock at $(date -u -d "@$((t0 / 1000))" '+%F %R') UTC"
scripts/stack.sh down >/dev/null 2>&1 || true
rm -rf "$PL_RUN_DIR/extra" "$PL_RUN_DIR/redis" "$PL_RUN_DIR/data" "$PL_RUN_DIR/lists" "$PL_RUN_DIR/logs"
mkdir -p "$PL_RUN_DIR/extra"
echo "PLATEAU_CLOCK=virtual:$t0" >"$PL_RUN_DIR/extra/all.env"
echo "PLATEAU_SCRUB_CAMPAIGNS_DIR=$B/campaigns" >"$PL_RUN_DIR/extra/scrub.env"
echo "PLATEAU_CAMPAIGNS_DIR=$B/campaigns" >"$PL_RUN_DIR/extra/dialer.env"
echo "PLATEAU_CAMPAIGNS_DIR=$B/campaigns" >"$PL_RUN_DIR/extra/intake.env"
echo "PLATEAU_TELSIM_SEED=$SEED" >"$PL_RUN_DIR/extra/telsim.env"
# The floor's debtors pay what they promised (or not) through the promise service, as a payment
# processor's bridge would: telsim may send it PaymentReceived ('${PROMISE_BUS}' is filled in
# by the stack).
if [[ -x $BIN/plateau-promise ]]; then
  echo 'PLATEAU_PROMISE_BUS=${PROMISE_BUS}' >>"$PL_RUN_DIR/extra/telsim.env"
  echo "PLATEAU_BUS_ALLOW=PaymentReceived=telsim" >"$PL_RUN_DIR/extra/promise.env"
fi
# The audit's size cap sized to the run: a full run (100,000 leads, 14 days) writes about 800
# bytes of records per lead and day, more than the local stack's 1 GiB; 2 KiB leaves room.
cap=$(( LEADS * DAYS * 2048 )); ((cap > 1073741824)) || cap=1073741824
echo "PLATEAU_AUDIT_SIZE_CAP=$cap" >"$PL_RUN_DIR/extra/audit.env"
((REPLICAS > DIALERS)) && DIALERS=$REPLICAS
echo "dialer $DIALERS" >"$PL_RUN_DIR/extra/replicas"
export REPLICAS REDIS
((KILL == 0 || DIALERS >= 2)) || fail "--kill-dialer needs --dialers 2 or more"
revoker="" receiver=""
stop() {
  if [[ -n $revoker ]]; then pkill -P "$revoker" 2>/dev/null || true; kill "$revoker" 2>/dev/null || true; fi
  [[ -n $receiver ]] && kill "$receiver" 2>/dev/null || true
  ((KEEP)) || scripts/stack.sh down >/dev/null 2>&1 || true
}
trap stop EXIT
trap 'KEEP=0; exit 3' INT TERM
scripts/stack.sh up >/dev/null || fail "the stack did not start (logs in $PL_RUN_DIR/logs)"
set -a; . "$PL_RUN_DIR/stack.env"; set +a
CLUSTER_NODES=() SENTINELS=()
if [[ $PLATEAU_REDIS_URL == redis+sentinel://* ]]; then
  # The master the sentinels name now (it changes when one is killed).
  s_url=${PLATEAU_REDIS_URL#redis+sentinel://}
  IFS=, read -r -a SENTINELS <<<"${s_url%%/*}"
  master() {
    local s
    for s in "${SENTINELS[@]}"; do
      redis-cli -h "${s%:*}" -p "${s#*:}" SENTINEL get-master-addr-by-name plateau 2>/dev/null | paste -sd' ' \
        | grep -E '^[^ ]+ [0-9]+$' && return 0
    done
    return 1
  }
  rcli() { local m; m=$(master) || return 1; redis-cli -h "${m% *}" -p "${m#* }" "$@"; }
elif [[ $PLATEAU_REDIS_URL == redis+cluster://* ]]; then
  IFS=, read -r -a CLUSTER_NODES <<<"${PLATEAU_REDIS_URL#redis+cluster://}"
  rcli() { redis-cli -c -h "${CLUSTER_NODES[0]%:*}" -p "${CLUSTER_NODES[0]#*:}" "$@"; }
else
  rcli() { redis-cli -u "$PLATEAU_REDIS_URL" "$@"; }
fi
ctl() { "$BIN/plateauctl" "$@"; }

echo "== registry copies"
while IFS=$'\t' read -r name jur format taken file; do
  [[ -z $name || $name == \#* ]] && continue
  ctl lists load "$name" "$B/lists/$file" --jurisdiction "$jur" --taken "$taken" --format "$format" --bad-lines apply >"$OUT/list-$name.txt" 2>&1 \
    || fail "list $name did not load"
done <"$B/lists/manifest.tsv"

echo "== internal opt-outs"
n_opt=0 n_bad=0
while IFS= read -r line; do
  [[ -z $line ]] && continue
  code=$(curl -sS -o "$OUT/optout.err" -w '%{http_code}' -X POST -H "Authorization: Bearer $PLATEAU_API_TOKEN" \
    -H 'Content-Type: application/json' --data "$line" "$PLATEAU_SCRUB_URL/v1/dnc") || fail "scrub unreachable"
  case $code in
    200|201) n_opt=$((n_opt + 1)) ;;
    400) n_bad=$((n_bad + 1)) ;;           # an invalid number: refused with the reason, never called
    *) fail "opt-out answered $code: $(cat "$OUT/optout.err")" ;;
  esac
done <"$B/optouts.ndjson"
echo "   $n_opt recorded, $n_bad refused (invalid numbers)"

# The CRM's webhook endpoint (scripts/webhook-receiver.py), subscribed to every event of the
# source that pushes the leads: verdicts, call outcomes and dispositions, promises, payments.
if [[ -f $PL_RUN_DIR/pids/notify.pid && -n ${PLATEAU_NOTIFY_URL:-} ]]; then
  echo "== a webhook subscription for the CRM"
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$PL_RUN_DIR/webhook.secret"
  : >"$OUT/webhooks.ndjson"
  rm -f "$PL_RUN_DIR/webhook.port"
  python3 scripts/webhook-receiver.py --secret-file "$PL_RUN_DIR/webhook.secret" --out "$OUT/webhooks.ndjson" \
    --port-file "$PL_RUN_DIR/webhook.port" >"$PL_RUN_DIR/logs/webhook-receiver.log" 2>&1 &
  receiver=$!
  for _ in $(seq 1 100); do [[ -s $PL_RUN_DIR/webhook.port ]] && break; sleep 0.1; done
  [[ -s $PL_RUN_DIR/webhook.port ]] || fail "the webhook receiver did not start"
  jq -n --arg url "http://127.0.0.1:$(cat "$PL_RUN_DIR/webhook.port")/crm/plateau-events" \
        --arg secret "$(cat "$PL_RUN_DIR/webhook.secret")" \
        '{url: $url, events: ["*"], secret: $secret, description: "the simulated CRM"}' \
    | curl -fsS -o "$OUT/webhook-subscription.json" -X POST -H "Authorization: Bearer $PLATEAU_API_TOKEN" \
        -H 'Content-Type: application/json' --data @- "$PLATEAU_NOTIFY_URL/v1/webhooks" \
    || fail "the webhook subscription was refused"
  echo "   $(jq -r '"\(.id): \(.url)"' "$OUT/webhook-subscription.json")"
fi

echo "== leads through the intake"
for f in "$B"/leads/*.ndjson; do
  c=$(basename "$f" .ndjson)
  ctl leads submit "$f" --campaign "$c" >"$OUT/intake-$c.txt" 2>&1 || true
  echo "   $c: $(grep -E '^accepted' "$OUT/intake-$c.txt" | tr -s ' ')"
done

# Messages owed to a destination: the outboxes' hashes and the transactional outbox's streams.
# The sum of CMD (HLEN, XLEN, ZCARD) over the keys matching PATTERN, counted inside Redis in one
# call: a run of 100,000 leads holds over half a million keys, too many for a loop of redis-cli.
RSUM_LUA="local n, cur = 0, '0'
repeat
  local r = redis.call('SCAN', cur, 'MATCH', ARGV[1], 'COUNT', 10000)
  cur = r[1]
  for _, k in ipairs(r[2]) do n = n + redis.call(ARGV[2], k) end
until cur == '0'
return n"
rsum() {
  if ((${#CLUSTER_NODES[@]} == 0)); then rcli EVAL "$RSUM_LUA" 0 "$1" "$2"; return; fi
  # A cluster: each master counts its own keys (any slot of its own: the script says so).
  local t=0 node
  for node in "${CLUSTER_NODES[@]}"; do
    t=$((t + $(redis-cli -h "${node%:*}" -p "${node#*:}" EVAL "#!lua flags=no-writes,allow-cross-slot-keys
$RSUM_LUA" 0 "$1" "$2")))
  done
  echo "$t"
}
# Messages owed to destination $1 by every replica of the stack (its outbox hash and the slots its
# registry lists: a slot is registered before it is written to), counted inside Redis.
owners() {      # replica ids: <service>-local, or the instance's own name (dialer-2)
  local f n
  for f in "$PL_RUN_DIR"/pids/*.pid; do
    n=$(basename "$f" .pid)
    [[ $n =~ -[0-9]+$ ]] && echo "$n" || echo "$n-local"
  done
}
owed_to() {
  if ((${#CLUSTER_NODES[@]})); then   # a cluster: the keys live in many slots, read one by one
    local n=0 o t
    for o in $OWNERS; do
      n=$((n + $(rcli HLEN "pl:{ob:$o:$1}:msg")))
      for t in $(rcli ZRANGE "pl:{ob:$o:$1}:slots" 0 -1); do n=$((n + $(rcli XLEN "pl:{$t}:ob:$o:$1"))); done
    done
    echo "$n"; return
  fi
  # shellcheck disable=SC2086  # $OWNERS: one argument per replica
  rcli EVAL "local n, d = 0, ARGV[1]
for i = 2, #ARGV do
  local o = ARGV[i]
  n = n + redis.call('HLEN', 'pl:{ob:' .. o .. ':' .. d .. '}:msg')
  for _, t in ipairs(redis.call('ZRANGE', 'pl:{ob:' .. o .. ':' .. d .. '}:slots', 0, -1)) do
    n = n + redis.call('XLEN', 'pl:{' .. t .. '}:ob:' .. o .. ':' .. d)
  end
end
return n" 0 "$1" $OWNERS
}
OWNERS=$(owners)       # every replica started, the floor's too once it has stopped
settled() { [[ $(owed_to scrub) -eq 0 && $(owed_to dialer) -eq 0 ]]; }
for _ in $(seq 1 600); do settled && sleep 0.5 && settled && break; sleep 0.5; done
settled || fail "scrub did not judge every lead in 5 minutes"
echo "   every lead judged; queued for the dialer: $(rsum 'pl:{camp:*}:due' ZCARD)"

targets=(--to audit --to scrub --to telsim --to intake)
# The promise service decides deadlines on its clock: it runs with the floor's when it is up.
[[ -n ${PLATEAU_PROMISE_BUS:-} ]] && targets+=(--to promise)
# Every dialer replica's clock: its bus door is one element of PLATEAU_DIALER_BUS.
IFS=, read -r -a dialer_doors <<<"$PLATEAU_DIALER_BUS"
for d in "${dialer_doors[@]}"; do targets+=(--to "dialer@$d"); done
# The audit first writes what the intake and scrub owe it (a large bundle leaves it minutes
# behind), so that the day does not start with the audit's chain a backlog behind.
for _ in $(seq 1 1800); do (( $(owed_to audit) == 0 )) && break; sleep 1; done
echo "== the clock runs: $DAYS day(s) at ${SPEED}×"
anchor=$(( $(now_ms) + 1500 ))
# Sent again to a service that did not answer: the same start, anchor and speed give the same
# reading, so a clock already running takes it as it is.
started=0
for _ in 1 2 3; do
  if ctl clock run "$t0" --speed "$SPEED" --anchor "$anchor" "${targets[@]}" >"$OUT/clock.txt" 2>&1; then
    started=1; break
  fi
done
((started)) || fail "the clocks did not start: $(cat "$OUT/clock.txt")"
# Consent revocations at their virtual instants (the person withdraws during the run).
revoke_at() {   # RFC 3339 → virtual ms
  date -u -d "$1" +%s%3N
}
if [[ -s $B/consent-revocations.ndjson ]]; then
  (while IFS= read -r line; do
    [[ -z $line ]] && continue
    ext=$(jq -r .external_id <<<"$line"); camp=$(jq -r .campaign <<<"$line"); at=$(jq -r .at <<<"$line")
    v=$(revoke_at "$at")
    ((v < t_end)) || break     # after the run: never waited for (sorted)
    wait_ms=$(( (v - t0) / SPEED - ($(now_ms) - anchor) ))
    ((wait_ms > 0)) && sleep "$(awk -v m="$wait_ms" 'BEGIN {printf "%.3f", m / 1000}')"
    lead=$(rcli GET "pl:{camp:$camp}:xid:dev:$ext")
    [[ -n $lead ]] && curl -fsS -o /dev/null -X DELETE -H "Authorization: Bearer $PLATEAU_API_TOKEN" \
      "$PLATEAU_SCRUB_URL/v1/consents/$lead.c0" || true
  done < <(jq -s -c 'sort_by(.at) | .[]' "$B/consent-revocations.ndjson")) &
  revoker=$!
fi
run_ms=$(( (t_end - t0) / SPEED ))
# The replica pacing a campaign: its lease names it ("<replica> <fencing token>").
holder() { rcli GET "pl:{camp:$1}:lease" | cut -d' ' -f1; }
# A service killed and started again under its own name, its clock the floor's.
revive() {
  [[ ! -f $PL_RUN_DIR/env/$1.env ]] \
    || sed -i "s|^PLATEAU_CLOCK=.*|PLATEAU_CLOCK=virtual:$t0@${anchor}x$SPEED|" "$PL_RUN_DIR/env/$1.env"
  scripts/stack.sh restart "$1" >/dev/null || fail "$1 did not restart"
}
# --chaos: the other services first, spread from 15 % to 75 % of the run, the dialer at 75 %.
victims=()
if ((CHAOS)); then
  # PL_CHAOS_SPARE: services left alive ("telsim" to keep the telephony stand-in's calls).
  for v in scrub intake promise audit telsim notify; do
    [[ -f $PL_RUN_DIR/pids/$v.pid && " ${PL_CHAOS_SPARE:-} " != *" $v "* ]] && victims+=("$v")
  done
  # On a Redis Cluster, a master too: SIGKILLed and started again from its append-only file.
  ((${#CLUSTER_NODES[@]})) && victims+=(redis-2)
  # With Sentinel, the master: down long enough for the sentinels to promote a replica.
  ((${#SENTINELS[@]})) && victims+=(redis-master)
fi
next_victim=0 kill_at=$(( run_ms * (CHAOS ? 75 : 40) / 100 ))
: >"$OUT/chaos.txt"
killed=0 last_print=0
while (( $(now_ms) - anchor < run_ms )); do
  if (( next_victim < ${#victims[@]} && $(now_ms) - anchor > run_ms * (15 + 60 * next_victim / ${#victims[@]}) / 100 )); then
    v=${victims[$next_victim]}; next_victim=$((next_victim + 1))
    if [[ $v == redis-master ]]; then
      old=$(master); v=""
      for n in 1 2 3; do [[ $(cat "$PL_RUN_DIR/redis/$n/port") == "${old#* }" ]] && v=redis-$n; done
      [[ $v == redis-1 ]] && v=redis
    fi
    pid=$(cat "$PL_RUN_DIR/pids/$v.pid")
    kill -KILL "$pid"
    t_dead=$(now_ms)
    sleep 1
    if [[ ${old:-} != "" ]]; then
      for _ in $(seq 1 200); do [[ $(master) != "$old" ]] && break; sleep 0.1; done
      echo "   the sentinels promoted $(master) in place of $old $(awk -v m="$(( $(now_ms) - t_dead ))" 'BEGIN {printf "%.1f", m / 1000}') s after its SIGKILL" \
        | tee -a "$OUT/chaos.txt"
    fi
    t_up=$(now_ms)
    revive "$v"
    if [[ ${old:-} != "" ]]; then      # the old master comes back as a replica of the new one
      for _ in $(seq 1 200); do
        [[ $(redis-cli -p "${old#* }" role 2>/dev/null | head -n 1) == slave ]] && break; sleep 0.1
      done
      echo "   $old rejoined as: $(redis-cli -p "${old#* }" role 2>/dev/null | head -n 1)" | tee -a "$OUT/chaos.txt"
      old=""
    fi
    echo "   SIGKILL $v (pid $pid); up again $(awk -v m="$(( $(now_ms) - t_up ))" 'BEGIN {printf "%.1f", m / 1000}') s after its restart" \
      | tee -a "$OUT/chaos.txt"
  fi
  if ((KILL && !killed && $(now_ms) - anchor > kill_at)); then
    camp=$(basename "$(ls "$B"/campaigns/*.campaign | head -n 1)" .campaign)
    victim=$(holder "$camp")
    inst=${victim%-local}
    pid=$(cat "$PL_RUN_DIR/pids/$inst.pid")
    kill -KILL "$pid"
    t_kill=$(now_ms); killed=1
    echo "   SIGKILL $victim (pid $pid), which paced $camp"
    for _ in $(seq 1 300); do
      h=$(holder "$camp"); [[ -n $h && $h != "$victim" ]] && break; sleep 0.05
    done
    takeover=$(( $(now_ms) - t_kill ))
    echo "   $(holder "$camp") took $camp over after $(awk -v m="$takeover" 'BEGIN {printf "%.1f", m / 1000}') s" \
      | tee "$OUT/takeover.txt"
    echo "$takeover" >"$OUT/takeover_ms"
    # As Kubernetes would, start the killed pod again under its own name: its outbox (events its
    # steps wrote before it died) is then delivered; it competes for the leases again.
    revive "$inst"
    echo "   $inst restarted; its outbox is delivered"
    echo "SIGKILL $victim: taken over after $takeover ms" >>"$OUT/chaos.txt"
  fi
  left=$(( (run_ms - ($(now_ms) - anchor)) / 1000 ))
  if (( $(now_ms) - last_print >= 15000 )); then
    last_print=$(now_ms)
    calls=$(curl -fsS "$PLATEAU_TELSIM_OPS_URL/metrics" 2>/dev/null | awk '/^plateau_telsim_calls_placed_total/ {s+=$2} END {print s+0}')
    elapsed=$(( $(now_ms) - anchor )); ((elapsed > 0)) || elapsed=0    # the clock starts at the anchor
    printf '   %s UTC, %s calls placed, %ds to go\n' \
      "$(date -u -d "@$(( (t0 + elapsed * SPEED) / 1000 ))" '+%a %R')" "$calls" "$left"
  fi
  sleep 0.5
done

# The day is over. An operator pauses every campaign (windows of overseas numbers, Réunion's or
# New Caledonia's, may still be open), and the calls already placed run to their end: their
# outcomes, dispositions and retries are recorded before the floor stops. Then telephony and
# the dialers drain (what their steps wrote reaches the audit before they exit) and the audit is
# read.
# Revocations dated after the run's end belong to a day that is not simulated.
# Its sleep too: a child left behind would hold the caller's output open.
if [[ -n $revoker ]]; then pkill -P "$revoker" 2>/dev/null || true; kill "$revoker" 2>/dev/null || true; fi
revoker=""
echo "== the day ends: every campaign paused, the calls in flight end"
camps=()
for f in "$B"/campaigns/*.campaign; do camps+=("$(basename "$f" .campaign)"); done
for c in "${camps[@]}"; do
  ctl campaign pause "$c" --reason "end of the simulated run" >/dev/null || fail "campaign $c did not pause"
done
# Live on the floor: lines in flight, calls with an agent, agents on a call or in wrap-up, every
# campaign. A call telephony lost (its crash) stays live until the dialer's lost-call recovery
# ends it, a minute of real time after its claim: the drain waits for it.
live() {
  local n=0 c
  for c in "${camps[@]}"; do
    n=$((n + $(ctl queue "$c" --limit 1 --json | jq '.lines_in_flight + .calls_bridged + .agents.on_call + .agents.wrap_up')))
  done
  echo "$n"
}
drained() { [[ $(live) -eq 0 && $(owed_to dialer) -eq 0 ]]; }
for _ in $(seq 1 240); do drained && sleep 0.5 && drained && break; sleep 0.5; done
drained || echo "   warning: calls still live after 2 minutes: $(live)"
# From here on the clocks crawl at real speed: what is left (the audit catching up, the floor
# draining) takes minutes of wall time, which at full speed would be days more of payments and
# promise deadlines that no running dialer could follow up. Every clock gets the same reading
# at the same wall instant (its speed's own reading there), so none goes backwards.
slow_anchor=$(( $(now_ms) + 1500 ))
slow_at=$(( t0 + (slow_anchor - anchor) * SPEED ))
ctl clock run "$slow_at" --speed 1 --anchor "$slow_anchor" "${targets[@]}" >"$OUT/clock-end.txt" 2>&1 \
  || echo "   warning: the clocks did not slow down: $(cat "$OUT/clock-end.txt")"
# The floor's figures from every dialer replica's metrics (each counts the agent states that
# reached it): agents' time by state, and how long a ready agent waited for its call.
: >"$OUT/dialer.metrics"
for v in $(compgen -v | grep -E '^PLATEAU_DIALER(_[0-9]+)?_OPS_URL$'); do
  curl -fsS "${!v}/metrics" >>"$OUT/dialer.metrics" 2>/dev/null || true
done
awk '
  /^plateau_dialer_agent_seconds_total\{/ { match($0, /state="[a-z_]+"/); st = substr($0, RSTART + 7, RLENGTH - 8); t[st] += $2 }
  /^plateau_dialer_agent_wait_seconds_sum/ { ws += $2 }
  /^plateau_dialer_agent_wait_seconds_count/ { wn += $2 }
  END {
    busy = t["on_call"] + t["wrap_up"]; all = busy + t["ready"]
    if (all > 0)
      printf "   agents (time per campaign they serve, logged in all day): %.1f h on calls, %.1f h in wrap-up, %.1f h ready: occupancy %.1f %%; mean wait for a call %.0f s\n",
        t["on_call"] / 3600, t["wrap_up"] / 3600, t["ready"] / 3600, 100 * busy / all, wn ? ws / wn : 0
  }' "$OUT/dialer.metrics" | tee "$OUT/agents.txt"
curl -fsS "$PLATEAU_TELSIM_OPS_URL/metrics" >"$OUT/telsim.metrics" 2>/dev/null || true
# The audit writes every record into its chain, one at a time: at 2,500× a large run emits faster
# than it writes. The floor stays up until the audit has what it owes (a stopped replica's outbox
# waits for its restart).
echo "== the audit catches up with the floor"
t_catch=$(now_ms) last_print=$t_catch
while (( $(owed_to audit) > 0 && $(now_ms) - t_catch < 1800000 )); do
  if (( $(now_ms) - last_print >= 30000 )); then
    last_print=$(now_ms); echo "   $(owed_to audit) events still owed to the audit"
  fi
  sleep 1
done
echo "== the floor stops: telsim and the dialers drain"
for f in "$PL_RUN_DIR"/pids/telsim.pid "$PL_RUN_DIR"/pids/dialer*.pid; do
  [[ -f $f ]] && kill -TERM "$(cat "$f")" 2>/dev/null || true
done
for f in "$PL_RUN_DIR"/pids/telsim.pid "$PL_RUN_DIR"/pids/dialer*.pid; do
  [[ -f $f ]] || continue
  for _ in $(seq 1 300); do kill -0 "$(cat "$f")" 2>/dev/null || break; sleep 0.1; done
done
echo "== the audit: waiting for every service's events"
for _ in $(seq 1 240); do [[ $(owed_to audit) -eq 0 ]] && break; sleep 0.5; done
owed=$(owed_to audit)
((owed == 0)) || echo "   warning: $owed events still owed to the audit after 2 minutes"
# The export records its own read of numbers in clear: an audit still busy may refuse it (503).
exported=0
for _ in $(seq 1 10); do
  if ctl audit export --from "$((t0 - 86400000))" --to "$((t_end + 86400000))" >"$OUT/export.ndjson" \
       2>"$OUT/export.err"; then exported=1; break; fi
  sleep 3
done
((exported)) || fail "audit export failed: $(cat "$OUT/export.err")"
echo "   $(wc -l <"$OUT/export.ndjson") records"

echo "== the independent checker"
rc=0
"$BIN/plateau-check" --bundle "$B" --audit "$OUT/export.ndjson" --json "$OUT/report.json" >"$OUT/report.txt" || rc=$?
cat "$OUT/report.txt"
# Every verdict, call outcome, disposition and promise change of the export at the CRM's
# endpoint, signed, once each after de-duplication by event id, each lead's in order.
if [[ -n $receiver ]]; then
  echo "== webhooks at the CRM"
  check() { python3 scripts/webhook-receiver.py --out "$OUT/webhooks.ndjson" --check "$OUT/export.ndjson"; }
  for _ in $(seq 1 240); do check >/dev/null && break; sleep 0.5; done
  check | tee "$OUT/webhooks.txt" || { echo "   webhooks: FAILED"; ((rc)) || rc=4; }
fi
exit $rc
