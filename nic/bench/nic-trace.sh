#!/usr/bin/env bash
# nic-trace.sh: where a 64 B message's microseconds go, one path at a time (docs/nic.md,
# "Where each microsecond goes").  For each VARIANT (pipe, sf, rtc, rtcs, tcp, as in
# make bench-nic) one untraced latency pair, then the same pair under
# `perf record -a` of the scheduler's switches and wake-ups, the veth's netif_rx and the
# send, futex and write (doorbell) system calls; then, per one-way trip, each milestone's
# median offset (a row's step is the difference of two medians), and per round trip the
# wake-ups between the threads and each thread's CPU time and CPUs.  Needs root and perf.
#   nic/bench/nic-trace.sh [-s SIZE] [-i ITERS_SCALE] VARIANT...
# SIZE (64) other than 64 keeps only the wake-up and CPU counts meaningful: the chain
# follows bypass frames.  Traces stay in $OUT (default /tmp/nic-trace) for a look.
set -u
cd "$(dirname "$0")/../.." || exit 1
BIN=build/bin # used by nic-lib.sh
export BIN
SIZE=64 ISCALE=500
OUT=${OUT:-/tmp/nic-trace}
while getopts s:i: o; do
	case $o in
	s) SIZE=$OPTARG ;;
	i) ISCALE=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ "$(id -u)" = 0 ] || { echo "nic-trace: needs root" >&2; exit 1; }
command -v perf >/dev/null || { echo "nic-trace: needs perf" >&2; exit 1; }
[ $# -gt 0 ] || { echo "usage: nic-trace.sh [-s SIZE] [-i SCALE] pipe|sf|rtc|rtcs|tcp ..." >&2; exit 2; }
mkdir -p "$OUT"
export TCP_PORT=5321 # nic-lib.sh
# shellcheck source=nic/bench/nic-lib.sh
. nic/bench/nic-lib.sh
nic_link t 249 || exit 1
EV=""
for e in sched:sched_switch sched:sched_waking net:netif_rx syscalls:sys_enter_write \
	syscalls:sys_enter_sendto syscalls:sys_exit_sendto syscalls:sys_enter_sendmsg \
	syscalls:sys_exit_sendmsg syscalls:sys_enter_futex syscalls:sys_exit_futex; do
	EV="$EV -e $e"
done

for v in "$@"; do
	case $v in
	pipe) kind=snow envs="" args="" ;;
	sf) kind=snow envs="" args="--sf" ;;
	rtc) kind=rtc envs="SNOWNIC_SPIN_US=200 PIN=0,1" args="" ;;
	rtcs) kind=rtc envs="" args="" ;;
	tcp) kind=tcp envs="" args="" ;;
	*) echo "nic-trace: unknown variant $v" >&2; exit 2 ;;
	esac
	nic_engines_down
	rm -f "$OUT/$v".*
	# shellcheck disable=SC2086
	nic_pair $kind "$OUT/$v.plain" "$envs" $args --test lat --sizes "$SIZE" --iters-scale "$ISCALE"
	# shellcheck disable=SC2086
	perf record -q -k CLOCK_MONOTONIC -m 8M -a $EV -o "$OUT/$v.data" 2>>"$OUT/$v.perf.log" &
	pp=$!
	sleep 1
	# shellcheck disable=SC2086
	nic_pair $kind "$OUT/$v.traced" "$envs" $args --test lat --sizes "$SIZE" --iters-scale "$ISCALE"
	kill -INT $pp
	wait $pp
	echo "== $v, $SIZE B one way: untraced $(awk -v s="$SIZE" '$1 == s {print $2}' "$OUT/$v.plain") us," \
		"traced $(awk -v s="$SIZE" '$1 == s {print $2}' "$OUT/$v.traced") us; load $(cut -d' ' -f1-3 /proc/loadavg)"
	perf script -i "$OUT/$v.data" --ns -F comm,pid,tid,cpu,time,event,trace 2>/dev/null >"$OUT/$v.txt"
	python3 - "$v" "$OUT/$v.txt" "$SIZE" <<'PY'
