#!/usr/bin/env bash
# The node's link to snowd: keep-alive and failover between two snowd.
# Two snowd on loopback share the same nodes and secrets (B starts from a
# copy of A's state folder: for the node side, the same as two snowd on one
# database).  snow-agent lk1 (fixture root, keep-alive, host_url listing A
# then B), snow-agent lk2 (keep_alive = no) and 20 snow-nodesim nodes
# (--keep-alive, --url A,B) report to A:
# - keep-alive: lk1 holds one connection to A (ss: the same local port while
#   it sends reports; its log says it connected once); lk2 holds none
#   between its reports; nodesim holds one connection per node;
# - an event posted before the kill is stored by A; kill -9 A; an event posted
#   at once (while lk1 still talks to the dead A) and one after the switch are
#   stored by B; every node (2 agents, 20 simulated) online on B within 20 s;
#   the agents' event seqs stored by A (its database, read after the kill)
#   and B together leave no gap; each switch logged once;
# - A started again: lk1 stays with B (it goes back only when B fails); kill -9
#   B: lk1 moves back to A;
# - B started again, A stopped (SIGSTOP, a snowd that hangs): lk1's request
#   times out and it moves to B.
. "$(dirname "$0")/../lib.sh"

agent=$SNOW_BIN/snow-agent
post=$SNOW_BIN/snow-event
sim=$SNOW_BIN/snow-nodesim
snowd=$SNOW_ASAN_BIN/snowd
for b in "$agent" "$post" "$sim" "$snowd"; do
	[ -x "$b" ] || { not_ok "$b missing (run 'make' and 'make unit-tests')"; exit 1; }
done
work=$(mktemp -d /tmp/snow-it-link.XXXXXX)
a_pid='' b_pid='' lk1_pid='' lk2_pid='' sim_pid=''
on_exit '[ -n "$a_pid" ] && kill -CONT "$a_pid" 2>/dev/null; stop_pid "$sim_pid"; stop_pid "$lk1_pid"; stop_pid "$lk2_pid"; stop_pid "$a_pid"; stop_pid "$b_pid"; [ "$_failures" -gt 0 ] && { grep -v "\[debug\]" "$work/lk1.log" | tail -20 | sed "s/^/# lk1: /"; tail -n 15 "$work/nodesim.err" | sed "s/^/# sim: /"; tail -n 10 "$work/a.log" "$work/b.log" | sed "s/^/# /"; }; rm -rf "$work"'
cp -a "$SNOW_TOP/tests/node-os/fixtures/good" "$work/root1"
cp -a "$SNOW_TOP/tests/node-os/fixtures/good" "$work/root2"
pa=$(free_port)
pb=$(free_port)
ua=http://127.0.0.1:$pa
ub=http://127.0.0.1:$pb
start_snowd() { # start_snowd NAME PORT STATE -> sets ${NAME}_pid
	"$snowd" --state-dir "$3" --listen "127.0.0.1:$2" --boot-addr 127.0.0.1/8 --dnsmasq none \
		--interval-ms 500 --offline-after-ms 3000 >>"$work/$1.log" 2>&1 &
	eval "$1_pid=$!"
}
start_snowd a "$pa" "$work/sa"
check "snowd A starts" wait_for 10 curl -sf "$ua/api/v1/health"
export SNOW_URL=$ua SNOW_TOKEN
SNOW_TOKEN=$(cat "$work/sa/admin.token")
node_ip() { "$SNOW_BIN/snowctl" node show "$1" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["ip"])'; }
for i in 1 2; do
	"$SNOW_BIN/snowctl" node add "lk$i" --mac "52:54:00:ab:0a:0$i" >/dev/null
	secret=$(node_secret "$ua" "52:54:00:ab:0a:0$i" "$(node_ip "lk$i")" "$work/ov$i")
	check "lk$i's secret from its overlay" [ -n "$secret" ]
	cat >"$work/lk$i.conf" <<CONF
name = lk$i
host_url = $ua, $ub
secret = $secret
mac = 52:54:00:ab:0a:0$i
watchdog = none
CONF
done
echo "keep_alive = no" >>"$work/lk2.conf"
"$sim" --url "$ua" --add --count 20 --prefix lks --once >/dev/null 2>"$work/nodesim-add.err"
check "20 simulated nodes added" [ "$?" = 0 ]

