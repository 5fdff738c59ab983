#!/usr/bin/env bash
# make bench-nic: snow-nic against TCP on one veth link between two network
# namespaces, in one run.  Prints figures and ratios; never fails on speed.
#   - one-way latency and streaming bandwidth, 4 B .. 4 MiB: snow pipelined,
#     snow store-and-forward, TCP (same client program), plus sockperf and
#     iperf3 for reference;
#   - the fragment size the cost model picked, and bandwidth at fixed
#     fragment sizes around it;
#   - each stage's bandwidth alone (snow-nic's start-up calibration), and the
#     pipeline's best bandwidth as a fraction of its slowest stage.
# Needs root.  SCALE=PCT scales iteration counts (default 100).
set -u
cd "$(dirname "$0")/../.."
BIN=build/bin
SCALE=${SCALE:-100}
[ "$(id -u)" = 0 ] || { echo "bench-nic: needs root (namespaces, AF_PACKET)" >&2; exit 1; }

NSA=snow-nic-ba-$$ NSB=snow-nic-bb-$$ VA=snba$$ VB=snbb$$
MACA=02:53:4e:00:01:01 MACB=02:53:4e:00:01:02
IPA=10.250.$((($$ >> 8) % 250)).1 IPB=10.250.$((($$ >> 8) % 250)).2
TMP=$(mktemp -d /tmp/snow-nic-bench.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	sleep 0.3
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	ip netns del "$NSA" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NSA"; ip netns add "$NSB"
ip link add "$VA" type veth peer name "$VB"
ip link set "$VA" netns "$NSA"; ip link set "$VB" netns "$NSB"
ip -n "$NSA" link set "$VA" address $MACA mtu 65535 up
ip -n "$NSB" link set "$VB" address $MACB mtu 65535 up
ip -n "$NSA" link set lo up; ip -n "$NSB" link set lo up
ip -n "$NSA" addr add $IPA/24 dev "$VA"; ip -n "$NSB" addr add $IPB/24 dev "$VB"

ip netns exec "$NSA" $BIN/snow-nic -i "$VA" --node 1 --peers 2=$MACB -s "$TMP/a.sock" \
	--status-file "$TMP/a.json" >"$TMP/a.log" 2>&1 &
PIDS+=($!)
ip netns exec "$NSB" $BIN/snow-nic -i "$VB" --node 2 --peers 1=$MACA -s "$TMP/b.sock" \
	--status-file "$TMP/b.json" >"$TMP/b.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$TMP/a.json" ] && [ -s "$TMP/b.json" ] && break; sleep 0.1; done

wait_attached() {
	for _ in $(seq 100); do grep -q "\"attached_pid\":$1[,}]" "$TMP/b.json" && return; sleep 0.1; done
}
# run NAME ARGS...: snow-nic-bench server in B, client in A; the client's table in $TMP/NAME.
run() {
	local name=$1 spid; shift
	if [[ " $* " == *" tcp "* ]]; then
		ip netns exec "$NSB" $BIN/snow-nic-bench -r server "$@" >"$TMP/$name.server" 2>&1 &
		spid=$!
		sleep 0.3
		ip netns exec "$NSA" $BIN/snow-nic-bench -r client --addr $IPB "$@" >"$TMP/$name" 2>&1
	else
		ip netns exec "$NSB" $BIN/snow-nic-bench -r server -s "$TMP/b.sock" --peer 1 "$@" \
			>"$TMP/$name.server" 2>&1 &
		spid=$!
		wait_attached $spid
		ip netns exec "$NSA" $BIN/snow-nic-bench -r client -s "$TMP/a.sock" --peer 2 "$@" \
			>"$TMP/$name" 2>&1
	fi
	wait $spid
}

echo "bench-nic: veth $VA<->$VB, MTU 65535, $(nproc) CPUs, $(uname -r)"
echo "running: snow pipelined, snow store-and-forward, TCP (this takes a minute or two)"
run pipe --iters-scale "$SCALE"
run sf --sf --iters-scale "$SCALE"
run tcp -t tcp --port 5301 --iters-scale "$SCALE"

