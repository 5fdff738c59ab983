#!/usr/bin/env bash
# snow-nodesim against a real snowd on loopback: 50 simulated nodes created
# through the API fetch their overlays from their own addresses, register and
# report; a threshold.set command completes and its raise event is stored; a
# reboot completes and the node comes back with a new boot_id; a refused
# device command fails with the node's reason; config.reload goes over the
# signed overlay route; a rekeyed node signs with its new secret; nodesim exits cleanly on
# SIGTERM with its summary; --once reports once per node and exits; --procs 2
# splits the nodes across two workers (wake-ups reach both, the summary adds
# them up, a killed worker or parent leaves no process behind).
. "$(dirname "$0")/../lib.sh"

dir=$(mktemp -d /tmp/snow-it-nodesim.XXXXXX)
port=$(free_port)
url=http://127.0.0.1:$port
pid= sim=
on_exit 'stop_pid "$sim"; stop_pid "$pid"; [ "$_failures" -gt 0 ] && { tail -30 "$dir/snowd.log"; tail -30 "$dir/nodesim.err"; }; rm -rf "$dir"'

"$SNOW_BIN/snowd" --state-dir "$dir/state" --listen "127.0.0.1:$port" --boot-addr 127.0.0.1/8 \
	--dnsmasq none --interval-ms 500 >"$dir/snowd.log" 2>&1 &
pid=$!
check "snowd starts" wait_for 10 curl -sf "$url/api/v1/health"
export SNOW_TOKEN
SNOW_TOKEN=$(cat "$dir/state/admin.token")
auth=(-H "Authorization: Bearer $SNOW_TOKEN")
api() { curl -sf "${auth[@]}" "$url/api/v1/$1"; }
post() { curl -sf "${auth[@]}" -H 'Content-Type: application/json' -d "$2" "$url/api/v1/$1"; }
py() { python3 -c "$@"; }

"$SNOW_BIN/snow-nodesim" --url "$url" --add --count 50 --prefix sim --boot-delay-ms 300 \
	--stats --json >"$dir/nodesim.out" 2>"$dir/nodesim.err" &
sim=$!

# All 50 online, each with its ~40 values, watermarks and devices.
all_online() {
	api nodes | py '
import json, sys
n = [x for x in json.load(sys.stdin)["nodes"] if x["name"].startswith("sim")]
ok = [x for x in n if x["state"] == "online" and len(x.get("values", {})) >= 40
      and x.get("watermarks") and len(x.get("devices", [])) == 5]
sys.exit(0 if len(n) == 50 and len(ok) == 50 else 1)'
}
check "50 nodes added, online, with values, watermarks and devices" wait_for 20 all_online
check_eq "node names and locally administered MACs" "sim0001 02:" \
	"$(api nodes/sim0001 | py 'import json,sys; n=json.load(sys.stdin); print(n["name"], n["mac"][:3])')"
kinds_ok() {
	api nodes/sim0007 | py '
import json, sys
v = json.load(sys.stdin)["values"]
sys.exit(0 if isinstance(v["net.eth0.rx_bytes"], int) and isinstance(v["vm.load.avg1"], (int, float)) else 1)'
}
check "counter reported as an integer, gauge as a number" kinds_ok

# cmd NODE JSON -> command id
cmd() { post "nodes/$1/commands" "$2" | py 'import json,sys; print(json.load(sys.stdin)["id"])'; }
cmd_state() { api "commands/$1" | py 'import json,sys; print(json.load(sys.stdin)["state"])'; }
cmd_is() { [ "$(cmd_state "$1")" = "$2" ]; }

# A low threshold above any reading raises at once.
id=$(cmd sim0003 '{"op":"threshold.set","args":{"value":"kern.mem.free_kb","kind":"low","rise":90000000,"clear":95000000}}')
check "threshold.set queued" test -n "$id"
check "threshold.set done" wait_for 10 cmd_is "$id" done
raised() {
	api "events?node=sim0003&limit=50" | py '
import json, sys
e = [x for x in json.load(sys.stdin)["events"] if x["type"] == "threshold.raise"
     and x["attrs"].get("value") == "kern.mem.free_kb" and x["attrs"].get("kind") == "low"]
sys.exit(0 if e else 1)'
}
check "threshold.raise event stored" wait_for 10 raised
check_eq "threshold reported raised" raised "$(api nodes/sim0003 | py '
import json,sys; t=[x for x in json.load(sys.stdin).get("thresholds", []) if x["value"] == "kern.mem.free_kb"]
print(t[0]["state"] if t else "none")')"

