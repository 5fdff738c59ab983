#!/usr/bin/env bash
# snowd's state on loopback (no dnsmasq): its files are its own (0600 in a
# 0700 folder, a looser one left by an older snowd tightened); a flood of
# unknown MACs stops at the discovered list's cap and rate; and a full disk
# makes snowd degraded (said once in the log, in health and /metrics), answers
# node reports 503 so they come again, and blames no node for it.
. "$(dirname "$0")/../lib.sh"

dir=$(mktemp -d /tmp/snow-it-state.XXXXXX)
port=$(free_port)
url=http://127.0.0.1:$port
pid=
mnt=
start_snowd() { # start_snowd STATE [OPTIONS...]
	local state=$1; shift
	"$SNOW_ASAN_BIN/snowd" --state-dir "$state" --listen "127.0.0.1:$port" \
		--boot-addr 127.0.0.1/8 --dnsmasq none -v "$@" >>"$dir/snowd.log" 2>&1 &
	pid=$!
	wait_for 10 curl -sf "$url/api/v1/health"
}
on_exit 'stop_pid $pid; [ -n "$mnt" ] && umount "$mnt"; [ "$_failures" -gt 0 ] && tail -40 "$dir/snowd.log"; rm -rf "$dir"'
ctl() { SNOW_URL=$url SNOW_TOKEN=$(cat "$state/admin.token") "$SNOW_ASAN_BIN/snowctl" "$@"; }
health() { curl -s "$url/api/v1/health" | python3 -c "import json,sys; h=json.load(sys.stdin); print($1)"; }
metric() { curl -s -H "Authorization: Bearer $(cat "$state/admin.token")" "$url/metrics" | awk -v m="$1" '$1 == m {print $2}'; }

# Signed node requests from one Python process per step (python3 starts slowly
# on a loaded machine, and bodies are too large for a command line).
#   node.py URL SECRET register              -> status
#   node.py URL SECRET send FILE             -> status and answer
#   node.py URL SECRET fill MNT FILE         -> registers, fills the file system MNT,
#       then reports 100 kB of events until one is refused: prints its status and
#       last event, its body goes to FILE (all at once: the node must not go quiet)
#   node.py URL SECRET hold SECONDS FILE     -> sends FILE again and again: the statuses seen
cat >"$dir/node.py" <<'PY'
import hashlib, hmac, json, sys, time, urllib.request, urllib.error
url, secret, mode = sys.argv[1:4]
def post(path, body):
    nonce, t = time.time_ns() // 1000, int(time.time())
    canon = "POST\n%s\n%d\n%d\n" % (path, t, nonce)
    sig = hmac.new(secret.encode(), canon.encode() + body.encode(), hashlib.sha256).hexdigest()
    req = urllib.request.Request(url + path, body.encode(), {
        "Content-Type": "application/json", "X-Snow-Node": "node1", "X-Snow-Time": str(t),
        "X-Snow-Nonce": str(nonce), "X-Snow-Signature": sig})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode().strip()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode().strip()
def report(seq, n):
    return json.dumps({"name": "node1", "boot_id": "b-1", "seq": seq, "events": [
        {"seq": i, "time": i, "type": "test.fill", "attrs": {"pad": "x" * 1000}}
        for i in range(seq, seq + n)]})
if mode == "register":
    print(post("/api/v1/node/register", '{"name":"node1","boot_id":"b-1"}')[0])
elif mode == "send":
    print(*post("/api/v1/node/report", open(sys.argv[4]).read()))
elif mode == "fill":
    assert post("/api/v1/node/register", '{"name":"node1","boot_id":"b-1"}')[0] == 200
    for name, size in (("fill", 65536), ("fill2", 4096), ("fill3", 512)):
        with open(sys.argv[4] + "/" + name, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * size)
            except OSError:
                pass
    seq, out = 1, sys.argv[5]
    for _ in range(80):
        body = report(seq, 100)
        status = post("/api/v1/node/report", body)[0]
        if status != 200:
            break
        seq += 100
    open(out, "w").write(body)
    open(out + ".next", "w").write(report(seq + 100, 0))
    print(status, seq + 99)
elif mode == "hold":
    end, seen = time.time() + float(sys.argv[4]), set()
    body = open(sys.argv[5]).read()
    while time.time() < end:
        seen.add(post("/api/v1/node/report", body)[0])
        time.sleep(0.3)
    print(*sorted(seen))
PY
node() { python3 "$dir/node.py" "$url" "$secret" "$@"; }

