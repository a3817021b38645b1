#!/usr/bin/env python3
"""webhook-receiver.py — a CRM's webhook endpoint for the simulation (scripts/sim.sh).

Receives plateau's webhook deliveries (services/notify), checks each signature as a receiver
must (docs/api.md, "Webhooks"): X-Plateau-Signature "t=<unix>,v1=<hex>", HMAC-SHA256 with the
subscription's secret over "<t>.POST.<path and query>.<body>", t within 300 s of now. A good
delivery is answered 200 and appended to --out as one JSON line (its id, type, lead, time and
the instant it came); a bad one is answered 401 and counted in --out + ".bad".

    webhook-receiver.py --secret-file F --out deliveries.ndjson --port-file P

With --check EXPORT it instead compares what came (--out) with the audit export: every record
a webhook carries (a verdict, a call's outcome or disposition, a promise's change, a payment) of a lead
must have come exactly as an event id once after de-duplication, each lead's in the order the
audit received them (seq). It prints the figures and exits 1 when one is missing or out of
order, or a delivery was refused for its signature.
"""
import argparse
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WINDOW_S = 300
MAX_BODY = 1 << 20


# Audit record types and the webhook event each becomes (services/notify/payload.c).
CARRIED = {"scrub.verdict": "lead.verdict", "call.outcome": "call.outcome",
           "call.disposition": "call.disposition", "promise.made": "promise.made",
           "promise.kept": "promise.kept", "promise.partially_kept": "promise.partially_kept",
           "promise.broken": "promise.broken", "promise.cancelled": "promise.cancelled",
           "payment.applied": "payment.received", "payment.unmatched": "payment.received"}


def event_id(audit_id):
    return "evt_" + hashlib.sha256(audit_id.encode()).hexdigest()[:32]


def check(export, deliveries):
    expected = {}                      # event id -> (lead, chain, seq, type)
    for line in open(export, encoding="utf-8"):
        r = json.loads(line)
        if r.get("type") in CARRIED and r.get("lead_id"):
            expected[event_id(r["event_id"])] = (r["lead_id"], r["chain"], r["seq"], CARRIED[r["type"]])
    came, order, dups, other, mislabelled = set(), defaultdict(list), 0, Counter(), 0
    for line in open(deliveries, encoding="utf-8"):
        d = json.loads(line)
        mislabelled += d.get("header_id") != d["id"]      # X-Plateau-Event-Id is the body's id
        if d["id"] in came:
            dups += 1
            continue
        came.add(d["id"])
        if d["id"] in expected:
            lead, chain, seq, _ = expected[d["id"]]
            order[lead].append((chain, seq))
        else:
            other[d["type"]] += 1
    bad = sum(1 for _ in open(deliveries + ".bad")) if os.path.exists(deliveries + ".bad") else 0
    missing = [i for i in expected if i not in came]
    unordered = [lead for lead, s in order.items() if s != sorted(s)]
    by_type = Counter(t for i, (_, _, _, t) in expected.items() if i in came)
    print(f"   {len(came)} events came ({dups} delivered again and set aside by their id), "
          f"{bad} refused for their signature, {mislabelled} with another id in their header")
    print("   " + ", ".join(f"{t} {n}" for t, n in sorted(by_type.items()))
          + "".join(f", {t} {n}" for t, n in sorted(other.items())))
    print(f"   of {len(expected)} the audit holds for the leads: {len(missing)} missing, "
          f"{len(unordered)} leads out of order")
    for i in missing[:5]:
        print(f"   missing: {expected[i][3]} of lead {expected[i][0]} (audit seq {expected[i][2]}, {i})")
    return 1 if missing or unordered or bad or mislabelled else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--secret-file")
    ap.add_argument("--out", required=True)
    ap.add_argument("--port-file", help="the port chosen is written there")
    ap.add_argument("--addr", default="127.0.0.1")
    ap.add_argument("--check", metavar="EXPORT")
    args = ap.parse_args()
    if args.check:
        sys.exit(check(args.check, args.out))
    secret = open(args.secret_file, "rb").read().strip()
    lock = threading.Lock()
    out = open(args.out, "a", encoding="utf-8")
    bad = open(args.out + ".bad", "a", encoding="utf-8")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):  # quiet: the deliveries are the log
            pass

        def _answer(self, code):
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            if n < 0 or n > MAX_BODY:
                return self._answer(413)
            body = self.rfile.read(n)
            why = self._verify(body)
            if why:
                with lock:
                    bad.write(json.dumps({"why": why, "path": self.path}) + "\n")
                    bad.flush()
                return self._answer(401)
            try:
                ev = json.loads(body)
            except ValueError:
                return self._answer(400)
            rec = {"id": ev.get("id"), "type": ev.get("type"), "lead_id": ev.get("lead_id"),
                   "external_id": ev.get("external_id"), "time": ev.get("time"),
                   "header_id": self.headers.get("X-Plateau-Event-Id"), "came_ms": int(time.time() * 1000)}
            with lock:
                out.write(json.dumps(rec) + "\n")
                out.flush()
            self._answer(200)

        def _verify(self, body):
            sig = self.headers.get("X-Plateau-Signature") or ""
            parts = dict(p.split("=", 1) for p in sig.split(",") if "=" in p)
            t, v1 = parts.get("t", ""), parts.get("v1", "")
            if not t.isdigit() or not v1:
                return "no signature"
            if abs(time.time() - int(t)) > WINDOW_S:
                return "outside the replay window"
            mac = hmac.new(secret, f"{t}.POST.{self.path}.".encode() + body, hashlib.sha256).hexdigest()
            return "" if hmac.compare_digest(mac, v1) else "bad signature"

    srv = ThreadingHTTPServer((args.addr, 0), Handler)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(args.port_file + ".tmp", args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
