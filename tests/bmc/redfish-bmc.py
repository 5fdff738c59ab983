#!/usr/bin/env python3
"""An emulated Redfish BMC for Snow's tests and virtual cluster.

Speaks Redfish over HTTPS: the service root, the Systems collection with one
ComputerSystem (PowerState, the Reset action with its @Redfish.ActionInfo),
and the SessionService (POST Sessions gives an X-Auth-Token).  Requests are
let in by HTTP basic auth or by a session token.  A reset goes to a QEMU VM's
QMP socket (--qmp) or, without a VM, to a state file (--state).

    redfish-bmc.py --listen 127.0.0.1:8443 --cert C --key K --cred FILE
                   (--qmp SOCKET | --state FILE) [--log FILE] [--fault KIND]

The Chassis collection has one Chassis with Thermal (two temperatures, two
fans) and Power (consumption, a voltage) whose readings move with time and
with the power state; --sensors FILE (JSON {"Name": number}) overrides
readings by name, read at each request.  The system's LogService "Log" lists
the lines of --events FILE (one JSON object a line: Message, Severity,
Created optional), Id = line number; an entry without Created gets the BMC's
clock (now + --clock-offset seconds) when first listed, kept after.

--cred FILE holds user:password (one line).  --log gets one line per event
("login USER", "reset TYPE", "refused PATH", ...) for tests to wait on.
SIGUSR1 forgets every session (the next token request gets 401).
--fault: hang (take requests, never answer), malformed (the system's JSON is
cut short), malformed-sensors (Thermal's JSON cut short), slow:SECONDS
(answer every request that late), gate:DIR:N (hold every request for the
system until N BMCs have each put a file in DIR: N BMCs with this fault
answer only when a client has a request in flight to all of them at once).
"""
import argparse
import base64
import hmac
import json
import os
import secrets
import signal
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RESETS = ["On", "ForceOff", "GracefulShutdown", "ForceRestart", "PowerCycle"]
SYS = "/redfish/v1/Systems/1"
CHASSIS = "/redfish/v1/Chassis/1"
LOGSVC = SYS + "/LogServices/Log"


class Power:
    """Where power goes: a VM's QMP socket, or a state file."""

    def __init__(self, qmp, state):
        self.qmp, self.state, self.lock = qmp, state, threading.Lock()
        if state and not os.path.exists(state):
            self._write("On")

    def _write(self, s):
        tmp = self.state + ".tmp"
        with open(tmp, "w") as f:
            f.write(s + "\n")
        os.replace(tmp, self.state)

    def _qmp(self, cmds):
        """Run QMP commands in order; return the last answer's "return"."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(self.qmp)
            f = s.makefile("rwb")
            json.loads(f.readline())  # the greeting
            ret = None
            for c in ["qmp_capabilities"] + cmds:
                f.write(json.dumps({"execute": c}).encode() + b"\n")
                f.flush()
                while True:
                    a = json.loads(f.readline())
                    if "event" in a:
                        continue
                    if "error" in a:
                        raise OSError("qmp %s: %s" % (c, a["error"].get("desc")))
                    ret = a.get("return")
                    break
            return ret

    def get(self):
        with self.lock:
            if self.state:
                with open(self.state) as f:
                    return f.read().strip() or "Off"
            st = self._qmp(["query-status"])
            return "On" if st.get("status") == "running" else "Off"

    def reset(self, kind):
        with self.lock:
            if self.state:
                with open(self.state) as f:
                    cur = f.read().strip()
                new = {"On": "On", "ForceOff": "Off", "GracefulShutdown": "Off",
                       "ForceRestart": cur, "PowerCycle": "On"}[kind]
                self._write(new)
                return
            running = self._qmp(["query-status"]).get("status") == "running"
            # Off stops the CPUs (the QEMU process stays so On can start it again).
            plan = {"On": [] if running else ["system_reset", "cont"],
                    "ForceOff": ["stop"] if running else [],
                    "GracefulShutdown": ["system_powerdown"],
                    "ForceRestart": ["system_reset"],
                    "PowerCycle": ["system_reset"] + ([] if running else ["cont"])}[kind]
            if plan:
                self._qmp(plan)


class BMC:
    def __init__(self, a):
        user, _, pw = open(a.cred).read().strip().partition(":")
        self.user, self.pw = user, pw
        self.power = Power(a.qmp, a.state)
        self.sessions = {}  # token -> session id
        self.next_id = 1
        self.lock = threading.Lock()
        self.logf = open(a.log, "a") if a.log else None
        self.fault = a.fault or ""
        self.sensors, self.events = a.sensors, a.events
        self.clock_offset = a.clock_offset
        self.created = {}  # entry id -> the BMC's time it was first listed

    def readings(self):
        """Sensor readings: moving with time, lower while off, then --sensors' overrides."""
        try:
            on = self.power.get() == "On"
        except OSError:
            on = False
        t = time.time()
        wave = (t % 60) / 60.0
        r = {"CPU1 Temp": (55.0 if on else 30.0) + 5 * wave, "Inlet Temp": 22.0 + wave,
             "Fan 1": 4000.0 + 600 * wave if on else 1200.0, "Fan 2": 4100.0 if on else 1200.0,
             "System Power": 180.0 + 40 * wave if on else 9.0, "P12V": 12.05}
        if self.sensors and os.path.exists(self.sensors):
            try:
                r.update({k: float(v) for k, v in json.load(open(self.sensors)).items()})
            except (ValueError, OSError, AttributeError):
                pass
        return r

    def entries(self):
        out = []
        if not self.events or not os.path.exists(self.events):
            return out
        for i, line in enumerate(open(self.events).read().splitlines(), 1):
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if "Created" not in e:
                if i not in self.created:
                    self.created[i] = time.strftime(
                        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + self.clock_offset))
                e["Created"] = self.created[i]
            out.append(odata("%s/Entries/%d" % (LOGSVC, i), "#LogEntry.v1_9_0.LogEntry",
                             Id=str(i), Name="Log Entry %d" % i, EntryType="Event",
                             Severity=e.get("Severity", "OK"), Created=e["Created"],
                             Message=e.get("Message", "")))
        return out

    def log(self, line):
        if self.logf:
            self.logf.write(line + "\n")
            self.logf.flush()


