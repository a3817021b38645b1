#!/usr/bin/env bash
# install_check.sh — libplateau installs with its headers and pkg-config file, and a service
# builds against the installed copy alone (the template, compiled outside the tree).
#   install_check.sh <build dir> <source dir>
set -euo pipefail
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
export PKG_CONFIG_PATH=$tmp/prefix/lib/pkgconfig
pkg-config --exists plateau
cc -Wall -Wextra -Werror -o "$tmp/plateau-template" "$src/services/template/main.c" \
   "$src/services/template/counter.c" -I"$src/services/template" \
   $(pkg-config --cflags plateau) $(pkg-config --libs plateau)
# It runs: a bad configuration is refused with exit status 2.
set +e
PLATEAU_REDIS_URL=nonsense "$tmp/plateau-template" >"$tmp/out" 2>&1
rc=$?
set -e
[[ $rc -eq 2 ]] || { echo "expected exit 2, got $rc"; cat "$tmp/out"; exit 1; }
grep -q PLATEAU_REDIS_URL "$tmp/out"
echo "install_check: ok"
