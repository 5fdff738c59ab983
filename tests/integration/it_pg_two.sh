#!/usr/bin/env bash
# Two snowd on one PostgreSQL (docs/scale-out.md): 20 simulated nodes report
# to snowd A; snowd B's API lists every one online with its values, B's
# stream carries them, and a command queued on B reaches its node through A.
# Then A is killed (-9): B shows the nodes offline once A's rows go stale,
# and when the nodes report to B instead (snow-nodesim started again on B, the
# failover the agent will do by itself) B shows them online, its own.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/pg.sh"

dir=$(mktemp -d /tmp/snow-it-pg2.XXXXXX)
chmod 0755 "$dir"
pa=$(free_port) pb=$(free_port)
ua=http://127.0.0.1:$pa ub=http://127.0.0.1:$pb
pida= pidb= sim=
on_exit 'stop_pid "$sim"; stop_pid "$pida"; stop_pid "$pidb"; [ "$_failures" -gt 0 ] && { tail -20 "$dir/a.log"; tail -20 "$dir/b.log"; tail -20 "$dir/sim.err"; }; rm -rf "$dir"'
pg_start "$dir/pg"
case $? in
0) ok "PostgreSQL started" ;;
2) skip "PostgreSQL: no initdb (make deps installs postgresql)"; exit 0 ;;
*) not_ok "PostgreSQL started"; exit 1 ;;
esac
db=$(pg_url snow_two)

launch() { # launch NAME PORT: a snowd on the shared database
	"$SNOW_ASAN_BIN/snowd" --db "$db" --state-dir "$dir/$1" --listen "127.0.0.1:$2" \
		--boot-addr 127.0.0.1/8 --dnsmasq none --interval-ms 500 -v >>"$dir/$1.log" 2>&1 &
}
# Both at once: the second waits for the first's migrations, neither fails.
launch a "$pa"; pida=$!
launch b "$pb"; pidb=$!
check "snowd A starts" wait_for 20 curl -sf "$ua/api/v1/health"
check "snowd B starts at the same time on the same database" wait_for 20 curl -sf "$ub/api/v1/health"
export SNOW_TOKEN
SNOW_TOKEN=$(cat "$dir/a/admin.token" 2>/dev/null || cat "$dir/b/admin.token")
auth=(-H "Authorization: Bearer $SNOW_TOKEN")
api() { curl -sf "${auth[@]}" "$1/api/v1/$2"; }
post() { curl -sf "${auth[@]}" -H 'Content-Type: application/json' -d "$3" "$1/api/v1/$2"; }
check "one admin token serves both (one inventory)" api "$ub" nodes

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

# A dies.  Its rows go stale: B says offline, not online for ever.
acked=$(pg_sql snow_two "SELECT count(*) FROM events")
kill -9 "$pida"; wait "$pida" 2>/dev/null; pida=
offline() {
	api "$ub" nodes | python3 -c '
import json, sys
n = [x for x in json.load(sys.stdin)["nodes"] if x["name"].startswith("sim")]
sys.exit(0 if len(n) == 20 and all(x["state"] == "offline" for x in n) else 1)'
}
check "A killed: B shows its nodes offline within 25 s" wait_for 25 offline
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
check_sanitizer "$dir/a.log" "$dir/b.log"