def odata(path, typ, **kw):
    d = {"@odata.id": path, "@odata.type": typ}
    d.update(kw)
    return d


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SnowRedfishBMC/1"

    def log_message(self, fmt, *args):
        pass

    def send_json(self, code, body, headers=()):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("OData-Version", "4.0")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def error(self, code, msg):
        self.send_json(code, {"error": {"code": "Base.1.8.GeneralError", "message": msg,
                                        "@Message.ExtendedInfo": [{"Message": msg}]}})

    def authed(self):
        bmc = self.server.bmc
        tok = self.headers.get("X-Auth-Token")
        if tok:
            with bmc.lock:
                if tok in bmc.sessions:
                    return True
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                u, _, p = base64.b64decode(auth[6:]).decode().partition(":")
            except Exception:
                u, p = "", ""
            if hmac.compare_digest(u, bmc.user) and hmac.compare_digest(p, bmc.pw):
                return True
        bmc.log("refused %s %s" % (self.command, self.path))
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="bmc"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > 65536:
            raise ValueError("body too long")
        return json.loads(self.rfile.read(n) or b"{}")

    def pre(self):
        f = self.server.bmc.fault
        if f == "hang":
            self.server.bmc.log("hanging on %s" % self.path)
            time.sleep(3600)
        if f.startswith("slow:"):
            time.sleep(float(f[5:]))
        if f.startswith("gate:") and self.path.startswith("/redfish/v1/Systems/1"):
            gdir, _, n = f[5:].rpartition(":")
            open(os.path.join(gdir, str(os.getpid())), "w").close()
            self.server.bmc.log("at the gate")
            # Waits for the other BMCs, never forever: a client that asks one
            # BMC at a time meets its own deadline first and fails.
            for _ in range(1200):
                if len(os.listdir(gdir)) >= int(n):
                    break
                time.sleep(0.1)

    def do_GET(self):
        self.pre()
        bmc = self.server.bmc
        path = self.path.split("?")[0].rstrip("/") or "/"
        if path == "/redfish":
            return self.send_json(200, {"v1": "/redfish/v1/"})
        if path == "/redfish/v1":
            return self.send_json(200, odata(
                "/redfish/v1", "#ServiceRoot.v1_11_0.ServiceRoot", Id="RootService",
                Name="Snow emulated BMC", RedfishVersion="1.11.0",
                UUID="00000000-0000-0000-0000-00000000534e",
                Systems={"@odata.id": "/redfish/v1/Systems"},
                Chassis={"@odata.id": "/redfish/v1/Chassis"},
                SessionService={"@odata.id": "/redfish/v1/SessionService"},
                Links={"Sessions": {"@odata.id": "/redfish/v1/SessionService/Sessions"}}))
        if not self.authed():
            return
        if path == "/redfish/v1/Systems":
            return self.send_json(200, odata(
                path, "#ComputerSystemCollection.ComputerSystemCollection",
                Name="Computer System Collection", Members=[{"@odata.id": SYS}],
                **{"Members@odata.count": 1}))
        if path == SYS:
            try:
                ps = bmc.power.get()
            except OSError as e:
                return self.error(503, "the VM does not answer: %s" % e)
            d = odata(SYS, "#ComputerSystem.v1_13_0.ComputerSystem", Id="1",
                      Name="Snow virtual node", SystemType="Virtual", PowerState=ps,
                      Actions={"#ComputerSystem.Reset": {
                          "target": SYS + "/Actions/ComputerSystem.Reset",
                          "@Redfish.ActionInfo": SYS + "/ResetActionInfo"}})
            data = json.dumps(d).encode()
            if bmc.fault == "malformed":
                data = data[: len(data) // 2]
            return self.send_json(200, data)
        if path == "/redfish/v1/Chassis":
            return self.send_json(200, odata(
                path, "#ChassisCollection.ChassisCollection", Name="Chassis Collection",
                Members=[{"@odata.id": CHASSIS}], **{"Members@odata.count": 1}))
        if path == CHASSIS:
            return self.send_json(200, odata(
                path, "#Chassis.v1_14_0.Chassis", Id="1", Name="Snow virtual chassis",
                ChassisType="RackMount", Thermal={"@odata.id": CHASSIS + "/Thermal"},
                Power={"@odata.id": CHASSIS + "/Power"}))
        if path == CHASSIS + "/Thermal":
            r = bmc.readings()
            d = odata(path, "#Thermal.v1_6_0.Thermal", Id="Thermal", Name="Thermal",
                      Temperatures=[{"@odata.id": "%s#/Temperatures/%d" % (path, i),
                                     "MemberId": str(i), "Name": n, "ReadingCelsius": r[n],
                                     "Status": {"State": "Enabled", "Health": "OK"}}
                                    for i, n in enumerate(["CPU1 Temp", "Inlet Temp"])],
                      Fans=[{"@odata.id": "%s#/Fans/%d" % (path, i), "MemberId": str(i),
                             "Name": n, "Reading": r[n], "ReadingUnits": "RPM",
                             "Status": {"State": "Enabled", "Health": "OK"}}
                            for i, n in enumerate(["Fan 1", "Fan 2"])])
            data = json.dumps(d).encode()
            if bmc.fault == "malformed-sensors":
                data = data[: len(data) // 2]
            return self.send_json(200, data)
        if path == CHASSIS + "/Power":
            r = bmc.readings()
            return self.send_json(200, odata(
                path, "#Power.v1_6_0.Power", Id="Power", Name="Power",
                PowerControl=[{"@odata.id": path + "#/PowerControl/0", "MemberId": "0",
                               "Name": "System Power", "PowerConsumedWatts": r["System Power"]}],
                Voltages=[{"@odata.id": path + "#/Voltages/0", "MemberId": "0", "Name": "P12V",
                           "ReadingVolts": r["P12V"]}]))
        if path == SYS + "/LogServices":
            return self.send_json(200, odata(
                path, "#LogServiceCollection.LogServiceCollection", Name="Log Services",
                Members=[{"@odata.id": LOGSVC}], **{"Members@odata.count": 1}))
        if path == LOGSVC:
            return self.send_json(200, odata(
                path, "#LogService.v1_1_3.LogService", Id="Log", Name="System Log",
                Entries={"@odata.id": LOGSVC + "/Entries"}))
        if path == LOGSVC + "/Entries":
            with bmc.lock:
                es = bmc.entries()
            bmc.log("entries %d" % len(es))
            return self.send_json(200, odata(
                path, "#LogEntryCollection.LogEntryCollection", Name="Log Entries",
                Members=es, **{"Members@odata.count": len(es)}))
        if path == SYS + "/ResetActionInfo":
            bmc.log("actioninfo")
            return self.send_json(200, odata(
                path, "#ActionInfo.v1_1_2.ActionInfo", Id="ResetActionInfo",
                Name="Reset Action Info", Parameters=[{
                    "Name": "ResetType", "Required": True, "DataType": "String",
                    "AllowableValues": RESETS}]))
        if path == "/redfish/v1/SessionService":
            return self.send_json(200, odata(
                path, "#SessionService.v1_1_8.SessionService", Id="SessionService",
                Name="Session Service", ServiceEnabled=True, SessionTimeout=1800,
                Sessions={"@odata.id": "/redfish/v1/SessionService/Sessions"}))
        if path == "/redfish/v1/SessionService/Sessions":
            with bmc.lock:
                ids = sorted(bmc.sessions.values())
            return self.send_json(200, odata(
                path, "#SessionCollection.SessionCollection", Name="Sessions",
                Members=[{"@odata.id": "%s/%d" % (path, i)} for i in ids],
                **{"Members@odata.count": len(ids)}))
        self.error(404, "no resource %s" % path)

    def do_POST(self):
        self.pre()
        bmc = self.server.bmc
        path = self.path.split("?")[0].rstrip("/")
        try:
            b = self.body()
        except ValueError:
            return self.error(400, "the body is not JSON")
        if path == "/redfish/v1/SessionService/Sessions":
            u, p = str(b.get("UserName", "")), str(b.get("Password", ""))
            if not (hmac.compare_digest(u, bmc.user) and hmac.compare_digest(p, bmc.pw)):
                bmc.log("login refused %s" % u)
                return self.error(401, "wrong user name or password")
            tok = secrets.token_hex(16)
            with bmc.lock:
                sid = bmc.next_id
                bmc.next_id += 1
                bmc.sessions[tok] = sid
            bmc.log("login %s" % u)
            loc = "%s/%d" % (path, sid)
            return self.send_json(201, odata(loc, "#Session.v1_3_0.Session", Id=str(sid),
                                             Name="Session", UserName=u),
                                  [("X-Auth-Token", tok), ("Location", loc)])
        if not self.authed():
            return
        if path == SYS + "/Actions/ComputerSystem.Reset":
            kind = b.get("ResetType")
            if kind not in RESETS:
                return self.error(400, "ResetType must be one of %s" % ", ".join(RESETS))
            try:
                bmc.power.reset(kind)
            except OSError as e:
                return self.error(503, "the VM does not answer: %s" % e)
            bmc.log("reset %s" % kind)
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.error(404, "no action %s" % path)

    def do_DELETE(self):
        bmc = self.server.bmc
        path = self.path.rstrip("/")
        if not self.authed():
            return
        prefix = "/redfish/v1/SessionService/Sessions/"
        if path.startswith(prefix):
            with bmc.lock:
                for t, i in list(bmc.sessions.items()):
                    if str(i) == path[len(prefix):]:
                        del bmc.sessions[t]
                        bmc.log("logout %d" % i)
                        self.send_response(204)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
        self.error(404, "no session %s" % path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", required=True, help="HOST:PORT")
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--cred", required=True, help="a file holding user:password")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--qmp", help="the VM's QMP socket")
    g.add_argument("--state", help="a file holding On or Off (no VM)")
    ap.add_argument("--log")
    ap.add_argument("--fault", help="hang | malformed | malformed-sensors | slow:SECONDS | gate:DIR:N")
    ap.add_argument("--sensors", help="a JSON file {name: reading} overriding readings")
    ap.add_argument("--events", help="the system log: one JSON object a line")
    ap.add_argument("--clock-offset", type=float, default=0.0,
                    help="the BMC's clock less the host's, in seconds")
    a = ap.parse_args()
    host, _, port = a.listen.rpartition(":")
    srv = ThreadingHTTPServer((host.strip("[]"), int(port)), Handler)
    srv.daemon_threads = True
    # A client that is not speaking TLS, or goes away: one log line, no traceback.
    srv.handle_error = lambda req, addr: srv.bmc.log("error from %s: %s" % (addr[0], sys.exc_info()[1]))
    srv.bmc = BMC(a)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    # The handshake in the request thread: a slow client never stalls accept().
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)

    def forget(*_):
        with srv.bmc.lock:
            srv.bmc.sessions.clear()
        srv.bmc.log("sessions forgotten")

    signal.signal(signal.SIGUSR1, forget)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    srv.bmc.log("listening %s" % a.listen)
    srv.serve_forever()


if __name__ == "__main__":
    main()
