#!/usr/bin/env bash
# Two snowd on one PostgreSQL (docs/scale-out.md), each on its own boot
# network (a third on A's is refused): 20 simulated nodes report to snowd A;
# snowd B's API, /metrics, SNMP subagent and stream show every one online
# with its values, a command queued on B reaches its node through A, and
# node.conf's host_url from either lists both.  Then A is killed (-9): five
# nodes whose host_url lists A, then B, move to B by themselves with nothing
# acknowledged lost; B shows A's other nodes offline once A's rows go stale;
# A's boot network is taken over; the nodes started again on B are its own.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/pg.sh"

dir=$(mktemp -d /tmp/snow-it-pg2.XXXXXX)
chmod 0755 "$dir"
pa=$(free_port) pb=$(free_port)
# Each on its own boot network (127.0.0.0/16 and 127.1.0.0/16, both on lo).
ua=http://127.0.0.1:$pa ub=http://127.1.0.1:$pb
pida= pidb= pidc= sim= fo= snmp_up=
on_exit '[ -n "$snmp_up" ] && "$SNOW_BIN/snow-snmp" down --state "$dir/b"; stop_pid "$sim"; stop_pid "$fo"; stop_pid "$pida"; stop_pid "$pidb"; stop_pid "$pidc"; [ "$_failures" -gt 0 ] && { tail -20 "$dir/a.log"; tail -20 "$dir/b.log"; tail -20 "$dir/sim.err"; tail -20 "$dir/fo.err"; tail -20 "$dir/b/snmp/subagent.log"; }; rm -rf "$dir"'
pg_start "$dir/pg"
case $? in
0) ok "PostgreSQL started" ;;
2) skip "PostgreSQL: no initdb (make deps installs postgresql)"; exit 0 ;;
*) not_ok "PostgreSQL started"; exit 1 ;;
esac
db=$(pg_url snow_two)

launch() { # launch NAME ADDR PORT: a snowd on the shared database, boot network ADDR/16
	exec "$SNOW_ASAN_BIN/snowd" --db "$db" --state-dir "$dir/$1" --listen "$2:$3" \
		--boot-addr "$2/16" --dnsmasq none --interval-ms 500 -v "${@:4}" >>"$dir/$1.log" 2>&1
}
# Both at once: the second waits for the first's migrations, neither fails.
launch a 127.0.0.1 "$pa" & pida=$!
launch b 127.1.0.1 "$pb" & pidb=$!
check "snowd A starts" wait_for 20 curl -sf "$ua/api/v1/health"
check "snowd B starts at the same time on the same database" wait_for 20 curl -sf "$ub/api/v1/health"
export SNOW_TOKEN
SNOW_TOKEN=$(cat "$dir/a/admin.token" 2>/dev/null || cat "$dir/b/admin.token")
auth=(-H "Authorization: Bearer $SNOW_TOKEN")
api() { curl -sf "${auth[@]}" "$1/api/v1/$2"; }
post() { curl -sf "${auth[@]}" -H 'Content-Type: application/json' -d "$3" "$1/api/v1/$2"; }
check "one admin token serves both (one inventory)" api "$ub" nodes

# A third snowd on A's boot network is refused, naming A and its network; snowd -n says the same.
pc=$(free_port)
(launch c 127.0.0.2 "$pc"); rc=$?
check "a snowd on a boot network another live snowd serves: refused (exit $rc)" test "$rc" -ne 0
check "its message names the other snowd and the network" \
	grep -q "127.0.0.2/16 overlaps 127.0.0.1/16, served by snowd $ua" "$dir/c.log"
# -n runs the plain build: the sanitizers' build exits before its output is flushed.
check "snowd -n refuses it too" bash -c "! '$SNOW_BIN/snowd' -n --db '$db' --state-dir '$dir/c' \
	--listen 127.0.0.2:$pc --boot-addr 127.0.0.2/16 --dnsmasq none >'$dir/c.n' 2>&1 && grep -q 'served by snowd $ua' '$dir/c.n'"
check "snowd -n on a free boot network: OK" "$SNOW_BIN/snowd" -n --db "$db" --state-dir "$dir/c" \
	--listen 127.2.0.1:$pc --boot-addr 127.2.0.1/16 --dnsmasq none

# A node's node.conf lists every snowd: the one that renders it first.
post "$ub" nodes '{"name":"ov1","mac":"52:54:00:bb:00:01","ip":"127.1.0.10"}' >/dev/null
host_url() { # host_url URL: the host_url of ov1's overlay from that snowd
	rm -rf "$dir/ov"; mkdir "$dir/ov"
	curl -s -o /dev/null --interface 127.1.0.10 "$1/boot/52-54-00-bb-00-01.ipxe"
	curl -s --interface 127.1.0.10 "$1/boot/52-54-00-bb-00-01/overlay.cpio" | (cd "$dir/ov" && cpio -id --quiet)
	sed -n 's/^host_url = //p' "$dir/ov/etc/snow/node.conf"
}
lists_both() { [ "$(host_url "$ub")" = "$ub, $ua" ]; }
check "node.conf from B: host_url = B, A" wait_for 10 lists_both
lists_both_a() { [ "$(host_url "$ua")" = "$ua, $ub" ]; }
check "node.conf from A: host_url = A, B (A renews its list every 5 s)" wait_for 10 lists_both_a

