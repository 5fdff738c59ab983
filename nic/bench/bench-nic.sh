#!/usr/bin/env bash
# make bench-nic: snow-nic against TCP on one veth link between two network
# namespaces, in one run.  Prints figures and ratios; never fails on speed.
#   - one-way latency and streaming bandwidth, 4 B .. 4 MiB: snow pipelined
#     (snow-nic daemon), snow run to completion (the NIC inside the bench
#     process; by default each end pinned to its own CPU and polling, RTC_ENV),
#     snow store-and-forward, TCP (same client program), plus
#     sockperf and iperf3 for reference;
#   - ROUNDS rounds (3), the variants in a rotated order each round, every
#     figure the median with its spread (min..max) over the rounds;
#   - the fragment size the cost model picked, and bandwidth at fixed
#     fragment sizes around it;
#   - each stage's bandwidth alone (snow-nic's start-up calibration), and the
#     pipeline's best bandwidth as a fraction of its slowest stage;
#   - a summary of issue 19's figures (64 B latency, 64 KiB and 4 MiB
#     bandwidth, model vs best fixed fragment) with the load average.
# Each pair settles and warms up first (BENCH_OPTS, nic-lib.sh).
# Needs root.  SCALE=PCT scales iteration counts (default 100), ROUNDS=N,
# PARTS="main sweep" (either alone: PARTS=sweep runs only the fragment sweep),
# SWEEP_REPS=N (2): the sweep runs N times per round, the order alternating;
# FRAGS="0 4096 ..." the sweep's fragment sizes (0: the model's pick).
set -u
cd "$(dirname "$0")/../.."
BIN=${BIN:-build/bin}
SCALE=${SCALE:-100}
ROUNDS=${ROUNDS:-3}
[ "$(id -u)" = 0 ] || { echo "bench-nic: needs root (namespaces, AF_PACKET)" >&2; exit 1; }

# shellcheck source=nic/bench/nic-lib.sh
. nic/bench/nic-lib.sh
nic_link b 250 || exit 1

# run NAME [tcp|rtc] ARGS...: one bench pair, the client's rows appended to $TMP/NAME.
# "tcp" measures TCP, "rtc" the NIC run to completion inside each bench process
# (RTC_ENV: pinned and polling), "rtcs" the same sleeping in its waits, unpinned,
# otherwise snow-nic (the daemon).
run() {
	local name=$1 kind=snow
	shift
	case ${1:-} in tcp | rtc | rtcs) kind=$1; shift ;; esac
	case $kind in
	rtc) nic_pair rtc "$TMP/$name" "$RTC_ENV" "$@" ;;
	rtcs) nic_pair rtc "$TMP/$name" "" "$@" ;;
	*) nic_pair "$kind" "$TMP/$name" "" "$@" ;;
	esac
}
# Run to completion as a poll-mode driver: each bench on its own CPU, waits poll the
# receive ring up to 200 us before sleeping, so neither side pays a wake-up across CPUs
# (docs/nic.md).  RTC_ENV="" measures it sleeping and unpinned.
RTC_ENV=${RTC_ENV-SNOWNIC_SPIN_US=200 PIN=0,1}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench-nic: veth $VA<->$VB, MTU 65535, $(nproc) CPUs, $(uname -r), $ROUNDS rounds, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "pipe, S&F, TCP: threads not pinned; rtc: ${RTC_ENV:-not pinned, no polling} (PIN=client,server CPUs); two CPUs shared with whatever else runs"
RS=$((SCALE * 3 / 2 / ROUNDS)); [ "$RS" -ge 1 ] || RS=1
SWEEP_SIZES=65536,262144,1048576,4194304
FRAGS=${FRAGS:-0 4096 8192 16384 32768 49152 65495}
PARTS=${PARTS:-main sweep}
SWEEP_REPS=${SWEEP_REPS:-2}
case " $PARTS " in *" main "*) VARIANTS="pipe sf tcp rtc rtcs" ;; *) VARIANTS="" ;; esac
case " $PARTS " in *" sweep "*) ;; *) SWEEP_REPS=0 ;; esac
# $VARIANTS and $FRAGS are lists: split on purpose below.
# shellcheck disable=SC2086
for ((r = 0; r < ROUNDS; r++)); do
	echo "round $((r + 1))/$ROUNDS: $(nic_order $r $VARIANTS | tr '\n' ' ')sweep x$SWEEP_REPS (load $(cut -d' ' -f1 /proc/loadavg))"
	for v in $(nic_order $r $VARIANTS); do
		case $v in
		# Latency for every size first, then bandwidth, each in its own pair: a
		# bandwidth run in between keeps both ends busy, and the scheduler then
		# spreads them over both CPUs for the next latency run (docs/nic.md).
		pipe) for t in lat bw; do run "pipe.$r" --test $t --iters-scale "$RS"; done ;;
		sf) for t in lat bw; do run "sf.$r" --sf --test $t --iters-scale "$RS"; done ;;
		tcp) for t in lat bw; do run "tcp.$r" tcp --test $t --iters-scale "$RS"; done ;;
		rtc) for t in lat bw; do run "rtc.$r" rtc --test $t --iters-scale "$RS"; done ;;
		rtcs) for t in lat bw; do run "rtcs.$r" rtcs --test $t --iters-scale "$RS"; done ;;
		esac
	done
	# Fragment sweep: bandwidth at fixed fragment sizes (0: the model's pick), SWEEP_REPS
	# times, each repeat in another rotation (reversed every other one): sample i.
	for ((k = 0; k < SWEEP_REPS; k++)); do
		i=$((r * SWEEP_REPS + k))
		for f in $(nic_order $i $FRAGS); do
			run "frag-$f.$i" --test bw --sizes $SWEEP_SIZES --frag "$f" --iters-scale "$RS"
		done
	done
