#!/usr/bin/env python3
"""A command to every node of a prefix, timed from the POST (make bench-host).

usage: command_push.py URL TOKEN PREFIX [--op OP] [--per-node] [--no-back] [--cpu PID,...]

Listens on the event stream (GET /api/v1/stream), then queues OP (reboot) for
every online node whose name starts with PREFIX: in one POST /api/v1/commands
(the default), or with --per-node one POST /api/v1/nodes/NAME/commands each
(8 connections, as before that route existed).  A command is acknowledged
when the stream says it is done or failed (its result stored).  For reboot,
also waits until every node is online again with a new boot_id (unless
--no-back).  Prints one JSON object; times are seconds from the first POST:
  {nodes, queued, post_s, ack_p50_s, ack_p99_s, all_acked_s, done, failed, all_back_s, back}
With --cpu, also "cpu_s": the CPU seconds each PID (snowd, nodesim) used from
the POST to the last acknowledgement, a figure the machine's load skews less
than the times.
Gives up after 120 s.
"""
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

args = [a for a in sys.argv[1:] if not a.startswith("--")]
flags = [a for a in sys.argv[1:] if a.startswith("--")]
url, token, prefix = args[0], args[1], args[2]
op = "reboot"
cpu_pids = []
for i, a in enumerate(sys.argv):
    if a == "--op":
        op = sys.argv[i + 1]
    if a == "--cpu":
        cpu_pids = [int(p) for p in sys.argv[i + 1].split(",") if p]


def cpu_ticks():
    out = []
    for p in cpu_pids:
        try:
            f = open("/proc/%d/stat" % p).read().rsplit(")", 1)[1].split()
            out.append(int(f[11]) + int(f[12]))  # utime + stime
        except (OSError, IndexError, ValueError):
            out.append(None)
    return out
u = urllib.parse.urlparse(url)
hdrs = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
local = threading.local()


def req(method, path, body=None):
    for attempt in (0, 1):
        if not getattr(local, "conn", None):
            local.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
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


acked = {}          # command id -> (monotonic time, state)
seen = {}           # command id -> the states the stream said, in order
lock = threading.Lock()
stream_up = threading.Event()


def listen():
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=180)
    c.request("GET", "/api/v1/stream?values=bench.none", headers=hdrs)
    r = c.getresponse()
    stream_up.set()
    ev = None
    while True:
        line = r.readline()  # chunked: r.fp would hand out the chunk-size lines, and split events
        if not line:
            return
        line = line.decode(errors="replace").rstrip("\r\n")
        if not line:
            ev = None  # an event ends at a blank line; the next may have no "event:" line
        elif line.startswith("event:"):
            ev = line[6:].strip()
        elif line.startswith("data:") and ev == "command":
            try:
                cmd = json.loads(line[5:])
            except ValueError:
                continue
            if "id" not in cmd or "state" not in cmd:
                continue
            with lock:
                seen.setdefault(cmd["id"], []).append(cmd.get("state"))
                if cmd.get("state") not in ("queued", "sent"):
                    acked.setdefault(cmd["id"], (time.monotonic(), cmd["state"]))


st, body = req("GET", "/api/v1/nodes")
nodes = [n for n in body["nodes"] if n["name"].startswith(prefix) and n["state"] == "online"]
old_boot = {n["name"]: n.get("boot_id") for n in nodes}
threading.Thread(target=listen, daemon=True).start()
stream_up.wait(10)
time.sleep(0.2)
c0 = cpu_ticks()
t0 = time.monotonic()
ids = []
if "--per-node" in flags:
    out = [None] * len(nodes)
    it = iter(range(len(nodes)))
    ilock = threading.Lock()

    def work():
        while True:
            with ilock:
                i = next(it, None)
            if i is None:
                return
            s, c = req("POST", "/api/v1/nodes/%s/commands" % nodes[i]["name"], json.dumps({"op": op}))
            out[i] = c["id"] if s == 202 else None

    ts = [threading.Thread(target=work) for _ in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    ids = [i for i in out if i]
else:
    s, c = req("POST", "/api/v1/commands", json.dumps({"nodes": [n["name"] for n in nodes], "op": op}))
    if s == 202:
        ids = [x["id"] for x in c["commands"]]
    else:
        print("POST /api/v1/commands: %d %s" % (s, c), file=sys.stderr)
t_post = time.monotonic() - t0
deadline = t0 + 120
while time.monotonic() < deadline:
    with lock:
        if all(i in acked for i in ids):
            break
    time.sleep(0.02)
c1 = cpu_ticks()
with lock:
    times = sorted(acked[i][0] - t0 for i in ids if i in acked)
    done = sum(1 for i in ids if i in acked and acked[i][1] == "done")


def pct(p):
    return round(times[min(len(times) - 1, int(p * len(times)))], 3) if times else None


missing = [i for i in ids if i not in acked]
if missing:
    print("not acknowledged on the stream: %d, e.g. %s" % (
        len(missing), ", ".join("%d %s" % (i, seen.get(i, [])) for i in missing[:5])), file=sys.stderr)
back, t_back = 0, None
if op == "reboot" and "--no-back" not in flags:
    while time.monotonic() < deadline:
        st, body = req("GET", "/api/v1/nodes")
        back = sum(1 for n in body["nodes"] if n["name"] in old_boot and n["state"] == "online"
                   and n.get("boot_id") != old_boot[n["name"]])
        if back == len(nodes):
            break
        time.sleep(0.2)
    t_back = round(time.monotonic() - t0, 3)
print(json.dumps({"nodes": len(nodes), "queued": len(ids), "post_s": round(t_post, 3),
                  "ack_p50_s": pct(0.5), "ack_p99_s": pct(0.99),
                  "all_acked_s": round(times[-1], 3) if len(times) == len(ids) and ids else None,
                  "done": done, "failed": len(ids) - done, "all_back_s": t_back, "back": back,
                  **({"cpu_s": [round((b - a) / os.sysconf("SC_CLK_TCK"), 2) if a is not None and b is not None
                                else None for a, b in zip(c0, c1)]} if cpu_pids else {})}))
