#!/usr/bin/env python3
"""Fan-out of power status to many Redfish BMCs (make bench-host; docs/power.md).

    bmc_fanout.py URL TOKEN COUNT BASE PORT PIN PWFILE TIMEOUT_S

Adds COUNT nodes whose BMCs are at BASE+i:PORT (tests/bmc/redfish-many.py),
posts power.status for all of them in one request (POST /api/v1/commands),
and follows snowd's stream until every command has ended (the end of each, in
milliseconds from the POST, by kind of BMC).
Prints the time to the last one, how many were done and failed (and why),
and the sequential time: the sum of each command's own duration, what one
BMC at a time would take.
"""
import http.client
import ipaddress
import json
import os
import sys
import threading
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
             "password_file": pwfile, "pin": pin, "timeout_s": tmo,
             # Power commands alone: no sensor polls beside them (redfish-many.py has no Chassis).
             "sensors_s": 0}
    st, _ = call("PATCH", "/api/v1/nodes/" + name, {"settings": {"power": power}})
    if st != 200:
        sys.exit("node set %s: HTTP %d" % (name, st))

ids = {}
if os.environ.get("BMC_FANOUT_MARK"):
    # For a profiler: the nodes are in; the commands go 2 s after this file appears.
    open(os.environ["BMC_FANOUT_MARK"], "w").close()
    time.sleep(2)
# Each command's end as snowd's stream tells it (a "command" message the moment it ends),
# on this side's clock in milliseconds; no polling that would load snowd meanwhile.
ends, lock = {}, threading.Lock()
t0 = None


def follow():
    sc = http.client.HTTPConnection(host, int(hport), timeout=120)
    sc.request("GET", "/api/v1/stream?values=none.x", headers=H)
    r = sc.getresponse()
    event = None
    for raw in r:
        line = raw.decode().rstrip("\r\n")
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:") and event == "command" and t0 is not None:
            c = json.loads(line[5:])
            if c.get("state") in ("done", "failed", "timeout"):
                with lock:
                    ends.setdefault(c["id"], (time.monotonic() - t0, c))


threading.Thread(target=follow, daemon=True).start()
time.sleep(0.5)
t0 = time.monotonic()
# One request for every node (POST /api/v1/commands): each node's driver starts at once.
st, a = call("POST", "/api/v1/commands", {"nodes": ["bmc%04d" % i for i in range(count)],
                                          "op": "power.status"})
if st != 202:
    sys.exit("power.status for all: HTTP %d" % st)
for i, c in enumerate(a["commands"]):
    if "id" not in c:
        sys.exit("power.status bmc%04d: %s" % (i, c.get("error", c)))
    ids[c["id"]] = i
t_posted = time.monotonic() - t0
while time.monotonic() - t0 < tmo + 15:
    with lock:
        if all(cid in ends for cid in ids):
            break
    time.sleep(0.1)
# What the stream did not bring (a client cut off, say): read each one (whole seconds only).
open_ids, cmds = set(ids), {}
with lock:
    for cid, (_, c) in ends.items():
        if cid in open_ids:
            open_ids.discard(cid)
            cmds[cid] = c
missed = len(open_ids)
while open_ids:
    for cid in list(open_ids):
        st, c = call("GET", "/api/v1/commands/%d" % cid)
        if c["state"] in ("done", "failed", "timeout"):
            open_ids.discard(cid)
            cmds[cid] = c
    if open_ids:
        time.sleep(0.2)
first = min(c["created"] for c in cmds.values())
last = max(c["done"] or c["created"] for c in cmds.values())
own = sorted((c["done"] or c["created"]) - c["created"] for c in cmds.values())
why = Counter()
for cid, c in cmds.items():
    kind = ("silent" if ids[cid] % 10 == 0 else "slow" if ids[cid] % 10 == 1 else "prompt")
    why["%s %s" % (kind, "done" if c["state"] == "done" else
                   (c.get("error") or c["state"]).split(": ", 2)[-1][:48])] += 1
print("bmc fan-out: %d BMCs (10%% silent, 10%% answering after 5 s), power.status with a %d s "
      "deadline" % (count, tmo))
print("  first post to last end: %d s (snowd's clock, whole seconds); the one POST took %.1f s" %
      (last - first, t_posted))
print("  each command, created to ended: median %d s, max %d s" % (own[len(own) // 2], own[-1]))
print("  " + "; ".join("%d %s" % (n, w) for w, n in sorted(why.items())))
with lock:
    ms = {cid: e[0] for cid, e in ends.items() if cid in ids}
if ms:
    print("  from the POST to each end, as the stream told it (%d of %d; the rest read after):" %
          (len(ms), len(ids)))
    for kind, rem in (("prompt", None), ("slow", 1), ("silent", 0)):
        t = sorted(v for cid, v in ms.items()
                   if (ids[cid] % 10 == rem if rem is not None else ids[cid] % 10 > 1))
        if t:
            print("    %-6s BMCs: first %.2f s, median %.2f s, max %.2f s" %
                  (kind, t[0], t[len(t) // 2], t[-1]))
    print("    all: last end %.2f s" % max(ms.values()))
print("  sequential (sum of each command's own time): %d s; ratio %.0fx" %
      (sum(own), sum(own) / max(last - first, 1)))
