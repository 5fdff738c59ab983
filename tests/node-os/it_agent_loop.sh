#!/usr/bin/env bash
# snow-agent's loop against the fake host on loopback (no VM): a report
# answered 404 sends it back to registering (seq starts again at 1); a host
# outage is logged once and the agent resumes by itself; SIGTERM ends it
# cleanly; --once exits 0 after one report and 1 when the host is down.
. "$(dirname "$0")/../lib.sh"

agent=$SNOW_BIN/snow-agent
[ -x "$agent" ] || { not_ok "$agent missing (run 'make')"; exit 1; }
work=$(mktemp -d /tmp/snow-it-agent.XXXXXX)
on_exit 'rm -rf "$work"'
port=$(free_port)
secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
cat >"$work/node.conf" <<EOF
name = loop1
host_url = http://127.0.0.1:$port
secret = $secret
interval_ms = 5000
mac = 52:54:00:00:00:42
threshold.vm.load.avg1 = high 4 3
EOF

srv_pid='' agent_pid=''
start_host() { # start_host ARGS...: the fake host on $port, logging to requests.jsonl
	python3 "$SNOW_TOP/tests/node-os/fakehost.py" --port "$port" --name loop1 \
		--secret "$secret" --log "$work/requests.jsonl" --interval-ms 300 "$@" \
		2>>"$work/fakehost.err" &
	srv_pid=$!
	wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$port/"
}
on_exit 'stop_pid "$srv_pid"'
on_exit 'stop_pid "$agent_pid"'
# count PATH STATUS: requests so far with that path and status
count() { grep -c "\"path\": \"/api/v1/node/$1\", \"status\": $2" "$work/requests.jsonl" 2>/dev/null; }

check "fake host starts" start_host --refuse-reports 1
"$agent" --config "$work/node.conf" 2>"$work/agent.log" &
agent_pid=$!

check "a report answered 404 makes the agent register again" \
	wait_for 20 sh -c "[ \$(grep -c '\"path\": \"/api/v1/node/register\", \"status\": 200' '$work/requests.jsonl') -ge 2 ]"
check "then reports are accepted" wait_for 20 sh -c "[ \$(grep -c '\"path\": \"/api/v1/node/report\", \"status\": 200' '$work/requests.jsonl') -ge 2 ]"
seqs=$(python3 -c '
import json, sys
print(" ".join("%s:%s" % (r["path"].rsplit("/", 1)[1], r["body"].get("seq", "-"))
               for r in map(json.loads, open(sys.argv[1]))))' "$work/requests.jsonl" | cut -d' ' -f1-4)
check_eq "seq starts again at 1 after registering again" "register:- report:1 register:- report:1" "$seqs"
check "the agent said why it registers again" grep -q 'host answered 404: registering again' "$work/agent.log"
check "every request was correctly signed" sh -c "! grep -q '\"sig_ok\": false' '$work/requests.jsonl'"

# Outage: stop the host for about two seconds (several intervals).
stop_pid "$srv_pid"
sleep 2.5
check "agent survives the outage" kill -0 "$agent_pid"
check_eq "outage logged once" 1 "$(grep -c 'host unreachable' "$work/agent.log")"
before=$(count report 200)
check "fake host restarts" start_host
check "reports resume after the outage" wait_for 15 sh -c "[ \$(grep -c '\"path\": \"/api/v1/node/report\", \"status\": 200' '$work/requests.jsonl') -gt $before ]"
check "recovery logged" grep -q 'host answering again after' "$work/agent.log"

kill -TERM "$agent_pid"
check "SIGTERM: agent exits" wait_for 5 sh -c "! kill -0 $agent_pid"
wait "$agent_pid"
check_eq "SIGTERM: exit status 0" 0 "$?"
agent_pid=
check "SIGTERM: agent said it is stopping" grep -q 'stopping' "$work/agent.log"
if grep -q "$secret" "$work/agent.log"; then not_ok "secret in the agent's log"; else ok "secret never logged"; fi

"$agent" --config "$work/node.conf" --once 2>>"$work/agent.log"
check_eq "--once: exit 0 after one report" 0 "$?"
stop_pid "$srv_pid"
srv_pid=
"$agent" --config "$work/node.conf" --once 2>>"$work/agent.log"
check_eq "--once with the host down: exit 1" 1 "$?"
"$agent" --config "$work/node.conf" --interval 7 2>"$work/bad.log"
check_eq "bad --interval: exit 2" 2 "$?"
check "bad --interval: says why" grep -q 'interval: 7 is out of range' "$work/bad.log"
if [ "$_failures" -gt 0 ]; then sed 's/^/# /' "$work/agent.log"; fi