import collections, re, statistics, sys
variant, fn, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
daemon = variant in ('pipe', 'sf')
rx = re.compile(r'^\s*(.+?)\s+(\d+)/(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+(\S+):\s*(.*)$')
ev = []   # (time us, tid, event, text, cpu, pid)
for line in open(fn):
    m = rx.match(line)
    if m:
        ev.append((float(m[5]) * 1e6, int(m[3]), m[6], m[7], int(m[4]), int(m[2])))
ev.sort(key=lambda e: e[0])
def dev(e): return re.search(r'dev=(\S+)', e[3])[1]
def pid_in(e, key): return int(re.search(key + r'=(\d+)', e[3])[1])
rxs = [e for e in ev if e[2] == 'net:netif_rx' and 'dev=nict' in e[3]]
if not rxs:
    sys.exit('no frames traced')
devA, devB = sorted({dev(e) for e in rxs if dev(e).startswith('nict')})
# The test's data frames, each way: the commonest length from its size up (64 B: 104 with
# the header; the warm-up's 64 B frames are left out of larger sizes' runs; the two ends'
# models may cut a message differently).
def flen(e): return int(e[3].rsplit('len=', 1)[1])
dlen = {}
for d in (devA, devB):
    lens = collections.Counter(flen(e) for e in rxs if dev(e) == d)
    dlen[d] = max((c, n) for n, c in lens.items() if n >= min(size + 40, 32768))[1]
def data(e): return e[2] == 'net:netif_rx' and 'dev=nict' in e[3] and flen(e) == dlen[dev(e)]
# Who hands frames to each side: the client's side sends to B's device.
by = {d: collections.Counter(e[1] for e in rxs if dev(e) == d and data(e)) for d in (devA, devB)}
sA, sB = by[devB].most_common(1)[0][0], by[devA].most_common(1)[0][0]
pid = {e[1]: e[5] for e in ev}
comm = {}
for e in ev:
    if e[2] == 'sched:sched_switch':
        m = re.search(r'next_comm=(.+) next_pid=(\d+)', e[3])
        comm[int(m[2])] = m[1]
if daemon:   # frames leave from nic-cpu or nic-wiretx; the chain uses each daemon's nic-cpu
    cpu_thr = {pid[t]: t for t, c in comm.items() if c == 'nic-cpu' and t in pid}
    nicA, nicB = cpu_thr[pid[sA]], cpu_thr[pid[sB]]
    woke = collections.Counter((e[1], pid_in(e, ' pid')) for e in ev
                               if e[2] == 'sched:sched_waking' and 'comm=snow-nic-bench' in e[3])
    cli = max((c, p) for (w, p), c in woke.items() if w == nicA)[1]
    srv = max((c, p) for (w, p), c in woke.items() if w == nicB)[1]
else:
    cli, srv, nicA, nicB = sA, sB, None, None
idx = [i for i, e in enumerate(ev) if data(e)]
def back(i, tid, names, stop):
    while i > stop:
        i -= 1
        if ev[i][1] == tid and ev[i][2] in names: return i
    return None
def fwd(i, tid, names, stop):
    while i < min(stop, len(ev) - 1):
        i += 1
        if ev[i][1] == tid and ev[i][2] in names: return i
    return None
def switch_in(i, tid, stop, backwards=False):
    rng = range(i - 1, stop, -1) if backwards else range(i + 1, min(stop, len(ev)))
    for j in rng:
        if ev[j][2] == 'sched:sched_switch' and f'next_pid={tid} ' in ev[j][3]: return j
    return None
