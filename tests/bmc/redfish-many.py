#!/usr/bin/env python3
"""Many emulated Redfish BMCs in one process, for the fan-out benchmark.

    redfish-many.py --count N --base 127.1.0.0 --port 8443 --cert C --key K
                    --cred user:password [--hang-every 10] [--slow-every 10:1]
                    [--slow-s 5] --ready FILE

BMC i listens on base+i (one loopback address each).  When i % hang-every is
0 it takes connections and never answers; when i % slow-every is the second
number it answers its logins after slow-s seconds; the others answer at once.
Each speaks enough Redfish for a power status: the SessionService login, the
Systems collection and one ComputerSystem.  Writes "ready" to FILE once every
address listens.  asyncio: one thread for all of them.
"""
import argparse
import asyncio
import ipaddress
import json
import secrets
import ssl
import sys

SYS = "/redfish/v1/Systems/1"


def answer(code, body, extra=""):
    data = json.dumps(body).encode()
    reason = {200: "OK", 201: "Created", 401: "Unauthorized", 404: "Not Found"}[code]
    head = ("HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n"
            % (code, reason, len(data), extra))
    return head.encode() + data


def make_handler(a, i, tokens):
    hang = a.hang_every and i % a.hang_every == 0
    every, rem = (int(x) for x in a.slow_every.split(":"))
    slow = every and i % every == rem

    async def handle(reader, writer):
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                method, path = line.decode().split()[:2]
                hdrs = {}
                while True:
                    h = await reader.readline()
                    if h in (b"\r\n", b"\n", b""):
                        break
                    k, _, v = h.decode().partition(":")
                    hdrs[k.strip().lower()] = v.strip()
                body = await reader.readexactly(int(hdrs.get("content-length", 0) or 0))
                if hang:
                    await asyncio.sleep(3600)
                if method == "POST" and path.rstrip("/") == "/redfish/v1/SessionService/Sessions":
                    if slow:
                        await asyncio.sleep(a.slow_s)
                    b = json.loads(body or b"{}")
                    if "%s:%s" % (b.get("UserName"), b.get("Password")) != a.cred:
                        writer.write(answer(401, {"error": {"message": "wrong password"}}))
                    else:
                        t = secrets.token_hex(8)
                        tokens.add(t)
                        writer.write(answer(201, {"Id": "1"}, "X-Auth-Token: %s\r\nLocation: "
                                            "/redfish/v1/SessionService/Sessions/1\r\n" % t))
                elif hdrs.get("x-auth-token") not in tokens:
                    writer.write(answer(401, {"error": {"message": "no session"}}))
                elif path.rstrip("/") == "/redfish/v1/Systems":
                    writer.write(answer(200, {"Members": [{"@odata.id": SYS}]}))
                elif path == SYS:
                    writer.write(answer(200, {"@odata.id": SYS, "PowerState": "On", "Actions": {
                        "#ComputerSystem.Reset": {"target": SYS + "/Actions/ComputerSystem.Reset",
                                                  "ResetType@Redfish.AllowableValues": ["On"]}}}))
                else:
                    writer.write(answer(404, {"error": {"message": "no " + path}}))
                await writer.drain()
        except (OSError, ValueError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()

    return handle


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--base", required=True)
    ap.add_argument("--port", type=int, default=8443)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--cred", required=True)
    ap.add_argument("--hang-every", type=int, default=10)
    ap.add_argument("--slow-every", default="10:1")
    ap.add_argument("--slow-s", type=float, default=5)
    ap.add_argument("--ready", required=True)
    a = ap.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    base = ipaddress.IPv4Address(a.base)
    tokens = set()
    servers = []
    for i in range(a.count):
        servers.append(await asyncio.start_server(make_handler(a, i, tokens), str(base + i),
                                                  a.port, ssl=ctx, backlog=64))
    with open(a.ready, "w") as f:
        f.write("ready\n")
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
