#!/usr/bin/env python3
"""gen-tz-prefixes.py — writes lib/phone/tz_prefixes.c, the number prefix → IANA zones table.

The data is libphonenumber's time-zone mapping as shipped by the `phonenumbers` Python package
(Debian: python3-phonenumbers; keep its version in step with libphonenumber-dev so that numbers
and zones come from the same release). Every prefix of an E.164 number (country code included,
no '+') maps to one or more zones; a prefix that spans several zones keeps all of them, in the
order the source lists them.

Usage (from the repository root; the interpreter must have the phonenumbers module):
    python3 scripts/gen-tz-prefixes.py > lib/phone/tz_prefixes.c
or  python3 scripts/gen-tz-prefixes.py -o lib/phone/tz_prefixes.c
or  cmake --build <build dir> --target regen-tz-prefixes
"""
import sys

try:
    import phonenumbers
    from phonenumbers.tzdata import TIMEZONE_DATA
except ImportError:
    sys.exit("gen-tz-prefixes.py: the phonenumbers module is missing "
             "(Debian: apt-get install python3-phonenumbers; run with that python3)")

MAX_PREFIX = 15  # digits of an E.164 number


def main():
    out = sys.stdout
    if len(sys.argv) == 3 and sys.argv[1] == "-o":
        out = open(sys.argv[2], "w", encoding="utf-8")
    elif len(sys.argv) != 1:
        sys.exit("usage: gen-tz-prefixes.py [-o FILE]")
    names = sorted({z for zones in TIMEZONE_DATA.values() for z in zones})
    index = {name: i for i, name in enumerate(names)}
    if len(names) > 65535:
        sys.exit("too many zone names for uint16_t")

    # Zone lists are shared between prefixes that have the same candidates.
    lists = []          # flattened zone indexes
    list_at = {}        # tuple of indexes -> offset in lists
    rows = []
    for prefix in sorted(TIMEZONE_DATA):
        if not prefix.isdigit() or len(prefix) > MAX_PREFIX:
            sys.exit("unexpected prefix %r" % prefix)
        zones = tuple(index[z] for z in TIMEZONE_DATA[prefix])
        if zones not in list_at:
            list_at[zones] = len(lists)
            lists.extend(zones)
        rows.append((prefix, list_at[zones], len(zones)))
    longest = max(len(p) for p, _, _ in rows)

    out.write("/*  tz_prefixes.c — E.164 number prefix → IANA time zones. GENERATED FILE: do not edit.\n")
    out.write(" *\n")
    out.write(" *  Written by scripts/gen-tz-prefixes.py from the time-zone data of phonenumbers %s\n"
              % phonenumbers.__version__)
    out.write(" *  (libphonenumber's timezone mapping, Copyright (C) 2011-2022 The Libphonenumber Authors,\n")
    out.write(" *  Apache License 2.0). Regenerate from the repository root with\n")
    out.write(" *      python3 scripts/gen-tz-prefixes.py > lib/phone/tz_prefixes.c\n")
    out.write(" *  using a python3 that has the phonenumbers module (Debian: python3-phonenumbers).\n")
    out.write(" *\n")
    out.write(" *  Prefixes are digits of the E.164 number without '+', country code included, sorted as\n")
    out.write(" *  strings; each names a run of pl__tz_zone_lists, itself indexes into pl__tz_zone_names.\n")
    out.write(" */\n")
    out.write('#include "tz_prefixes.h"\n\n')
    out.write("const char *const pl__tz_zone_names[%d] = {\n" % len(names))
    for name in names:
        out.write('    "%s",\n' % name)
    out.write("};\n")
    out.write("const size_t pl__tz_zone_name_count = %d;\n\n" % len(names))

    out.write("const uint16_t pl__tz_zone_lists[%d] = {\n" % len(lists))
    for i in range(0, len(lists), 16):
        out.write("    " + ", ".join(str(v) for v in lists[i:i + 16]) + ",\n")
    out.write("};\n\n")

    out.write("const pl__tz_prefix_t pl__tz_prefixes[%d] = {\n" % len(rows))
    for prefix, at, count in rows:
        out.write('    {"%s", %d, %d},\n' % (prefix, at, count))
    out.write("};\n")
    out.write("const size_t pl__tz_prefix_count = %d;\n" % len(rows))
    out.write("const size_t pl__tz_prefix_longest = %d;\n" % longest)
    if out is not sys.stdout:
        out.close()


if __name__ == "__main__":
    main()
