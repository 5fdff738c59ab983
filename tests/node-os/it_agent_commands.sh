#!/usr/bin/env bash
# snow-agent against the fake host on loopback, reading a writable copy of
# the fixture tree (--root): commands from report answers are executed once
# and their results resent until a report carrying them is answered 2xx
# (the fake host answers 503 to the first one); a host restart loses no
# event (every seq arrives, no gaps, acknowledged ones are not sent again);
# a full black box records its overflow as events.lost; config.reload
# refetches the overlay; reboot is answered before the agent acts.
. "$(dirname "$0")/../lib.sh"

agent=$SNOW_BIN/snow-agent
[ -x "$agent" ] || { not_ok "$agent missing (run 'make')"; exit 1; }
work=$(mktemp -d /tmp/snow-it-cmds.XXXXXX)
on_exit 'rm -rf "$work"'
cp -a "$SNOW_TOP/tests/node-os/fixtures/good" "$work/root"
port=$(free_port)
secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
mac=52:54:00:00:00:01 # eth0 of the fixture: the service NIC
write_conf() { # write_conf FILE EXTRA...
	local f=$1; shift
	{
		echo "name = cmd1"
		echo "host_url = http://127.0.0.1:$port"
		echo "secret = $secret"
		echo "mac = $mac"
		echo "interval_ms = 200"
		echo "sysctl.allow = vm.swappiness"
		echo "threshold.vm.load.avg1 = high 5 4"
		printf '%s\n' "$@"
	} >"$f"
}
write_conf "$work/node.conf"
write_conf "$work/overlay.conf" "threshold.vm.load.avg5 = high 3 2" "sysctl.allow = vm.swappiness,kernel.printk"

srv_pid='' agent_pid='' flip_pid=''
on_exit 'stop_pid "$srv_pid"; stop_pid "$agent_pid"; stop_pid "$flip_pid"'
start_host() {
	python3 "$SNOW_TOP/tests/node-os/fakehost.py" --port "$port" --name cmd1 \
		--secret "$secret" --log "$work/requests.jsonl" --interval-ms 200 \
		--commands "$work/commands.jsonl" --overlay-conf "$work/overlay.conf" "$@" \
		2>>"$work/fakehost.err" &
	srv_pid=$!
	wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$port/"
}
start_agent() { # start_agent ARGS...
	"$agent" --config "$work/node.conf" --root "$work/root" --state_dir "$work/state" "$@" \
		2>>"$work/agent.log" &
	agent_pid=$!
}
# Load average flips between 9 and 1 every 0.25 s: a raise and a clear each time.
flip_load() {
	while :; do
		echo "9.00 0.31 0.12 2/187 1234" >"$work/root/proc/loadavg.tmp"
		mv "$work/root/proc/loadavg.tmp" "$work/root/proc/loadavg"
		sleep 0.25
		echo "1.00 0.31 0.12 2/187 1234" >"$work/root/proc/loadavg.tmp"
		mv "$work/root/proc/loadavg.tmp" "$work/root/proc/loadavg"
		sleep 0.25
	done
}
q() { python3 "$SNOW_TOP/tests/node-os/it_agent_check.py" "$work/requests.jsonl" "$@"; }

