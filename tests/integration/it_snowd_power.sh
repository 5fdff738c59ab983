#!/usr/bin/env bash
# snowd's power commands on loopback: QMP off the event loop (a QEMU that never
# answers leaves the API answering, and the command fails at its deadline; one
# that answers ends done), host-side commands never handed to the agent (ipmi
# with a fake ipmitool held until told), and a reboot finished by the node's
# new boot, never delivered twice.
. "$(dirname "$0")/../lib.sh"

dir=$(mktemp -d /tmp/snow-it-power.XXXXXX)
port=$(free_port)
url=http://127.0.0.1:$port
pid= qhang= qgood= qrefuse=
start_snowd() {
	"$SNOW_ASAN_BIN/snowd" --state-dir "$dir/state" --listen "127.0.0.1:$port" \
		--boot-addr 127.0.0.1/8 --dnsmasq none --ipmitool "$dir/fake-ipmitool" --allow-dir "$dir" -v \
		>>"$dir/snowd.log" 2>&1 &
	pid=$!
	wait_for 10 curl -sf "$url/api/v1/health"
}
on_exit 'stop_pid $pid; stop_pid $qhang; stop_pid $qgood; stop_pid $qrefuse; [ "$_failures" -gt 0 ] && tail -40 "$dir/snowd.log"; rm -rf "$dir"'
check "snowd starts" start_snowd
export SNOW_URL=$url SNOW_TOKEN=$(cat "$dir/state/admin.token")
ctl() { "$SNOW_ASAN_BIN/snowctl" "$@"; }
auth=(-H "Authorization: Bearer $SNOW_TOKEN" -H 'Content-Type: application/json')
# jf FILE KEY: a top-level field of a JSON file ('' when absent).
jf() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$1" "$2"; }
# cmd FIELD ID: a field of command ID.
cmd() { curl -s "${auth[@]}" "$url/api/v1/commands/$2" >"$dir/cmd.json" && jf "$dir/cmd.json" "$1"; }
state_is() { [ "$(cmd state "$1")" = "$2" ]; } # state_is ID STATE
# post_cmd OP: POST a command to node1; the answer in $dir/out, prints the HTTP status.
post_cmd() { curl -s -o "$dir/out" -w '%{http_code}' "${auth[@]}" -d "{\"op\":\"$1\"}" "$url/api/v1/nodes/node1/commands"; }
check "node add" ctl node add node1 --mac 52:54:00:ac:00:01 --ip 127.0.0.10
fake() { # fake MODE: a fake QMP socket $dir/MODE.sock; prints its pid
	python3 "$SNOW_TOP/tests/integration/fakeqmp.py" "$dir/$1.sock" "$dir/$1.log" "$1" >>"$dir/fakeqmp.err" 2>&1 &
	echo $!
}
qhang=$(fake hang)
qgood=$(fake good)
qrefuse=$(fake refuse)
check "fake QMP sockets ready" wait_for 10 test -S "$dir/hang.sock" -a -S "$dir/good.sock" -a -S "$dir/refuse.sock"

# 1. A QEMU that takes the connection and never answers: the API goes on
# answering while the command is sent, and it fails at the deadline.
ctl node set node1 "power={\"driver\":\"qmp\",\"socket\":\"$dir/hang.sock\"}" >/dev/null
post_cmd power.status >"$dir/code" &
postpid=$!
check "the hung QEMU took snowd's connection" wait_for 10 grep -q accept "$dir/hang.log"
# Only curl and grep until the check that QMP is still pending: no python
# (seconds to start on a loaded machine) racing the 5 s deadline.
times=$(for _ in 1 2 3 4 5; do curl -s -o /dev/null -w '%{time_total}\n' "$url/api/v1/health"; done)
wait $postpid
pending=$(grep -c closed "$dir/hang.log")
max=$(awk 'BEGIN { m = 0 } $1 > m { m = $1 } END { print m }' <<<"$times")
check_eq "QMP was still pending during those health requests" 0 "$pending"
check "health answers in under 1 s while QMP hangs (slowest ${max} s)" awk -v m="$max" 'BEGIN { exit !(m < 1.0) }'
check_eq "the power command is answered 202" 202 "$(cat "$dir/code")"
id=$(jf "$dir/out" id)
check_eq "... at once, sent (not waited for)" sent "$(jf "$dir/out" state)"
check "then failed at the deadline" wait_for 20 state_is "$id" failed
err=$(cmd error "$id")
check "the error names the deadline ($err)" grep -q 'no answer to the greeting within 5 s (deadline passed' <<<"$err"
check "snowd hung up on the silent QEMU" wait_for 10 grep -q closed "$dir/hang.log"

