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

# The base helpers (times, UTF-8), the rules engine on top of them and the kit's HTTP client
# link through plateau.pc alone, in the order it names the libraries.
cat >"$tmp/base.c" <<'C'
#include <stdint.h>
#include <string.h>
#include <plateau/http_client.h>
#include <plateau/rules_tz.h>
#include <plateau/timefmt.h>
#include <plateau/utf8.h>
int main (void) {
    int64_t ms;
    char host[64];
    int port;
    return pl_time_parse_rfc3339 ("2026-02-30T00:00:00Z", &ms) != 0
           && pl_time_parse_rfc3339 ("2024-02-29T00:00:00Z", &ms) == 0
           && pl_rules_weekday (pl_days_from_civil (2024, 2, 29)) == 4
           && pl_utf8_valid ("\xc3\xa9", 2) && !pl_utf8_valid ("\xc0\xaf", 2)
           && pl_http_url_parse ("http://h:81", host, sizeof host, &port) == 0 && port == 81
           ? 0 : 1;
}
C
cc "${flags[@]}" -Wall -Werror -o "$tmp/base" "$tmp/base.c" $(pkg-config --cflags --libs plateau)
"$tmp/base"

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
# The audit library too, for tools that read or verify an audit directory.
cat >"$tmp/audit.c" <<'C'
#include <plateau/audit_keys.h>
int main (void) {
    pl_audit_keys_t *k = pl_audit_keys_new ();
    int ok = k && !pl_audit_keys_has_signing (k);
    pl_audit_keys_destroy (&k);
    return ok && !k ? 0 : 1;
}
C
cc "${flags[@]}" -Wall -Werror -o "$tmp/audit" "$tmp/audit.c" $(pkg-config --cflags --libs plateau-audit)
"$tmp/audit"
echo "install_check: ok"
