#!/usr/bin/env bash
# make bench-snmp: walk the whole SNOW-CLUSTER-MIB for NODES (default 1000)
# simulated nodes with snmpbulkwalk (SNMPv3 authPriv, -Cr50), and, in the
# same run, an snmpd-native table of similar size: IF-MIB's ifTable and
# ifXTable for IFACES (default 5000) veth interfaces in a private network
# namespace, served by snmpd itself (no AgentX).  Prints times, varbinds and
# varbinds per second.  A benchmark: it reports, it never fails on speed.
. "$(dirname "$0")/../lib.sh"
need_root "bench-snmp (network namespace for the native table)"
NODES=${NODES:-1000} IFACES=${IFACES:-5000} REPS=${REPS:-50}
# BIG_NODES: the idle subagent and its memory once more at this many nodes (0: not).
BIG_NODES=${BIG_NODES:-10000}
# AGENTX=0: leave out the walks through AgentX (minutes at 1000 nodes), keep the idle figures,
# the native table and the module inside snmpd.
AGENTX=${AGENTX:-1}

dir=$(mktemp -d /tmp/snow-bench-snmp.XXXXXX)
state=$dir/state
port=$(free_port)
url=http://127.0.0.1:$port
agent=127.0.0.1:$(free_port) trap=127.0.0.1:$(free_port)
ns=snowbench$$
snowd_pid= sim_pid= nat_pid=
cleanup() {
	"$SNOW_BIN/snow-snmp" down --state "$state" 2>/dev/null
	stop_pid "$nat_pid"
	stop_pid "$sim_pid"
	stop_pid "$snowd_pid"
	ip netns del "$ns" 2>/dev/null
	rm -rf "$dir"
}
on_exit cleanup

"$SNOW_BIN/snowd" --state-dir "$state" --listen "127.0.0.1:$port" --boot-addr 127.0.0.1/8 \
	--dnsmasq none --interval-ms 2000 >"$dir/snowd.log" 2>&1 &
snowd_pid=$!
wait_for 10 curl -sf "$url/api/v1/health" || { echo "snowd did not start"; exit 1; }
export SNOW_URL=$url SNOW_TOKEN=$(cat "$state/admin.token")
"$SNOW_BIN/snow-nodesim" --count "$NODES" --add >"$dir/sim.log" 2>&1 &
sim_pid=$!
online() { [ "$(curl -sf -H "Authorization: Bearer $SNOW_TOKEN" "$url/api/v1/nodes" | grep -o '"state": *"online"' | wc -l)" -ge "$NODES" ]; }
wait_for 120 online || { echo "not all $NODES nodes came online"; tail "$dir/sim.log"; exit 1; }
"$SNOW_BIN/snow-snmp" up --state "$state" --url "$url" --listen "udp:$agent" \
	--trap "udp:$trap" >/dev/null
export MIBS="" SNMP_PERSISTENT_DIR=$dir/cli
read -ra v3 <<<"$("$SNOW_BIN/snow-snmp" args --state "$state")"
M=.1.3.6.1.4.1.8072.9999.9999.7669
served() { [ "$(snmpget "${v3[@]}" -Oqv "$agent" $M.1.1.3.0 2>/dev/null)" = "$NODES" ]; }
wait_for 60 served || { echo "the subagent does not serve $NODES nodes"; exit 1; }

# walk NAME ARGS...: time one snmpbulkwalk, print varbinds and rate (kept in $dir/rate.NAME).
walk() {
	local name=$1 t0 t1 n; shift
	t0=$(date +%s.%N)
	n=$("$@" | wc -l)
	t1=$(date +%s.%N)
	python3 -c 'import sys; n=int(sys.argv[2]); s=float(sys.argv[4])-float(sys.argv[3]); print("%-44s %8d varbinds %7.2f s %9.0f varbinds/s" % (sys.argv[1], n, s, n/s))
open(sys.argv[5], "w").write("%f\n" % (n/s))' \
		"$name" "$n" "$t0" "$t1" "$dir/rate.${name// /_}"
}