# A socket nobody listens on fails at once, named.
ctl node set node1 "power={\"driver\":\"qmp\",\"socket\":\"$dir/none.sock\"}" >/dev/null
check_eq "qmp to a missing socket: 202" 202 "$(post_cmd power.on)"
check_eq "... failed at once" failed "$(jf "$dir/out" state)"
check "... naming the socket" grep -q "cannot connect to $dir/none.sock" "$dir/out"

# 2. A QEMU that answers (events between the answers): done, with the states.
ctl node set node1 "power={\"driver\":\"qmp\",\"socket\":\"$dir/good.sock\"}" >/dev/null
out=$(ctl node power node1 off --timeout 20 2>&1)
check "qmp power off: done, running -> paused ($out)" grep -q 'done: {"driver":"qmp","before":"running","status":"paused"}' <<<"$out"
out=$(ctl node power node1 status --timeout 20 2>&1)
check "qmp power status: paused ($out)" grep -q 'done: {"driver":"qmp","before":"paused","status":"paused"}' <<<"$out"
power_state() { ctl node show node1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("power_state"))'; }
check_eq "the node's power_state after the driver said paused" off "$(power_state)"
out=$(ctl node power node1 on --timeout 20 2>&1)
check "qmp power on: reset and continued ($out)" grep -q 'done: {"driver":"qmp","before":"paused","status":"running"}' <<<"$out"
check_eq "the node's power_state after power on" on "$(power_state)"
out=$(ctl node power node1 cycle --timeout 20 2>&1)
check "qmp power cycle: running again ($out)" grep -q 'done: {"driver":"qmp","before":"running","status":"running"}' <<<"$out"
check_eq "QEMU got the QMP sequence" "qmp_capabilities query-status stop query-status qmp_capabilities query-status qmp_capabilities query-status system_reset cont query-status qmp_capabilities query-status system_reset query-status" \
	"$(sed -n 's/^cmd //p' "$dir/good.log" | tr '\n' ' ' | sed 's/ $//')"
check_eq "one connection per command, each closed" "4 4" "$(grep -c accept "$dir/good.log") $(grep -c closed "$dir/good.log")"
# The bulk route starts a power op on every node's driver at once; a node whose
# driver cannot do it (the agent cannot power on) is refused, the others go on.
check "node add node2 (agent driver)" ctl node add node2 --mac 52:54:00:ac:00:02 --ip 127.0.0.11
check_eq "bulk power.on: 202" 202 "$(curl -s -o "$dir/bulk.json" -w '%{http_code}' "${auth[@]}" \
	-d '{"nodes": ["node1", "node2"], "op": "power.on"}' "$url/api/v1/commands")"
