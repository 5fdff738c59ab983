#!/usr/bin/env bash
# BMC sensors and event logs through the emulated Redfish BMC
# (tests/bmc/redfish-bmc.py): a node that is off and never booted gets fresh
# bmc.* gauges (values, watermarks, schema, history, /metrics) polled by
# snowd; LogService entries become bmc.log events with the BMC's own time,
# each once, also across a snowd restart; a BMC with malformed answers, one
# that hangs and a wrong password each leave a reason naming the BMC in the
# node's bmc.error while snowd answers on; no password in snowd's log.
. "$(dirname "$0")/../lib.sh"

dir=$(mktemp -d /tmp/bmc-it-sensors.XXXXXX)
port=$(free_port)
url=http://127.0.0.1:$port
pid=
bmcs=()
on_exit 'stop_pid $pid; for b in "${bmcs[@]}"; do stop_pid $b; done; [ "$_failures" -gt 0 ] && { tail -40 "$dir/snowd.log"; tail -5 "$dir"/bmc*.log; cat "$dir/bmc.err"; }; rm -rf "$dir"'
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-keyout "$dir/bmc.key" -out "$dir/bmc.pem" -subj "/CN=bmc" \
	-addext subjectAltName=IP:127.0.0.1 2>/dev/null
printf 'admin:pw-not-in-logs\n' >"$dir/bmc.cred"
printf 'pw-not-in-logs\n' >"$dir/bmc.pw"
printf 'wrong-password\n' >"$dir/wrong.pw"
# bmc NAME PORT [ARGS]: an emulated BMC (state file NAME.state, powered off).
bmc() {
	local name=$1 p=$2; shift 2
	printf 'Off\n' >"$dir/$name.state"
	python3 "$SNOW_TOP/tests/bmc/redfish-bmc.py" --listen "127.0.0.1:$p" --cert "$dir/bmc.pem" \
		--key "$dir/bmc.key" --cred "$dir/bmc.cred" --state "$dir/$name.state" \
		--log "$dir/$name.log" "$@" 2>>"$dir/bmc.err" &
	bmcs+=("$!")
	wait_for 20 grep -q listening "$dir/$name.log"
}
bport=$(free_port)
# The BMC's clock is a day behind the host's: an event's time must be the BMC's.
echo '{"CPU1 Temp": 71.5}' >"$dir/sensors.json"
check "the emulated BMC starts (off)" bmc bmc "$bport" --sensors "$dir/sensors.json" \
	--events "$dir/events.jsonl" --clock-offset -86400

start_snowd() {
	"$SNOW_ASAN_BIN/snowd" --state-dir "$dir/state" --listen "127.0.0.1:$port" \
		--boot-addr 127.0.0.1/8 --dnsmasq none --allow-dir "$dir" -v >>"$dir/snowd.log" 2>&1 &
	pid=$!
	wait_for 20 curl -sf "$url/api/v1/health"
}
check "snowd starts" start_snowd
export SNOW_URL=$url SNOW_TOKEN=$(cat "$dir/state/admin.token")
ctl() { "$SNOW_ASAN_BIN/snowctl" "$@"; }
api() { curl -sf -H "Authorization: Bearer $SNOW_TOKEN" "$url$1"; }
# jq-free: python reads the node's JSON.
node_py() { api "/api/v1/nodes/$1" | python3 -c "import json,sys; n=json.load(sys.stdin); $2"; }
rf() { echo "\"driver\":\"redfish\",\"url\":\"https://127.0.0.1:$1\",\"user\":\"admin\",\"password_file\":\"$dir/${2:-bmc}.pw\",\"ca_file\":\"$dir/bmc.pem\""; }
check "node add" ctl node add node1 --mac 52:54:00:b3:01:01 --ip 127.0.0.31
out=$(ctl node set node1 "power={$(rf "$bport"),\"sensors_s\":-1}" 2>&1)
check "a negative sensors_s is refused ($out)" grep -q 'power.sensors_s' <<<"$out"
out=$(ctl node set node1 "power={$(rf "$bport"),\"log\":\"yes\"}" 2>&1)
check "a log that is not a boolean is refused ($out)" grep -q 'power.log: must be true or false' <<<"$out"
check "power set to the BMC, sensors every second" ctl node set node1 "power={$(rf "$bport"),\"sensors_s\":1}"

value_is() { node_py node1 "sys.exit(0 if n.get('values',{}).get('bmc.temp.cpu1_temp') == $1 else 1)"; }
check "an off, never booted node gets bmc.temp.cpu1_temp = 71.5 from its BMC" wait_for 30 value_is 71.5
check_eq "... its state is offline" offline "$(node_py node1 "print(n['state'])")"
check "... and the other readings: fans, power, voltage, inlet" node_py node1 \
	"v=n['values']; sys.exit(0 if {'bmc.fan.fan_1','bmc.fan.fan_2','bmc.power.system_power','bmc.volt.p12v','bmc.temp.inlet_temp'} <= set(v) and v['bmc.fan.fan_1'] == 1200 and v['bmc.power.system_power'] == 9 else 1)"
