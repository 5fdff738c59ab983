#!/usr/bin/env python3
"""A boot storm: N nodes fetch their boot files at once (make bench-host).

usage: bootstorm.py HOST PORT NODES_FILE [--image REF]

NODES_FILE has one "MAC IP" line per node.  Every node, from its own address
(bound before connecting, as a booting node's requests come from it), at the
same moment: GET /boot/MAC.ipxe, /boot/images/REF/vmlinuz, .../initrd,
/boot/MAC/overlay.cpio, one after the other, each on a new connection, the
body read to the last byte and thrown away.  One thread, one selector, so
the client is as cheap as it can be in Python.  A refused request (503 with
Retry-After, a reset) is tried again after the time asked (0.5 s by
default).  Prints one JSON object:
  {nodes, done, failed, bytes, last_byte_s, p50_s, p99_s, retries, mb_per_s}
where the times are each node's from the start to its last byte.
"""
import errno
import json
import selectors
import socket
import sys
import time

host, port, nodes_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
image = "default"
if "--image" in sys.argv:
    image = sys.argv[sys.argv.index("--image") + 1]
nodes = [l.split() for l in open(nodes_file) if l.strip()]
sel = selectors.DefaultSelector()
buf = bytearray(1 << 20)
view = memoryview(buf)


class Node:
    def __init__(self, mac, ip):
        dash = mac.replace(":", "-")
        self.ip = ip
        self.paths = ["/boot/%s.ipxe" % dash, "/boot/images/%s/vmlinuz" % image,
                      "/boot/images/%s/initrd" % image, "/boot/%s/overlay.cpio" % dash]
        self.step = 0
        self.done_t = None
        self.failed = False
        self.tries = 0
        self.retry_at = None


stats = {"bytes": 0, "retries": 0}
t0 = time.monotonic()


def start(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_IP, 24, 1)  # IP_BIND_ADDRESS_NO_PORT
    s.bind((n.ip, 0))
    s.setblocking(False)
    try:
        s.connect((host, port))
    except BlockingIOError:
        pass
    n.sock, n.sent, n.head, n.left, n.status = s, False, b"", None, 0
    n.req = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n"
             % (n.paths[n.step], host, port)).encode()
    sel.register(s, selectors.EVENT_WRITE, n)


def retry(n, after):
    sel.unregister(n.sock)
    n.sock.close()
    n.tries += 1
    stats["retries"] += 1
    if n.tries > 50:
        n.failed = True
        return
    n.retry_at = time.monotonic() + after


def finish_step(n):
    sel.unregister(n.sock)
    n.sock.close()
    n.tries = 0
    n.step += 1
    if n.step == len(n.paths):
        n.done_t = time.monotonic() - t0
    else:
        start(n)


def on_event(n, mask):
    if not n.sent:
        try:
            n.sock.send(n.req)
        except OSError:
            return retry(n, 0.5)
        n.sent = True
        sel.modify(n.sock, selectors.EVENT_READ, n)
        return
    try:
        got = n.sock.recv_into(buf)
    except BlockingIOError:
        return
    except OSError:
        return retry(n, 0.5)
    if n.left is None:
        n.head += bytes(view[:got])
        end = n.head.find(b"\r\n\r\n")
        if got == 0 and end < 0:
            return retry(n, 0.5)
        if end < 0:
            return
        lines = n.head[:end].decode("latin-1").split("\r\n")
        n.status = int(lines[0].split()[1])
        hdr = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
        if n.status == 503:
            return retry(n, float(hdr.get("retry-after", "0.5")))
        if n.status != 200:
            n.failed = True
            sel.unregister(n.sock)
            n.sock.close()
            return
        n.left = int(hdr.get("content-length", "-1"))
        body = len(n.head) - end - 4
        stats["bytes"] += body
        n.left -= body
        if n.left <= 0:
            finish_step(n)
        return
    if got == 0:
        return retry(n, 0.5) if n.left > 0 else finish_step(n)
    stats["bytes"] += got
    n.left -= got
    if n.left <= 0:
        finish_step(n)


all_nodes = [Node(m, ip) for m, ip in nodes]
for n in all_nodes:
    start(n)
deadline = t0 + 600
while time.monotonic() < deadline:
    now = time.monotonic()
    for n in all_nodes:
        if n.retry_at and now >= n.retry_at:
            n.retry_at = None
            start(n)
    if all(n.done_t is not None or n.failed for n in all_nodes):
        break
    for key, mask in sel.select(0.05):
        on_event(key.data, mask)
times = sorted(n.done_t for n in all_nodes if n.done_t is not None)
last = times[-1] if times else None
print(json.dumps({"nodes": len(all_nodes), "done": len(times),
                  "failed": sum(1 for n in all_nodes if n.failed or n.done_t is None),
                  "bytes": stats["bytes"], "last_byte_s": round(last, 3) if last else None,
                  "p50_s": round(times[len(times) // 2], 3) if times else None,
                  "p99_s": round(times[min(len(times) - 1, int(0.99 * len(times)))], 3) if times else None,
                  "retries": stats["retries"],
                  "mb_per_s": round(stats["bytes"] / 1e6 / last, 1) if last else None}))
