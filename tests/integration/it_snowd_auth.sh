#!/usr/bin/env bash
# snowd's access control: every kind of route for each role (none, viewer,
# operator, admin, by token and by console session with CSRF), /metrics,
# and the server-sent-events stream carrying node states, values and events.
. "$(dirname "$0")/../lib.sh"

dir=$(mktemp -d /tmp/snow-it-auth.XXXXXX)
port=$(free_port)
url=http://127.0.0.1:$port
pid= spid= spid2= spid3=
"$SNOW_ASAN_BIN/snowd" --state-dir "$dir/state" --listen "127.0.0.1:$port" --boot-addr 127.0.0.1/8 \
	--dnsmasq none --interval-ms 500 >"$dir/snowd.log" 2>&1 &
pid=$!
on_exit 'stop_pid $spid; stop_pid $spid2; stop_pid $spid3; stop_pid $pid; [ "$_failures" -gt 0 ] && tail -30 "$dir/snowd.log"; rm -rf "$dir"'
check "snowd starts" wait_for 10 curl -sf "$url/api/v1/health"
export SNOW_URL=$url SNOW_TOKEN=$(cat "$dir/state/admin.token")
ctl() { "$SNOW_ASAN_BIN/snowctl" "$@"; }

declare -A tok
for r in viewer operator admin; do tok[$r]=$(ctl token create "u-$r" --role "$r"); done
check "tokens created" test -n "${tok[viewer]}" -a -n "${tok[operator]}" -a -n "${tok[admin]}"
check "token list names them, never shows them" bash -c "'$SNOW_ASAN_BIN/snowctl' token list | grep -q u-viewer && ! '$SNOW_ASAN_BIN/snowctl' token list --json | grep -q '${tok[viewer]}'"
check "node for the tests" ctl node add node1 --mac 52:54:00:ab:00:01

