#!/usr/bin/env bash
# Two snow-nic engines in two network namespaces joined by a veth pair:
# messages of every size class, pipelined and store-and-forward, every byte
# checked; the same with a receive engine thread, and with the NIC run to
# completion inside each application; then flow control off under overload
# (drops counted, nothing corrupted); bad configuration and a second
# application refused.
source "$(dirname "$0")/../lib.sh"
need_root "snow-nic integration"

NIC=$SNOW_BIN/snow-nic
BENCH=$SNOW_BIN/snow-nic-bench
[ -x "$NIC" ] && [ -x "$BENCH" ] || { not_ok "build/bin/snow-nic and snow-nic-bench exist (make all)"; exit 1; }

NSA=snow-nic-a-$$ NSB=snow-nic-b-$$ VA=snva$$ VB=snvb$$
MACA=02:53:4e:00:00:01 MACB=02:53:4e:00:00:02
TMP=$(mktemp -d /tmp/snow-nic-it.XXXXXX)
PIDA= PIDB=
on_exit "rm -rf '$TMP'"
on_exit "ip netns del $NSA 2>/dev/null; ip netns del $NSB 2>/dev/null"
on_exit 'stop_pid "$PIDA"; stop_pid "$PIDB"'

ip netns add "$NSA" && ip netns add "$NSB" &&
ip link add "$VA" type veth peer name "$VB" &&
ip link set "$VA" netns "$NSA" && ip link set "$VB" netns "$NSB" &&
ip -n "$NSA" link set "$VA" address $MACA mtu 65535 up &&
ip -n "$NSB" link set "$VB" address $MACB mtu 65535 up
check "two namespaces joined by a veth pair (MTU 65535)" [ $? = 0 ] || exit 1