"$SNOW_BIN/snow-nodesim" --url "$ua" --add --count 20 --prefix sim --boot-delay-ms 200 \
	--interval-ms 500 >"$dir/sim.out" 2>"$dir/sim.err" &
sim=$!
# online URL WANT_VIA: all 20 online with their values; via is the snowd that holds them ("" none).
online() {
	api "$1" nodes | python3 -c '
import json, sys
via = sys.argv[1]
n = [x for x in json.load(sys.stdin)["nodes"] if x["name"].startswith("sim")]
ok = [x for x in n if x["state"] == "online" and len(x.get("values", {})) >= 40
      and x.get("via", "") == via]
sys.exit(0 if len(n) == 20 and len(ok) == 20 else 1)' "$2"
}
check "20 nodes online on A (their snowd)" wait_for 30 online "$ua" ""
check "B lists the same 20 online, with values, via A" wait_for 10 online "$ub" "$ua"
check_eq "B's page of one node says where it reports" "online $ua" \
	"$(api "$ub" nodes/sim0007 | python3 -c 'import json,sys; n=json.load(sys.stdin); print(n["state"], n.get("via"))')"

# /metrics on B counts A's nodes and shows their gauges, as the node list does.
metrics_b() {
	curl -sf "${auth[@]}" "$ub/metrics" | python3 -c '
import re, sys
t = sys.stdin.read()
m = re.search(r"^snow_nodes\{state=\"online\"\} (\d+)$", t, re.M)
up = re.findall(r"^snow_node_up\{node=\"sim\d+\"\} 1$", t, re.M)
g = re.findall(r"^snow_node_gauge\{node=\"sim0007\",name=\"[^\"]+\"\} \S+$", t, re.M)
c = re.findall(r"^snow_node_gauge\{node=\"sim0007\",name=\"sys.uptime_s\"\}", t, re.M)
sys.exit(0 if m and int(m.group(1)) >= 20 and len(up) == 20 and len(g) >= 10 and not c else 1)'
}
check "B's /metrics: A's 20 nodes up, counted online, their gauges (no counters)" wait_for 10 metrics_b

# The SNMP subagent behind a real snmpd, reading B: it lists A's nodes, online.
if command -v snmpd >/dev/null && command -v snmptrapd >/dev/null && [ -x "$SNOW_BIN/snow-subagent" ]; then
	(umask 077 && echo "$SNOW_TOKEN" >"$dir/snmp.token")
	snmp_port=$(free_port) trap_port=$(free_port)
	snmp_up=1
	check "snow-snmp up against B" "$SNOW_BIN/snow-snmp" up --state "$dir/b" --url "$ub" \
		--token-file "$dir/snmp.token" --listen "udp:127.0.0.1:$snmp_port" --trap "udp:127.0.0.1:$trap_port"
	read -ra v3 <<<"$("$SNOW_BIN/snow-snmp" args --state "$dir/b")"
	M=.1.3.6.1.4.1.8072.9999.9999.7669
	mib_online() {
		[ "$(MIBS="" SNMP_PERSISTENT_DIR=$dir/cli snmpget "${v3[@]}" -t 2 -r 1 -On -Oqv \
			"127.0.0.1:$snmp_port" $M.1.1.3.0 2>/dev/null)" = 21 ] &&
			[ "$(MIBS="" SNMP_PERSISTENT_DIR=$dir/cli snmpwalk "${v3[@]}" -t 2 -r 1 -On -Oqv -Oe \
				"127.0.0.1:$snmp_port" $M.1.2.1.5 2>/dev/null | grep -cx 2)" = 20 ] &&
			[ "$(MIBS="" SNMP_PERSISTENT_DIR=$dir/cli snmpbulkwalk "${v3[@]}" -t 2 -r 1 -On -Oqv \
				-Cr50 "127.0.0.1:$snmp_port" $M.1.3.1.6 2>/dev/null | wc -l)" -ge 400 ]
	}
	check "the subagent on B: snowAgentNodes 21 (A's 20 and ov1), A's 20 snowNodeState online(2), their values (20 x 20 or more snowValueCurrent)" wait_for 15 mib_online
	"$SNOW_BIN/snow-snmp" down --state "$dir/b"; snmp_up=
else
	skip "SNMP on B: snmpd, snmptrapd or snow-subagent missing"
fi

curl -sN --max-time 3 "${auth[@]}" "$ub/api/v1/stream" >"$dir/stream.b" 2>/dev/null
check "B's stream carries the values of nodes that report to A" grep -q '"sim00' "$dir/stream.b"