# The boot CPU refuses to go offline: the command fails with the node's reason.
id=$(cmd sim0004 '{"op":"device","args":{"path":"cpu/cpu0","op":"offline"}}')
check "cpu0 offline refused" wait_for 10 cmd_is "$id" failed
check "refusal names the boot CPU" grep -q 'boot CPU' <<<"$(api "commands/$id")"

# Reboot: done, then the node is back with a new boot_id.
boot_id() { api nodes/sim0005 | py 'import json,sys; print(json.load(sys.stdin).get("boot_id", ""))'; }
old=$(boot_id)
id=$(cmd sim0005 '{"op":"reboot"}')
check "reboot done" wait_for 10 cmd_is "$id" done
back() { local b; b=$(boot_id); [ -n "$b" ] && [ "$b" != "$old" ] &&
	[ "$(api nodes/sim0005 | py 'import json,sys; print(json.load(sys.stdin)["state"])')" = online ]; }
check "node back online with a new boot_id" wait_for 10 back
new_boot_event() {
	api "events?node=sim0005&limit=50" | py '
import json, sys
e = json.load(sys.stdin)["events"]
sys.exit(0 if [x for x in e if x["type"] == "boot" and x["boot_id"] != sys.argv[1]] else 1)' "$old"
}
check "the new boot's boot event stored" new_boot_event

# config.reload: the overlay again, over the signed route (the boot route serves it
# once per boot, and the boot is over).
id=$(cmd sim0006 '{"op":"config.reload"}')
check "config.reload done over the signed overlay route" wait_for 10 cmd_is "$id" done
# Rekey: the new secret reaches the node in a signed answer; it signs with it from then on.
check "node rekey" post nodes/sim0008/rekey '{}'
check "the node signs with its new secret" wait_for 10 grep -q 'node sim0008: its agent uses the new secret' "$dir/snowd.log"
id=$(cmd sim0008 '{"op":"watermarks.reset"}')
check "and takes commands after it" wait_for 10 cmd_is "$id" done

# Wake-ups: nodes reporting every 60 s hear of a command at once.  One POST
# for all three (POST /api/v1/commands); each is done long before the next
# report would have brought it, and snowd counts the datagrams it sent.
wakeups() { curl -sf "${auth[@]}" "$url/metrics" | awk '$1 == "snowd_wakeups_total{result=\"sent\"}" {print $2}'; }
"$SNOW_BIN/snow-nodesim" --url "$url" --add --count 3 --prefix idle --interval-ms 60000 \
	>"$dir/idle.out" 2>"$dir/idle.err" &
idle=$!
on_exit 'stop_pid "$idle"'
n_online() { # n_online PREFIX N [any]: N nodes of PREFIX reported (and are online, unless any)
	[ "$(api nodes | py 'import json,sys; print(sum(1 for x in json.load(sys.stdin)["nodes"]
		if x["name"].startswith(sys.argv[1]) and x.get("seq", 0) >= 1
		and (x["state"] == "online" or sys.argv[2] == "any")))' "$1" "${3:-}")" = "$2" ]
}
# snowd expects a report every 500 ms: these are marked offline after 3.5 s, and still woken.
check "3 idle nodes (60 s interval) registered and reported" wait_for 30 n_online idle 3 any
w0=$(wakeups)
ids=$(post commands '{"nodes": ["idle0001", "idle0002", "idle0003"], "op": "watermarks.reset"}' |
	py 'import json,sys; print(" ".join(str(c["id"]) for c in json.load(sys.stdin)["commands"]))')
