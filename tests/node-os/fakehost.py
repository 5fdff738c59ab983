#!/usr/bin/env python3
"""A stand-in for snowd's node channel, for the node-os tests.

Listens on 127.0.0.1:PORT, checks every request's signature the way
lib/sign.h documents it (HMAC-SHA256 keyed with the node's secret, as its hex
text, over METHOD\\nPATH\\nTIME\\nNONCE\\nBODY; time within 300 s; nonce
strictly increasing), and appends one JSON line per request to LOG:
    {"t": host time, "path", "status", "sig_ok", "why", "body"}
Answers: register -> 200 {"interval_ms": N}; report -> 200 {"ack_events",
"commands"} (or 404 for the first --refuse-reports reports, to make the agent
register again); a bad signature -> 401.  Answers to a good request are
signed as snowd signs them (X-Snow-Signature: HMAC over
ANSWER\nPATH\nNONCE\nSTATUS\nBODY).  --answer-sig none|bad plays a forger
who answers for the host's address: answers unsigned or wrongly signed,
acknowledging every event (ack_events 1000000) so an agent that believed it
would drop its black box.  The log line says which ("answer_sig").

Like snowd it stores the events of each boot (acknowledging the highest seq
stored) and resends every command of --commands FILE (JSON lines, read again
on each report so a test can append) until a report carries its result.
--fail-results N answers 503 to the first N reports that carry results, so
the agent must send them again; --forget-results never records a result, so
every command is sent again in every answer (a restarted agent must answer
them from its saved results, not run them twice).  GET /boot/MAC/overlay.cpio and the signed
POST /api/v1/node/overlay (config.reload) serve a cpio holding --overlay-conf
FILE as etc/snow/node.conf.  --rekey FILE: once FILE holds a new secret,
answers to requests signed with the current one carry it ("rekey"); a
request signed with it makes it the current one (logged as "rekeyed").
"""
import argparse
import hashlib
import hmac
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