# start_nics [snow-nic options...]: one engine per namespace, wait until both serve.
start_nics() {
	stop_pid "$PIDA"; stop_pid "$PIDB"
	rm -f "$TMP"/*.json
	ip netns exec "$NSA" "$NIC" -i "$VA" --node 1 --peers 2=$MACB -s "$TMP/a.sock" \
		--status-file "$TMP/a.json" "$@" >>"$TMP/a.log" 2>&1 &
	PIDA=$!
	ip netns exec "$NSB" "$NIC" -i "$VB" --node 2 --peers 1=$MACA -s "$TMP/b.sock" \
		--status-file "$TMP/b.json" "$@" >>"$TMP/b.log" 2>&1 &
	PIDB=$!
	wait_for 15 test -s "$TMP/a.json" && wait_for 15 test -s "$TMP/b.json"
}
# counter FILE NAME: a counter from a status file.
counter() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["counters"][sys.argv[2]])' "$1" "$2"; }
# wait_attached PID: B's NIC serves the application PID (ip netns exec keeps the pid).
wait_attached() { wait_for 10 grep -q "\"attached_pid\":$1[,}]" "$TMP/b.json"; }
# pair NAME ARGS...: the bench server in B (attached before the client starts), the client in A.
pair() {
	local name=$1 spid; shift
	ip netns exec "$NSB" "$BENCH" -r server -s "$TMP/b.sock" --peer 1 "$@" \
		>"$TMP/$name.server" 2>&1 &
	spid=$!
	wait_attached $spid
	ip netns exec "$NSA" timeout 120 "$BENCH" -r client -s "$TMP/a.sock" --peer 2 "$@" \
		>"$TMP/$name.client" 2>&1
	local crc=$?
	wait "$spid"
	local src=$?
	[ $crc = 0 ] && [ $src = 0 ] && grep -q ', 0 bad bytes' "$TMP/$name.server" && return 0
	echo "# $name failed: client rc $crc, server rc $src, load $(cat /proc/loadavg)"
	sed 's/^/# client: /' "$TMP/$name.client"
	sed 's/^/# server: /' "$TMP/$name.server"
	return 1
}

check "snow-nic engines start and calibrate" start_nics
grep -q 'stage wire' "$TMP/a.log" && ok "cost model fitted at start-up" || not_ok "cost model fitted at start-up"

check "pipelined, 4 B .. 4 MiB, latency and bandwidth, every byte checked" \
	pair pipe --verify --min-size 4 --max-size 4194304 --iters-scale 3 --window 8
check "pipelined, 0 B and odd sizes 255 B .. 1 MB (across the bypass threshold)" \
	pair odd --verify --test lat --min-size 255 --max-size 1000000 --iters-scale 3
check "zero-length messages" pair zero --verify --test lat --min-size 0 --max-size 0 --iters-scale 3
check "store-and-forward, 4 B .. 4 MiB, every byte checked" \
	pair sf --sf --verify --min-size 4 --max-size 4194304 --iters-scale 3 --window 8
check "fixed fragment size 4096" pair frag --verify --frag 4096 --min-size 65536 --max-size 1048576 --iters-scale 3 --window 8

sleep 1.2 # the status files are written every second
rx=$(counter "$TMP/b.json" msgs_rx) tx=$(counter "$TMP/a.json" msgs_tx)
check "counters count messages (A sent $tx, B received $rx)" [ "$rx" -gt 1000 -a "$tx" -gt 1000 ]
check_eq "no frames lost with flow control on" 0 "$(counter "$TMP/b.json" frames_lost)"
check_eq "no overflow drops with flow control on" 0 "$(counter "$TMP/b.json" drops_nobuf)"
sf=$(counter "$TMP/b.json" sf_rx) small=$(counter "$TMP/b.json" small_rx)
check "store-and-forward ($sf) and bypass ($small) messages were received" [ "$sf" -gt 0 -a "$small" -gt 0 ]

# A second application on the same NIC is refused while one is attached.
ip netns exec "$NSB" "$BENCH" -r server -s "$TMP/b.sock" --peer 1 --test lat \
	--min-size 4 --max-size 4 >"$TMP/busy.server" 2>&1 &
busy_srv=$!
wait_attached $busy_srv
ip netns exec "$NSB" "$BENCH" -r client -s "$TMP/b.sock" --peer 1 >"$TMP/busy.out" 2>&1
check "a second application is refused (busy)" grep -q 'busy' "$TMP/busy.out"
ip netns exec "$NSA" timeout 30 "$BENCH" -r client -s "$TMP/a.sock" --peer 2 --test lat \
	--min-size 4 --max-size 4 >/dev/null 2>&1
wait "$busy_srv"

# The same NIC with its receive ring read by a separate engine thread (--rx-engine thread).
check "engines restart with a receive engine thread" start_nics --rx-engine thread
check "receive engine thread: 4 B .. 1 MiB, every byte checked" \
	pair rxthr --verify --min-size 4 --max-size 1048576 --iters-scale 2 --window 8
# No receive ring: the NIC CPU copies each frame from the socket into the posted buffer.
check "engines restart without a receive ring (--rx-ring none)" start_nics --rx-ring none
check "no receive ring: 4 B .. 1 MiB, every byte checked" \
	pair rxnone --verify --min-size 4 --max-size 1048576 --iters-scale 2 --window 8
stop_pid "$PIDA"; stop_pid "$PIDB"; PIDA= PIDB=

# rtc ARGS...: the NIC run to completion inside each bench process (no snow-nic on the link).
# rtc_env "VAR=VALUE ..." ARGS...: the same with those variables set for both.
RTC_ENV=
rtc_env() {
	local rc
	RTC_ENV=$1
	shift
	rtc "$@"
	rc=$?
	RTC_ENV=
	return $rc
}
rtc() {
	local spid crc src
	# shellcheck disable=SC2086
	ip netns exec "$NSB" env $RTC_ENV timeout 120 "$BENCH" -r server --engine "$VB" --node 2 --peer-mac $MACA \
		--peer 1 "$@" >"$TMP/rtc.server" 2>&1 &
	spid=$!
	# shellcheck disable=SC2086
	ip netns exec "$NSA" env $RTC_ENV timeout 120 "$BENCH" -r client --engine "$VA" --node 1 --peer-mac $MACB \
		--peer 2 "$@" >"$TMP/rtc.client" 2>&1
	crc=$?
	wait "$spid"
	src=$?
	[ $crc = 0 ] && [ $src = 0 ] && grep -q ', 0 bad bytes' "$TMP/rtc.server" && return 0
	# Both ends' logs now: the next case overwrites them.
	echo "# rtc $RTC_ENV $* failed: client rc $crc, server rc $src, load $(cat /proc/loadavg)"
	sed 's/^/# client: /' "$TMP/rtc.client"
	sed 's/^/# server: /' "$TMP/rtc.server"
	return 1
}
check "run to completion (the NIC in the application): 4 B .. 4 MiB, every byte checked" \
	rtc --verify --min-size 4 --max-size 4194304 --iters-scale 2 --window 8
# The bench's fast modes: polling waits (spin budget, adaptive), and no receive ring
# (frames copied from the socket straight into posted NIC buffers).
check "run to completion, polling and without a receive ring: 4 B .. 4 MiB, every byte checked" \
	rtc_env "SNOWNIC_SPIN_US=200 SNOWNIC_SPIN_ADAPT=1 SNOWNIC_RX_DIRECT=1" \
	--verify --min-size 4 --max-size 4194304 --iters-scale 2 --window 8

# Flow control off, a receiver that posts slowly: drops counted, nothing corrupted.
check "engines restart with flow control off and little NIC memory" \
	start_nics --flow-control=no --nic-mem 4
ip netns exec "$NSB" "$BENCH" -r server -s "$TMP/b.sock" --peer 1 --test overload \
	--max-size 150000 --post-delay-us 1000 >"$TMP/over.server" 2>&1 &
spid=$!
wait_attached $spid
ip netns exec "$NSA" timeout 120 "$BENCH" -r client -s "$TMP/a.sock" --peer 2 --test overload \
	--max-size 150000 --count 300 >"$TMP/over.client" 2>&1
crc=$?
wait "$spid"
src=$?
cat "$TMP/over.client" "$TMP/over.server"
check "overload: both ends finish, no corrupt byte" [ $crc = 0 -a $src = 0 ]
sleep 1.2
drops=$(counter "$TMP/b.json" drops_nobuf) lost=$(counter "$TMP/b.json" frames_lost)
check "overload: overflow drops counted ($drops) and seen as lost frames ($lost)" \
	[ "$drops" -gt 0 -a "$lost" -gt 0 ]
intact=$(sed -n 's/.*server got \([0-9]*\) intact.*/\1/p' "$TMP/over.client")
check "overload: some messages still arrived intact (${intact:-none})" [ "${intact:-0}" -gt 0 ]
check_eq "overload: sender never stalled on credits" 0 "$(counter "$TMP/a.json" stalls_credit)"

# Bad configuration is refused with a message naming the field.
out=$("$NIC" -i lo --node 1 --peers 2=zz:00 -n 2>&1); rc=$?
check "bad peers refused: $out" [ $rc = 2 -a -n "$(echo "$out" | grep peers)" ]
out=$("$NIC" -i lo --node 1 --peers 1=02:00:00:00:00:01 -n 2>&1); rc=$?
check "own id as a peer refused: $out" [ $rc = 2 -a -n "$(echo "$out" | grep "own id")" ]
out=$("$NIC" -i lo --node 1 --threshold 5000 -n 2>&1); rc=$?
check "threshold out of range refused: $out" [ $rc = 2 ]
out=$("$NIC" -i lo --node 1 --rx-engine dma -n 2>&1); rc=$?
check "unknown receive engine refused: $out" [ $rc = 2 -a -n "$(echo "$out" | grep rx-engine)" ]
out=$("$NIC" -i lo --node 1 --peers 2=02:00:00:00:00:02 -n 2>&1); rc=$?
check "a good configuration passes --check-config" [ $rc = 0 ]
# A link without carrier: snow-nic must give up calibrating and say why (it
# used to spin for ever on ENOBUFS).
NSC=snnc$$
on_exit "ip netns del $NSC 2>/dev/null"
ip netns add "$NSC" && ip -n "$NSC" link add va type veth peer name vb && ip -n "$NSC" link set va up
out=$(ip netns exec "$NSC" timeout 30 "$NIC" -i va --node 1 -s "$TMP/nc.sock" 2>&1); rc=$?
check "no carrier: snow-nic exits (rc $rc, not killed by the 30 s timeout) and says why" \
	[ "$rc" != 0 -a "$rc" != 124 -a -n "$(grep 'no carrier' <<<"$out")" ]
ip netns del "$NSC"

if [ "$_failures" -gt 0 ]; then for f in "$TMP"/*.log "$TMP"/*.client "$TMP"/*.server; do echo "== $f"; tail -n 15 "$f"; done; fi
