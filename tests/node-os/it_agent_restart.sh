#!/usr/bin/env bash
# Hot restart: snow-agent killed with SIGKILL and started again (as /init
# does) loses nothing of its state folder: thresholds set by command and
# their raised state (no second raise), device locks and kept run states,
# watermarks, counters reset by counters.reset, and the results of the
# commands it ran (the fake host forgets every result, so every command is
# sent again and again: none runs twice, before or after the restart).
# Then: a real crossing after the restart still clears; threshold.clear on a
# raised threshold emits its clear event; a truncated agent.json is reported
# and ignored; a full state folder is reported and the agent goes on.
. "$(dirname "$0")/../lib.sh"

agent=$SNOW_BIN/snow-agent
[ -x "$agent" ] || { not_ok "$agent missing (run 'make')"; exit 1; }
work=$(mktemp -d /tmp/snow-it-restart.XXXXXX)
srv_pid='' agent_pid='' full=''
on_exit 'stop_pid "$srv_pid"; stop_pid "$agent_pid"; [ -z "$full" ] || umount "$full" 2>/dev/null; [ "$_failures" -gt 0 ] && { tail -n 40 "$work/agent.log" | sed "s/^/# /"; sed "s/^/# /" "$work/fakehost.err"; }; rm -rf "$work"'
cp -a "$SNOW_TOP/tests/node-os/fixtures/good" "$work/root"
port=$(free_port)
secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
cat >"$work/node.conf" <<CONF
name = rst1
host_url = http://127.0.0.1:$port
secret = $secret
mac = 52:54:00:00:00:01
interval_ms = 200
CONF
python3 "$SNOW_TOP/tests/node-os/fakehost.py" --port "$port" --name rst1 --secret "$secret" \
	--log "$work/requests.jsonl" --interval-ms 200 --commands "$work/commands.jsonl" \
	--forget-results 2>>"$work/fakehost.err" &
srv_pid=$!
check "fake host starts" wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$port/"
start_agent() {
	"$agent" --config "$work/node.conf" --root "$work/root" --state_dir "${1:-$work/state}" \
		2>>"$work/agent.log" &
	agent_pid=$!
}
# q EXPR: evaluate a Python expression over the log: reps (reports answered 200, in order),
# last (the last one's body), held (thresholds and devices as last sent: absent means
# unchanged), evs (every event by seq), res (results by id, the first seen).
q() {
	python3 - "$work/requests.jsonl" "$1" <<'PY'
import json, sys
reps = [r for r in map(json.loads, open(sys.argv[1]))
        if r["path"] == "/api/v1/node/report" and r["status"] == 200 and r["body"]]
evs, res = {}, {}
for r in reps:
    for e in r["body"].get("events", []):
        evs.setdefault(e["seq"], e)
    for x in r["body"].get("results", []):
        res.setdefault(x["id"], x)
last = reps[-1]["body"] if reps else {}
# Thresholds and devices as the host holds them: a report leaves them out when unchanged.
held = {}
for r in reps:
    held.update({k: r["body"][k] for k in ("thresholds", "devices") if k in r["body"]})
def thr(value):
    return {t["kind"] + ":" + t["state"] for t in held.get("thresholds", []) if t["value"] == value}
def dev(path):
    return [(d["avail"], d["run"]) for d in held.get("devices", []) if d["path"] == path]
def count(typ, **kv):
    return sum(1 for e in evs.values() if e["type"] == typ and
               all(e["attrs"].get(k) == v for k, v in kv.items()))
v = eval(sys.argv[2])
print(v if not isinstance(v, (set, list)) else " ".join(sorted(map(str, v))))
PY
}
yes() { [ "$(q "$1")" = True ]; }
since_start() { q "sum(1 for r in reps if r['t'] > $1)"; }

