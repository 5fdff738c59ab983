#!/usr/bin/env bash
# snow-agent against a forger that answers for the host's address (fake host
# --answer-sig none, then bad): a 200 answer snowd did not sign is not acted
# on.  Its commands are not run, its ack_events (every event) does not empty
# the black box: the events go again once the real host answers, signed.
# The agent says so once per burst, not once per report.  Last, a rekey: a
# signed answer's new secret is written to node.conf and signs what follows.
. "$(dirname "$0")/../lib.sh"

agent=$SNOW_BIN/snow-agent
[ -x "$agent" ] || { not_ok "$agent missing (run 'make')"; exit 1; }
work=$(mktemp -d /tmp/snow-it-forged.XXXXXX)
on_exit 'rm -rf "$work"'
cp -a "$SNOW_TOP/tests/node-os/fixtures/good" "$work/root"
port=$(free_port)
secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
cat >"$work/node.conf" <<CONF
name = fg1
host_url = http://127.0.0.1:$port
secret = $secret
mac = 52:54:00:00:00:01
interval_ms = 200
sysctl.allow = vm.swappiness
threshold.vm.load.avg1 = high 5 4
CONF
echo '{"id": 1, "op": "sysctl.set", "args": {"name": "vm.swappiness", "value": "10"}}' \
	>"$work/commands.jsonl"
swappiness=$work/root/proc/sys/vm/swappiness

srv_pid='' agent_pid=''
on_exit 'stop_pid "$srv_pid"; stop_pid "$agent_pid"'
start_host() { # start_host ARGS...
	python3 "$SNOW_TOP/tests/node-os/fakehost.py" --port "$port" --name fg1 \
		--secret "$secret" --log "$work/requests.jsonl" --interval-ms 200 "$@" \
		2>>"$work/fakehost.err" &
	srv_pid=$!
	wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$port/"
}
load() { # load AVG1: the fixture's load average
	echo "$1 0.31 0.12 2/187 1234" >"$work/root/proc/loadavg.tmp"
	mv "$work/root/proc/loadavg.tmp" "$work/root/proc/loadavg"
}
q() { python3 "$SNOW_TOP/tests/node-os/it_agent_check.py" "$work/requests.jsonl" "$@"; }
count() { grep -c -- "$1" "$work/agent.log"; }

check "the real host starts (no commands)" start_host
"$agent" --config "$work/node.conf" --root "$work/root" --state_dir "$work/state" \
	2>>"$work/agent.log" &
agent_pid=$!
check "the agent reports to the real host" wait_for 10 q reports-ok 1

# ---- unsigned answers: a command and an ack of every event ------------------------
stop_pid "$srv_pid"
check "a forger starts (unsigned answers)" start_host --answer-sig none --commands "$work/commands.jsonl"
load 9.00 # a threshold.raise, sent under forged answers
check "reports go on under unsigned answers" wait_for 15 q forged-reports 4
check "an event rode in a report answered unsigned" wait_for 10 q forged-events 1
check_eq "the unsigned answer's command did not run" 60 "$(cat "$swappiness")"
check_eq "logged once for the burst" 1 "$(count 'answer 200 not signed')"

# ---- wrongly signed answers ----------------------------------------------------------
stop_pid "$srv_pid"
check "a forger starts (wrong signatures)" start_host --answer-sig bad --commands "$work/commands.jsonl"
load 1.00 # a threshold.clear, sent under forged answers
n=$(grep -c '"answer_sig": "bad"' "$work/requests.jsonl")
check "reports go on under wrongly signed answers" \
	wait_for 15 sh -c "[ \$(grep -c '\"answer_sig\": \"bad\"' '$work/requests.jsonl') -ge $((n + 4)) ]"
check_eq "the wrongly signed answer's command did not run" 60 "$(cat "$swappiness")"
check_eq "logged once for the burst" 1 "$(count 'answer 200 wrongly signed')"
check "no result went out for a forged command" sh -c "! grep -q '\"results\": \[{' '$work/requests.jsonl'"

# ---- the real host again: the black box kept every event ---------------------------
stop_pid "$srv_pid"
check "the real host starts again (the same command, signed)" start_host --commands "$work/commands.jsonl"
check "the events acknowledged by forgers are sent again" wait_for 15 q forged-events-resent
check "a signed command runs" wait_for 10 q result-ok 1
check_eq "its sysctl written" 10 "$(cat "$swappiness")"
check "the raise is stored by the real host" q event-with threshold.raise value vm.load.avg1
check "the clear is stored by the real host" q event-with threshold.clear value vm.load.avg1

# ---- rekey: the new secret comes in a signed answer ---------------------------------
stop_pid "$srv_pid"
check "the real host starts again (it will rekey)" start_host --rekey "$work/newkey"
check "reports go on" wait_for 10 q reports-ok 3
newkey=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$newkey" >"$work/newkey.tmp" && mv "$work/newkey.tmp" "$work/newkey"
check "the agent signs with the new secret" wait_for 10 grep -q '"rekeyed": true' "$work/requests.jsonl"
check_eq "node.conf holds the new secret" "$newkey" "$(sed -n 's/^secret = //p' "$work/node.conf")"
check "node.conf's other lines kept" grep -q '^threshold.vm.load.avg1 = high 5 4' "$work/node.conf"
check_eq "node.conf stays private" 600 "$(stat -c %a "$work/node.conf")"
n=$(grep -c '"rekeyed": true' "$work/requests.jsonl")
check "reports signed with it are answered" \
	wait_for 10 sh -c "[ \$(grep '\"rekeyed\": true' '$work/requests.jsonl' | grep -c '\"status\": 200') -ge $((n + 2)) ]"
if [ "$_failures" -gt 0 ]; then
	sed 's/^/# /' "$work/agent.log" | tail -n 40
	sed 's/^/# /' "$work/fakehost.err"
fi
