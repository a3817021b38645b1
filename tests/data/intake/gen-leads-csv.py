#!/usr/bin/env python3
"""gen-leads-csv.py — writes a large CSV lead file for memory and throughput tests of the intake.

The rows look like what French and US CRMs export: a header the intake recognises, national and
international numbers in their usual written forms, accented names, quoted addresses (some with
an embedded newline), postal codes (some overseas), and a configurable share of bad rows (short
numbers, bad e-mails) so that both the accept and reject paths are exercised. Deterministic for a
given --seed.

Examples:
    python3 tests/data/intake/gen-leads-csv.py --rows 1000000 -o /tmp/leads-1m.csv
    python3 tests/data/intake/gen-leads-csv.py --rows 1000 --encoding cp1252 --delimiter ';'
"""
import argparse
import random
import sys

FIRST = ["Hélène", "Jean", "Zoé", "Æmilie", "François", "Chloé", "Noël", "Ann", "Bob", "José",
         "Maëlle", "Jürgen", "Céline", "Loïc", "Inès", "Agnès"]
LAST = ["Dupont", "Lefèvre", "Martin", "Bernard", "Müller", "Garçon", "Œuvray", "Smith", "Lee",
        "Moreau", "Févrière", "Dubois", "Rousseau", "Laurent"]
STREETS = ["rue de la Paix", "avenue des Champs-Élysées", "chemin des Œillets", "boulevard Haussmann",
           "place Bellecour", "Main Street", "rue de l'Église", "impasse du Château"]
CITIES_FR = [("75002", "Paris"), ("69001", "Lyon"), ("13001", "Marseille"), ("33000", "Bordeaux"),
             ("97400", "Saint-Denis"), ("97110", "Pointe-à-Pitre"), ("20000", "Ajaccio")]
CITIES_US = [("94105", "San Francisco", "CA"), ("10001", "New York", "NY"), ("33101", "Miami", "FL"),
             ("46204", "Indianapolis", "IN"), ("85001", "Phoenix", "AZ")]


def fr_number(rnd):
    kind = rnd.random()
    # ranges in use (ARCEP plan as libphonenumber knows it): 06 0-2/4-8x, 07 3-9, fixed 01-05
    # but not 040x; overseas 0262/0269/059x and 069x are left to the last branch
    if kind < 0.55:
        digits = "06" + rnd.choice("0124578") + "%07d" % rnd.randrange(10 ** 7)
    elif kind < 0.75:
        digits = "07" + str(rnd.randrange(3, 10)) + "%07d" % rnd.randrange(10 ** 7)
    elif kind < 0.9:
        area = rnd.choice("12345")
        digits = "0" + area + ("%d" % rnd.randrange(1, 10) if area == "4" else "1") \
            + "%07d" % rnd.randrange(10 ** 7)
    else:
        digits = "0692" + "%06d" % rnd.randrange(10 ** 6)          # Réunion mobile
    form = rnd.random()
    if form < 0.5:
        return " ".join(digits[i:i + 2] for i in range(0, 10, 2))
    if form < 0.7:
        return digits
    if form < 0.8:
        return ".".join(digits[i:i + 2] for i in range(0, 10, 2))
    if form < 0.9:
        return "+33 " + digits[1] + " " + " ".join(digits[i:i + 2] for i in range(2, 10, 2))
    return "0033" + digits[1:]


def us_number(rnd):
    area = rnd.choice(["212", "415", "305", "317", "602", "713", "312"])
    exch = str(rnd.randrange(2, 10)) + "%02d" % rnd.randrange(100)
    line = "%04d" % rnd.randrange(10 ** 4)
    form = rnd.random()
    if form < 0.4:
        return "(%s) %s-%s" % (area, exch, line)
    if form < 0.7:
        return "+1 %s %s %s" % (area, exch, line)
    return "1-%s-%s-%s" % (area, exch, line)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1000000)
    ap.add_argument("--encoding", choices=["utf-8", "utf-8-sig", "cp1252"], default="utf-8")
    ap.add_argument("--delimiter", default=";")
    ap.add_argument("--bad-every", type=int, default=50, help="one bad row in N (0: none)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-o", "--output", help="file to write (default: stdout)")
    args = ap.parse_args()
    if args.delimiter == "\\t":
        args.delimiter = "\t"
    rnd = random.Random(args.seed)
    d = args.delimiter

    out = open(args.output, "w", encoding=args.encoding, newline="") if args.output else \
        open(sys.stdout.fileno(), "w", encoding=args.encoding, newline="", closefd=False)

    def quote(v):
        if any(c in v for c in (d, '"', "\n", "\r")):
            return '"' + v.replace('"', '""') + '"'
        return v

    header = ["ID CRM", "Nom", "Prénom", "Téléphone", "Portable", "Adresse", "Code postal",
              "Ville", "État", "Pays", "E-mail", "Segment"]
    out.write(d.join(quote(h) for h in header) + "\r\n")
    for i in range(args.rows):
        us = rnd.random() < 0.2
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        addr = "%d %s" % (rnd.randrange(1, 200), rnd.choice(STREETS))
        if rnd.random() < 0.02:
            addr += "\nBâtiment %s" % rnd.choice("ABC")
        if us:
            zip_, city, state = rnd.choice(CITIES_US)
            phone, alt, country = us_number(rnd), (us_number(rnd) if rnd.random() < 0.3 else ""), "US"
        else:
            zip_, city = rnd.choice(CITIES_FR)
            state = ""
            phone, alt, country = fr_number(rnd), (fr_number(rnd) if rnd.random() < 0.3 else ""), "FR"
        email = "%s.%s%d@example.%s" % (first.lower(), last.lower(), i, "com" if us else "fr")
        if args.bad_every and i % args.bad_every == args.bad_every - 1:
            if rnd.random() < 0.5:
                phone = phone[:5]
            else:
                email = email.replace("@", "")
        row = ["CRM-%07d" % i, last, first, phone, alt, addr, zip_, city, state, country, email,
               rnd.choice(["gold", "silver", "bronze"])]
        out.write(d.join(quote(v) for v in row) + "\r\n")
    out.close()


if __name__ == "__main__":
    main()
