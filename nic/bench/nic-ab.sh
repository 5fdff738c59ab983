#!/usr/bin/env bash
# nic-ab.sh: compare snow-nic engine variants (and TCP) on one veth link, interleaved.
# Each round runs every variant once, in a rotated order, with fresh engines
# (the engine options differ), measuring 64 B latency and 64 KiB / 4 MiB
# bandwidth; the table gives medians and the spread (min..max) over rounds, and
# each variant's ratio to TCP.  On a loaded machine only such interleaved
# ratios mean something.  Needs root.
#   nic/bench/nic-ab.sh [-r ROUNDS] [-s SCALE] 'NAME|SNOW-NIC OPTIONS|ENV' ...
#   e.g. nic-ab.sh 'base||' 'spin|--spin-us 50|SNOWNIC_SPIN_US=50' 'rtc|inproc|'
# OPTIONS "inproc" runs no snow-nic: each bench runs the NIC in its own
# process, run to completion (snow-nic-bench --engine).
# A variant named tcp is the TCP run of snow-nic-bench (always added); OPTIONS
# "tcp" makes another (e.g. 'tcp-pin1|tcp|PIN=1').  PIN=CPU in ENV runs both
# benchmarks of the variant on that one CPU; BIN=DIR runs that variant's snow-nic
# and benchmarks from DIR (another build: A/B of old and new code, e.g.
# 'old||BIN=/tmp/old/build/bin' 'new||'); SF=1 measures store-and-forward (--sf).
# Besides medians and ratios to TCP, each variant is paired with the one listed before
# it, round by round: list A/B pairs next to each other.
set -u
cd "$(dirname "$0")/../.."
BIN=build/bin
ROUNDS=3 SCALE=30
while getopts r:s: o; do
	case $o in
	r) ROUNDS=$OPTARG ;;
	s) SCALE=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ "$(id -u)" = 0 ] || { echo "nic-ab: needs root" >&2; exit 1; }
VARIANTS=("$@" "tcp||")

TCP_PORT=5311
# shellcheck source=nic/bench/nic-lib.sh
. nic/bench/nic-lib.sh
nic_link ab 251 || exit 1

# one NAME OPTS ENV ROUND: a fresh engine pair with OPTS (none for tcp and inproc),
# then the measurements, rows to $TMP/NAME.ROUND
one() {
	local name=$1 opts=$2 envs=$3 round=$4 kind=snow w args=""
	local BIN=$BIN # nic-lib.sh's, for this variant
	for w in $envs; do
		case $w in
		BIN=*) BIN=${w#BIN=} ;;
		SF=1) args=--sf ;;
		esac
	done
	envs=$(for w in $envs; do case $w in BIN=* | SF=*) ;; *) echo "$w" ;; esac; done)
	[ "$opts" = inproc ] && kind=rtc
	[ "$name" = tcp ] || [ "$opts" = tcp ] && kind=tcp
	nic_engines_down
	# shellcheck disable=SC2086
	[ $kind = snow ] && nic_engines_up $opts
	nic_pair $kind "$TMP/$name.$round" "$envs" $args --test lat --sizes 64 --iters-scale $((SCALE * 5))
	# shellcheck disable=SC2086
	nic_pair $kind "$TMP/$name.$round" "$envs" $args --test bw --sizes 65536,4194304 --iters-scale "$SCALE"
	nic_engines_down
}

echo "nic-ab: $ROUNDS rounds, scale $SCALE, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
n=${#VARIANTS[@]}
for ((r = 0; r < ROUNDS; r++)); do
	for ((k = 0; k < n; k++)); do
		# Rotate, and reverse every other round: each variant runs early and late.
		i=$(((k + r) % n))
		((r % 2)) && i=$(((n - 1 - k + r) % n))
		IFS='|' read -r name opts envs <<<"${VARIANTS[$i]}"
		one "$name" "$opts" "$envs" "$r"
		echo "  round $r: $name done (load $(cut -d' ' -f1 /proc/loadavg))"
	done
done
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$TMP" "$ROUNDS" "${VARIANTS[@]}" <<'EOF'
import os, statistics, sys
tmp, rounds, variants = sys.argv[1], int(sys.argv[2]), [v.split("|")[0] for v in sys.argv[3:]]
def rows(name, r):
    out = {}
    try:
        for line in open(os.path.join(tmp, "%s.%d" % (name, r))):
            f = line.split()
            if f and f[0].isdigit():
                size, lat, bw = int(f[0]), float(f[1]), float(f[2])
                out[(size, "lat" if lat else "bw")] = lat or bw
    except OSError:
        pass
    return out
keys = [(64, "lat"), (65536, "bw"), (4194304, "bw")]
med = {}
print("\n%-12s | %-26s | %-26s | %-26s" % ("variant", "64 B lat us (min..max)", "64 KiB MB/s (min..max)", "4 MiB MB/s (min..max)"))
for v in variants:
    cells = []
    for k in keys:
        xs = [rows(v, r).get(k) for r in range(rounds)]
        xs = [x for x in xs if x]
        if not xs:
            cells.append("%-26s" % "-")
            continue
        med[(v, k)] = m = statistics.median(xs)
        cells.append("%8.1f (%7.1f..%7.1f)" % (m, min(xs), max(xs)))
    print("%-12s | %s" % (v, " | ".join(cells)))
print("\nratio to TCP (latency: TCP/variant, >1 is faster; bandwidth: variant/TCP)")
for v in variants:
    if v == "tcp":
        continue
    out = []
    for k in keys:
        a, t = med.get((v, k)), med.get(("tcp", k))
        out.append("%6.2f" % ((t / a if k[1] == "lat" else a / t) if a and t else 0))
    print("%-12s | %s" % (v, "   ".join(out)))
# Paired: each variant over the one before it in the list, round by round (they ran
# minutes apart at most, under the same load), then the median over rounds.
print("\npaired, median over rounds of this variant / the one before it (latency: before/this, >1 is faster)")
for p, v in zip(variants, variants[1:]):
    if v == "tcp":
        continue
    out = []
    for k in keys:
        rs = []
        for r in range(rounds):
            a, b = rows(v, r).get(k), rows(p, r).get(k)
            if a and b:
                rs.append(b / a if k[1] == "lat" else a / b)
        out.append("%5.2f (%4.2f..%4.2f)" % (statistics.median(rs), min(rs), max(rs)) if rs else "%17s" % "-")
    print("%-24s | %s" % (v + " / " + p, "   ".join(out)))
EOF