SKEW = 300


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--interval-ms", type=int, default=1000)
    ap.add_argument("--refuse-reports", type=int, default=0)
    ap.add_argument("--commands", help="JSON lines of commands to deliver")
    ap.add_argument("--fail-results", type=int, default=0)
    ap.add_argument("--forget-results", action="store_true",
                    help="never record results, so every command is sent again and again")
    ap.add_argument("--overlay-conf", help="node.conf served in the overlay")
    ap.add_argument("--rekey", help="a file that, once it exists, holds the node's new secret")
    ap.add_argument("--answer-sig", choices=("good", "none", "bad"), default="good",
                    help="sign answers (good), or forge them: unsigned, or a wrong signature")
    args = ap.parse_args()
    state = {"secret": args.secret, "rekeyed": False, "last_nonce": 0, "refuse": args.refuse_reports, "events": {}, "results": {},
             "fail_results": args.fail_results}

    def commands():
        if not args.commands:
            return []
        try:
            with open(args.commands) as f:
                cmds = [json.loads(l) for l in f if l.strip()]
        except FileNotFoundError:
            return []
        return [c for c in cmds if c.get("id") not in state["results"]]

    def cpio(files):
        out = b""
        for i, (name, data, mode) in enumerate(files + [("TRAILER!!!", b"", 0)]):
            nb = name.encode() + b"\0"
            hdr = "070701" + "".join("%08x" % v for v in (
                i + 1, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0))
            out += hdr.encode() + nb
            out += b"\0" * (-len(out) % 4) + data
            out += b"\0" * (-len(out) % 4)
        return out
    def overlay():
        return cpio([("etc", b"", 0o40755), ("etc/snow", b"", 0o40755),
                     ("etc/snow/node.conf", open(args.overlay_conf, "rb").read(), 0o100600)])
    log = open(args.log, "a", buffering=1)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):  # quiet: the JSON log is the record
            pass

        def new_secret(self):
            try:
                with open(args.rekey) as f:
                    k = f.read().strip()
            except (TypeError, FileNotFoundError):
                return None
            return k if k and k != state["secret"] else None

        def answer(self, status, obj, nonce=None):
            data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if nonce is not None and args.answer_sig != "none":
                key = self.key if args.answer_sig == "good" else "f" * 64
                msg = b"ANSWER\n" + self.path.encode() + b"\n" + nonce.encode() + b"\n" + \
                    str(status).encode() + b"\n" + data
                self.send_header("X-Snow-Signature",
                                 hmac.new(key.encode(), msg, hashlib.sha256).hexdigest())
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)

        def check(self, body):
            h = self.headers
            node, ts, nonce, sig = (h.get("X-Snow-Node"), h.get("X-Snow-Time"),
                                    h.get("X-Snow-Nonce"), h.get("X-Snow-Signature"))
            if None in (node, ts, nonce, sig):
                return "missing X-Snow-* header"
            if node != args.name:
                return "X-Snow-Node is %r, want %r" % (node, args.name)
            try:
                ts_i, nonce_i = int(ts), int(nonce)
            except ValueError:
                return "time or nonce not a number"
            msg = b"POST\n" + self.path.encode() + b"\n" + ts.encode() + b"\n" + \
                nonce.encode() + b"\n" + body
            self.key = None
            for k in (state["secret"], self.new_secret()):
                if k and hmac.compare_digest(
                        hmac.new(k.encode(), msg, hashlib.sha256).hexdigest(), sig.lower()):
                    self.key = k
            if not self.key:
                return "bad signature"
            if self.key != state["secret"]:
                state["secret"], state["rekeyed"] = self.key, True
            if abs(ts_i - time.time()) > SKEW:
                return "time %d is %d s off" % (ts_i, ts_i - time.time())
            if nonce_i <= state["last_nonce"]:
                return "nonce %d not above %d" % (nonce_i, state["last_nonce"])
            state["last_nonce"] = nonce_i
            return None

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if 0 < n <= 1 << 20 else b""
            why = self.check(body)
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
            if why:
                status, reply = 401, {"error": why}
            elif self.path == "/api/v1/node/overlay" and args.overlay_conf:
                status, reply = 200, overlay()
            elif self.path == "/api/v1/node/register":
                status, reply = 200, {"interval_ms": args.interval_ms}
            elif self.path == "/api/v1/node/report":
                if state["refuse"] > 0:
                    state["refuse"] -= 1
                    status, reply = 404, {"error": "unknown node"}
                elif parsed.get("results") and state["fail_results"] > 0:
                    state["fail_results"] -= 1
                    status, reply = 503, {"error": "try again"}
                else:
                    evs = state["events"].setdefault(parsed.get("boot_id"), {})
                    for e in parsed.get("events", []):
                        evs[e["seq"]] = e
                    for r in parsed.get("results", []):
                        if not args.forget_results:
                            state["results"].setdefault(r["id"], r)
                    status, reply = 200, {"ack_events": max(evs) if evs else 0,
                                          "commands": commands()}
                    if args.answer_sig != "good":
                        reply["ack_events"] = 1000000
            else:
                status, reply = 404, {"error": "no such path"}
            if status == 200 and isinstance(reply, dict) and self.new_secret():
                reply["rekey"] = self.new_secret()
            log.write(json.dumps({"t": time.time(), "path": self.path, "status": status,
                                  "sig_ok": why is None, "why": why, "body": parsed,
                                  "reply": reply if isinstance(reply, dict) else "(cpio)",
                                  "answer_sig": args.answer_sig,
                                  "rekeyed": state["rekeyed"]}) + "\n")
            self.answer(status, reply, None if why else self.headers.get("X-Snow-Nonce"))

        def do_GET(self):
            if self.path.startswith("/boot/") and self.path.endswith("/overlay.cpio") \
                    and args.overlay_conf:
                data = overlay()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)
                log.write(json.dumps({"t": time.time(), "path": self.path, "status": 200,
                                      "sig_ok": True, "why": None, "body": None}) + "\n")
                return
            self.answer(404, {"error": "POST only"})

    srv = HTTPServer(("127.0.0.1", args.port), Handler)
    print("fakehost: listening on 127.0.0.1:%d" % args.port, file=sys.stderr, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