check_eq "one POST queues a command for each node" 3 "$(wc -w <<<"$ids")"
all_done() { local i; for i in $ids; do cmd_is "$i" done || return 1; done; }
check "idle nodes acknowledge it long before their next report (woken)" wait_for 25 all_done
check "snowd sent them wake-ups" test "$(wakeups)" -ge $((w0 + 3))
kill -TERM "$idle"
wait "$idle" 2>/dev/null
idle=
check "nodesim accepted them, refused none" grep -q 'wake-ups: 3 datagrams, 3 accepted, 0 refused' "$dir/idle.err"
# A node that does not listen (an older agent) registers no port: no datagram,
# and its command still comes with its next report.
"$SNOW_BIN/snow-nodesim" --url "$url" --add --count 1 --prefix deaf --no-wake --interval-ms 1000 \
	>"$dir/deaf.out" 2>"$dir/deaf.err" &
idle=$!
check "a node without wake-ups online" wait_for 30 n_online deaf 1
w0=$(wakeups)
id=$(cmd deaf0001 '{"op":"watermarks.reset"}')
check "its command is done with a report" wait_for 20 cmd_is "$id" done
check_eq "and no wake-up was sent to it" "$w0" "$(wakeups)"
stop_pid "$idle"
# --procs 2: the nodes split across two workers, each with its own wake-up
# socket (each node registers its worker's port); the parent's summary adds
# theirs up.
"$SNOW_BIN/snow-nodesim" --url "$url" --add --count 6 --prefix mp --interval-ms 60000 --procs 2 \
	--stats --json >"$dir/mp.out" 2>"$dir/mp.err" &
mp=$!
on_exit 'stop_pid "$mp"'
workers() { pgrep -P "$mp" | tr '\n' ' '; }
two_workers() { [ "$(workers | wc -w)" = 2 ]; }
check "--procs 2: two worker processes" wait_for 10 two_workers
check "--procs 2: every node added, registered and reported" wait_for 30 n_online mp 6 any
check "--procs 2: each worker has its own wake-up port" test "$(grep -c 'nodesim\.[12]\[info\]: wake-ups on udp port' "$dir/mp.err")" = 2
ids=$(post commands '{"nodes": ["mp0001", "mp0002", "mp0003", "mp0004", "mp0005", "mp0006"], "op": "watermarks.reset"}' |
	py 'import json,sys; print(" ".join(str(c["id"]) for c in json.load(sys.stdin)["commands"]))')
check "--procs 2: nodes of both workers woken, their commands done" wait_for 25 all_done
mp_line() { grep -q 'nodes 6 registered 6 online' "$dir/mp.err"; }
check "--procs 2: one progress line over both workers" wait_for 10 mp_line
kill -TERM "$mp"
rc=0
wait "$mp" || rc=$?
check_eq "--procs 2: exits 0 on SIGTERM" 0 "$rc"
check "--procs 2: the summary adds both workers up (6 nodes, 6 commands)" py '
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if s["nodes"] == 6 and s["registered"] == 6 and s["adds"] == 6 and s["commands"] == 6
         and s["reports"] >= 12 and s["report_p99_ms"] > 0 and s["errors"] == 0 else 1)' "$dir/mp.out"
check_eq "--procs 2: each worker accepted its 3 nodes' wake-ups" "1 3 2 3" \
	"$(sed -n 's/.*nodesim\.\([12]\).*wake-ups: [0-9]* datagrams, \([0-9]*\) accepted.*/\1 \2/p' "$dir/mp.err" | sort | tr '\n' ' ' | sed 's/ $//')"
no_proc() { local p; for p in "$@"; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
# --once over two workers: each node reports exactly once, the counts are the sum.
rc=0
timeout 60 "$SNOW_BIN/snow-nodesim" --url "$url" --prefix sim --once --procs 2 --json \
	>"$dir/mponce.out" 2>"$dir/mponce.err" || rc=$?
check_eq "--procs 2 --once exits 0" 0 "$rc"
check_eq "--procs 2 --once: 50 nodes, 50 registrations, 50 reports" "50 50 50" \
	"$(py 'import json,sys; s=json.load(open(sys.argv[1])); print(s["nodes"], s["registers"], s["reports"])' "$dir/mponce.out")"
# A worker killed: the parent says so, stops the other, exits non-zero, leaves no process.
"$SNOW_BIN/snow-nodesim" --url "$url" --prefix mp --interval-ms 60000 --procs 2 --json \
	>"$dir/mpkill.out" 2>"$dir/mpkill.err" &
mp=$!
check "--procs 2 again: two workers" wait_for 10 two_workers
mp_workers=$(workers)
mp_ready() { [ "$(grep -c 'all 3 nodes registered' "$dir/mpkill.err")" = 2 ]; }
check "--procs 2 again: both workers' nodes registered" wait_for 30 mp_ready
kill -9 "${mp_workers%% *}"
rc=0
wait "$mp" || rc=$?
mp=
check "a worker killed -9: the parent exits non-zero" test "$rc" -ne 0
check "a worker killed -9: the parent names it" grep -q 'worker [12] (nodes mp000[14]\.\.mp000[36]) killed by signal 9' "$dir/mpkill.err"
check "a worker killed -9: the other one stopped, with its summary" py '
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if s["nodes"] == 3 else 1)' "$dir/mpkill.out"
# shellcheck disable=SC2086
check "a worker killed -9: no worker left behind" no_proc $mp_workers
# The parent killed -9: its workers die with it (PR_SET_PDEATHSIG).
"$SNOW_BIN/snow-nodesim" --url "$url" --prefix mp --interval-ms 60000 --procs 2 \
	>/dev/null 2>"$dir/mpdeath.err" &
