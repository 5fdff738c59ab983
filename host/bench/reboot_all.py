#!/usr/bin/env python3
"""Reboot every node whose name starts with PREFIX and time it (make bench-host).

usage: reboot_all.py URL TOKEN PREFIX

Queues a reboot command for each node through the API (8 connections in
parallel), then polls GET /api/v1/commands/ID for the ones not done yet until
every command is done (or failed / timed out), then until every node is online
again with a new boot_id.  Prints one JSON object:
  {nodes, queue_s, all_done_s, done, failed, all_back_s, back}
Times are from the first POST.  Gives up after 120 s.
"""
import http.client
import json
import sys
import threading
import time
import urllib.parse

url, token, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
u = urllib.parse.urlparse(url)
hdrs = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
local = threading.local()


def req(method, path, body=None):
    """One request on this thread's keep-alive connection; reconnect once on error."""
    for attempt in (0, 1):
        if not getattr(local, "conn", None):
            local.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        try:
            local.conn.request(method, path, body=body, headers=hdrs)
            r = local.conn.getresponse()
            data = r.read()
            return r.status, json.loads(data) if data else None
        except (OSError, http.client.HTTPException):
            local.conn.close()
            local.conn = None
            if attempt:
                raise
    return 0, None


def parallel(fn, items, n=8):
    out = [None] * len(items)
    lock = threading.Lock()
    it = iter(range(len(items)))

    def work():
        while True:
            with lock:
                i = next(it, None)
            if i is None:
                return
            out[i] = fn(items[i])

    ts = [threading.Thread(target=work) for _ in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


st, body = req("GET", "/api/v1/nodes")
nodes = [n for n in body["nodes"] if n["name"].startswith(prefix) and n["state"] == "online"]
old_boot = {n["name"]: n.get("boot_id") for n in nodes}
t0 = time.monotonic()


def queue(n):
    st, c = req("POST", "/api/v1/nodes/%s/commands" % n["name"], json.dumps({"op": "reboot"}))
    return c["id"] if st == 202 else None


ids = [i for i in parallel(queue, nodes) if i]
t_queued = time.monotonic() - t0
pending, states = set(ids), {}
deadline = t0 + 120
while pending and time.monotonic() < deadline:
    res = parallel(lambda i: (i, req("GET", "/api/v1/commands/%d" % i)[1]), sorted(pending))
    for i, c in res:
        if c and c["state"] not in ("queued", "sent"):
            states[i] = c["state"]
            pending.discard(i)
    if pending:
        time.sleep(0.1)
t_done = time.monotonic() - t0
back = 0
while time.monotonic() < deadline:
    st, body = req("GET", "/api/v1/nodes")
    back = sum(1 for n in body["nodes"] if n["name"] in old_boot and n["state"] == "online"
               and n.get("boot_id") != old_boot[n["name"]])
    if back == len(nodes):
        break
    time.sleep(0.2)
t_back = time.monotonic() - t0
print(json.dumps({"nodes": len(nodes), "queued": len(ids), "queue_s": round(t_queued, 3),
                  "all_done_s": round(t_done, 3),
                  "done": sum(1 for s in states.values() if s == "done"),
                  "failed": len(ids) - sum(1 for s in states.values() if s == "done"),
                  "all_back_s": round(t_back, 3), "back": back}))