# A command queued on B reaches sim0003 through A: a low threshold above any reading raises.
t0=$(date +%s%N)
id=$(post "$ub" nodes/sim0003/commands '{"op":"threshold.set","args":{"value":"kern.mem.free_kb","kind":"low","rise":90000000,"clear":95000000}}' |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
done_on() { [ "$(api "$1" "commands/$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')" = done ]; }
check "a command queued on B is done by the node on A" wait_for 10 done_on "$ub"
echo "# command queued on B, seen done by the test: $(( ($(date +%s%N) - t0) / 1000000 )) ms;" \
	"its own times (s): $(api "$ub" "commands/$id" | python3 -c 'import json,sys; c=json.load(sys.stdin); print("created", c["created"], "sent", c.get("sent"), "done", c.get("done"))'); load $(cut -d' ' -f1 /proc/loadavg)"
raised() {
	api "$ub" "events?node=sim0003&limit=50" | python3 -c '
import json, sys
sys.exit(0 if [x for x in json.load(sys.stdin)["events"] if x["type"] == "threshold.raise"] else 1)'
}
check "its threshold.raise event, stored by A, is listed by B" wait_for 10 raised

# Five more nodes whose host_url lists A, then B (node.conf's list): they move by themselves.
"$SNOW_BIN/snow-nodesim" --url "$ua, $ub" --add --count 5 --prefix fo --boot-delay-ms 200 \
	--interval-ms 500 --events-rate 10 --json >"$dir/fo.out" 2>"$dir/fo.err" &
fo=$!
fo_online() { # fo_online VIA: the 5 online on B, through VIA ("": B's own)
	api "$ub" nodes | python3 -c '
import json, sys
n = [x for x in json.load(sys.stdin)["nodes"] if x["name"].startswith("fo")]
sys.exit(0 if len(n) == 5 and all(x["state"] == "online" and x.get("via", "") == sys.argv[1] for x in n) else 1)' "$1"
}
check "5 nodes with host_url 'A, B' online on A (B says via A)" wait_for 30 fo_online "$ua"
fo_stored() { pg_sql snow_two "SELECT count(*) FROM events e JOIN nodes n ON n.id = e.node_id WHERE n.name LIKE 'fo%' AND e.seq > 0"; }
fo_more() { [ "$(fo_stored)" -gt 5 ]; }
check "their events are stored" wait_for 20 fo_more

# A dies.  Its rows go stale: B says offline, not online for ever.
acked=$(pg_sql snow_two "SELECT count(*) FROM events")
kill -9 "$pida"; wait "$pida" 2>/dev/null; pida=
t0=$(date +%s%N)
check "A killed: the nodes with host_url 'A, B' report to B within 20 s" wait_for 20 fo_online ""
echo "# they were online on B $(( ($(date +%s%N) - t0) / 1000000 )) ms after A's kill -9; load $(cut -d' ' -f1 /proc/loadavg)"
stop_pid "$fo"; wait "$fo" 2>/dev/null; fo=
fo_field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$(tail -1 "$dir/fo.out")" "$1"; }
fo_acked=$(fo_field events_acked) fo_after=$(fo_stored)
check "nothing they were told is stored is lost ($fo_acked acknowledged, $fo_after stored)" \
	test "$fo_after" -ge "$fo_acked"
check "each of the 5 moved once or more ($(fo_field host_switches) moves)" test "$(fo_field host_switches)" -ge 5
offline() {
	api "$ub" nodes | python3 -c '
import json, sys
n = [x for x in json.load(sys.stdin)["nodes"] if x["name"].startswith("sim")]
sys.exit(0 if len(n) == 20 and all(x["state"] == "offline" for x in n) else 1)'
}
check "A killed: B shows its nodes offline within 25 s" wait_for 25 offline
# A's claim is stale now: a snowd on its boot network takes it over.
launch c 127.0.0.2 "$pc" & pidc=$!
check "A's boot network, its snowd dead: taken over by a new snowd" wait_for 20 curl -sf "http://127.0.0.2:$pc/api/v1/health"
stop_pid "$pidc"; pidc=
stop_pid "$sim"; sim=
after=$(pg_sql snow_two "SELECT count(*) FROM events")
check "every event stored before A died is still there ($acked, now $after)" test "$after" -ge "$acked"
# The nodes report to B now (what the agent's host_url list does by itself).
"$SNOW_BIN/snow-nodesim" --url "$ub" --count 20 --prefix sim --boot-delay-ms 200 \
	--interval-ms 500 >"$dir/sim.out" 2>"$dir/sim2.err" &
sim=$!
check "the nodes reporting to B: online there, its own" wait_for 30 online "$ub" ""
stop_pid "$sim"; sim=
stop_pid "$pidb"; pidb=
check_sanitizer "$dir/a.log" "$dir/b.log" "$dir/c.log"