# idle_cpu LABEL [PID] [WHO]: CPU of the subagent (or PID, named WHO) and of
# snowd over 20 s with no SNMP request.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
idle_cpu() {
	local sa t0a t0s t1a t1s s0 s1 who=${3:-subagent}
	sa=${2:-$(cat "$state/snmp/snow-subagent.pid")}
	t0a=$(ticks "$sa") t0s=$(ticks "$snowd_pid") s0=$(date +%s.%N)
	sleep 20
	t1a=$(ticks "$sa") t1s=$(ticks "$snowd_pid") s1=$(date +%s.%N)
	WHO=$who python3 -c 'import sys,os; hz=os.sysconf("SC_CLK_TCK"); a=[float(x) for x in sys.argv[2:]]; s=a[5]-a[4]
print("%-44s %s %5.1f %% of a core, snowd %5.1f %% (%d nodes reporting every 2 s)" % (sys.argv[1], os.environ["WHO"], 100*(a[1]-a[0])/hz/s, 100*(a[3]-a[2])/hz/s, int(os.environ["NODES"])))' \
		"$1" "$t0a" "$t1a" "$t0s" "$t1s" "$s0" "$s1"
	echo "   memory: $who $(awk '/^VmRSS/ {print $2 / 1024 " MiB"}' "/proc/$sa/status") RSS, snowd $(awk '/^VmRSS/ {print $2 / 1024 " MiB"}' "/proc/$snowd_pid/status")"
}
export NODES

echo "== SNOW-CLUSTER-MIB, $NODES simulated nodes, snmpbulkwalk -v3 authPriv -Cr$REPS (through AgentX)"
echo "   the subagent follows snowd's stream (its default)"
idle_cpu "idle, 20 s, following the stream"
if [ "$AGENTX" = 1 ]; then
walk "whole MIB" snmpbulkwalk "${v3[@]}" -t 10 -r 2 -Cr"$REPS" -On "$agent" $M
walk "snowValueTable" snmpbulkwalk "${v3[@]}" -t 10 -r 2 -Cr"$REPS" -On "$agent" $M.1.3
walk "snowThresholdTable" snmpbulkwalk "${v3[@]}" -t 10 -r 2 -Cr"$REPS" -On "$agent" $M.1.4
walk "snowNodeTable" snmpbulkwalk "${v3[@]}" -t 10 -r 2 -Cr"$REPS" -On "$agent" $M.1.2

echo "   the subagent restarted with --poll (GET /api/v1/nodes every 500 ms, as for https)"
stop_pid "$(cat "$state/snmp/snow-subagent.pid")"
SNOW_SUBAGENT_ARGS=--poll "$SNOW_BIN/snow-snmp" up --state "$state" --url "$url" --listen "udp:$agent" \
	--trap "udp:$trap" >/dev/null
wait_for 60 served || { echo "the polling subagent does not serve $NODES nodes"; tail -5 "$state/snmp/subagent.log"; exit 1; }
idle_cpu "idle, 20 s, polling"
walk "whole MIB (polling)" snmpbulkwalk "${v3[@]}" -t 10 -r 2 -Cr"$REPS" -On "$agent" $M
fi