done
nic_engines_up

# Reference tools, when installed.
SOCKPERF=- IPERF=-
[ -n "$VARIANTS" ] || PARTS_NOREF=1
if [ -n "${PARTS_NOREF:-}" ]; then :
elif command -v sockperf >/dev/null; then
	nic_spawn ip netns exec "$NSB" sockperf sr --tcp -i "$IPB" -p 11111 >/dev/null 2>&1
	sp=$SPAWNED; sleep 0.5
	SOCKPERF=$(ip netns exec "$NSA" sockperf pp --tcp -i $IPB -p 11111 -t 3 -m 64 2>&1 |
		sed -n 's/.*avg-latency=\([0-9.]*\).*/\1/p' | tail -1)
	kill $sp 2>/dev/null
fi
if [ -z "${PARTS_NOREF:-}" ] && command -v iperf3 >/dev/null; then
	nic_spawn ip netns exec "$NSB" iperf3 -s -1 -p 5302 >/dev/null 2>&1
	ip_srv=$SPAWNED; sleep 0.5
	IPERF=$(ip netns exec "$NSA" iperf3 -c $IPB -p 5302 -t 3 -f m 2>&1 |
		awk '/receiver/ {print $(NF-2)}')
	wait $ip_srv 2>/dev/null
fi
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load at the end: $LOAD1"

python3 - "$TMP" "$SOCKPERF" "$IPERF" "$ROUNDS" "$LOAD0" "$LOAD1" "${RTC_ENV:-none}" "$SWEEP_REPS" \
	"$VARIANTS" "$FRAGS" <<'EOF'
import json, os, statistics, sys
tmp, sockperf, iperf, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
load0, load1, rtc_env, reps, main = sys.argv[5], sys.argv[6], sys.argv[7], int(sys.argv[8]), sys.argv[9]
frags = [int(f) for f in sys.argv[10].split() if f != "0"]