SEND = ('syscalls:sys_enter_sendto', 'syscalls:sys_enter_sendmsg')
SENT = ('syscalls:sys_exit_sendto', 'syscalls:sys_exit_sendmsg')
rows, order, trips = collections.defaultdict(list), [], 0
for k in range(len(idx) // 3, len(idx) - 1):
    f, fp, fn_ = idx[k], idx[k - 1], idx[k + 1]
    if dev(ev[fp]) == dev(ev[f]): continue
    toB = dev(ev[f]) == devB
    S, R = (cli, srv) if toB else (srv, cli)
    m = {}
    if daemon:
        NS, NR = (nicA, nicB) if toB else (nicB, nicA)
        w = back(f, S, ('syscalls:sys_exit_futex',), fp)
        if w is None: continue
        m['app has the previous message (futex exit)'] = w
        m['app rings the doorbell (first kick write)'] = fwd(w, S, ('syscalls:sys_enter_write',), f)
        m['app sleeps (futex wait)'] = fwd(w, S, ('syscalls:sys_enter_futex',), f)
        j = switch_in(f, NS, fp, backwards=True)
        m['sending NIC CPU switched in'] = j if j is not None and j > w else None
        m['sending NIC CPU enters sendmsg'] = back(f, NS, SEND, fp)
        m['frame to the veth (netif_rx)'] = f
        m['sending NIC CPU leaves sendmsg'] = fwd(f, NS, SENT, fn_ + 3000)
        m['receiving NIC CPU switched in'] = switch_in(f, NR, fn_)
        x = fwd(f, NR, ('syscalls:sys_enter_futex',), fn_)
        m['receiving NIC CPU interrupts (futex wake)'] = x
        m['receiving app switched in'] = switch_in(x, R, fn_) if x else None
        m['receiving app has the message (futex exit)'] = fwd(x, R, ('syscalls:sys_exit_futex',), fn_) if x else None
    else:
        m['sender enters sendto'] = back(f, S, SEND, fp)
        m['frame to the veth (netif_rx)'] = f
        m['sender leaves sendto'] = fwd(f, S, SENT, fn_ + 3000)
        if variant != 'rtc':
            m['receiver switched in'] = switch_in(f, R, fn_)
        m['receiver enters sendto (the reply)'] = fwd(f, R, SEND, fn_)
    # A NIC CPU that did not sleep between the app's doorbell and its send needs no kick.
    if m.get('app rings the doorbell (first kick write)', 0) is None:
        del m['app rings the doorbell (first kick write)']
    if any(v is None for v in m.values()): continue
    t0 = ev[next(iter(m.values()))][0]
    trips += 1
    for key, v in m.items():
        rows[key].append(ev[v][0] - t0)
        if key not in order: order.insert(list(m).index(key), key)
tb = [ev[i][0] for i in idx[len(idx) // 3:] if dev(ev[i]) == devB]
rtt = statistics.median(b - a for a, b in zip(tb, tb[1:]))
print(f"one-way trips {trips}; median round trip {rtt:.1f} us, one way {rtt / 2:.1f}")
prev = 0.0
for key in order:
    med = statistics.median(rows[key])
    p90 = sorted(rows[key])[int(len(rows[key]) * 0.9)]
    some = f", in {len(rows[key])} trips" if len(rows[key]) < trips else ""
    print(f"  {key:45s} +{med:7.1f}  step {med - prev:6.1f}  (p90 +{p90:.1f}{some})")
    prev = med
names = {cli: 'client app', srv: 'server app'}
if daemon:
    for t, c in comm.items():
        if c.startswith('nic-') and pid.get(t) in (pid[nicA], pid[nicB]):
            names[t] = f"{c} {'A' if pid[t] == pid[nicA] else 'B'}"
lo, hi = ev[idx[len(idx) // 3]][0], ev[idx[-1]][0]
n = max(1, sum(1 for i in idx[len(idx) // 3:] if dev(ev[i]) == devB))
wk, run, on, cpus = collections.Counter(), collections.Counter(), {}, collections.Counter()
for e in ev:
    if not lo <= e[0] <= hi: continue
    if e[2] == 'sched:sched_waking' and pid_in(e, ' pid') in names:
        wk[(names.get(e[1], 'other'), names[pid_in(e, ' pid')])] += 1
    elif e[2] == 'sched:sched_switch':
        p, q = pid_in(e, 'prev_pid'), pid_in(e, 'next_pid')
        if p in on: run[p] += e[0] - on.pop(p)
        if q in names: on[q] = e[0]; cpus[(q, e[4])] += 1
print(f"per round trip ({n}):")
for (a, b), c in sorted(wk.items()):
    if c / n >= 0.05: print(f"  wake-ups {a} -> {b}: {c / n:.2f}")
for t, nm in sorted(names.items(), key=lambda x: x[1]):
    print(f"  {nm}: on a CPU {run[t] / n:.1f} us, switched in on CPU 0 {cpus[(t, 0)] / n:.2f}, CPU 1 {cpus[(t, 1)] / n:.2f}")
evs = collections.Counter(e[1] for e in ev if lo <= e[0] <= hi and e[1] in names)
print(f"  trace events per one way: {sum(evs.values()) / n / 2:.1f} (each costs ~1 us: compare untraced)")
PY
done