cat >"$work/commands.jsonl" <<'EOF'
{"id": 1, "op": "threshold.set", "args": {"value": "kern.mem.free_kb", "kind": "low", "rise": 440000, "clear": 450000}}
{"id": 2, "op": "threshold.set", "args": {"value": "vm.load.avg1", "kind": "high", "rise": 5, "clear": 4}}
{"id": 3, "op": "device", "args": {"path": "block/vda", "op": "offline"}}
{"id": 4, "op": "device", "args": {"path": "cpu/cpu1", "op": "offline"}}
{"id": 5, "op": "device", "args": {"path": "cpu/cpu1", "op": "disable"}}
{"id": 6, "op": "counters.reset", "args": {"value": "net.eth0.rx_bytes"}}
{"id": 7, "op": "counters.reset", "args": {"value": "sys.uptime_s"}}
{"id": 8, "op": "counters.reset", "args": {"value": "kern.mem.free_kb"}}
EOF
start_agent
check "the agent answers all 8 commands" wait_for 20 yes "len(res) == 8"
check_eq "counters.reset results" \
	"True {'reset': 1}|False value: 'sys.uptime_s' is a counter that cannot be reset|False value: 'kern.mem.free_kb' is a gauge; only counters are reset" \
	"$(q "'|'.join(str(res[i]['ok']) + ' ' + str(res[i].get('result') or res[i].get('error')) for i in (6, 7, 8))")"
check_eq "schema: resettable" "True False" "$(python3 -c '
import json, sys
for r in map(json.loads, open(sys.argv[1])):
    if r["path"].endswith("/register"):
        s = {x["name"]: x.get("resettable", False) for x in r["body"]["schema"]}
print(s["net.eth0.rx_bytes"], s["sys.uptime_s"])' "$work/requests.jsonl")"
check "net.eth0.rx_bytes reads 0 after its reset (the fixture says 5000000)" \
	wait_for 5 yes "last['values']['net.eth0.rx_bytes'] == 0"
# The counter goes on from its reset; a watermark goes down and back.
sed -i 's/eth0: 5000000/eth0: 5000100/' "$work/root/proc/net/dev"
sed -i 's/^MemFree: .*/MemFree:          300000 kB/' "$work/root/proc/meminfo"
check "net.eth0.rx_bytes counts from its reset (100)" wait_for 5 yes "last['values']['net.eth0.rx_bytes'] == 100"
check "the low watermark of kern.mem.free_kb went to 300000" wait_for 5 yes "last['watermarks']['kern.mem.free_kb'][0] == 300000"
sed -i 's/^MemFree: .*/MemFree:          431032 kB/' "$work/root/proc/meminfo"
check "kern.mem.free_kb reads 431032 again" wait_for 5 yes "last['values']['kern.mem.free_kb'] == 431032"
check_eq "kern.mem.free_kb's low threshold raised once" 1 "$(q "count('threshold.raise', value='kern.mem.free_kb')")"
check_eq "thresholds before" "low:raised" "$(q "thr('kern.mem.free_kb')")"
check_eq "cpu/cpu1 disabled and offline, block/vda offline" "('disabled', 'offline') ('enabled', 'offline')" \
	"$(q "' '.join(map(str, dev('cpu/cpu1') + dev('block/vda')))")"
check "the host keeps sending the commands (it forgets results)" wait_for 5 yes "sum(1 for r in reps if len(r['reply'].get('commands', [])) == 8) >= 3"
check_eq "each command ran once" "1 1 1 1 1 1 1 1" "$(q "' '.join(str(count('command.result', id=i)) for i in range(1, 9))")"
check "agent.json is in the state folder" test -s "$work/state/agent.json"

# ---- kill -9, restart --------------------------------------------------------------------
kill -9 "$agent_pid"
wait "$agent_pid" 2>/dev/null
t0=$(date +%s.%N)
start_agent
five() { [ "$(since_start "$t0")" -ge 5 ]; }
check "the restarted agent reports" wait_for 20 five
check "agent.start says the state was restored" yes "count('agent.start', state=True) == 1"
check_eq "thresholds after" "low:raised" "$(q "thr('kern.mem.free_kb')")"
check_eq "vm.load.avg1's threshold after" "high:clear" "$(q "thr('vm.load.avg1')")"
check_eq "no second raise after the restart" 1 "$(q "count('threshold.raise', value='kern.mem.free_kb')")"
check_eq "cpu/cpu1 still disabled and offline, block/vda still offline" \
	"('disabled', 'offline') ('enabled', 'offline')" "$(q "' '.join(map(str, dev('cpu/cpu1') + dev('block/vda')))")"