check "... gauges in the schema, with units" node_py node1 \
	"s={e['name']:e for e in n['schema']}; sys.exit(0 if s['bmc.temp.cpu1_temp']['kind']=='gauge' and s['bmc.temp.cpu1_temp']['unit']=='C' and s['bmc.fan.fan_1']['unit']=='RPM' and s['bmc.power.system_power']['unit']=='W' else 1)"
check "... polled, no error" node_py node1 "b=n['bmc']; sys.exit(0 if b['polled'] and b['error'] is None and b['driver']=='redfish' and b['readings']==6 else 1)"
echo '{"CPU1 Temp": 80.25}' >"$dir/sensors.json"
check "fresh: the new reading 80.25 comes in" wait_for 20 value_is 80.25
check "... watermarks [71.5, 80.25]" node_py node1 "sys.exit(0 if n['watermarks']['bmc.temp.cpu1_temp'] == [71.5, 80.25] else 1)"
check "... in /metrics" bash -c "curl -sf -H 'Authorization: Bearer $SNOW_TOKEN' $url/metrics | grep -q 'snow_node_gauge{node=\"node1\",name=\"bmc.temp.cpu1_temp\"} 80.25'"
check "... in the node's history" bash -c "curl -sf -H 'Authorization: Bearer $SNOW_TOKEN' $url/api/v1/nodes/node1/history | python3 -c \"import json,sys; h=json.load(sys.stdin); c=h['values']['bmc.temp.cpu1_temp']; sys.exit(0 if any(x is not None and 71 < x <= 80.25 for x in c) else 1)\""