# ---- commands ------------------------------------------------------------------
cat >"$work/commands.jsonl" <<'EOF'
{"id": 1, "op": "device", "args": {"path": "cpu/cpu1", "op": "offline"}}
{"id": 2, "op": "device", "args": {"path": "cpu/cpu0", "op": "offline"}}
{"id": 3, "op": "threshold.set", "args": {"value": "kern.mem.free_kb", "kind": "low", "rise": 500000, "clear": 600000}}
{"id": 4, "op": "sysctl.set", "args": {"name": "vm.swappiness", "value": "10"}}
{"id": 5, "op": "sysctl.set", "args": {"name": "kernel.printk", "value": "1"}}
{"id": 6, "op": "format.disk", "args": {}}
{"id": 7, "op": "threshold.set", "args": {"value": "kern.ctxt", "kind": "high", "rise": 5, "clear": 4}}
{"id": 8, "op": "device", "args": {"path": "net/eth0", "op": "offline"}}
{"id": 9, "op": "device", "args": {"path": "block/vda", "op": "diag"}}
{"id": 10, "op": "device", "args": {"path": "block/vda", "op": "offline"}}
{"id": 11, "op": "device", "args": {"path": "block/vda", "op": "diag"}}
{"id": 12, "op": "threshold.set", "args": {"value": "vm.load.avg1", "kind": "high", "rise": 5, "clear": 6}}
{"id": 13, "op": "watermarks.reset", "args": {"value": "kern.mem.free_kb"}}
EOF
check "fake host starts (first report with results answered 503)" start_host --fail-results 1
start_agent
check "all 13 results reach the host" wait_for 20 q results-count 13
check_eq "results" "$(cat <<'EOF'
1 ok {"avail": "enabled", "run": "offline"}
2 refused cpu/cpu0: cannot offline: cpu0 has no online file: the kernel cannot take it offline (the boot CPU)
3 ok {"value": "kern.mem.free_kb", "kind": "low", "rise": 500000.0, "clear": 600000.0, "samples": 1, "state": "clear"}
4 ok {"name": "vm.swappiness", "value": "10"}
5 refused name: 'kernel.printk' is not on this node's sysctl.allow list (node.conf)
6 refused op: 'format.disk' is not a command this agent knows
7 refused value: 'kern.ctxt' is a counter; thresholds apply to gauges only
8 refused net/eth0: cannot offline: eth0 carries the agent's link to snowd: down, the node is cut off
9 refused block/vda: cannot diag: diag is intrusive and runs only on an offline device (it is online)
10 ok {"avail": "enabled", "run": "offline"}
11 ok pass
12 refused args: clear: 6 is above rise 5; a high threshold raises above rise and clears below clear, so clear must be <= rise
13 ok {"reset": 1}
EOF
)" "$(q results)"
check_eq "cpu1 went offline through sysfs" 0 "$(cat "$work/root/sys/devices/system/cpu/cpu1/online")"
check_eq "vm.swappiness written" 10 "$(cat "$work/root/proc/sys/vm/swappiness")"
check_eq "kernel.printk untouched" "$(printf '4\t4\t1\t7')" "$(cat "$work/root/proc/sys/kernel/printk")"
check "results were sent again after the 503" q resent-after-503
check "every command ran once (one command.result event per id)" q results-once
check "the low threshold on kern.mem.free_kb raised (431032 < 500000)" \
	wait_for 5 q event-with threshold.raise value kern.mem.free_kb
check "cpu1's state change is an event" q event-with device.state path cpu/cpu1
check "report lists thresholds and devices" q report-has-thresholds-devices
check "thresholds and devices only when changed (absent: unchanged)" q parts-only-when-changed

# ---- config.reload ---------------------------------------------------------------
echo '{"id": 14, "op": "config.reload", "args": {}}' >>"$work/commands.jsonl"
echo '{"id": 15, "op": "sysctl.set", "args": {"name": "kernel.printk", "value": "3 4 1 7"}}' >>"$work/commands.jsonl"
check "config.reload answered" wait_for 10 q result-ok 14
check "a sysctl the reload allowed can be set" wait_for 10 q result-ok 15
check "the overlay's threshold is reported" wait_for 5 q threshold-listed vm.load.avg5

# ---- host restart: no event lost -------------------------------------------------
stop_pid "$srv_pid"
flip_load &
flip_pid=$!
sleep 2.5
stop_pid "$flip_pid"
flip_pid=
check "agent survives the host being down" kill -0 "$agent_pid"
check "fake host restarts" start_host
check "events from the outage arrive" wait_for 15 q events-after-restart 4
sleep 1
check "every event seq arrived, no gaps" q events-contiguous
check "acknowledged events are not sent again" q ack-honoured
check "black box saved to the state dir" test -s "$work/state/events.json"

# ---- reboot: the result first, then (fixture root) the agent stops ---------------------
echo '{"id": 16, "op": "reboot", "args": {}}' >>"$work/commands.jsonl"
check "reboot: the agent stops after delivering the result" wait_for 15 sh -c "! kill -0 $agent_pid"
wait "$agent_pid"
check_eq "reboot: exit status 0" 0 "$?"
agent_pid=
check "reboot: its result reached the host" q result-ok 16

# ---- overflow: a black box of 4 while the host is away --------------------------------
stop_pid "$srv_pid"
rm -rf "$work/state"
: >"$work/requests.jsonl"
: >"$work/commands.jsonl" # a new host has no commands for the new agent
check "fake host starts" start_host
start_agent --events_max 4
check "agent reports" wait_for 10 q reports-ok 1
stop_pid "$srv_pid"
flip_load &
flip_pid=$!
sleep 2.5
stop_pid "$flip_pid"
flip_pid=
check "fake host restarts" start_host
check "the overflow is recorded as events.lost" wait_for 15 q event-with events.lost
check "events.lost names exactly the seqs missing" q lost-explains-gap
if [ "$_failures" -gt 0 ]; then
	sed 's/^/# /' "$work/agent.log" | tail -n 40
	sed 's/^/# /' "$work/fakehost.err"
fi
