#!/usr/bin/env python3
"""Fan-out of power status to many Redfish BMCs (make bench-host; docs/power.md).

    bmc_fanout.py URL TOKEN COUNT BASE PORT PIN PWFILE TIMEOUT_S

Adds COUNT nodes whose BMCs are at BASE+i:PORT (tests/bmc/redfish-many.py),
posts power.status to every one, and waits until every command has ended.
Prints the time to the last one, how many were done and failed (and why),
and the sequential time: the sum of each command's own duration, what one
BMC at a time would take.
"""
import http.client
import ipaddress
import json
import sys
import time
from collections import Counter

url, token, count, base, port, pin, pwfile, tmo = sys.argv[1:9]
count, port, tmo = int(count), int(port), int(tmo)
host, _, hport = url.split("//")[1].partition(":")
conn = http.client.HTTPConnection(host, int(hport), timeout=30)
H = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}


def call(method, path, body=None):
    conn.request(method, path, json.dumps(body) if body is not None else None, H)
    r = conn.getresponse()
    data = r.read()
    return r.status, (json.loads(data) if data else None)


base_ip = ipaddress.IPv4Address(base)
for i in range(count):
    name = "bmc%04d" % i
    st, _ = call("POST", "/api/v1/nodes", {"name": name, "mac": "52:54:00:ee:%02x:%02x" % (i >> 8, i & 255),
                                           "ip": str(ipaddress.IPv4Address("127.3.0.0") + i + 1)})
    if st not in (200, 201, 409):
        sys.exit("node add %s: HTTP %d" % (name, st))
    power = {"driver": "redfish", "url": "https://%s:%d" % (base_ip + i, port), "user": "admin",
             "password_file": pwfile, "pin": pin, "timeout_s": tmo}
    st, _ = call("PATCH", "/api/v1/nodes/" + name, {"settings": {"power": power}})
    if st != 200:
        sys.exit("node set %s: HTTP %d" % (name, st))

ids = {}
t0 = time.monotonic()
for i in range(count):
    st, c = call("POST", "/api/v1/nodes/bmc%04d/commands" % i, {"op": "power.status"})
    if st != 202:
        sys.exit("power.status bmc%04d: HTTP %d" % (i, st))
    ids[c["id"]] = time.monotonic() - t0
t_posted = time.monotonic() - t0
open_ids = set(ids)
ends, why, seq = {}, Counter(), 0.0
while open_ids:
    for cid in list(open_ids):
        st, c = call("GET", "/api/v1/commands/%d" % cid)
        if c["state"] in ("done", "failed"):
            open_ids.discard(cid)
            ends[cid] = time.monotonic() - t0
            why["done" if c["state"] == "done" else
                (c.get("error") or "").split(": ", 2)[-1][:60]] += 1
            seq += (c.get("done") or c["created"]) - c["created"]
    if open_ids:
        time.sleep(0.2)
last = max(ends.values())
own = sorted(ends[c] - ids[c] for c in ends)
done = why.pop("done", 0)
print("bmc fan-out: %d BMCs, power.status: last ended %.2f s after the first post "
      "(posting all took %.2f s)" % (count, last, t_posted))
print("  each command, from its post to its end: median %.2f s, max %.2f s (the posts are "
      "one API call each, in turn)" % (own[len(own) // 2], own[-1]))
print("  done %d, failed %d: %s" % (done, sum(why.values()),
                                    "; ".join("%d x %s" % (n, w) for w, n in why.most_common(4))))
print("  sequential (sum of each command's own time, 1 s resolution): %.0f s; ratio %.0fx" %
      (seq, seq / last if last else 0))
