#!/usr/bin/env bash
# snow-subagent behind a real snmpd: snowd on loopback with simulated nodes,
# snow-snmp starting snmptrapd, snmpd (private config, AgentX on a unix
# socket, non-privileged ports) and the subagent; then SNMPv3 authPriv
# walks checked against snowd's API, SETs that reach the nodes, refused
# SETs that change nothing, refused noAuthNoPriv and v2c, an inform at
# snmptrapd for a threshold crossing, and reconnection after snowd and
# snmpd restart.
. "$(dirname "$0")/../lib.sh"
for t in snmpd snmptrapd snmpbulkwalk; do
	command -v $t >/dev/null || { skip "$t not installed (make deps)"; exit 0; }
done
[ -x "$SNOW_BIN/snow-nodesim" ] || { skip "snow-nodesim not built"; exit 0; }

dir=$(mktemp -d /tmp/snow-it-snmp.XXXXXX)
state=$dir/state
port=$(free_port)
url=http://127.0.0.1:$port
snmp_port=$(free_port) trap_port=$(free_port)
agent=127.0.0.1:$snmp_port
snowd_pid= sim_pid=
tport=$(free_port)
start_snowd() {
	# HTTPS beside plain HTTP: the subagent follows the stream over TLS at the end.
	[ -f "$dir/cert.pem" ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-days 2 -subj "/CN=snowd-test" -addext "subjectAltName=IP:127.0.0.1" \
		-keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
	"$SNOW_BIN/snowd" --state-dir "$state" --listen "127.0.0.1:$port" --boot-addr 127.0.0.1/8 \
		--tls-cert "$dir/cert.pem" --tls-key "$dir/key.pem" --tls-listen "127.0.0.1:$tport" --plain-api \
		--dnsmasq none --interval-ms 500 >>"$dir/snowd.log" 2>&1 &
	snowd_pid=$!
	wait_for 10 curl -sf "$url/api/v1/health"
}
cleanup() {
	"$SNOW_BIN/snow-snmp" down --state "$state" 2>/dev/null
	stop_pid "$sim_pid"
	stop_pid "$snowd_pid"
	if [ "$_failures" -gt 0 ]; then
		for f in snowd.log sim.log state/snmp/subagent.log state/snmp/snmpd.log state/snmp/snmptrapd.log; do
			echo "--- $f"; tail -25 "$dir/$f" 2>/dev/null
		done
	fi
	rm -rf "$dir"
}
on_exit cleanup

check "snowd starts" start_snowd
export SNOW_URL=$url SNOW_TOKEN=$(cat "$state/admin.token")
"$SNOW_BIN/snow-nodesim" --count 3 --add --seed 5 >"$dir/sim.log" 2>&1 &
sim_pid=$!
ctl() { "$SNOW_BIN/snowctl" "$@"; }
online() { [ "$(ctl node list --json | grep -c '"state": "online"')" -ge 3 ]; }
check "three simulated nodes online" wait_for 15 online

check "snow-snmp up (snmptrapd, snmpd, subagent)" "$SNOW_BIN/snow-snmp" up --state "$state" --url "$url" \
	--listen "udp:$agent" --trap "udp:127.0.0.1:$trap_port"
check "config files are private (0600)" bash -c "[ \"\$(stat -c %a '$state/snmp/snmpd.conf' '$state/snmp/snmptrapd.conf' '$state/snmp/credentials' | sort -u)\" = 600 ]"
check "the subagent has its own operator token, not the admin's" bash -c "'$SNOW_BIN/snowctl' token list --json | python3 -c 'import json,sys; t=[x for x in json.load(sys.stdin) if x[\"name\"]==\"snmp-subagent\"]; sys.exit(0 if t and t[0][\"role\"]==\"operator\" else 1)' && [ \"\$(stat -c %a '$state/snmp/subagent.token')\" = 600 ] && ! cmp -s '$state/snmp/subagent.token' '$state/admin.token'"
check "no community string in snmpd.conf" bash -c "! grep -Eq '^(rocommunity|rwcommunity|com2sec)' '$state/snmp/snmpd.conf'"

export MIBS="" MIBDIRS=$SNOW_TOP/snmp/mibs:$SNOW_TOP/snmp:/usr/share/snmp/mibs SNMP_PERSISTENT_DIR=$dir/cli
read -ra v3 <<<"$("$SNOW_BIN/snow-snmp" args --state "$state")"
M=.1.3.6.1.4.1.8072.9999.9999.7669
mib=(-m "$SNOW_TOP/snmp/SNOW-CLUSTER-MIB.txt")
get() { snmpget "${v3[@]}" -t 2 -r 1 -On -Oqv -Oe "$agent" "$@"; }
nodes_json() { curl -sf -H "Authorization: Bearer $SNOW_TOKEN" "$url/api/v1/nodes"; }
reachable() { [ "$(get $M.1.1.1.0 2>/dev/null)" = "$1" ]; }
check "subagent registered and reached snowd" wait_for 10 reachable 1
check "the subagent follows snowd's stream (not polling)" grep -q 'following the stream' "$state/snmp/subagent.log"

# Every table against snowd's view.
nodes_json >"$dir/before.json"
sleep 2 # the stream batch (0.5 s) and the next snapshot (0.5 s) after "before"
snmpbulkwalk "${v3[@]}" -On -Oq -Oe -Ot -Cr50 "$agent" $M >"$dir/walk.txt"
nodes_json >"$dir/after.json"
python3 "$SNOW_TOP/tests/snmp/snmpcheck.py" "$dir/walk.txt" "$dir/before.json" "$dir/after.json"
age=$(get $M.1.1.2.0)
check "data age under a second ($age ms)" test "$age" -lt 1000
check_eq "snowAgentNodes" 3 "$(get $M.1.1.3.0)"

# The node with the lowest id; its hw.temp.cpu thresholds (a real-valued gauge: 2 decimals).
nid=$(python3 -c 'import json,sys; print(min(n["id"] for n in json.load(open(sys.argv[1]))["nodes"]))' "$dir/after.json")
node=$(python3 -c 'import json,sys; print([n["name"] for n in json.load(open(sys.argv[1]))["nodes"] if n["id"]=='"$nid"'][0])' "$dir/after.json")
idx() { python3 -c 'import sys; n=sys.argv[2]; print("%s.%d.%s" % (sys.argv[1], len(n), ".".join(str(ord(c)) for c in n)))' "$1" "$2"; }
thr=$(idx "$nid" hw.temp.cpu)
thresholds() { ctl node show "$node" --json | python3 -c 'import json,sys; print(json.dumps(sorted(json.load(sys.stdin).get("thresholds") or [], key=lambda t:(t["value"],t["kind"]))))'; }
commands() { ctl command list "$node" 2>/dev/null | wc -l; }

# A threshold row exists only while the node has the threshold: RowStatus makes and removes it.
before=$(thresholds)
out=$(snmpset "${v3[@]}" -On "$agent" $M.1.4.1.2.$thr.1 i 9950 $M.1.4.1.3.$thr.1 i 9900 2>&1)
check "levels for a threshold that does not exist, without RowStatus: noCreation" grep -q noCreation <<<"$out"
out=$(snmpset "${v3[@]}" -On "$agent" $M.1.4.1.2.$thr.1 i 9950 $M.1.4.1.3.$thr.1 i 9900 $M.1.4.1.7.$thr.1 i 5 2>&1)
check "createAndWait: wrongValue (only createAndGo)" grep -q wrongValue <<<"$out"
out=$(snmpget "${v3[@]}" -On "$agent" $M.1.4.1.2.$thr.1 2>&1)
check "no row for it yet (noSuchInstance)" grep -q "No Such Instance" <<<"$out"
check_eq "and nothing sent to the node" "$before" "$(thresholds)"
# A SET reaches the node as a threshold command.
check "SET rise/clear of a high threshold with RowStatus createAndGo" snmpset "${v3[@]}" -On "$agent" \
	$M.1.4.1.2.$thr.1 i 9950 $M.1.4.1.3.$thr.1 i 9900 $M.1.4.1.7.$thr.1 i 4
has_thr() { thresholds | python3 -c 'import json,sys; t=[x for x in json.load(sys.stdin) if x["value"]=="hw.temp.cpu" and x["kind"]=="high"]; sys.exit(not (t and t[0]["rise"]==99.5 and t[0]["clear"]==99.0))'; }
check "the node applied it (snowctl shows rise 99.5, clear 99)" wait_for 10 has_thr
# The tables follow snowd's stream: the node's next report, snowd's next values batch (0.5 s),
# the subagent's next snapshot (interval-ms, 0.5 s).
shows() { [ "$(get "$1")" = "$2" ]; }
check "snmpget shows the new rise (9950)" wait_for 5 shows $M.1.4.1.2.$thr.1 9950
check_eq "and the threshold enabled" 1 "$(get $M.1.4.1.4.$thr.1)"
check_eq "its RowStatus active(1)" 1 "$(get $M.1.4.1.7.$thr.1)"
out=$(snmpset "${v3[@]}" -On "$agent" $M.1.4.1.2.$thr.1 i 9950 $M.1.4.1.3.$thr.1 i 9900 $M.1.4.1.7.$thr.1 i 4 2>&1)
check "createAndGo on a row that exists: inconsistentValue" grep -q inconsistentValue <<<"$out"

# Bad SETs are refused and change nothing.
before=$(thresholds) ncmd=$(commands)
out=$(snmpset "${v3[@]}" -On "$agent" $M.1.4.1.3.$thr.1 i 9990 2>&1)
check "clear above rise (high): inconsistentValue" grep -q inconsistentValue <<<"$out"
out=$(snmpset "${v3[@]}" -On "$agent" $M.1.4.1.2.$thr.2 i 1000 $M.1.4.1.3.$thr.2 i 500 $M.1.4.1.7.$thr.2 i 4 2>&1)
check "clear below rise (low): inconsistentValue" grep -q inconsistentValue <<<"$out"
out=$(snmpset "${v3[@]}" -On "$agent" $M.1.4.1.4.$thr.1 i 3 2>&1)
check "enabled = 3: wrongValue" grep -q wrongValue <<<"$out"
out=$(snmpset "${v3[@]}" -On "$agent" $M.1.4.1.2.$thr.1 s 12 2>&1)
check "a string for rise: wrongType" grep -q wrongType <<<"$out"
out=$(snmpset "${v3[@]}" -On "$agent" $M.1.4.1.2.$thr.1 i 9960 $M.1.4.1.4.$thr.2 i 7 2>&1)
check "one bad varbind refuses the whole SET" grep -q wrongValue <<<"$out"
out=$(snmpset "${v3[@]}" -On "$agent" $M.1.2.1.2.$nid s renamed 2>&1)
check "a read-only column is not writable" grep -Eq 'notWritable|noAccess' <<<"$out"
out=$(snmpset "${v3[@]}" -On "$agent" $M.1.4.1.2.$(idx "$nid" no.such.value).1 i 1 2>&1)
check "a row that does not exist: refused" grep -Eq 'noCreation|noAccess|notWritable' <<<"$out"
sleep 1.5
check_eq "thresholds unchanged on the node" "$before" "$(thresholds)"
check_eq "no command was queued" "$ncmd" "$(commands)"
check_eq "snmpget still shows the old rise" 9950 "$(get $M.1.4.1.2.$thr.1)"
# A GET right after a SET shows what the command will make of the row, not the last report.
check "SET rise 99.7" snmpset "${v3[@]}" -On "$agent" $M.1.4.1.2.$thr.1 i 9970
check_eq "a GET at once shows 9970 (the pending command)" 9970 "$(get $M.1.4.1.2.$thr.1)"
check_eq "and the clear level kept" 9900 "$(get $M.1.4.1.3.$thr.1)"
has_9970() { thresholds | python3 -c 'import json,sys; t=[x for x in json.load(sys.stdin) if x["value"]=="hw.temp.cpu" and x["kind"]=="high"]; sys.exit(not (t and t[0]["rise"]==99.7))'; }
check "the node applied it" wait_for 10 has_9970

# Device availability: refused while the device is online, then allowed.
dev=$(idx "$nid" cpu/cpu1)
out=$(snmpset "${v3[@]}" -On "$agent" $M.1.5.1.3.$dev i 2 2>&1)
check "disable an online CPU: inconsistentValue" grep -q inconsistentValue <<<"$out"
out=$(snmpset "${v3[@]}" -On "$agent" $M.1.5.1.3.$dev i 3 2>&1)
check "admin state shuttingDown(3): wrongValue" grep -q wrongValue <<<"$out"
check "take cpu1 offline (snowctl)" ctl device "$node" cpu/cpu1 offline
can_disable() { [ "$(get $M.1.5.1.6.$dev)" = 1 ]; }
check "snowDeviceCanDisable turns true" wait_for 10 can_disable
check "SET snowDeviceAdminState locked(2)" snmpset "${v3[@]}" -On "$agent" $M.1.5.1.3.$dev i 2
check_eq "a GET at once shows locked(2)" 2 "$(get $M.1.5.1.3.$dev)"
disabled() { ctl node show "$node" --json | python3 -c 'import json,sys; d=[x for x in json.load(sys.stdin)["devices"] if x["path"]=="cpu/cpu1"][0]; sys.exit(d["avail"]!="disabled")'; }
check "the node disabled cpu1" wait_for 10 disabled
locked() { [ "$(get $M.1.5.1.3.$dev)" = 2 ]; }
check "snmpget shows locked(2)" wait_for 5 locked

# Security: no access without authPriv, none with v1/v2c.
out=$(snmpget -v3 -l noAuthNoPriv -u snowadmin -t 1 -r 0 "$agent" $M.1.2.1.2.$nid 2>&1)
check "noAuthNoPriv refused" grep -Eq 'authorizationError|unknown user|Unknown user' <<<"$out"
read -ra v3auth <<<"$(sed 's/ -x AES -X [^ ]*//; s/authPriv/authNoPriv/' <<<"${v3[*]}")"
out=$(snmpget "${v3auth[@]}" -t 1 -r 0 "$agent" $M.1.2.1.2.$nid 2>&1)
check "authNoPriv refused" grep -q authorizationError <<<"$out"
check "v2c 'public' gets nothing" bash -c "! snmpget -v2c -c public -t 1 -r 0 '$agent' $M.1.2.1.2.$nid >/dev/null 2>&1"
out=$(snmpget "${v3[@]}" -t 1 -r 0 "$agent" .1.3.6.1.2.1.1.1.0 2>&1)
check "the view holds only the Snow MIB" grep -Eq 'No Such Object|noSuchObject' <<<"$out"

# A threshold crossing becomes an inform at snmptrapd.
check "SET a high threshold below the current temperature" snmpset "${v3[@]}" -On "$agent" \
	$M.1.4.1.2.$thr.1 i 100 $M.1.4.1.3.$thr.1 i 50
informed() { grep -q "snowThresholdRaised.*snowNodeName.$nid = STRING: \"\?$node.*hw.temp.cpu.*high.*raised" "$state/snmp/snmptrapd.log"; }
check "snmptrapd received snowThresholdRaised for $node hw.temp.cpu" wait_for 15 informed
check "the subagent sent it" grep -q "notification: raised $node hw.temp.cpu/high" "$state/snmp/subagent.log"
# A kernel panic on netconsole (from the node's own address to snowd's UDP port) becomes a
# crash event, and that an inform.
nip=$(python3 -c 'import json,sys; print([n["ip"] for n in json.load(open(sys.argv[1]))["nodes"] if n["id"]=='"$nid"'][0])' "$dir/after.json")
python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], 0))
for l in (b"[   41.000001] sysrq: Trigger a crash\n", b"[   41.000002] Kernel panic - not syncing: snmp test crash\n"): s.sendto(l, ("127.0.0.1", int(sys.argv[2])))' "$nip" "$port"
crashed() { grep -q "snowNodeCrashed.*snowNodeName.$nid = STRING: \"\?$node.*snowNotifyText.0 = STRING: \"\?Kernel panic - not syncing: snmp test crash" "$state/snmp/snmptrapd.log"; }
check "snmptrapd received snowNodeCrashed for $node with the panic line" wait_for 20 crashed
check_eq "snowNodePowerState of the online $node: on(2)" 2 "$(get $M.1.2.1.12.$nid)"
crash_time() { local v; v=$(get $M.1.2.1.11.$nid 2>/dev/null) && [ -n "$v" ] && ! grep -q '00 00 00 00 00 00 00 00' <<<"$v"; }
check "snowNodeLastCrash of $node is set" wait_for 10 crash_time
# destroy removes the threshold from the node, and the row goes with it.
check "SET RowStatus destroy(6)" snmpset "${v3[@]}" -On "$agent" $M.1.4.1.7.$thr.1 i 6
out=$(snmpget "${v3[@]}" -On "$agent" $M.1.4.1.2.$thr.1 2>&1)
check "a GET at once finds no row" grep -q "No Such Instance" <<<"$out"
no_thr() { thresholds | python3 -c 'import json,sys; sys.exit(any(x["value"]=="hw.temp.cpu" and x["kind"]=="high" for x in json.load(sys.stdin)))'; }
check "the node removed it" wait_for 10 no_thr
row_gone() { snmpget "${v3[@]}" -On "$agent" $M.1.4.1.2.$thr.1 2>&1 | grep -q "No Such Instance"; }
check "and its row is gone" wait_for 5 row_gone

