#!/usr/bin/env bash
# dev-credentials.sh — makes a development cluster's credentials: a CURVE key pair per service
# (and plateauctl), the bus key list, one API token for the source "dev" at every HTTP door, no
# signing sources, the audit's keys, and a Redis password. Writes them under DIR (outside the
# repository: they are never committed) with DIR/credentials.yaml to apply:
#
#   deploy/credentials/dev-credentials.sh ~/plateau-dev-credentials
#   kubectl apply -n plateau-dev -f ~/plateau-dev-credentials/credentials.yaml
#
# Needs plateauctl and plateau-audit-keygen (make build; PL_BIN_DIR to use others) and kubectl.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${PL_BIN_DIR:-$ROOT/build/bin}
DIR=${1:?usage: dev-credentials.sh DIR (outside the repository)}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
case "$DIR/" in
  "$ROOT"/*) echo "dev-credentials: $DIR is inside the repository; choose a directory outside it" >&2; exit 2 ;;
esac
for b in plateauctl plateau-audit-keygen; do
  [[ -x $BIN/$b ]] || { echo "dev-credentials: $BIN/$b is not built (make build)" >&2; exit 2; }
done
[[ ! -e $DIR/credentials.yaml ]] || { echo "dev-credentials: $DIR/credentials.yaml exists; not replaced" >&2; exit 2; }
umask 077

ids=(intake scrub dialer promise audit telsim plateauctl)
mkdir -p "$DIR/keys" "$DIR/audit"
for s in "${ids[@]}"; do "$BIN/plateauctl" keygen "$s" --dir "$DIR/keys" >/dev/null; done
{ echo "# identity  public key — written by deploy/credentials/dev-credentials.sh"
  for s in "${ids[@]}"; do printf '%s %s\n' "$s" "$(head -n 1 "$DIR/keys/$s.pub")"; done
} >"$DIR/keys/keys"
"$BIN/plateau-audit-keygen" "$DIR/audit" >/dev/null
rand() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
token=$(rand)
password=$(rand)
printf 'dev:%s\n' "$token" >"$DIR/api-tokens"
printf '%s\n' "$token" >"$DIR/token"

kc() { kubectl create --dry-run=client -o yaml "$@"; echo ---; }
{
  kc secret generic plateau-redis --from-literal=url="redis://:$password@redis:6379/0" \
     --from-literal=password="$password"
  for s in intake scrub dialer promise audit telsim; do
    kc secret generic "plateau-curve-$s" --from-file=curve.key="$DIR/keys/$s.key"
  done
  for s in intake scrub dialer promise audit; do
    kc secret generic "plateau-$s-api-tokens" --from-file=tokens="$DIR/api-tokens"
  done
  kc secret generic plateau-intake-signing-keys --from-literal=keys='# no source signs in development'
  kc secret generic plateau-promise-signing-keys --from-literal=keys='# no payer in development'
  kc secret generic plateau-audit-keys --from-file=signing.key="$DIR/audit/audit-signing.key" \
     --from-file=pseudonym.key="$DIR/audit/audit-pseudonym.key" --from-file=data.key="$DIR/audit/audit-data.key"
  kc configmap plateau-bus-keys --from-file=keys="$DIR/keys/keys"
} >"$DIR/credentials.yaml"
echo "dev-credentials: $DIR/credentials.yaml (apply it to the namespace); the API token of source 'dev' is in $DIR/token,"
echo "plateauctl's bus key in $DIR/keys/plateauctl.key (PLATEAU_CURVE_SECRET_KEY_FILE) with the list $DIR/keys/keys"
