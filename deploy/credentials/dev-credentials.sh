#!/usr/bin/env bash
# dev-credentials.sh — makes a development cluster's credentials with `plateauctl keys gen`: a
# CURVE key pair per service (telsim's too, and plateauctl's), the bus key list, one API token for
# the source "dev" at every HTTP door, no signing sources, the audit's keys, and a Redis
# password. Writes them under DIR (outside the repository: they are never committed) with
# DIR/credentials.yaml to apply:
#
#   deploy/credentials/dev-credentials.sh ~/plateau-dev-credentials
#   kubectl apply -n plateau-dev -f ~/plateau-dev-credentials/credentials.yaml
#
# Needs plateauctl (make build; PL_BIN_DIR to use another). Rotation: plateauctl keys rotate,
# docs/operations.md §7.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${PL_BIN_DIR:-$ROOT/build/bin}
DIR=${1:?usage: dev-credentials.sh DIR (outside the repository)}
mkdir -p "$(dirname "$DIR")"
ABS=$(cd "$(dirname "$DIR")" && pwd)/$(basename "$DIR")
case "$ABS/" in
  "$ROOT"/*) echo "dev-credentials: $DIR is inside the repository; choose a directory outside it" >&2; exit 2 ;;
esac
[[ -x $BIN/plateauctl ]] || { echo "dev-credentials: $BIN/plateauctl is not built (make build)" >&2; exit 2; }
"$BIN/plateauctl" keys gen "$ABS" --namespace plateau-dev --identity telsim --source dev
echo "dev-credentials: apply $ABS/credentials.yaml to the namespace; the API token of source 'dev' is in"
echo "$ABS/api-tokens, plateauctl's bus key in $ABS/keys/plateauctl.key (PLATEAU_CURVE_SECRET_KEY_FILE)"
echo "with the list $ABS/keys/keys"