# --- 1. Every file snowd makes is 0600, its folder 0700 ---------------------
state=$dir/state
mkdir -m 0755 "$state"
check "snowd starts in a state dir left 0755" start_snowd "$state"
check "the looser state dir is logged as tightened" grep -q "state-dir: $state was mode 0755, now 0700" "$dir/snowd.log"
check "node add" ctl node add node1 --mac 52:54:00:aa:00:01 --ip 127.0.0.10
secret=$(node_secret "$url" 52:54:00:aa:00:01 127.0.0.10 "$dir/ov")
check_eq "register (a write)" 200 "$(node register)"
check "snowd wrote its WAL" test -s "$state/snow.db-wal"
check_eq "state dir is 0700" 700 "$(stat -c %a "$state")"
loose=$(find "$state" -mindepth 1 -perm /077 -printf '%p %m\n')
check_eq "no file in the state dir has group or other bits" "" "$loose"
check "the WAL, SHM, database and token were all checked" bash -c "ls '$state' | grep -c -e snow.db -e admin.token | grep -qx 4"
stop_pid "$pid"; pid=
# A WAL an older snowd left 0644 is tightened at start.
chmod 0644 "$state/snow.db" "$state/admin.token"
check "snowd restarts" start_snowd "$state"
check "a 0644 database is logged as tightened" grep -q "snow.db was mode 0644, now 0600" "$dir/snowd.log"
check_eq "no group or other bits after the restart" "" "$(find "$state" -mindepth 1 -perm /077 -printf '%p %m\n')"
stop_pid "$pid"; pid=

# --- 2. A flood of unknown MACs: capped table, limited rate -----------------
check "snowd starts with a discovered cap of 50, 100 new MACs a minute" \
	start_snowd "$state" --discovered-max 50 --discovery-rate 100
flood() {
	python3 - "$port" <<'PY'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
for i in range(600):
    c.request("GET", "/boot/52-54-00-bb-%02x-%02x.ipxe" % (i >> 8, i & 0xff))
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
PY
}
check "600 unknown MACs ask for their script" flood
ndisc=$(ctl discovered list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
check_eq "the discovered list stops at its cap" 50 "$ndisc"
dropped=$(metric snowd_discovery_dropped_total)
check "new MACs over the rate are not recorded (dropped: $dropped)" test "${dropped:-0}" -ge 400
check "the drops are logged once, not per request" test "$(grep -c 'discovery: over 100 new MACs a minute' "$dir/snowd.log")" -eq 1
check_eq "the least recently seen MACs made room" 0 "$(ctl discovered list --json | grep -c '52:54:00:bb:00:00')"
stop_pid "$pid"; pid=

# --- 3. A full disk: degraded, said once, nodes not blamed -----------------
if [ "$(id -u)" != 0 ]; then
	skip "disk full: needs root for a tmpfs"
	check_sanitizer "$dir/snowd.log"
	exit 0
fi
mnt=$dir/mnt
mkdir "$mnt"
mount -t tmpfs -o size=8m,mode=0755 snow-it-full "$mnt" || { not_ok "mount a tmpfs"; exit 1; }
state=$mnt/state
check "snowd starts on an 8 MiB tmpfs" start_snowd "$state" --interval-ms 1000 --offline-after-ms 6000
check "node add" ctl node add node1 --mac 52:54:00:aa:00:01 --ip 127.0.0.10
secret=$(node_secret "$url" 52:54:00:aa:00:01 127.0.0.10 "$dir/ov2")
check_eq "health ok before" ok "$(health 'h["status"]')"
read -r got last < <(node fill "$mnt" "$dir/failed.json")
check_eq "a report the full disk cannot take is answered 503" 503 "$got"
check_eq "health: degraded" degraded "$(health 'h["status"]')"
check "health gives SQLite's reason" bash -c "curl -s '$url/api/v1/health' | grep -q 'database or disk is full'"
check_eq "metrics: inventory not writable" 0 "$(metric snowd_inventory_writable)"
# The node keeps reporting (and failing) for longer than the offline window.
check_eq "8 s of reports the host cannot store: all 503" 503 "$(node hold 8 "$dir/failed.json")"
check_eq "the node is not blamed: still online" online "$(ctl node show node1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')"
check_eq "SQLite's reason is logged once, not per request" 1 "$(grep -c 'database or disk is full' "$dir/snowd.log")"
rm -f "$mnt/fill" "$mnt/fill2" "$mnt/fill3"
# The agent sends the same events again: now they are stored and acknowledged.
read -r got answer < <(node send "$dir/failed.json")
check_eq "the report sent again is stored" 200 "$got"
check_eq "its events are acknowledged" "$last" "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["ack_events"])' "$answer")"
healthy() {
	node send "$dir/failed.json.next" >/dev/null
	[ "$(health 'h["status"]')" = ok ]
}
check "health ok again once writes work" wait_for 30 healthy
check "recovery logged" grep -q 'inventory: writes work again' "$dir/snowd.log"
check_eq "metrics: inventory writable" 1 "$(metric snowd_inventory_writable)"
stop_pid "$pid"; pid=
check_sanitizer "$dir/snowd.log"