# Thresholds on a BMC gauge: kept and checked by snowd, raised as the agent's are.
thr_events() { api "/api/v1/events?node=node1&limit=100" | python3 -c "
import json,sys
e=[x for x in json.load(sys.stdin)['events'] if x['type'].startswith('threshold.') and x['attrs']['value']=='bmc.temp.cpu1_temp']
print(' '.join(x['type'] for x in sorted(e, key=lambda x: x['id'])))"; }
out=$(ctl threshold set node1 bmc.temp.cpu1_temp --high --rise 75 --clear 70 2>&1)
check "threshold set on bmc.temp.cpu1_temp: done at once ($out)" grep -q 'done' <<<"$out"
out=$(ctl threshold set node1 bmc.temp.cpu1_temp --high --rise 75 --clear 90 2>&1)
check "... a clear above its rise is refused ($out)" grep -q 'clear: 90 is above rise 75' <<<"$out"
check "... 80.25 is above 75: threshold.raise" wait_for 20 bash -c "$(declare -f api thr_events); url=$url SNOW_TOKEN=$SNOW_TOKEN; [ \"\$(thr_events)\" = threshold.raise ]"
check "... the node's thresholds show it raised" node_py node1 \
	"t=[x for x in n['thresholds'] if x['value']=='bmc.temp.cpu1_temp']; sys.exit(0 if len(t)==1 and t[0]['state']=='raised' and t[0]['rise']==75 else 1)"

# Event log: two entries, then a restart, then one more: three bmc.log events, each once.
bmc_events() { api "/api/v1/events?node=node1&limit=100" | python3 -c "
import json,sys
e=[x for x in json.load(sys.stdin)['events'] if x['type']=='bmc.log']
print(len(e)); [print(x['attrs']['id'], x['time'], x['attrs']['message'], x.get('severity')) for x in sorted(e, key=lambda x: x['attrs']['id'])]"; }
count_is() { [ "$(bmc_events | head -1)" = "$1" ]; }
echo '{"Message": "Fan 1 below its lower threshold", "Severity": "Warning"}' >>"$dir/events.jsonl"
echo '{"Message": "CPU1 Temp above its upper critical threshold", "Severity": "Critical"}' >>"$dir/events.jsonl"
check "two LogService entries become two bmc.log events" wait_for 20 count_is 2
ev=$(bmc_events)
now=$(date +%s)
t1=$(sed -n 2p <<<"$ev" | cut -d' ' -f2)
check "... with the BMC's own time, a day behind (event $t1, now $now)" test $((now - t1)) -gt 80000 -a $((now - t1)) -lt 90000
check "... message and severity kept ($ev)" bash -c "grep -q '^2 .* CPU1 Temp above its upper critical threshold critical$' <<<'$ev' && grep -q '^1 .* Fan 1 below its lower threshold warning$' <<<'$ev'"
check "... the cursor is 2" node_py node1 "sys.exit(0 if n['bmc'].get('log_cursor') == 2 else 1)"
polls() { grep -c '^entries' "$dir/bmc.log"; }
p0=$(polls)
check "... and polls go on without a duplicate" wait_for 20 bash -c "[ \$(grep -c '^entries' '$dir/bmc.log') -ge $((p0 + 2)) ]"
check_eq "... still two" 2 "$(bmc_events | head -1)"
stop_pid $pid; pid=
check "snowd starts again" start_snowd
echo '{"Message": "Chassis intrusion", "Severity": "Critical"}' >>"$dir/events.jsonl"
check "after the restart, the new entry comes in" wait_for 30 count_is 3
p0=$(polls)
wait_for 20 bash -c "[ \$(grep -c '^entries' '$dir/bmc.log') -ge $((p0 + 2)) ]"
check_eq "... and the first two not again (three in all)" 3 "$(bmc_events | head -1)"
check "... the readings are back without an agent" wait_for 20 value_is 80.25
check "... the threshold kept, still raised, not raised again" node_py node1 \
	"t=[x for x in n['thresholds'] if x['value']=='bmc.temp.cpu1_temp']; sys.exit(0 if len(t)==1 and t[0]['state']=='raised' else 1)"
check_eq "... (one raise in all)" threshold.raise "$(thr_events)"

# Faults: malformed answers, a BMC that hangs, a wrong password; snowd answers on.
mport=$(free_port) hport=$(free_port)
check "a BMC with malformed Thermal answers" bmc bmcm "$mport" --fault malformed-sensors
check "a BMC that hangs" bmc bmch "$hport" --fault hang
wport=$(free_port)
check "a BMC for a wrong password" bmc bmcw "$wport"
ctl node add node2 --mac 52:54:00:b3:01:02 --ip 127.0.0.32 >/dev/null
ctl node add node3 --mac 52:54:00:b3:01:03 --ip 127.0.0.33 >/dev/null
ctl node add node4 --mac 52:54:00:b3:01:04 --ip 127.0.0.34 >/dev/null
ctl node set node2 "power={$(rf "$mport"),\"sensors_s\":1}" >/dev/null
ctl node set node3 "power={$(rf "$hport"),\"sensors_s\":1,\"timeout_s\":3}" >/dev/null
ctl node set node4 "power={$(rf "$wport" wrong),\"sensors_s\":1}" >/dev/null
err_has() { node_py "$1" "e=(n.get('bmc') or {}).get('error') or ''; print(e); sys.exit(0 if '$2' in e else 1)"; }
check "malformed: the reason names the BMC and says not JSON" wait_for 30 err_has node2 "redfish https://127.0.0.1:$mport: GET /redfish/v1/Chassis/1/Thermal: not JSON"
check "hang: the reason names the BMC and the deadline" wait_for 30 err_has node3 "redfish https://127.0.0.1:$hport: POST /redfish/v1/SessionService/Sessions: no answer within 3 s (deadline passed)"
check "wrong password: login refused" wait_for 30 err_has node4 "redfish https://127.0.0.1:$wport: login refused (HTTP 401"
t0=$(date +%s%N)
check "snowd answers meanwhile" curl -sf -m 30 -o /dev/null "$url/api/v1/health"
echo "# health while a BMC hangs: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
check "... and node1's readings stay fresh" bash -c "echo '{\"CPU1 Temp\": 66}' >'$dir/sensors.json'"
check "... (66 comes in)" wait_for 20 value_is 66
check "... below 70: threshold.clear" wait_for 20 bash -c "$(declare -f api thr_events); url=$url SNOW_TOKEN=$SNOW_TOKEN; [ \"\$(thr_events)\" = 'threshold.raise threshold.clear' ]"
out=$(ctl threshold clear node1 bmc.temp.cpu1_temp --high 2>&1)
check "threshold clear: done ($out)" grep -q 'done' <<<"$out"
check "... gone from the node's thresholds" node_py node1 \
	"sys.exit(0 if not [x for x in n.get('thresholds', []) if x['value']=='bmc.temp.cpu1_temp'] else 1)"
out=$(ctl threshold set node2 bmc.temp.cpu1_temp --high --rise 75 --clear 70 2>&1)
check "... on a node whose BMC gave no reading yet: accepted ($out)" grep -q 'done' <<<"$out"
ctl node add node5 --mac 52:54:00:b3:01:05 --ip 127.0.0.35 >/dev/null
out=$(ctl threshold set node5 bmc.temp.x --high --rise 75 --clear 70 2>&1)
check "... on a node without a BMC: refused, saying why ($out)" grep -q 'node5 has no BMC polled' <<<"$out"
check "no password in snowd's log" bash -c "! grep -q pw-not-in-logs '$dir/snowd.log'"
stop_pid $pid; pid=
check_sanitizer "$dir/snowd.log"