# Reference tools, when installed.
SOCKPERF=- IPERF=-
if command -v sockperf >/dev/null; then
	ip netns exec "$NSB" sockperf sr --tcp -i $IPB -p 11111 >/dev/null 2>&1 &
	sp=$!; PIDS+=($sp); sleep 0.5
	SOCKPERF=$(ip netns exec "$NSA" sockperf pp --tcp -i $IPB -p 11111 -t 3 -m 64 2>&1 |
		sed -n 's/.*avg-latency=\([0-9.]*\).*/\1/p' | tail -1)
	kill $sp 2>/dev/null
fi
if command -v iperf3 >/dev/null; then
	ip netns exec "$NSB" iperf3 -s -1 -p 5302 >/dev/null 2>&1 &
	ip_srv=$!; PIDS+=($ip_srv); sleep 0.5
	IPERF=$(ip netns exec "$NSA" iperf3 -c $IPB -p 5302 -t 3 -f m 2>&1 |
		awk '/receiver/ {print $(NF-2)}')
	wait $ip_srv 2>/dev/null
fi

# Fragment sweep: bandwidth at fixed fragment sizes around the model's pick.
echo "running: fragment sweep"
for size in 65536 262144 1048576 4194304; do
	for frag in 4096 8192 16384 32768 49152 65495; do
		run "frag-$size-$frag" --test bw --min-size $size --max-size $size --frag $frag \
			--iters-scale "$SCALE"
	done
done

python3 - "$TMP" "$SOCKPERF" "$IPERF" <<'EOF'
import json, os, sys
tmp, sockperf, iperf = sys.argv[1], sys.argv[2], sys.argv[3]

def table(name):
    rows = {}
    for line in open(os.path.join(tmp, name)):
        f = line.split()
        if f and f[0].isdigit():
            rows[int(f[0])] = (float(f[1]), float(f[2]), int(f[3]))
    return rows

pipe, sf, tcp = table("pipe"), table("sf"), table("tcp")
st = json.load(open(os.path.join(tmp, "a.json")))
print()
print("One-way latency (us, ping-pong/2) and streaming bandwidth (MB/s = 10^6 B/s)")
print("%9s | %9s %9s %9s | %9s %9s %9s | %7s %8s" %
      ("size", "lat pipe", "lat S&F", "lat TCP", "bw pipe", "bw S&F", "bw TCP", "frag", "pipe/TCP"))
for size in sorted(pipe):
    p, s, t = pipe[size], sf.get(size, (0, 0, 0)), tcp.get(size, (0, 0, 0))
    print("%9d | %9.1f %9.1f %9.1f | %9.1f %9.1f %9.1f | %7d %8.2f" %
          (size, p[0], s[0], t[0], p[1], s[1], t[1], p[2], p[1] / t[1] if t[1] else 0))
print()
print("reference: sockperf TCP ping-pong 64 B: %s us one-way; iperf3 TCP: %s Mbit/s (%s MB/s)" %
      (sockperf, iperf, "%.0f" % (float(iperf) / 8) if iperf not in ("-", "") else "-"))
print()
print("Fragment sweep: bandwidth (MB/s) at fixed fragment sizes; * = the model's pick")
frags = [4096, 8192, 16384, 32768, 49152, 65495]
print("%9s | %8s %9s | " % ("size", "model", "bw model") + " ".join("%8d" % f for f in frags) + " | model/best")
for size in (65536, 262144, 1048576, 4194304):
    m = pipe.get(size)
    bws = []
    for f in frags:
        r = table("frag-%d-%d" % (size, f)).get(size)
        bws.append(r[1] if r else 0)
    best = max(bws + [m[1]])
    print("%9d | %8d %9.1f | " % (size, m[2], m[1]) + " ".join("%8.1f" % b for b in bws) +
          " | %9.2f" % (m[1] / best if best else 0))
print()
print("Stages measured alone at start-up (node 1), t = a + b*bytes per fragment")
for s in st["stages"]:
    print("  %-12s a %8.0f ns  b %.4f ns/B  alone %8.0f MB/s" % (s["name"], s["a_ns"], s["b_ns_per_byte"], s["mb_s"]))
slow = min(s["mb_s"] for s in st["stages"])
best_size = max(pipe, key=lambda k: pipe[k][1])
print("best pipelined bandwidth %.0f MB/s at %d B = %.0f%% of the slowest stage (%.0f MB/s)" %
      (pipe[best_size][1], best_size, 100 * pipe[best_size][1] / slow, slow))
print("model's fragment choices (status file frag_for):", st["frag_for"])
EOF
