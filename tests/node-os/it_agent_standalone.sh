#!/usr/bin/env bash
# snow-agent's standalone mode on the fixture tree: --dump prints one sample
# of the whole tree and the device list as JSON; --events - prints each event
# as a JSON line (here: a threshold from node.conf raising on the fixture's
# load average, and the agent's start).
. "$(dirname "$0")/../lib.sh"

agent=$SNOW_BIN/snow-agent
fx=$SNOW_TOP/tests/node-os/fixtures/good
[ -x "$agent" ] || { not_ok "$agent missing (run 'make')"; exit 1; }
work=$(mktemp -d /tmp/snow-it-alone.XXXXXX)
on_exit 'rm -rf "$work"'

"$agent" --root "$fx" --mac 52:54:00:00:00:01 --dump >"$work/dump.json" 2>"$work/dump.err"
check_eq "--dump: exit 0" 0 "$?"
python3 - "$work/dump.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
fails = 0
def check(desc, cond, seen=""):
    global fails
    print(("ok - " if cond else "not ok - ") + desc + ("" if cond else " (seen: %s)" % (seen,)))
    fails += not cond
v = d["values"]
check("--dump: keys", set(d) == {"boot_id", "values", "schema", "watermarks", "thresholds", "devices"}, list(d))
check("--dump: memory pages from meminfo", v.get("kern.mem.pages_total") == 504424 * 1024 // 4096, v.get("kern.mem.pages_total"))
check("--dump: CPU ms from proc/stat", v.get("kern.cpu.user_ms") == 10000 and v.get("kern.cpu.system_ms") == 3000)
check("--dump: open files", v.get("kern.files.open") == 1056)
check("--dump: interface counters", v.get("net.eth0.rx_bytes") == 5000000 and "net.lo.rx_bytes" not in v)
check("--dump: filesystems", "fs.root.space_free_kb" in v and "fs.run.files_free" in v)
check("--dump: hwmon temperature", v.get("hw.hwmon0.temp1_c") == 45.5)
check("--dump: the agent's own use", v.get("agent.rss_kb") == 2048 and v.get("agent.cpu_ms") == 400)
kinds = {s["name"]: s["kind"] for s in d["schema"]}
check("--dump: every kind in the schema", {"attribute", "counter", "gauge"} <= set(kinds.values()))
check("--dump: OIDs unique", len({s["oid"] for s in d["schema"]}) == len(d["schema"]))
check("--dump: watermarks of gauges only", all(kinds[n] == "gauge" for n in d["watermarks"]))
dev = {x["path"]: x for x in d["devices"]}
check("--dump: device classes", {x["class"] for x in d["devices"]} == {"cpu", "memory", "net", "block", "pci", "sensor"})
check("--dump: cpu0 may only be audited", dev["cpu/cpu0"]["ops"] == ["audit"], dev["cpu/cpu0"]["ops"])
check("--dump: cpu2 offline", dev["cpu/cpu2"]["run"] == "offline" and "online" in dev["cpu/cpu2"]["ops"])
check("--dump: the service NIC cannot go offline", "offline" not in dev["net/eth0"]["ops"])
check("--dump: unbound PCI function is inactive", dev["pci/0000:00:05.0"]["run"] == "inactive")
sys.exit(1 if fails else 0)
PY
[ $? = 0 ] || _failures=$((_failures + 1))

printf 'threshold.vm.load.avg1 = high 0.5 0.4\n' >"$work/node.conf"
timeout 10 "$agent" --config "$work/node.conf" --root "$fx" --events - --interval 100 \
	>"$work/events.jsonl" 2>"$work/events.err" &
pid=$!
on_exit 'stop_pid "$pid"'
wait_for 5 grep -q threshold.raise "$work/events.jsonl"
kill -TERM "$pid"
wait "$pid"
check_eq "--events -: exit 0 on SIGTERM" 0 "$?"
pid=
check_eq "--events -: the lines" "agent.start
threshold.raise vm.load.avg1 0.52" "$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["type"] == "boot": continue
    print(e["type"], *(e["attrs"][k] for k in ("value", "observed") if k in e["attrs"]))' "$work/events.jsonl")"
check "--events -: seq counts from 1" sh -c "head -n1 '$work/events.jsonl' | grep -q '\"seq\":1,'"
