#!/usr/bin/env bash
# The database down under snowd (docs/scale-out.md, "When something is
# down"): 5 simulated nodes report every 0.5 s with events; PostgreSQL is
# stopped.  snowd says degraded with libpq's reason, node reports are
# answered 503 (no 403, no registering again), and when PostgreSQL is back
# snowd is ok again by itself and every node online.  Nothing acknowledged
# is lost: every event the nodes were told is stored is in the database.
# Then PostgreSQL hangs (its postmaster stopped, snowd's backend ended): a
# connection attempt that is accepted and never answered does not hold
# snowd's loop, and snowd is ok again by itself when the server resumes.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/pg.sh"
[ -x "$SNOW_BIN/snow-nodesim" ] || { skip "snow-nodesim not built"; exit 0; }

dir=$(mktemp -d /tmp/snow-it-pgdown.XXXXXX)
chmod 0755 "$dir"
port=$(free_port)
url=http://127.0.0.1:$port
pid= sim=
on_exit 'stop_pid "$sim"; stop_pid "$pid"; [ "$_failures" -gt 0 ] && { tail -30 "$dir/snowd.log"; tail -20 "$dir/sim.err"; }; rm -rf "$dir"'
pg_start "$dir/pg"
case $? in
0) ok "PostgreSQL started" ;;
2) skip "PostgreSQL: no initdb (make deps installs postgresql)"; exit 0 ;;
*) not_ok "PostgreSQL started"; exit 1 ;;
esac
# connect_timeout bounds each attempt to reach the server; long, so that a loop held by one shows.
db="$(pg_url snow_down)&connect_timeout=30"

"$SNOW_ASAN_BIN/snowd" --db "$db" --state-dir "$dir/s" --listen "127.0.0.1:$port" \
	--boot-addr 127.0.0.1/16 --dnsmasq none --interval-ms 500 -v >>"$dir/snowd.log" 2>&1 &
pid=$!
check "snowd starts on PostgreSQL" wait_for 20 curl -sf "$url/api/v1/health"
export SNOW_TOKEN
SNOW_TOKEN=$(cat "$dir/s/admin.token")
auth=(-H "Authorization: Bearer $SNOW_TOKEN")
health() { curl -s "$url/api/v1/health" | python3 -c 'import json,sys; h=json.load(sys.stdin); print(h["status"], h["inventory"]["write_failures"])'; }
status_is() { [ "$(health | cut -d' ' -f1)" = "$1" ]; }
online() {
	curl -sf "${auth[@]}" "$url/api/v1/nodes" | python3 -c '
import json, sys
n = [x for x in json.load(sys.stdin)["nodes"] if x["name"].startswith("sim")]
sys.exit(0 if len(n) == 5 and all(x["state"] == "online" for x in n) else 1)'
}
stored() { pg_sql snow_down "SELECT count(*) FROM events e JOIN nodes n ON n.id = e.node_id WHERE n.name LIKE 'sim%' AND e.seq > 0"; }
more_than() { [ "$(stored)" -gt "$1" ]; }

"$SNOW_BIN/snow-nodesim" --url "$url" --add --count 5 --prefix sim --boot-delay-ms 200 \
	--interval-ms 500 --events-rate 20 --stats --json >"$dir/sim.out" 2>"$dir/sim.err" &
sim=$!
check "5 simulated nodes online" wait_for 30 online
check "their events are stored" wait_for 20 more_than 10

# The database goes away under the stream of reports.
lines0=$(wc -l <"$dir/sim.err")
check "PostgreSQL stopped" pg_halt
t0=$(date +%s%N)
check "health: degraded" wait_for 20 status_is degraded
check "health names libpq's reason" bash -c "curl -s '$url/api/v1/health' | grep -qi 'server\|connect\|terminat'"
# The simulator's line of each second: its failed reports since the halt.
failing() { [ "$(tail -n +"$((lines0 + 1))" "$dir/sim.err" | grep -c '| errors [1-9]')" -ge 3 ]; }
check "the nodes' reports fail while it is down (3 seconds of it)" wait_for 30 failing
check "boot files still served (the first iPXE script)" curl -sf -o /dev/null "$url/boot/first.ipxe"
echo "# down for $(( ($(date +%s%N) - t0) / 1000000 )) ms; load $(cut -d' ' -f1 /proc/loadavg)"

check "PostgreSQL started again" pg_resume
t1=$(date +%s%N)
check "snowd ok again by itself" wait_for 30 status_is ok
check "all 5 nodes online again" wait_for 30 online
echo "# ok and all online $(( ($(date +%s%N) - t1) / 1000000 )) ms after the restart; load $(cut -d' ' -f1 /proc/loadavg)"
before=$(stored)
check "events stored again" wait_for 20 more_than "$before"

# The server hangs: snowd's connection is ended and a new one is accepted, never answered.
backends=$(pg_sql snow_down "SELECT pid FROM pg_stat_activity WHERE datname = 'snow_down' AND pid <> pg_backend_pid()")
check "snowd's PostgreSQL backend found" test -n "$backends"
check "the postmaster stopped (SIGSTOP)" pg_freeze
check "snowd's backend ended" kill $backends
check "health: degraded while it hangs" wait_for 20 status_is degraded
# A loop held by the attempt would answer nothing for connect_timeout (30 s).
check "boot files served while it hangs" curl -sf --max-time 10 -o /dev/null "$url/boot/first.ipxe"
check "health answers while it hangs" curl -sf --max-time 10 -o /dev/null "$url/api/v1/health"
check "the postmaster resumed (SIGCONT)" pg_thaw
t1=$(date +%s%N)
check "snowd ok again by itself" wait_for 40 status_is ok
check "all 5 nodes online again" wait_for 30 online
echo "# ok and all online $(( ($(date +%s%N) - t1) / 1000000 )) ms after the resume; load $(cut -d' ' -f1 /proc/loadavg)"
before=$(stored)
check "events stored again" wait_for 20 more_than "$before"

# The simulator's own count of what snowd acknowledged, against what is stored.
stop_pid "$sim"; wait "$sim" 2>/dev/null; sim=
summary=$(tail -1 "$dir/sim.out")
field() { python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(eval("j" + sys.argv[2]))' "$summary" "$1"; }
acked=$(field '["events_acked"]') after=$(stored)
check "every event acknowledged is stored ($acked acknowledged, $after stored)" test "$after" -ge "$acked"
check "some events were acknowledged" test "$acked" -gt 0
check "reports answered 503 while it was down ($(field '["error_kinds"]["http_5xx"]'))" \
	test "$(field '["error_kinds"]["http_5xx"]')" -gt 0
echo "# the simulator's errors: $(field '["error_kinds"]')"
check_eq "no 4xx (no 403: the nodes' keys stayed good)" 0 "$(field '["error_kinds"]["http_4xx"]')"
check_eq "no node registered again" 5 "$(field '["registers"]')"
stop_pid "$pid"; pid=
check_sanitizer "$dir/snowd.log"
