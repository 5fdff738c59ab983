# nic-lib.sh: what bench-nic.sh and nic-ab.sh share, sourced by both (bash).
# One veth pair between two namespaces, MTU 65535; a snow-nic engine in each;
# one bench pair per measurement (server in B, client in A); the rotated order
# of variants.  Everything created is named nic-*/nic* and removed on exit.
#
#   nic_link TAG NET       namespaces nic-TAGa-$$ / nic-TAGb-$$, veths, MACs
#                          02:53:4e:00:NET:01/02, IPs 10.NET.x.1/2; sets NSA NSB
#                          VA VB MACA MACB IPA IPB TMP and the EXIT trap
#   nic_engines_up [OPTS]  snow-nic on both ends (status files $TMP/a.json, b.json)
#   nic_engines_down
#   nic_pair KIND OUT ENVS ARGS...  one snow-nic-bench pair: KIND snow (through
#                          the engines, started if needed), rtc (the NIC inside each
#                          bench process; engines stopped first) or tcp; the
#                          client's rows appended to OUT, the server's to OUT.server.
#                          ENVS is VAR=VALUE words for both benches; PIN=CPU among
#                          them runs both on that one CPU (taskset), PIN=A,B the
#                          client on CPU A and the server on CPU B
#   nic_order R ITEMS...   ITEMS rotated by R/2, reversed on odd R (each runs early and late)
#   nic_spawn CMD...       run CMD in the background, killed on exit; sets SPAWNED
# Callers set BIN and may set TCP_PORT (5301) and BENCH_OPTS, given to both ends of
# every pair; by default each pair sleeps 300 ms after start-up and makes 2000
# untimed 64 B round trips before it measures (see docs/nic.md: right after the
# engine's CPU-bound calibration the scheduler keeps the two ends on different
# CPUs, and a wake-up across CPUs costs ~200 us on this VM; TCP gets the same).

NIC_PIDS=()
PIDA= PIDB=
TCP_PORT=${TCP_PORT:-5301}
BENCH_OPTS=${BENCH_OPTS:---settle-ms 300 --warm 2000}

nic_cleanup() {
	local p
	nic_engines_down
	for p in "${NIC_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${NIC_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	ip netns del "$NSA" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
	rm -rf "$TMP"
}

nic_link() {
	local tag=$1 net=$2 sub
	NSA=nic-${tag}a-$$ NSB=nic-${tag}b-$$ VA=nic${tag}a$$ VB=nic${tag}b$$
	MACA=02:53:4e:00:$(printf %02x "$net"):01 MACB=02:53:4e:00:$(printf %02x "$net"):02
	sub=$((($$ >> 8) % 250))
	IPA=10.$net.$sub.1 IPB=10.$net.$sub.2
	TMP=$(mktemp -d /tmp/nic-$tag.XXXXXX)
	trap nic_cleanup EXIT
	trap 'exit 130' INT TERM
	ip netns add "$NSA" && ip netns add "$NSB" &&
	ip link add "$VA" type veth peer name "$VB" &&
	ip link set "$VA" netns "$NSA" && ip link set "$VB" netns "$NSB" &&
	ip -n "$NSA" link set "$VA" address "$MACA" mtu 65535 up &&
	ip -n "$NSB" link set "$VB" address "$MACB" mtu 65535 up &&
	ip -n "$NSA" link set lo up && ip -n "$NSB" link set lo up &&
	ip -n "$NSA" addr add "$IPA/24" dev "$VA" && ip -n "$NSB" addr add "$IPB/24" dev "$VB"
}

nic_spawn() {
	"$@" &
	SPAWNED=$!
	NIC_PIDS+=("$SPAWNED")
}

