#!/usr/bin/env bash
# stack.sh — the local stack: a private Redis and every plateau service that is built, on
# loopback, everything under run/.
#
#   scripts/stack.sh up       start (writes run/stack.env for scripts to source)
#   scripts/stack.sh down     stop exactly what `up` started, and nothing else
#   scripts/stack.sh status   what runs
#   scripts/stack.sh restart <service>   start one service (or replica: dialer-2) again with the
#                                        same environment
#
# Each service declares how it runs locally in services/<name>/local.env: lines of
# NAME=value where ${OPS_PORT}, ${BUS_PORT}, ${HTTP_PORT}, ${RUN}, ${REDIS_URL}, ${ROOT}, every
# ${<PEER>_BUS} (e.g. ${AUDIT_BUS}) and ${<PEER>_HTTP_URL} (e.g. ${AUDIT_HTTP_URL}, its HTTP API)
# are filled in here. Ports are picked free at start.
# A scenario adds or overrides variables with run/extra/all.env (every service) and
# run/extra/<name>.env, written before `up` (scripts/sim.sh: a virtual clock, its campaigns).
# run/extra/replicas, lines of `<service> <count>`, starts that many instances of a service, as
# pods behind one Service: <service> (replica id <service>-local) and <service>-2, <service>-3…
# (replica ids as named), each with its own ports, log (run/logs/<service>-2.log) and pid file,
# the service's key pair and otherwise its environment. Every peer's ${<SERVICE>_BUS} and
# run/stack.env's PLATEAU_<SERVICE>_BUS list all their bus doors, comma-separated (bus.h);
# PLATEAU_<SERVICE>_URL and _OPS_URL name the first, PLATEAU_<SERVICE>_2_URL… the others.
# PL_RUN_DIR moves run/ elsewhere (tests run their own stack).
# Scale-out on one machine: REPLICAS=N starts N instances of each stateless service (intake,
# scrub, dialer, promise; replicas files take precedence) and, with it, Redis as a Cluster of
# three masters (redis+cluster://…, the kit routes by slot); REDIS=cluster or REDIS=single
# chooses either way. `make up REPLICAS=3`. REDIS=sentinel runs a master, two replicas and three
# sentinels (redis+sentinel://…, every step WAITs for one replica: PLATEAU_REDIS_WAIT_REPLICAS=1).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
RUN=${PL_RUN_DIR:-$ROOT/run}
BIN=${PL_BIN_DIR:-$ROOT/build/bin}
# Start order: receivers of audit events first; a service missing from this list starts last.
ORDER=(audit scrub dialer promise intake telsim template)

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
next_port() {   # sets PORT to the next free port at or above $1 not already handed out
  local p=$1        # (not echoed: a $(…) subshell would lose the TAKEN record)
  while ! port_free "$p" || [[ " ${TAKEN[*]-} " == *" $p "* ]]; do p=$((p + 1)); done
  TAKEN+=("$p"); PORT=$p
}