def table(name):
    rows = {}
    try:
        for line in open(os.path.join(tmp, name)):
            f = line.split()
            if f and f[0].isdigit():
                # A latency run and a bandwidth run each fill their own column.
                lat, bw, frag = float(f[1]), float(f[2]), int(f[3])
                old = rows.get(int(f[0]), (0.0, 0.0, 0))
                rows[int(f[0])] = (lat or old[0], bw or old[1], frag if bw else (old[2] or frag))
    except OSError:
        pass
    return rows

def samples(name, size, col):
    """One column (0 lat, 1 bw, 2 frag) of every round (the sweep: every repeat), by index."""
    n = rounds * reps if name.startswith("frag-") else rounds
    xs = [table("%s.%d" % (name, r)).get(size) for r in range(n)]
    return [x[col] if x else None for x in xs]

def med(name, size, col):
    """Median, min and max over the rounds (the sweep's repeats) of one column."""
    xs = [x for x in samples(name, size, col) if x is not None]
    if not xs:
        return 0, 0, 0
    return statistics.median(xs), min(xs), max(xs)

def spread(m):
    return (m[2] - m[1]) / m[0] * 100 if m[0] else 0

if main:
    V = ["pipe", "rtc", "sf", "tcp"]
    sizes = sorted(table("pipe.0"))
    print()
    print("One-way latency (us, ping-pong/2): median of %d rounds, +-%% = (max-min)/median" % rounds)
    print("%9s |" % "size" + "".join("%16s" % v for v in ("pipe", "rtc", "S&F", "TCP")) + " | %8s %8s" % ("TCP/pipe", "TCP/rtc"))
    for size in sizes:
        ms = [med(v, size, 0) for v in V]
        print("%9d |" % size + "".join("%9.1f +-%3.0f%%" % (m[0], spread(m)) for m in ms) +
              " | %8.2f %8.2f" % (ms[3][0] / ms[0][0] if ms[0][0] else 0, ms[3][0] / ms[1][0] if ms[1][0] else 0))
    print()
    print("Streaming bandwidth (MB/s = 10^6 B/s): median of %d rounds, +-%% = (max-min)/median" % rounds)
    print("%9s |" % "size" + "".join("%16s" % v for v in ("pipe", "rtc", "S&F", "TCP")) + " | %8s %8s %7s" % ("pipe/TCP", "rtc/TCP", "frag"))
    for size in sizes:
        ms = [med(v, size, 1) for v in V]
        print("%9d |" % size + "".join("%9.1f +-%3.0f%%" % (m[0], spread(m)) for m in ms) +
              " | %8.2f %8.2f %7d" % (ms[0][0] / ms[3][0] if ms[3][0] else 0, ms[1][0] / ms[3][0] if ms[3][0] else 0,
                                     med("pipe", size, 2)[0]))
    print()
    print("reference: sockperf TCP ping-pong 64 B: %s us one-way; iperf3 TCP: %s Mbit/s (%s MB/s)" %
          (sockperf, iperf, "%.0f" % (float(iperf) / 8) if iperf not in ("-", "") else "-"))
    print()
def model_vs_best(size):
    """The model's median, the best fixed size's median, and the model's bandwidth over
    that size's in the same repeat (paired: both ran in the same round, minutes apart at
    most), median and min..max over the repeats."""
    m = med("frag-0", size, 1)
    bw, f = max((med("frag-%d" % f, size, 1)[0], f) for f in frags)
    pairs = [a / b for a, b in zip(samples("frag-0", size, 1), samples("frag-%d" % f, size, 1))
             if a and b]
    pr = (statistics.median(pairs), min(pairs), max(pairs)) if pairs else (0, 0, 0)
    return m, bw, f, pr