# snowd restarts: the subagent says so, then finds it again.
stop_pid "$snowd_pid"
check "snowAgentSnowdReachable false while snowd is down" wait_for 15 reachable 2
check "snowd restarts" start_snowd
check "the subagent reaches snowd again" wait_for 15 reachable 1
# snmpd restarts: the subagent reconnects over AgentX.
stop_pid "$(cat "$state/snmp/snmpd.pid")"
check "snmpd restarts (snow-snmp up starts what is missing)" "$SNOW_BIN/snow-snmp" up --state "$state" \
	--url "$url" --listen "udp:$agent" --trap "udp:127.0.0.1:$trap_port"
served() { [ "$(get $M.1.1.3.0 2>/dev/null)" = 3 ]; }
check "the subagent reconnected to the new snmpd within 5 s" wait_for 5 served

# The polling mode (what an https:// URL gets): the same tables.
stop_pid "$(cat "$state/snmp/snow-subagent.pid")"
check "the subagent restarts with --poll" env SNOW_SUBAGENT_ARGS=--poll "$SNOW_BIN/snow-snmp" up \
	--state "$state" --url "$url" --listen "udp:$agent" --trap "udp:127.0.0.1:$trap_port"
check "polling: it serves the three nodes" wait_for 10 served
check "polling: it says so" wait_for 5 grep -q 'snowd: reached' "$state/snmp/subagent.log"
nodes_json >"$dir/before.json"
sleep 2 # a poll after "before"
snmpbulkwalk "${v3[@]}" -On -Oq -Oe -Ot -Cr50 "$agent" $M >"$dir/walk.txt"
nodes_json >"$dir/after.json"
python3 "$SNOW_TOP/tests/snmp/snmpcheck.py" "$dir/walk.txt" "$dir/before.json" "$dir/after.json" | sed 's/^\(not \)\{0,1\}ok - /&polling: /'