check_eq "the low watermark survived" 300000 "$(q "last['watermarks']['kern.mem.free_kb'][0]")"
check_eq "the counter's reset survived" 100 "$(q "last['values']['net.eth0.rx_bytes']")"
check_eq "re-sent commands answered from the saved results: each ran once" "1 1 1 1 1 1 1 1" \
	"$(q "' '.join(str(count('command.result', id=i)) for i in range(1, 9))")"
check "the results after the restart are the same" yes "all(x == res[x['id']] for r in reps if r['t'] > $t0 for x in r['body'].get('results', []))"
check "every event seq arrived once, no gap" yes "sorted(evs) == list(range(1, max(evs) + 1))"

# A real crossing after the restart: above the clear value, the threshold clears.
sed -i 's/^MemFree: .*/MemFree:          460000 kB/' "$work/root/proc/meminfo"
check "a real crossing clears it" wait_for 5 yes "count('threshold.clear', value='kern.mem.free_kb') == 1"
# threshold.clear on a raised threshold emits its clear event.
echo "9.00 0.31 0.12 2/187 1234" >"$work/root/proc/loadavg"
check "vm.load.avg1 raises" wait_for 5 yes "count('threshold.raise', value='vm.load.avg1') == 1"
echo '{"id": 9, "op": "threshold.clear", "args": {"value": "vm.load.avg1", "kind": "high"}}' >>"$work/commands.jsonl"
check "threshold.clear on it emits threshold.clear" wait_for 5 yes "count('threshold.clear', value='vm.load.avg1', cause='threshold.clear') == 1"
check "and it is gone from the report" wait_for 5 yes "thr('vm.load.avg1') == set()"
check_eq "events carry severity and publisher" "warning snow-agent info" \
	"$(q "' '.join([next(e['severity'] for e in evs.values() if e['type'] == 'threshold.raise'), next(e['publisher'] for e in evs.values() if e['type'] == 'threshold.raise'), next(e['severity'] for e in evs.values() if e['type'] == 'threshold.clear')])")"

# ---- a truncated agent.json: reported, ignored, never fatal --------------------------------
stop_pid "$agent_pid"; agent_pid=
check "a clean stop saved the state" test -s "$work/state/agent.json"
head -c 100 "$work/state/agent.json" >"$work/state/agent.json.cut" && mv "$work/state/agent.json.cut" "$work/state/agent.json"
t1=$(date +%s.%N)
start_agent
two() { [ "$(since_start "$t1")" -ge 2 ]; }
check "the agent starts with a truncated agent.json" wait_for 20 two
check "it says so in the log" grep -q 'agent.json: not JSON (truncated or damaged).*(ignored' "$work/agent.log"
check "and as an agent.state event" yes "count('agent.state', op='read', file='agent.json') == 1"
check "its severity is error" yes "any(e['severity'] == 'error' for e in evs.values() if e['type'] == 'agent.state')"
stop_pid "$agent_pid"; agent_pid=

# ---- a full state folder: reported, the agent goes on ------------------------------------------
if [ "$(id -u)" = 0 ]; then
	full=$work/full
	mkdir -p "$full"
	mount -t tmpfs -o size=64k tmpfs "$full"
	cp -a "$work/state/." "$full/" # the same state, on a small disk
	t2=$(date +%s.%N)
	start_agent "$full"
	check "the agent reports with a fresh state folder" wait_for 20 yes "sum(1 for r in reps if r['t'] > $t2) >= 2"
	dd if=/dev/zero of="$full/fill" bs=4k 2>/dev/null
	echo '{"id": 10, "op": "watermarks.reset", "args": {}}' >>"$work/commands.jsonl"
	check "a full folder is reported" wait_for 10 grep -q 'state folder: .*No space left on device' "$work/agent.log"
	check "as an agent.state write event" wait_for 5 yes "any(e['type'] == 'agent.state' and e['attrs'].get('op') == 'write' for e in evs.values())"
	n=$(since_start "$t2")
	more() { [ "$(since_start "$t2")" -ge $((n + 3)) ]; }
	check "the agent goes on reporting" wait_for 10 more
	check_eq "reported once, not at every save" 1 "$(grep -c 'state folder: .*No space left' "$work/agent.log")"
	rm -f "$full/fill"
	check "writable again: said so" wait_for 10 grep -q 'state folder: writable again' "$work/agent.log"
	stop_pid "$agent_pid"; agent_pid=
	umount "$full"; full=''
else
	skip "a full state folder: needs root (tmpfs)"
fi