# B: the same nodes and secrets, from a copy of A's state taken while A is stopped.
stop_pid "$a_pid"; a_pid=
cp -a "$work/sa" "$work/sb"
start_snowd a "$pa" "$work/sa"
start_snowd b "$pb" "$work/sb"
check "snowd A and B start" wait_for 10 sh -c "curl -sf $ua/api/v1/health && curl -sf $ub/api/v1/health"

"$agent" --config "$work/lk1.conf" --root "$work/root1" --state_dir "$work/st1" -v 2>"$work/lk1.log" &
lk1_pid=$!
"$agent" --config "$work/lk2.conf" --root "$work/root2" --state_dir "$work/st2" 2>"$work/lk2.log" &
lk2_pid=$!
"$sim" --url "$ua,$ub" --prefix lks --count 20 --keep-alive --json >"$work/nodesim.out" 2>"$work/nodesim.err" &
sim_pid=$!

# online_on URL N: N nodes (lk*) online on that snowd.
online_on() {
	curl -sf -H "Authorization: Bearer $SNOW_TOKEN" "$1/api/v1/nodes" | python3 -c '
import json, sys
n = [x for x in json.load(sys.stdin)["nodes"] if x["name"].startswith("lk") and x["state"] == "online"]
sys.exit(0 if len(n) >= int(sys.argv[1]) else 1)' "$2"
}
check "22 nodes online on A (2 agents, 20 simulated)" wait_for 30 online_on "$ua" 22

# Keep-alive, as snowd's side sees it: the agent's connections to a port.
conns() { ss -tnpH state established "( dport = :$2 )" | grep "pid=$1," | awk '{print $3}' | sort; }
reports() { grep -c 'report [0-9]* sent' "$work/lk1.log"; }
p1=$(conns "$lk1_pid" "$pa")
check_eq "lk1 holds one connection to A" 1 "$(echo "$p1" | grep -c .)"
r0=$(reports)
check "lk1 sends 6 more reports" wait_for 20 sh -c "[ \$(grep -c 'report [0-9]* sent' '$work/lk1.log') -ge $((r0 + 6)) ]"
check_eq "... on that same connection" "$p1" "$(conns "$lk1_pid" "$pa")"
check_eq "lk1 connected once" 1 "$(grep -c 'connected to 127.0.0.1' "$work/lk1.log")"
# lk2 (keep_alive = no) holds no connection between its reports: sampled 30 times over 3 s.
held=0
for _ in $(seq 30); do [ -n "$(conns "$lk2_pid" "$pa")" ] && held=$((held + 1)); sleep 0.1; done
check "lk2 (keep_alive = no) holds no connection between reports (held in $held of 30 samples)" [ "$held" -le 5 ]
check_eq "nodesim keeps one connection per node" 20 "$(conns "$sim_pid" "$pa" | grep -c .)"

# evq URL TYPE: the seqs of lk1's events of that type stored by that snowd.
evq() {
	curl -s -H "Authorization: Bearer $SNOW_TOKEN" "$1/api/v1/events?node=lk1&limit=1000" |
		python3 -c 'import json, sys; print(sorted(e["seq"] for e in json.load(sys.stdin)["events"] if e["type"] == sys.argv[1]))' "$2"
}
has() { [ "$(evq "$1" "$2")" != "[]" ]; }
"$post" -s "$work/st1/event.sock" -p linktest before.kill >/dev/null
check "an event posted before the kill is stored by A" wait_for 10 has "$ua" app.before.kill