nic_engines_up() {
	[ -n "$PIDA" ] && return
	rm -f "$TMP/a.json" "$TMP/b.json"
	# shellcheck disable=SC2068
	ip netns exec "$NSA" "$BIN/snow-nic" -i "$VA" --node 1 --peers "2=$MACB" -s "$TMP/a.sock" \
		--status-file "$TMP/a.json" $@ >>"$TMP/a.log" 2>&1 &
	PIDA=$!
	# shellcheck disable=SC2068
	ip netns exec "$NSB" "$BIN/snow-nic" -i "$VB" --node 2 --peers "1=$MACA" -s "$TMP/b.sock" \
		--status-file "$TMP/b.json" $@ >>"$TMP/b.log" 2>&1 &
	PIDB=$!
	for _ in $(seq 150); do [ -s "$TMP/a.json" ] && [ -s "$TMP/b.json" ] && break; sleep 0.1; done
	cp "$TMP/a.json" "$TMP/a.status" 2>/dev/null
}

nic_engines_down() {
	[ -z "$PIDA" ] && return
	kill "$PIDA" "$PIDB" 2>/dev/null
	wait "$PIDA" "$PIDB" 2>/dev/null
	PIDA= PIDB=
}

nic_pair() {
	local kind=$1 out=$2 envs=$3 spid pin="" pinb="" w
	shift 3
	for w in $envs; do
		case $w in
		PIN=*,*) w=${w#PIN=}; pin="taskset -c ${w%,*}" pinb="taskset -c ${w#*,}" ;;
		PIN=*) pin="taskset -c ${w#PIN=}" pinb=$pin ;;
		esac
	done
	envs=$(for w in $envs; do case $w in PIN=*) ;; *) echo "$w" ;; esac; done)
	case $kind in
	tcp)
		ip netns exec "$NSB" $pinb "$BIN/snow-nic-bench" -r server -t tcp --port "$TCP_PORT" $BENCH_OPTS "$@" \
			>>"$out.server" 2>&1 &
		spid=$!
		# The server listens within a few ms; the client retries its connect.
		sleep 0.3
		ip netns exec "$NSA" $pin "$BIN/snow-nic-bench" -r client -t tcp --addr "$IPB" \
			--port "$TCP_PORT" $BENCH_OPTS "$@" >>"$out" 2>&1 ;;
	rtc)
		nic_engines_down
		# shellcheck disable=SC2086
		ip netns exec "$NSB" env $envs $pinb "$BIN/snow-nic-bench" -r server --engine "$VB" --node 2 \
			--peer-mac "$MACA" --peer 1 $BENCH_OPTS "$@" >>"$out.server" 2>&1 &
		spid=$!
		# shellcheck disable=SC2086
		ip netns exec "$NSA" env $envs $pin "$BIN/snow-nic-bench" -r client --engine "$VA" --node 1 \
			--peer-mac "$MACB" --peer 2 $BENCH_OPTS "$@" >>"$out" 2>&1 ;;
	snow)
		nic_engines_up
		# shellcheck disable=SC2086
		ip netns exec "$NSB" env $envs $pinb "$BIN/snow-nic-bench" -r server -s "$TMP/b.sock" --peer 1 \
			$BENCH_OPTS "$@" >>"$out.server" 2>&1 &
		spid=$!
		for _ in $(seq 100); do
			grep -q "\"attached_pid\":$spid[,}]" "$TMP/b.json" && break
			sleep 0.1
		done
		# shellcheck disable=SC2086
		ip netns exec "$NSA" env $envs $pin "$BIN/snow-nic-bench" -r client -s "$TMP/a.sock" --peer 2 \
			$BENCH_OPTS "$@" >>"$out" 2>&1 ;;
	esac
	wait "$spid"
}

# Rounds 2m and 2m+1 run the same rotation (by m) forwards and backwards: an item's two
# positions add up to n-1 and every pair of items swaps order, so none runs first (or
# right after another) more often.  (Rotating by r and reversing every other round kept
# the item at position 0 first in both rounds of a pair: with two items, always the same.)
nic_order() {
	local r=$1 n i k q
	shift
	n=$#
	q=$((r / 2))
	local items=("$@")
	for ((k = 0; k < n; k++)); do
		if ((r % 2)); then i=$(((n - 1 - k + q) % n)); else i=$(((k + q) % n)); fi
		echo "${items[$i]}"
	done
}