services() {    # built services, in start order
  local s seen=" "
  for s in "${ORDER[@]}"; do
    [[ -x $BIN/plateau-$s && -f services/$s/local.env ]] && { echo "$s"; seen+="$s "; }
  done
  for d in services/*/; do
    s=$(basename "$d")
    [[ $seen == *" $s "* ]] && continue
    [[ -x $BIN/plateau-$s && -f services/$s/local.env ]] && echo "$s"
  done
  return 0
}

wait_ready() {  # name, ops port
  local i
  for i in $(seq 1 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$2/readyz" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "stack: $1 is not ready after 10 s (log: run/logs/$1.log)" >&2
  return 1
}

base_of() {     # instance name -> service: dialer-2 is a replica of dialer
  local i=$1
  [[ ! -f services/$i/local.env && $i =~ ^(.+)-([0-9]+)$ && -f services/${BASH_REMATCH[1]}/local.env ]] \
    && i=${BASH_REMATCH[1]}
  echo "$i"
}

start_service() {   # instance: starts it with the environment `up` wrote to run/env/<instance>.env
  local s=$1 env=() base id
  base=$(base_of "$s")
  if [[ $base == "$s" ]]; then id=$s-local; else id=$s; fi
  mapfile -t env <"$RUN/env/$s.env"
  mkdir -p "$RUN/data/$s"
  env -i PATH="$PATH" HOME="$RUN/data/$s" PLATEAU_REPLICA_ID="$id" "${env[@]}" \
    "$BIN/plateau-$base" >>"$RUN/logs/$s.log" 2>&1 &
  echo $! >"$RUN/pids/$s.pid"
}

# Node n (1-3) of the local Redis Cluster, on the port recorded in run/redis/<n>/port, from its
# own append-only file and nodes.conf: the same node after a restart. Pid file redis (node 1) or
# redis-<n>.
start_cluster_node() {
  local n=$1 p i pidf
  p=$(cat "$RUN/redis/$n/port")
  redis-server --port "$p" --bind 127.0.0.1 --dir "$RUN/redis/$n" --appendonly yes --save "" \
    --hash-max-listpack-value 512 --daemonize no --protected-mode yes --cluster-enabled yes --cluster-config-file nodes.conf \
    --cluster-node-timeout 5000 >>"$RUN/logs/redis-$n.log" 2>&1 &
  if ((n == 1)); then pidf=$RUN/pids/redis.pid; else pidf=$RUN/pids/redis-$n.pid; fi
  echo $! >"$pidf"
  for i in $(seq 1 300); do [[ $(redis-cli -p "$p" ping 2>/dev/null) == PONG ]] && break; sleep 0.1; done
}

# Data node n (1-3) of the Sentinel layout from its redis.conf (the sentinels rewrite its
# replicaof after a failover; a restarted old master is made a replica by them).
start_data_node() {
  local n=$1 p i pidf
  p=$(cat "$RUN/redis/$n/port")
  redis-server "$RUN/redis/$n/redis.conf" >>"$RUN/logs/redis-$n.log" 2>&1 &
  if ((n == 1)); then pidf=$RUN/pids/redis.pid; else pidf=$RUN/pids/redis-$n.pid; fi
  echo $! >"$pidf"
  for i in $(seq 1 300); do [[ $(redis-cli -p "$p" ping 2>/dev/null) == PONG ]] && break; sleep 0.1; done
}

# Starts a service again (after a crash or a kill), with the same environment and ports; a
# Redis node (redis for the first, redis-2, redis-3) likewise: of the Cluster or the Sentinel
# layout, whichever runs.
restart() {
  local s=${1:?usage: stack.sh restart <service>} pid
  if [[ $s =~ ^redis(-([0-9]+))?$ && -d $RUN/redis/${BASH_REMATCH[2]:-1} ]]; then
    local n=${BASH_REMATCH[2]:-1} f
    if ((n == 1)); then f=$RUN/pids/redis.pid; else f=$RUN/pids/redis-$n.pid; fi
    if [[ -f $f ]]; then
      pid=$(cat "$f"); kill -TERM "$pid" 2>/dev/null || true
      local i; for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    if [[ -f $RUN/redis/$n/redis.conf ]]; then start_data_node "$n"; else start_cluster_node "$n"; fi
    return 0
  fi
  [[ -f $RUN/env/$s.env ]] || { echo "stack: $s is not part of the running stack" >&2; return 1; }
  if [[ -f $RUN/pids/$s.pid ]]; then
    pid=$(cat "$RUN/pids/$s.pid")
    kill -TERM "$pid" 2>/dev/null || true
    local i; for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  start_service "$s"
  local port; port=$(sed -n 's/^PLATEAU_OPS_PORT=//p' "$RUN/env/$s.env")
  wait_ready "$s" "$port"
}

up() {
  if [[ -f $RUN/pids/redis.pid ]] && kill -0 "$(cat "$RUN/pids/redis.pid")" 2>/dev/null; then
    echo "stack: already up (run/stack.env); 'make down' first"; return 0
  fi
  # Replicas (run/extra/replicas), checked before anything starts.
  local svcs; mapfile -t svcs < <(services)
  declare -A COUNT=()
  if [[ -f $RUN/extra/replicas ]]; then
    local name count rest
    while read -r name count rest || [[ -n $name ]]; do
      [[ -z $name || $name == \#* ]] && continue
      if [[ ! $count =~ ^[1-9][0-9]*$ || -n $rest ]]; then
        echo "stack: run/extra/replicas: '$name $count${rest:+ $rest}': expected '<service> <count>', count >= 1" >&2
        return 1
      fi
      if [[ " ${svcs[*]-} " != *" $name "* ]]; then
        echo "stack: run/extra/replicas: '$name' is not a built service (${svcs[*]:-none})" >&2
        return 1
      fi
      COUNT[$name]=$count
    done <"$RUN/extra/replicas"
  fi
  local replicas=${REPLICAS:-1} mode=${REDIS:-}
  [[ $replicas =~ ^[1-9][0-9]*$ ]] || { echo "stack: REPLICAS=$replicas: expected a count >= 1" >&2; return 1; }
  [[ -z $mode ]] && { ((replicas > 1)) && mode=cluster || mode=single; }
  [[ $mode == single || $mode == cluster || $mode == sentinel ]] \
    || { echo "stack: REDIS=$mode: expected single, cluster or sentinel" >&2; return 1; }
  if ((replicas > 1)); then
    for s in intake scrub dialer promise; do
      [[ " ${svcs[*]-} " == *" $s "* && -z ${COUNT[$s]:-} ]] && COUNT[$s]=$replicas
    done
  fi
  mkdir -p "$RUN/logs" "$RUN/pids" "$RUN/redis" "$RUN/secrets" "$RUN/data" "$RUN/env"
  TAKEN=()
  local REDIS_URL redis_port i
  if [[ $mode == single ]]; then
    next_port 6390; redis_port=$PORT
    # hash-max-listpack-value 512: the recommended setting (docs/operations.md, Redis: memory)
    redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$RUN/redis" --appendonly yes \
      --save "" --hash-max-listpack-value 512 --daemonize no --protected-mode yes >"$RUN/logs/redis.log" 2>&1 &
    echo $! >"$RUN/pids/redis.pid"
    # PONG, not just an answer: a Redis replaying a large append-only file answers LOADING first.
    for i in $(seq 1 300); do [[ $(redis-cli -p "$redis_port" ping 2>/dev/null) == PONG ]] && break; sleep 0.1; done
    REDIS_URL="redis://127.0.0.1:$redis_port/0"
  elif [[ $mode == sentinel ]]; then
    # A master and two replicas (run/redis/<n>, n = 1..3, the first the master at start), then
    # three sentinels watching them as "plateau" (quorum 2; down after 1 s).
    local n p sp sentinels=()
    for n in 1 2 3; do
      next_port 6390; p=$PORT
      mkdir -p "$RUN/redis/$n"; echo "$p" >"$RUN/redis/$n/port"
      ((n == 1)) && redis_port=$p
      { echo "port $p"; echo "bind 127.0.0.1"; echo "dir $RUN/redis/$n"; echo "appendonly yes"; echo 'save ""'
        echo "hash-max-listpack-value 512"
        echo "protected-mode yes"; ((n == 1)) || echo "replicaof 127.0.0.1 $redis_port"; } >"$RUN/redis/$n/redis.conf"
      start_data_node "$n"
    done
    for n in 1 2 3; do
      next_port 26390; sp=$PORT
      mkdir -p "$RUN/redis/s$n"; echo "$sp" >"$RUN/redis/s$n/port"
      { echo "port $sp"; echo "bind 127.0.0.1"; echo "dir $RUN/redis/s$n"
        echo "sentinel monitor plateau 127.0.0.1 $redis_port 2"
        echo "sentinel down-after-milliseconds plateau 1000"
        echo "sentinel failover-timeout plateau 5000"; } >"$RUN/redis/s$n/sentinel.conf"
      redis-server "$RUN/redis/s$n/sentinel.conf" --sentinel >>"$RUN/logs/sentinel-$n.log" 2>&1 &
      echo $! >"$RUN/pids/redis-sentinel-$n.pid"
      sentinels+=("127.0.0.1:$sp")
    done
    # Ready when both replicas are in sync with the master and the sentinels know them.
    for i in $(seq 1 300); do
      [[ $(redis-cli -p "$redis_port" info replication | grep -c 'state=online') == 2 \
         && $(redis-cli -p "${sentinels[0]#*:}" sentinel replicas plateau 2>/dev/null | grep -c '^ip$') == 2 ]] && break
      sleep 0.1
    done
    REDIS_URL="redis+sentinel://$(IFS=,; echo "${sentinels[*]}")/plateau"
  else
    # Three masters, each with its append-only file and nodes.conf under run/redis/<n>; ports
    # below 55535 whose cluster bus port (+10000) is free too.
    local nodes=() n p
    for n in 1 2 3; do
      # The port of the last run when free: its nodes.conf names it.
      p=$(cat "$RUN/redis/$n/port" 2>/dev/null || echo 6390)
      while :; do next_port "$p"; p=$PORT; port_free $((p + 10000)) && ((p < 55535)) && break; p=$((p + 1)); done
      TAKEN+=($((p + 10000)))
      mkdir -p "$RUN/redis/$n"
      if [[ -f $RUN/redis/$n/port && $(cat "$RUN/redis/$n/port") != "$p" ]]; then
        rm -f "$RUN/redis/$n/nodes.conf"      # another port: a new cluster (the data goes with it)
        rm -rf "$RUN/redis/$n/appendonlydir"
      fi
      echo "$p" >"$RUN/redis/$n/port"
      start_cluster_node "$n"
      nodes+=("127.0.0.1:$p")
    done
    redis_port=${nodes[0]#*:}
    if [[ $(redis-cli -p "$redis_port" cluster info | tr -d '\r' | sed -n 's/^cluster_slots_assigned://p') != 16384 ]]; then
      redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$RUN/logs/redis-cluster.log" 2>&1 \
        || { echo "stack: the Redis Cluster did not form (run/logs/redis-cluster.log)" >&2; return 1; }
    fi
    for i in $(seq 1 300); do
      [[ $(redis-cli -p "$redis_port" cluster info | tr -d '\r' | sed -n 's/^cluster_state://p') == ok ]] && break; sleep 0.1
    done
    REDIS_URL="redis+cluster://$(IFS=,; echo "${nodes[*]}")"
  fi

  # The development API token: one source, "dev". And the notify service's token at the audit:
  # a source of its own that is not an auditor (${NOTIFY_AUDIT_TOKEN_FILE}).
  local token; token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  local ntoken; ntoken=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  printf 'dev:%s\nnotify:%s\n' "$token" "$ntoken" >"$RUN/secrets/api-tokens"
  printf '%s\n' "$ntoken" >"$RUN/secrets/notify-audit-token"
  chmod 600 "$RUN/secrets/api-tokens" "$RUN/secrets/notify-audit-token"

  # The bus runs CURVE, as in production: a key pair per service (and one for plateauctl),
  # kept across restarts, and the key list naming them, which is each one's identity.
  mkdir -p "$RUN/keys"; chmod 700 "$RUN/keys"
  local s keylist=$RUN/keys/keys
  for s in "${svcs[@]}" plateauctl loadgen; do
    [[ -f $RUN/keys/$s.key && -f $RUN/keys/$s.pub ]] || "$BIN/plateauctl" keygen "$s" --dir "$RUN/keys" --force >/dev/null
  done
  { echo "# identity  public key — written by scripts/stack.sh up"
    for s in "${svcs[@]}" plateauctl loadgen; do printf '%s %s\n' "$s" "$(head -n 1 "$RUN/keys/$s.pub")"; done
  } >"$keylist.tmp" && mv "$keylist.tmp" "$keylist"
  # Ports first, so that every service knows every peer's bus address.
  declare -A OPS BUS HTTP DOORS BASE
  local insts=() n
  for s in "${svcs[@]}"; do
    next_port 9100; OPS[$s]=$PORT
    next_port 5560; BUS[$s]=$PORT
    next_port 8080; HTTP[$s]=$PORT
  done
  # Replicas after every first instance, so that those keep the ports they have without them.
  for s in "${svcs[@]}"; do
    insts+=("$s"); BASE[$s]=$s; DOORS[$s]=tcp://127.0.0.1:${BUS[$s]}
    for ((n = 2; n <= ${COUNT[$s]:-1}; n++)); do
      next_port 9100; OPS[$s-$n]=$PORT
      next_port 5560; BUS[$s-$n]=$PORT
      next_port 8080; HTTP[$s-$n]=$PORT
      insts+=("$s-$n"); BASE[$s-$n]=$s; DOORS[$s]+=,tcp://127.0.0.1:${BUS[$s-$n]}
    done
  done
  {
    echo "# written by scripts/stack.sh up — source it: . run/stack.env"
    echo "PLATEAU_REDIS_URL=$REDIS_URL"
    echo "PLATEAU_API_TOKEN=$token"
    echo "PLATEAU_API_TOKENS_FILE=$RUN/secrets/api-tokens"
    echo "PLATEAU_BUS_KEYS_FILE=$keylist"
    echo "PLATEAU_CURVE_SECRET_KEY_FILE=$RUN/keys/plateauctl.key"
    for s in "${svcs[@]}"; do
      local up; up=$(tr '[:lower:]' '[:upper:]' <<<"$s")
      echo "PLATEAU_${up}_URL=http://127.0.0.1:${HTTP[$s]}"
      echo "PLATEAU_${up}_OPS_URL=http://127.0.0.1:${OPS[$s]}"
      echo "PLATEAU_${up}_BUS=${DOORS[$s]}"
      for ((n = 2; n <= ${COUNT[$s]:-1}; n++)); do
        echo "PLATEAU_${up}_${n}_URL=http://127.0.0.1:${HTTP[$s-$n]}"
        echo "PLATEAU_${up}_${n}_OPS_URL=http://127.0.0.1:${OPS[$s-$n]}"
        echo "PLATEAU_${up}_${n}_BUS=tcp://127.0.0.1:${BUS[$s-$n]}"
      done
    done
  } >"$RUN/stack.env"

  declare -A VARS=([REDIS_URL]=$REDIS_URL [RUN]=$RUN [ROOT]=$ROOT [API_TOKENS_FILE]=$RUN/secrets/api-tokens
                   [NOTIFY_AUDIT_TOKEN_FILE]=$RUN/secrets/notify-audit-token)
  # Every peer's bus doors, ${<PEER>_BUS}, and its (first instance's) HTTP API, ${<PEER>_HTTP_URL}.
  for s in "${svcs[@]}"; do
    VARS[$(tr '[:lower:]' '[:upper:]' <<<"$s")_BUS]=${DOORS[$s]}
    VARS[$(tr '[:lower:]' '[:upper:]' <<<"$s")_HTTP_URL]=http://127.0.0.1:${HTTP[$s]}
  done
  subst() {     # fills ${NAME} from VARS (and this instance's ports); unknown names become empty
    local out=$1 k
    VARS[OPS_PORT]=${OPS[$inst]}; VARS[BUS_PORT]=${BUS[$inst]}; VARS[HTTP_PORT]=${HTTP[$inst]}
    for k in "${!VARS[@]}"; do out=${out//"\${$k}"/${VARS[$k]}}; done
    sed -E 's/\$\{[A-Z_]+\}//g' <<<"$out"
  }
  local inst
  for inst in "${insts[@]}"; do
    s=${BASE[$inst]}
    local env=() line
    while IFS= read -r line || [[ -n $line ]]; do
      [[ -z $line || $line == \#* ]] && continue
      line=$(subst "$line")
      [[ -n ${line#*=} ]] && env+=("$line")      # a peer that is not running: leave it unset
    done <"services/$s/local.env"
    env+=("PLATEAU_CURVE_SECRET_KEY_FILE=$RUN/keys/$s.key" "PLATEAU_BUS_KEYS_FILE=$keylist")
    # With Sentinel, an acknowledged step is on a replica too: a failover does not lose it.
    [[ $mode == sentinel ]] && env+=("PLATEAU_REDIS_WAIT_REPLICAS=1")
    local extra
    for extra in "$RUN/extra/all.env" "$RUN/extra/$s.env"; do
      [[ -f $extra ]] || continue
      while IFS= read -r line || [[ -n $line ]]; do
        [[ -z $line || $line == \#* ]] && continue
        env=("${env[@]/#${line%%=*}=*/}")         # an override replaces the local.env value
        env+=("$(subst "$line")")
      done <"$extra"
    done
    local kept=() e; for e in "${env[@]}"; do [[ -n $e ]] && kept+=("$e"); done; env=("${kept[@]}")
    printf '%s\n' "${env[@]}" >"$RUN/env/$inst.env"
    start_service "$inst"
  done
  for inst in "${insts[@]}"; do wait_ready "$inst" "${OPS[$inst]}"; done
  echo "stack: up — redis ($mode) on $redis_port, services: ${insts[*]:-none} (run/stack.env, logs in run/logs/)"
}