mp=$!
check "--procs 2 once more: two workers" wait_for 10 two_workers
mp_workers=$(workers)
kill -9 "$mp"
wait "$mp" 2>/dev/null
mp=
# shellcheck disable=SC2086
check "the parent killed -9: no worker left behind" wait_for 10 no_proc $mp_workers

# The bulk route refuses an unknown node (nothing queued); power ops go to each node's driver.
code() { curl -s -o "$dir/bulk.json" -w '%{http_code}' "${auth[@]}" -H 'Content-Type: application/json' -d "$1" "$url/api/v1/commands"; }
n_cmds=$(api nodes/sim0001/commands | py 'import json,sys; print(len(json.load(sys.stdin)["commands"]))')
check_eq "bulk: an unknown node is 404" 404 "$(code '{"nodes": ["sim0001", "nosuch"], "op": "watermarks.reset"}')"
check "bulk: the error names it" grep -q "nodes\[1\]: no node 'nosuch'" "$dir/bulk.json"
check_eq "bulk: nothing queued then" "$n_cmds" "$(api nodes/sim0001/commands | py 'import json,sys; print(len(json.load(sys.stdin)["commands"]))')"
check_eq "bulk: power.on goes to the node's driver" 202 "$(code '{"nodes": ["sim0001"], "op": "power.on"}')"
check "bulk: the agent driver refuses power.on, said in its entry" grep -q '"state": *"refused"' "$dir/bulk.json"
check_eq "bulk: a bad op refused" 400 "$(code '{"nodes": ["sim0001"], "op": "format.disk"}')"
check_eq "bulk: an empty list refused" 400 "$(code '{"nodes": [], "op": "reboot"}')"

# SIGTERM: a clean exit with the summary.
kill -TERM "$sim"
rc=0
wait "$sim" || rc=$?
sim=
check_eq "nodesim exits 0 on SIGTERM" 0 "$rc"
check "summary as JSON: 50 nodes, reports, a reboot, no failures" py '
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if s["nodes"] == 50 and s["reports"] > 50 and s["reboots"] >= 1 and s["failed"] == 0 else 1)' "$dir/nodesim.out"
check "progress lines printed" grep -q 'registered 50 online' "$dir/nodesim.err"
check "no secret in nodesim's output" bash -c "! grep -Eq '[0-9a-f]{64}' '$dir/nodesim.err' '$dir/nodesim.out'"

# --once, on the nodes that exist: each reports once, then nodesim exits 0.
rc=0
timeout 30 "$SNOW_BIN/snow-nodesim" --url "$url" --prefix sim --once --json \
	>"$dir/once.out" 2>"$dir/once.err" || rc=$?
check_eq "--once exits 0" 0 "$rc"
check_eq "--once: one report per node" 50 "$(py 'import json,sys; print(json.load(open(sys.argv[1]))["reports"])' "$dir/once.out")"
rc=0
"$SNOW_BIN/snow-nodesim" --url "$url" --prefix nosuch --once 2>"$dir/none.err" || rc=$?
check "no such prefix: an error naming the prefix" grep -q 'prefix: snowd has no node named nosuch' "$dir/none.err"
check_eq "no such prefix: exit 1" 1 "$rc"