echo "# kill -9 A at $(date +%T.%3N)"
kill -9 "$a_pid"; wait "$a_pid" 2>/dev/null; a_pid=
t0=$SECONDS
"$post" -s "$work/st1/event.sock" -p linktest at.kill >/dev/null
check "every node online on B within 20 s" wait_for 20 online_on "$ub" 22
echo "# every node reported through B $((SECONDS - t0)) s after the kill, at $(date +%T.%3N)"
grep -hE 'switching|registered|answered|host unreachable' "$work/lk1.log" "$work/lk2.log" | sed 's/^/# /' 
"$post" -s "$work/st1/event.sock" -p linktest after.switch >/dev/null
check "the event posted at the kill is stored by B" wait_for 10 has "$ub" app.at.kill
check "the event posted after the switch is stored by B" wait_for 10 has "$ub" app.after.switch
check_eq "lk1 logged its switch once" 1 "$(grep -c 'stopped answering.*switching to 127.0.0.1:'"$pb" "$work/lk1.log")"
check_eq "lk2 logged its switch once" 1 "$(grep -c 'stopped answering.*switching to 127.0.0.1:'"$pb" "$work/lk2.log")"
check "nodesim logged the move once" [ "$(grep -c 'stopped answering.*moving it to' "$work/nodesim.err")" = 1 ]
# Every event seq of lk1 is stored by A (its database, as the kill left it) or by B.
seqs_a=$(python3 -c '
import sqlite3, sys, glob
db = sqlite3.connect(glob.glob(sys.argv[1] + "/*.db")[0])
print(" ".join(str(r[0]) for r in db.execute("SELECT e.seq FROM events e JOIN nodes n ON n.id = e.node_id WHERE n.name = ?", ("lk1",))))' "$work/sa")
seqs_b=$(curl -s -H "Authorization: Bearer $SNOW_TOKEN" "$ub/api/v1/events?node=lk1&limit=1000" |
	python3 -c 'import json, sys; print(" ".join(str(e["seq"]) for e in json.load(sys.stdin)["events"]))')
gap=$(python3 -c '
import sys
s = {int(x) for x in (sys.argv[1] + " " + sys.argv[2]).split()}
print([i for i in range(1, max(s) + 1) if i not in s] if s else "none")' "$seqs_a" "$seqs_b")
check_eq "lk1's events 1..last all stored, by A or B" "[]" "$gap"

# A is back: lk1 stays with B until B fails, then goes back to A.
start_snowd a "$pa" "$work/sa"
check "snowd A starts again" wait_for 10 curl -sf "$ua/api/v1/health"
r0=$(reports)
check "lk1 reports 4 more times" wait_for 20 sh -c "[ \$(grep -c 'report [0-9]* sent' '$work/lk1.log') -ge $((r0 + 4)) ]"
check_eq "... still to B" "0 1" "$(conns "$lk1_pid" "$pa" | grep -c .) $(conns "$lk1_pid" "$pb" | grep -c .)"
kill -9 "$b_pid"; wait "$b_pid" 2>/dev/null; b_pid=
"$post" -s "$work/st1/event.sock" -p linktest b.killed >/dev/null
check "B killed: lk1 back on A, its event stored there" wait_for 20 has "$ua" app.b.killed
check "lk1 logged that switch once too" grep -q "127.0.0.1:$pb stopped answering.*switching to 127.0.0.1:$pa" "$work/lk1.log"

# A snowd that hangs (SIGSTOP): lk1's request times out (5 s) and it moves to B, started again.
start_snowd b "$pb" "$work/sb"
check "snowd B starts again" wait_for 10 curl -sf "$ub/api/v1/health"
kill -STOP "$a_pid"
"$post" -s "$work/st1/event.sock" -p linktest a.hung >/dev/null
check "A hung: lk1 on B within 20 s, its event stored there" wait_for 20 has "$ub" app.a.hung
check "the timeout named in the switch" grep -q "127.0.0.1:$pa stopped answering (.*in time): switching to 127.0.0.1:$pb" "$work/lk1.log"
kill -CONT "$a_pid"

stop_pid "$sim_pid"; sim_pid=
check "nodesim counted its switches" python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
sys.exit(0 if j["host_switches"] >= 20 else 1)' "$work/nodesim.out"
stop_pid "$lk1_pid"; lk1_pid=
stop_pid "$lk2_pid"; lk2_pid=
stop_pid "$a_pid"; a_pid=
check "no secret in the logs" sh -c "! grep -rqE '$secret' '$work/lk1.log' '$work/lk2.log' '$work/nodesim.err' '$work/a.log' '$work/b.log'"
check_sanitizer "$work/a.log" "$work/b.log"