if reps:
    print("Fragment sweep (snow-nic, pipelined): bandwidth (MB/s) at fixed fragment sizes, medians of %d "
          "(%d rounds x %d repeats, order alternating)" % (rounds * reps, rounds, reps))
    print("%9s | %8s %9s | " % ("size", "model", "bw model") + " ".join("%8d" % f for f in frags) +
          " | model/best  paired (min..max)")
    for size in (65536, 262144, 1048576, 4194304):
        m, bw, f, pr = model_vs_best(size)
        bws = [med("frag-%d" % f, size, 1)[0] for f in frags]
        print("%9d | %8d %9.1f | " % (size, med("frag-0", size, 2)[0], m[0]) + " ".join("%8.1f" % b for b in bws) +
              " | %9.2f  %5.2f (%.2f..%.2f)" % (m[0] / bw if bw else 0, pr[0], pr[1], pr[2]))
    print()
st = json.load(open(os.path.join(tmp, "a.status")))
print("Stages measured alone at start-up (node 1), t = a + b*bytes per fragment (small: up to small_max B)")
for s in st["stages"]:
    if not s["a_ns"] and not s["b_ns_per_byte"]:
        print("  %-12s not in the pipeline (the wire engine gathers the payload)" % s["name"])
        continue
    small = ("; small: up to %d B a %.0f ns b %.4f ns/B" % (s["small_max"], s["a_small_ns"], s["b_small_ns_per_byte"])
             if s.get("small_max") else "")
    print("  %-12s a %8.0f ns  b %.4f ns/B  alone %8.0f MB/s%s" % (s["name"], s["a_ns"], s["b_ns_per_byte"], s["mb_s"], small))
print("  sending stages measured together: serial %s/1000 (0: a perfect pipeline, 1000: they take turns)" %
      st.get("serial_pm", "-"))
slow = min(s["mb_s"] for s in st["stages"] if s["mb_s"] > 0)
if main:
    best_size = max(sizes, key=lambda k: med("pipe", k, 1)[0])
    bb = med("pipe", best_size, 1)[0]
    print("best pipelined bandwidth %.0f MB/s at %d B = %.0f%% of the slowest stage (%.0f MB/s)" %
          (bb, best_size, 100 * bb / slow, slow))
print("model's fragment choices (status file frag_for):", st["frag_for"])

# The figures issue 19 asks for, in one block.
print()
print("Summary: medians of %d rounds (min..max); load average %s at the start, %s at the end" %
      (rounds, load0, load1))
if main:
    print("rtc: run to completion with %s; rtcs: run to completion, unpinned, sleeping in its waits" % rtc_env)
    print("%-5s | %-26s | %-26s | %-26s" % ("", "64 B one-way latency us", "64 KiB bandwidth MB/s", "4 MiB bandwidth MB/s"))
    keys = [(64, 0), (65536, 1), (4194304, 1)]
    for v, label in (("pipe", "pipe"), ("rtc", "rtc"), ("rtcs", "rtcs"), ("sf", "S&F"), ("tcp", "TCP")):
        print("%-5s | " % label + " | ".join("%8.1f (%7.1f..%7.1f)" % med(v, k, c) for k, c in keys))
    for v, label in (("pipe", "pipe"), ("rtc", "rtc"), ("rtcs", "rtcs")):
        r = []
        for k, c in keys:
            a, t = med(v, k, c)[0], med("tcp", k, c)[0]
            r.append((t / a if c == 0 else a / t) if a and t else 0)
        print("%-5s vs TCP: latency %.2fx as fast, bandwidth %.2fx at 64 KiB, %.2fx at 4 MiB" % (label, r[0], r[1], r[2]))
for size in (65536, 262144, 1048576, 4194304) if reps else ():
    m, bw, f, pr = model_vs_best(size)
    mf = int(med("frag-0", size, 2)[0])
    same = med("frag-%d" % mf, size, 1)[0] if mf in frags else 0
    print("model at %7d B: fragment %5d, %7.1f MB/s; best fixed %5d, %7.1f MB/s; model/best %.2f, paired %.2f%s" %
          (size, mf, m[0], f, bw, m[0] / bw if bw else 0, pr[0],
           "; the same fixed size %.1f MB/s (%.2f)" % (same, m[0] / same) if same else ""))
EOF