code() { # code TOKEN METHOD PATH [BODY]
	local t=$1 m=$2 p=$3 b=${4:-}
	local args=(-s -o /dev/null -w '%{http_code}' -X "$m" --max-time 3)
	[ -n "$t" ] && args+=(-H "Authorization: Bearer $t")
	[ -n "$b" ] && args+=(-H 'Content-Type: application/json' -d "$b")
	curl "${args[@]}" "$url$p"
}
# route | body | lowest role allowed | status when allowed
routes=(
	"GET /api/v1/nodes||viewer|200"
	"GET /api/v1/nodes/node1||viewer|200"
	"GET /api/v1/events||viewer|200"
	"GET /api/v1/discovered||viewer|200"
	"GET /metrics||viewer|200"
	"POST /api/v1/nodes/node1/commands|{\"op\":\"watermarks.reset\"}|operator|202"
	"GET /api/v1/nodes/node1/commands||viewer|200"
	"POST /api/v1/nodes|{\"name\":\"nodex\",\"mac\":\"52:54:00:ab:00:0x\"}|admin|400"
	"DELETE /api/v1/nodes/nosuch||admin|404"
	"GET /api/v1/users||admin|200"
	"POST /api/v1/users|{\"name\":\"u\",\"password\":\"short\",\"role\":\"viewer\"}|admin|400"
	"GET /api/v1/tokens||admin|200"
)
rank() { case $1 in none) echo 0;; viewer) echo 1;; operator) echo 2;; admin) echo 3;; esac; }
for route in "${routes[@]}"; do
	IFS='|' read -r mp body need want <<<"$route"
	m=${mp%% *}; p=${mp#* }
	for r in none viewer operator admin; do
		t=; [ "$r" != none ] && t=${tok[$r]}
		got=$(code "$t" "$m" "$p" "$body")
		if [ "$(rank "$r")" -ge "$(rank "$need")" ]; then exp=$want
		elif [ "$r" = none ]; then exp=401
		else exp=403; fi
		check_eq "$r: $m $p" "$exp" "$got"
	done
done

# Console sessions: login sets an HttpOnly cookie; changes need the CSRF token.
printf 'operator-pass-1\n' | ctl user add alice --role operator >/dev/null
check_eq "short password refused" 1 "$(printf 'short\n' | ctl user add bob --role viewer >/dev/null 2>&1; echo $?)"
check_eq "wrong password: 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{"user":"alice","password":"nope-nope"}' "$url/api/v1/login")"
check_eq "unknown user: 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{"user":"mallory","password":"nope-nope"}' "$url/api/v1/login")"
curl -s -c "$dir/jar" -D "$dir/hdr" -H 'Content-Type: application/json' -d '{"user":"alice","password":"operator-pass-1"}' "$url/api/v1/login" >"$dir/login.json"
check "login sets an HttpOnly SameSite cookie" grep -qi 'set-cookie: snow_session=.*HttpOnly; SameSite=Strict' "$dir/hdr"
csrf=$(python3 -c "import json; print(json.load(open('$dir/login.json'))['csrf'])")
check_eq "session reads" 200 "$(curl -s -o /dev/null -w '%{http_code}' -b "$dir/jar" "$url/api/v1/nodes")"
check_eq "me" operator "$(curl -s -b "$dir/jar" "$url/api/v1/me" | python3 -c 'import json,sys; print(json.load(sys.stdin)["role"])')"
cmd='{"op":"watermarks.reset"}'
check_eq "session change without CSRF token: 403" 403 "$(curl -s -o /dev/null -w '%{http_code}' -b "$dir/jar" -H 'Content-Type: application/json' -d "$cmd" "$url/api/v1/nodes/node1/commands")"
check_eq "session change with a wrong CSRF token: 403" 403 "$(curl -s -o /dev/null -w '%{http_code}' -b "$dir/jar" -H 'X-Snow-CSRF: 00' -H 'Content-Type: application/json' -d "$cmd" "$url/api/v1/nodes/node1/commands")"
check_eq "operator session with CSRF token sends a command" 202 "$(curl -s -o /dev/null -w '%{http_code}' -b "$dir/jar" -H "X-Snow-CSRF: $csrf" -H 'Content-Type: application/json' -d "$cmd" "$url/api/v1/nodes/node1/commands")"
check_eq "operator session may not add nodes" 403 "$(curl -s -o /dev/null -w '%{http_code}' -b "$dir/jar" -H "X-Snow-CSRF: $csrf" -H 'Content-Type: application/json' -d '{"name":"n2","mac":"52:54:00:ab:00:02"}' "$url/api/v1/nodes")"
curl -s -o /dev/null -b "$dir/jar" -H "X-Snow-CSRF: $csrf" -X POST "$url/api/v1/logout"
check_eq "after logout the cookie is worthless" 401 "$(curl -s -o /dev/null -w '%{http_code}' -b "$dir/jar" "$url/api/v1/nodes")"
check "no password or cookie in the log" bash -c "! grep -q 'operator-pass-1' '$dir/snowd.log' && ! grep -q \"$(sed -n 's/.*snow_session\t//p' "$dir/jar")\" '$dir/snowd.log'"
check "the database keeps a yescrypt hash" bash -c "sqlite3 '$dir/state/snow.db' 'select hash from users' | grep -q '^\\\$y\\\$'"

# The stream: a viewer sees the node come online, its values and its events.
curl -sN --max-time 300 -H "Authorization: Bearer ${tok[viewer]}" "$url/api/v1/stream" >"$dir/stream" &
spid=$!
# Filtered: only the vm.* values; and one that asks node1 whole.
curl -sN --max-time 300 -H "Authorization: Bearer ${tok[viewer]}" "$url/api/v1/stream?values=vm.*,kern.mem.free_kb" >"$dir/stream-cut" &
spid2=$!
curl -sN --max-time 300 -H "Authorization: Bearer ${tok[viewer]}" "$url/api/v1/stream?values=&full=node1" >"$dir/stream-full" &
spid3=$!
# The three streams are open before anything happens (they are stopped on exit).
wait_for 10 bash -c "curl -s -H 'Authorization: Bearer ${tok[viewer]}' '$url/metrics' | grep -q '^snowd_stream_clients 3'"
secret=$(node_secret "$url" 52:54:00:ab:00:01 127.0.0.10 "$dir/ov")
post() { node_post "$url" "$secret" node1 "$1" "$2" >/dev/null; } # post PATH BODY
post /api/v1/node/register '{"name":"node1","boot_id":"s-1","hostname":"node1","schema":[{"name":"vm.load.avg1","kind":"gauge","unit":""},{"name":"sys.boots","kind":"counter","unit":""}]}'
post /api/v1/node/report '{"name":"node1","boot_id":"s-1","seq":1,"values":{"vm.load.avg1":0.25,"sys.boots":3},"events":[{"seq":1,"time":1795240000,"type":"agent.start","attrs":{}}]}'
check "history: the last hour of the node's gauges (not its counters)" bash -c "curl -s -H 'Authorization: Bearer ${tok[viewer]}' '$url/api/v1/nodes/node1/history' | python3 -c 'import json,sys; h=json.load(sys.stdin); sys.exit(0 if h[\"step_s\"]==30 and h[\"values\"]==({\"vm.load.avg1\":[0.25]}) and len(h[\"t\"])==1 else 1)'"
check "stream: node online" wait_for 5 grep -q '"name":"node1","state":"online"' "$dir/stream"
check "stream: values batched per node" wait_for 5 grep -q '^data: {"node1":{"values":{"vm.load.avg1":0.25' "$dir/stream"
check "stream: the event, with its id" wait_for 5 grep -q '"id":[1-9][0-9]*,"node":"node1".*"type":"agent.start"' "$dir/stream"
ctl watermarks reset node1 --no-wait >/dev/null
check "stream: a queued command" wait_for 5 grep -q '^event: command' "$dir/stream"
# Two reports in one stream batch: the thresholds the first carried are not lost.  Whether
# the two land in one batch (0.5 s) or two, the thresholds must reach the stream.
post /api/v1/node/report '{"name":"node1","boot_id":"s-1","seq":2,"values":{"vm.load.avg1":0.5,"sys.boots":3},"thresholds":[{"value":"vm.load.avg1","kind":"high","rise":0.4,"clear":0.3,"state":"raised"}]}'
post /api/v1/node/report '{"name":"node1","boot_id":"s-1","seq":3,"values":{"vm.load.avg1":0.75,"sys.boots":3}}'
check "stream: a later report in the same batch keeps the earlier one's thresholds" wait_for 5 grep -q '"vm.load.avg1":0.75' "$dir/stream"
check "stream: the thresholds reached the stream" grep -q '"thresholds":\[{"value":"vm.load.avg1"' "$dir/stream"
check "stream: node goes offline when reports stop" wait_for 10 grep -q '"state":"offline"' "$dir/stream"
check "stream ?values=vm.*: only the values asked for" wait_for 5 grep -q '^data: {"node1":{"values":{"vm.load.avg1":0.25},' "$dir/stream-cut"
check "stream ?values=vm.*: sys.boots left out" bash -c "! grep -q 'sys.boots' '$dir/stream-cut'"
check "stream ?values=vm.*: node and event messages unchanged" grep -q '"type":"agent.start"' "$dir/stream-cut"
check "stream ?values=&full=node1: node1 whole" grep -q '^data: {"node1":{"values":{"vm.load.avg1":0.25,"sys.boots":3}' "$dir/stream-full"
for bad in 'values=vm.load%20avg1' 'values=a*b' 'full=Not_A_Node' "values=$(printf 'v%d,' $(seq 1 65))"; do
	check_eq "stream ?$bad: 400" 400 "$(curl -s -o "$dir/bad" -w '%{http_code}' -H "Authorization: Bearer ${tok[viewer]}" "$url/api/v1/stream?$bad")"
done
check "a bad filter says what is wrong" grep -q 'at most 64' "$dir/bad"

# The node went offline above (the stream said so); /metrics says it too, once its timer ran.
metrics_down() { curl -s -H "Authorization: Bearer ${tok[viewer]}" "$url/metrics" >"$dir/metrics" && grep -q '^snow_node_up{node="node1"} 0' "$dir/metrics"; }
check "metrics: node state" wait_for 10 metrics_down
check "metrics: gauges per node, not counters" bash -c "grep -q '^snow_node_gauge{node=\"node1\",name=\"vm.load.avg1\"} 0.75' '$dir/metrics' && ! grep -q 'sys.boots' '$dir/metrics'"
check "metrics: snowd's own counters" grep -q '^snowd_reports_total 3' "$dir/metrics"
# The node list takes the same filter: values, watermarks and schema cut, devices left out.
post /api/v1/node/report '{"name":"node1","boot_id":"s-1","seq":4,"values":{"vm.load.avg1":0.5,"sys.boots":3},"devices":[{"path":"cpu/cpu1","class":"cpu","avail":"enabled","run":"online"}]}'
list() { curl -s -H "Authorization: Bearer ${tok[viewer]}" "$url/api/v1/nodes$1" | python3 -c 'import json,sys; n=json.load(sys.stdin)["nodes"][0]; print(sorted(n.get("values",{})), sorted(s["name"] for s in n.get("schema",[])), "devices" in n)'; }
# A report is parsed once, where it comes in, through lib/instr: an unknown state is refused.
check_eq "a device in an unknown run state: 400" 400 "$(node_post "$url" "$secret" node1 /api/v1/node/report '{"name":"node1","boot_id":"s-1","seq":5,"devices":[{"path":"cpu/cpu1","class":"cpu","avail":"enabled","run":"sideways"}]}' "$dir/bad")"
check "the refusal names the field" grep -q 'devices\[0\]: run:' "$dir/bad"
check_eq "a threshold of an unknown kind: 400" 400 "$(node_post "$url" "$secret" node1 /api/v1/node/report '{"name":"node1","boot_id":"s-1","seq":6,"thresholds":[{"value":"vm.load.avg1","kind":"sideways","rise":1,"clear":0.5}]}' "$dir/bad")"
check "a refused report changed nothing (the device is still online)" bash -c "curl -s -H 'Authorization: Bearer ${tok[viewer]}' '$url/api/v1/nodes/node1' | grep -q '\"run\": *\"online\"'"
check_eq "GET /api/v1/nodes?values=vm.*: the cut" "['vm.load.avg1'] ['vm.load.avg1'] False" "$(list '?values=vm.*')"
check_eq "GET /api/v1/nodes?values=&full=node1: node1 whole" "['sys.boots', 'vm.load.avg1'] ['sys.boots', 'vm.load.avg1'] True" "$(list '?values=&full=node1')"
check_eq "GET /api/v1/nodes: whole without a filter" "['sys.boots', 'vm.load.avg1'] ['sys.boots', 'vm.load.avg1'] True" "$(list '')"
check_eq "GET /api/v1/nodes?values=a*b: 400" 400 "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${tok[viewer]}" "$url/api/v1/nodes?values=a*b")"
check "metrics: stream clients (three)" grep -q '^snowd_stream_clients 3' "$dir/metrics"

# The sanitizer build must have found nothing, leaks at exit included.
stop_pid $pid; pid=
check_sanitizer "$dir/snowd.log"
