#!/usr/bin/env python3
"""gen-us-area-states.py — writes lib/phone/us_area_states.c, the US area code → state table.

The data is libphonenumber's geocoding data (English descriptions) as shipped by the
`phonenumbers` Python package (Debian: python3-phonenumbers, the same release as
libphonenumber-dev, whose libgeocoding carries the same data). For every +1 area code whose
description names a US state or the District of Columbia, the table keeps that state. The area
code's own description (prefix "1NPA") is used; when it has none, the finer prefixes must all
agree. Area codes of Canada, the Caribbean and the US territories (own regions in
libphonenumber: PR, GU, VI, AS, MP) are left out.

Usage (from the repository root, with a python3 that has the phonenumbers module):
    python3 scripts/gen-us-area-states.py -o lib/phone/us_area_states.c
or  cmake --build <build dir> --target regen-us-area-states
"""
import re
import sys

try:
    import phonenumbers
    from phonenumbers.geodata import GEOCODE_DATA
except ImportError:
    sys.exit("gen-us-area-states.py: the phonenumbers module is missing "
             "(Debian: apt-get install python3-phonenumbers; run with that python3)")

STATES = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
    "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "Florida": "FL", "Georgia": "GA",
    "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL", "Indiana": "IN", "Iowa": "IA",
    "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA", "Maine": "ME", "Maryland": "MD",
    "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN", "Mississippi": "MS",
    "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV", "New Hampshire": "NH",
    "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY", "North Carolina": "NC",
    "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA",
    "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN",
    "Texas": "TX", "Utah": "UT", "Vermont": "VT", "Virginia": "VA", "Washington": "WA",
    "West Virginia": "WV", "Wisconsin": "WI", "Wyoming": "WY",
    # the data's own spellings
    "Washington State": "WA", "Washington D.C.": "DC", "Philadelphia": "PA",
}
CODES = set(STATES.values())


def state_of(desc):
    if desc in STATES:
        return STATES[desc]
    m = re.search(r", ([A-Z]{2})$", desc)
    return m.group(1) if m and m.group(1) in CODES else None


def main():
    out = sys.stdout
    if len(sys.argv) == 3 and sys.argv[1] == "-o":
        out = open(sys.argv[2], "w", encoding="utf-8")
    elif len(sys.argv) != 1:
        sys.exit("usage: gen-us-area-states.py [-o FILE]")
    own, finer = {}, {}
    for prefix, descs in GEOCODE_DATA.items():
        if not prefix.startswith("1") or len(prefix) < 4 or "en" not in descs:
            continue
        npa = int(prefix[1:4])
        st = state_of(descs["en"])
        if len(prefix) == 4:
            own[npa] = st
        elif st:
            finer.setdefault(npa, set()).add(st)
    table = {}
    for npa in set(own) | set(finer):
        st = own.get(npa)
        if st is None and len(finer.get(npa, ())) == 1:
            st = next(iter(finer[npa]))
        if st:
            table[npa] = st

    out.write("/*  us_area_states.c — US area code → state. GENERATED FILE: do not edit.\n")
    out.write(" *\n")
    out.write(" *  Written by scripts/gen-us-area-states.py from the geocoding data of phonenumbers %s\n"
              % phonenumbers.__version__)
    out.write(" *  (libphonenumber's geocoding data, Copyright (C) 2011-2022 The Libphonenumber Authors,\n")
    out.write(" *  Apache License 2.0). Regenerate from the repository root with\n")
    out.write(" *      python3 scripts/gen-us-area-states.py -o lib/phone/us_area_states.c\n")
    out.write(" *  using a python3 that has the phonenumbers module (Debian: python3-phonenumbers).\n")
    out.write(" *\n")
    out.write(" *  pl__us_area_states[npa - 200] is the two-letter state (or DC) of area code npa, \"\" when\n")
    out.write(" *  the area code is not a US state's (Canada, Caribbean, territories, non-geographic).\n")
    out.write(" */\n")
    out.write('#include "us_area_states.h"\n\n')
    out.write("const char pl__us_area_states[800][3] = {\n")
    for row in range(200, 1000, 10):
        cells = ['"%s"' % table.get(n, "") for n in range(row, row + 10)]
        out.write("    /* %d */ %s,\n" % (row, ", ".join(cells)))
    out.write("};\n")
    out.write("const size_t pl__us_area_state_count = %d;\n" % len(table))
    if out is not sys.stdout:
        out.close()


if __name__ == "__main__":
    main()
