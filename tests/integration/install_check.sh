#!/usr/bin/env bash
# install_check.sh — libplateau installs with its headers and pkg-config file, and a service
# builds against the installed copy alone (the template, compiled outside the tree).
#   install_check.sh <build dir> <source dir> [compiler flags of the build, e.g. sanitizers]
set -euo pipefail
build=$1 src=$2
read -r -a flags <<<"${3:-}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
export PKG_CONFIG_PATH=$tmp/prefix/lib/pkgconfig
pkg-config --exists plateau
cc "${flags[@]}" -Wall -Wextra -Werror -o "$tmp/plateau-template" "$src/services/template/main.c" \
   "$src/services/template/counter.c" -I"$src/services/template" \
   $(pkg-config --cflags plateau) $(pkg-config --libs plateau)
# It runs: a bad configuration is refused with exit status 2.
set +e
PLATEAU_REDIS_URL=nonsense "$tmp/plateau-template" >"$tmp/out" 2>&1
rc=$?
set -e
[[ $rc -eq 2 ]] || { echo "expected exit 2, got $rc"; cat "$tmp/out"; exit 1; }
grep -q PLATEAU_REDIS_URL "$tmp/out"

# The phone library installs beside it with its own pkg-config file.
cat >"$tmp/phone.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <plateau/phone.h>
int main (void) {
    pl_phone_t *p = pl_phone_new ();
    pl_phone_number_t n;
    int rc = pl_phone_parse (p, "06 12 34 56 78", "FR", &n);
    printf ("%s\n", rc == 0 ? n.e164 : pl_phone_errstr (p));
    pl_phone_destroy (&p);
    return rc == 0 && strcmp (n.e164, "+33612345678") == 0 ? 0 : 1;
}
C
cc "${flags[@]}" -Wall -Werror -o "$tmp/phone" "$tmp/phone.c" $(pkg-config --cflags --libs plateau-phone)
"$tmp/phone"
echo "install_check: ok"