down() {
  [[ -d $RUN/pids ]] || { echo "stack: not running"; return 0; }
  local f pid name
  # Services first (SIGTERM: they drain), Redis last.
  for f in "$RUN"/pids/*.pid; do
    [[ -e $f ]] || continue
    name=$(basename "$f" .pid); [[ $name == redis || $name == redis-[0-9]* ]] && continue
    pid=$(cat "$f"); kill -TERM "$pid" 2>/dev/null || true
  done
  for f in "$RUN"/pids/*.pid; do
    [[ -e $f ]] || continue
    name=$(basename "$f" .pid); [[ $name == redis || $name == redis-[0-9]* ]] && continue
    pid=$(cat "$f")
    local i; for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$f"
  done
  for f in "$RUN"/pids/redis.pid "$RUN"/pids/redis-[0-9]*.pid; do
    [[ -f $f ]] || continue
    pid=$(cat "$f")
    kill -TERM "$pid" 2>/dev/null || true
    local i; for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$f"
  done
  rm -rf "$RUN/stack.env" "$RUN/env"
  echo "stack: down"
}

status() {
  [[ -f $RUN/stack.env ]] || { echo "stack: not running"; return 0; }
  local f name pid
  for f in "$RUN"/pids/*.pid; do
    [[ -e $f ]] || continue
    name=$(basename "$f" .pid); pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then echo "$name: running (pid $pid)"; else echo "$name: dead"; fi
  done
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  restart) restart "${2:-}" ;;
  *) echo "usage: $0 up|down|status|restart <service>" >&2; exit 2 ;;
esac
