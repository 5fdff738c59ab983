#!/usr/bin/env python3
"""A fake QEMU QMP socket for snowd's power driver tests.

usage: fakeqmp.py SOCKET LOG MODE
  good    greet, negotiate, answer query-status/stop/cont/system_reset as QEMU
          does (an asynchronous event before each answer that changes state)
  refuse  like good, but every command after qmp_capabilities gets an error
  hang    take the connection and never send a byte
One client at a time, as QEMU serves them.  LOG gets a line per event:
'accept', 'cmd NAME', 'closed' (when the client hung up)."""
import json, os, socket, sys

path, logname, mode = sys.argv[1:4]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path + ".tmp")
srv.listen(4)
os.rename(path + ".tmp", path)  # the socket appears ready to connect
log = open(logname, "a", buffering=1)
state = "running"


def send(c, obj):
    c.sendall(json.dumps(obj).encode() + b"\n")


while True:
    c, _ = srv.accept()
    log.write("accept\n")
    if mode != "hang":
        greet = json.dumps({"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 0}},
                                    "capabilities": []}}).encode() + b"\n"
        # In two pieces: a line may arrive in parts.
        c.sendall(greet[:9])
        c.sendall(greet[9:])
    buf = b""
    while True:
        d = c.recv(4096)
        if not d:
            log.write("closed\n")
            c.close()
            break
        if mode == "hang":
            continue
        buf += d
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            cmd = json.loads(line)["execute"]
            log.write("cmd %s\n" % cmd)
            if mode == "refuse" and cmd != "qmp_capabilities":
                send(c, {"error": {"class": "GenericError", "desc": "%s refused\nforged line" % cmd}})
                continue
            if cmd == "stop":
                state = "paused"
                send(c, {"event": "STOP", "timestamp": {"seconds": 0, "microseconds": 0}})
            elif cmd == "cont":
                state = "running"
                send(c, {"event": "RESUME", "timestamp": {"seconds": 0, "microseconds": 0}})
            elif cmd == "system_reset":
                send(c, {"event": "RESET", "timestamp": {"seconds": 0, "microseconds": 0},
                         "data": {"guest": False, "reason": "host-qmp-system-reset"}})
            ret = {"status": state, "running": state == "running", "singlestep": False} \
                if cmd == "query-status" else {}
            send(c, {"return": ret})