# Over HTTPS (the subagent checks snowd's certificate against SNOW_CA), following the stream.
stop_pid "$(cat "$state/snmp/snow-subagent.pid")"
check "the subagent restarts on https:// with SNOW_CA" env SNOW_CA="$dir/cert.pem" "$SNOW_BIN/snow-snmp" up \
	--state "$state" --url "https://127.0.0.1:$tport" --listen "udp:$agent" --trap "udp:127.0.0.1:$trap_port"
check "https: it serves the three nodes" wait_for 10 served
check "https: it follows the stream" wait_for 5 grep -q "following the stream at 127.0.0.1:$tport" "$state/snmp/subagent.log"

# The same MIB inside snmpd (dlmod snmpd-snow.so): no subagent, the same tables and SETs.
check "snow-snmp down" "$SNOW_BIN/snow-snmp" down --state "$state"
check "snow-snmp up --in-snmpd" "$SNOW_BIN/snow-snmp" up --in-snmpd --state "$state" --url "$url" \
	--listen "udp:$agent" --trap "udp:127.0.0.1:$trap_port"
check "no subagent process was started" test ! -e "$state/snmp/snow-subagent.pid"
check "in snmpd: it serves the three nodes" wait_for 15 served
check "snmpd's log says the module serves the MIB" grep -q "snow: serving SNOW-CLUSTER-MIB inside snmpd" "$state/snmp/snmpd.log"
nodes_json >"$dir/before.json"
t_before=$(date +%s%3N)
# Served data newer than "before" by more than the stream's batch (500 ms): snowAgentDataAge
# says when the snapshot served arrived.
newer() { local age; age=$(get $M.1.1.2.0 2>/dev/null) || return 1; [ $(($(date +%s%3N) - age)) -gt $((t_before + 600)) ]; }
check "in snmpd: a snapshot newer than the API's copy" wait_for 15 newer
snmpbulkwalk "${v3[@]}" -On -Oq -Oe -Ot -Cr50 "$agent" $M >"$dir/walk.txt"
nodes_json >"$dir/after.json"
python3 "$SNOW_TOP/tests/snmp/snmpcheck.py" "$dir/walk.txt" "$dir/before.json" "$dir/after.json" | sed 's/^\(not \)\{0,1\}ok - /&in snmpd: /'
thr2=$(idx "$nid" hw.temp.board)
check "in snmpd: SET a new threshold with createAndGo" snmpset "${v3[@]}" -On "$agent" \
	$M.1.4.1.2.$thr2.1 i 9000 $M.1.4.1.3.$thr2.1 i 8000 $M.1.4.1.7.$thr2.1 i 4
has_thr2() { thresholds | python3 -c 'import json,sys; sys.exit(not any(x["value"]=="hw.temp.board" and x["kind"]=="high" and x["rise"]==90 for x in json.load(sys.stdin)))'; }
check "in snmpd: the node applied it" wait_for 15 has_thr2
# SIGHUP: snmpd unloads the module (deinit_snow: the fetcher stops, the tables go) and loads it again.
kill -HUP "$(cat "$state/snmp/snmpd.pid")"
reloaded() { [ "$(grep -c 'snow: serving SNOW-CLUSTER-MIB inside snmpd' "$state/snmp/snmpd.log")" -ge 2 ]; }
check "in snmpd: SIGHUP reloads the module" wait_for 15 reloaded
check "in snmpd: it serves the three nodes after the reload" wait_for 15 served
check "snmpd is still the same process" kill -0 "$(cat "$state/snmp/snmpd.pid")"