bulk() { python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["commands"][int(sys.argv[2])]; print(c.get(sys.argv[3], ""))' "$dir/bulk.json" "$@"; }
check_eq "... node1's command first" "node1 power.on" "$(bulk 0 node) $(bulk 0 op)"
check "... which ends done" wait_for 20 state_is "$(bulk 0 id)" done
check_eq "... node2 refused, nothing queued for it" "node2 refused" "$(bulk 1 node) $(bulk 1 state)"
check "... with its driver's reason ($(bulk 1 error))" test -n "$(bulk 1 error)"
check_eq "... and no command for node2" 0 "$(curl -s "${auth[@]}" "$url/api/v1/nodes/node2/commands" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["commands"]))')"
ctl node set node1 "power={\"driver\":\"qmp\",\"socket\":\"$dir/refuse.sock\"}" >/dev/null
out=$(ctl node power node1 off --timeout 20 2>&1)
check "a refusal from QEMU fails the command, its reason on one line ($out)" grep -q 'failed: qmp: query-status: query-status refused?forged line$' <<<"$out"

# 3. ipmi: while ipmitool runs, the command is sent, and the node's report
# answer does not carry it; a result the node makes up for it changes nothing.
mkfifo "$dir/ipmi.go"
printf 'pw-not-on-argv\n' >"$dir/ipmi.pw"
cat >"$dir/fake-ipmitool" <<EOF
#!/bin/sh
echo "\$*" >>"$dir/ipmi.args"
read go <"$dir/ipmi.go"
EOF
chmod +x "$dir/fake-ipmitool"
# No sensor polls (sensors_s 0): a poll would run the fake ipmitool too and take the fifo's "go".
ctl node set node1 "power={\"driver\":\"ipmi\",\"host\":\"127.0.0.1\",\"user\":\"admin\",\"password_file\":\"$dir/ipmi.pw\",\"sensors_s\":0}" >/dev/null
secret=$(node_secret "$url" 52:54:00:ac:00:01 127.0.0.10 "$dir/ov")
check "node secret from the overlay" grep -Eq '^[0-9a-f]{64}$' <<<"$secret"
post() { node_post "$url" "$secret" node1 "$1" "$2" "$dir/answer"; } # post PATH BODY -> status
check_eq "register boot b-1" 200 "$(post /api/v1/node/register '{"name":"node1","boot_id":"b-1","hostname":"node1"}')"
check_eq "ipmi power on: 202" 202 "$(post_cmd power.on)"
id=$(jf "$dir/out" id)
check_eq "... sent" sent "$(jf "$dir/out" state)"
check "ipmitool runs" wait_for 10 grep -q 'chassis power on' "$dir/ipmi.args"
check_eq "a report while it runs" 200 "$(post /api/v1/node/report '{"name":"node1","boot_id":"b-1","seq":1}')"
check_eq "the answer hands the node no command" "[]" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["commands"])' "$dir/answer")"
check_eq "a report with a result the node makes up for it" 200 "$(post /api/v1/node/report "{\"name\":\"node1\",\"boot_id\":\"b-1\",\"seq\":2,\"results\":[{\"id\":$id,\"ok\":false,\"error\":\"op: 'power.on' is not a command\"}]}")"
check_eq "the node's made-up result changed nothing: still sent" sent "$(cmd state "$id")"
timeout 10 sh -c "echo go >'$dir/ipmi.go'"
check "ipmitool exits 0: done" wait_for 10 state_is "$id" done
ctl node set node1 power= >/dev/null

# 4. A reboot sent and not answered before the node went down: the node's new
# boot is its result; it is never delivered again.
check_eq "reboot: 202" 202 "$(post_cmd reboot)"
id=$(jf "$dir/out" id)
check_eq "a report's answer carries it" 200 "$(post /api/v1/node/report '{"name":"node1","boot_id":"b-1","seq":3}')"
check "... the reboot" grep -q "\"id\": *$id, *\"op\": *\"reboot\"" "$dir/answer"
check_eq "sent" sent "$(cmd state "$id")"
# snowd restarts: the same boot registering again is not a new one.
stop_pid $pid; pid=
check "snowd restarts" start_snowd
check_eq "boot b-1 registers again" 200 "$(post /api/v1/node/register '{"name":"node1","boot_id":"b-1","hostname":"node1"}')"
check_eq "the reboot is still sent (the same boot is no proof)" sent "$(cmd state "$id")"
check_eq "a report in b-1" 200 "$(post /api/v1/node/report '{"name":"node1","boot_id":"b-1","seq":4}')"
check "... gets it again (same boot: the agent answers a repeated id once)" grep -q "\"id\": *$id, *\"op\": *\"reboot\"" "$dir/answer"
check_eq "the node comes back with boot b-2" 200 "$(post /api/v1/node/register '{"name":"node1","boot_id":"b-2","hostname":"node1"}')"
check_eq "the reboot is done" done "$(cmd state "$id")"
check "... its result names the new boot" grep -q '"boot_id": *"b-2"' "$dir/cmd.json"
check_eq "the next report in b-2" 200 "$(post /api/v1/node/report '{"name":"node1","boot_id":"b-2","seq":1}')"
check_eq "... carries no command" "[]" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["commands"])' "$dir/answer")"

check "no password in snowd's log" bash -c "! grep -q pw-not-on-argv '$dir/snowd.log'"
stop_pid $pid; pid=
check_sanitizer "$dir/snowd.log"