# The native table: snmpd's own IF-MIB over $IFACES veth interfaces.
ip netns add "$ns"
ip -n "$ns" link set lo up
# veth pairs (the dummy driver is not available on these machines): IFACES/2 pairs.
for i in $(seq 1 $((IFACES / 2))); do echo "link add a$i type veth peer name b$i"; done | ip -n "$ns" -batch -
. "$state/snmp/credentials"
cat >"$dir/native.conf" <<EOF
agentAddress udp:127.0.0.1:1161
createUser $USER SHA-256 "$AUTH" AES "$PRIV"
view ifView included .1.3.6.1.2.1.2
view ifView included .1.3.6.1.2.1.31
rouser -s usm $USER priv -V ifView
EOF
mkdir -p "$dir/nat"
SNMP_PERSISTENT_DIR=$dir/nat ip netns exec "$ns" snmpd -f -Lf "$dir/native.log" -C -c "$dir/native.conf" &
nat_pid=$!
up() { ip netns exec "$ns" snmpget "${v3[@]}" -t 5 127.0.0.1:1161 .1.3.6.1.2.1.2.1.0 >/dev/null 2>&1; }
wait_for 60 up || { echo "native snmpd did not answer"; exit 1; }
ip netns exec "$ns" snmpbulkwalk "${v3[@]}" -t 10 -r 2 -Cr"$REPS" -On 127.0.0.1:1161 .1.3.6.1.2.1.2.2 >/dev/null # warm its cache
echo "== snmpd-native IF-MIB, $IFACES veth interfaces, same credentials and options (no AgentX)"
walk "ifXTable" ip netns exec "$ns" snmpbulkwalk "${v3[@]}" -t 10 -r 2 -Cr"$REPS" -On 127.0.0.1:1161 .1.3.6.1.2.1.31.1.1
walk "ifTable" ip netns exec "$ns" snmpbulkwalk "${v3[@]}" -t 10 -r 2 -Cr"$REPS" -On 127.0.0.1:1161 .1.3.6.1.2.1.2.2
ratio() { # ratio LABEL RATEFILE: against the native ifTable of this run
	python3 -c 'import sys; w=float(open(sys.argv[2]).read()); n=float(open(sys.argv[3]).read()); print("== %s / native ifTable: %.2fx (%.0f / %.0f varbinds/s)" % (sys.argv[1], w/n, w, n))' \
		"$1" "$2" "$dir/rate.ifTable"
}
[ "$AGENTX" != 1 ] || ratio "whole MIB through AgentX" "$dir/rate.whole_MIB"
echo "   (net-snmp's master asks an AgentX subagent once per GETBULK repetition: -Cr$REPS is $REPS round trips per PDU)"
echo "== CPU seconds used: snmpd $(ps -o cputime= -p "$(cat "$state/snmp/snmpd.pid")"), snow-subagent $(ps -o cputime= -p "$(cat "$state/snmp/snow-subagent.pid")"), native snmpd $(ps -o cputime= -p "$nat_pid")"

echo "== the same MIB inside snmpd (snow-snmp up --in-snmpd: dlmod snmpd-snow.so, no AgentX)"
"$SNOW_BIN/snow-snmp" down --state "$state"
"$SNOW_BIN/snow-snmp" up --in-snmpd --state "$state" --url "$url" --listen "udp:$agent" \
	--trap "udp:$trap" >/dev/null
wait_for 60 served || { echo "snmpd's module does not serve $NODES nodes"; tail -5 "$state/snmp/snmpd.log"; exit 1; }
idle_cpu "idle, 20 s, inside snmpd" "$(cat "$state/snmp/snmpd.pid")" "snmpd with the module"
walk "whole MIB (inside snmpd)" snmpbulkwalk "${v3[@]}" -t 10 -r 2 -Cr"$REPS" -On "$agent" $M
walk "snowValueTable (inside snmpd)" snmpbulkwalk "${v3[@]}" -t 10 -r 2 -Cr"$REPS" -On "$agent" $M.1.3
ratio "whole MIB inside snmpd" "$dir/rate.whole_MIB_(inside_snmpd)"
echo "== CPU seconds used: snmpd with the module $(ps -o cputime= -p "$(cat "$state/snmp/snmpd.pid")")"
"$SNOW_BIN/snow-snmp" down --state "$state"


# The same idle subagent at BIG_NODES nodes (stream mode, the default).
if [ "$BIG_NODES" -gt "$NODES" ]; then
	stop_pid "$sim_pid"
	"$SNOW_BIN/snow-nodesim" --count "$BIG_NODES" --add >"$dir/sim.log" 2>&1 &
	sim_pid=$!
	NODES=$BIG_NODES
	wait_for 600 online || { echo "not all $NODES nodes came online"; tail -3 "$dir/sim.log"; exit 1; }
	"$SNOW_BIN/snow-snmp" up --state "$state" --url "$url" --listen "udp:$agent" --trap "udp:$trap" >/dev/null
	wait_for 120 served || { echo "the subagent does not serve $NODES nodes"; exit 1; }
	echo "== SNOW-CLUSTER-MIB, $NODES simulated nodes (the subagent follows the stream)"
	idle_cpu "idle, 20 s, following the stream"
fi
