#!/usr/bin/env bash
# The scale-out part of `make bench-host` (docs/scale-out.md), also runnable alone:
#   host/bench/ingest_pg.sh [NODES]      (default: 10000)
# The same NODES nodes reporting every second, three ways: one snowd on SQLite
# (the embedded default), one snowd on a PostgreSQL of its own (initdb into a
# temporary folder, unix socket only, as tests/integration/pg.sh), and two
# snowd on that PostgreSQL, each with half the nodes (its own snow-nodesim).
# For each, after every node registered: reports/s from the snowd counters
# over $BENCH_SECONDS, nodesim's p50/p99 and errors, CPU of snowd and
# PostgreSQL; then the ratios against one snowd on SQLite, with the load
# average beside.  Repeated $BENCH_REPEATS times, interleaved; medians.
# Prints a markdown table; never fails on speed.
# Knobs: BENCH_SECONDS (20), BENCH_REPEATS (3), BENCH_CONCURRENCY (256),
# BENCH_SETUPS ("sqlite-1 pg-1 pg-2": which to run), BENCH_BIN (programs from another build folder).
. "$(dirname "$0")/../../tests/lib.sh"
. "$SNOW_TOP/tests/integration/pg.sh"
SNOW_BIN=${BENCH_BIN:-$SNOW_BIN}

n=${1:-10000}
secs=${BENCH_SECONDS:-20}
reps=${BENCH_REPEATS:-3}
conc=${BENCH_CONCURRENCY:-256}
images=$SNOW_TOP/build/images
dir=$(mktemp -d /tmp/snow-bench-pg.XXXXXX)
chmod 0755 "$dir"
pida= pidb= sima= simb=
on_exit 'stop_pid "$sima"; stop_pid "$simb"; stop_pid "$pida"; stop_pid "$pidb"; rm -rf "$dir"'
say() { printf 'bench-pg: %s\n' "$*" >&2; }
[ "$(id -u)" = 0 ] || { say "needs root (nodes bind 127/8 addresses)"; exit 1; }
ulimit -n 200000 2>/dev/null || ulimit -n 65536 2>/dev/null || true
simopt=(); [ $((n + 2048)) -le "$(ulimit -n)" ] && simopt=(--keep-alive)
if ! pg_start "$dir/pg"; then
	say "no PostgreSQL (make deps installs it): skipped"
	exit 0
fi
pa=$(free_port) pb=$(free_port)
ua=http://127.0.0.1:$pa ub=http://127.128.0.1:$pb
hz=$(getconf CLK_TCK)
now() { date +%s.%N; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# PostgreSQL's CPU: the postmaster and every backend it started.
pg_ticks() {
	local pm t=0 p
	pm=$(head -1 "$PG_SOCK/data/postmaster.pid" 2>/dev/null) || { echo 0; return; }
	for p in $pm $(ps -o pid= --ppid "$pm"); do t=$((t + $(cpu_ticks "$p"))); done
	echo "$t"
}
# launch NAME ADDR PORT [--db URL]: a snowd, boot network ADDR/9 (A and B do not overlap)
launch() {
	"$SNOW_BIN/snowd" --state-dir "$dir/$1" --listen "$2:$3" --boot-addr "$2/9" \
		--dnsmasq none --image-dir "$images" --interval-ms 1000 "${@:4}" >>"$dir/$1.log" 2>&1 &
}
up() { wait_for 30 curl -sf "$1/api/v1/health" || { say "snowd at $1 did not start"; exit 1; }; }
metric() { curl -sf -H "Authorization: Bearer $token" "$1/metrics" |
	awk '$1 == "snowd_reports_total" {print $2; f=1} END {if (!f) print 0}'; }
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], 0))' "$1" "$2" 2>/dev/null || echo 0; }
wait_registered() { # wait_registered ERRFILE PID
	local s=$SECONDS
	until grep -qs 'nodes registered after' "$1"; do
		kill -0 "$2" 2>/dev/null || { say "nodesim stopped: $(tail -2 "$1")"; return 1; }
		[ $((SECONDS - s)) -gt 300 ] && { say "not all registered in 300 s"; return 0; }
		sleep 0.5
	done
}
wait_online() { # wait_online ERRFILE PID: until its last progress line has every node online
	local s=$SECONDS
	until tail -1 "$1" | awk '/^nodesim: t=/ {exit !($4 == $8)} {exit 1}'; do
		kill -0 "$2" 2>/dev/null || return 1
		[ $((SECONDS - s)) -gt 300 ] && { say "not all online in 300 s"; return 0; }
		sleep 0.5
	done
}
# Nodes PREFIX00001..: addresses 127.X.Y.Z from first octet FIRST (a: 127.1..., b: 127.129...).
sqlite_fill() { # sqlite_fill FILE PREFIX COUNT FIRST
	sqlite3 "$1" "BEGIN;
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $3)
INSERT INTO nodes (name, mac, ip, image, secret, created)
SELECT printf('$2%05d', i), printf('02:6d:%02x:%02x:%02x:%02x', $4, i >> 16, (i >> 8) & 255, i & 255),
       printf('127.%d.%d.%d', $4 + (i >> 16), (i >> 8) & 255, i & 255), 'default',
       lower(hex(randomblob(32))), strftime('%s', 'now') FROM c;
COMMIT;"
}
pg_fill() { # pg_fill DB PREFIX COUNT FIRST
	pg_sql "$1" "INSERT INTO nodes (name, mac, ip, image, secret, created)
SELECT '$2' || lpad(i::text, 5, '0'),
       format('02:6d:%s:%s:%s:%s', lpad(to_hex($4), 2, '0'), lpad(to_hex(i >> 16), 2, '0'),
              lpad(to_hex((i >> 8) & 255), 2, '0'), lpad(to_hex(i & 255), 2, '0')),
       format('127.%s.%s.%s', $4 + (i >> 16), (i >> 8) & 255, i & 255), 'default',
       md5(random()::text) || md5(random()::text), extract(epoch FROM now())::bigint
FROM generate_series(1, $3) i" >/dev/null
}

# measure LABEL: the window over the snowd that run ($pida, $pidb) and their nodesims
measure() {
	local t0 t1 a0 a1 b0=0 b1=0 c0 c1 p0 p1
	wait_registered "$dir/a.err" "$sima" || return 1
	[ -z "$simb" ] || wait_registered "$dir/b.err" "$simb" || return 1
	# The window opens once every node is online (the first rounds of reports are over).
	wait_online "$dir/a.err" "$sima"
	[ -z "$simb" ] || wait_online "$dir/b.err" "$simb"
	sleep 3
	t0=$(now); a0=$(metric "$ua"); [ -z "$pidb" ] || b0=$(metric "$ub")
	c0=$(( $(cpu_ticks "$pida") + $(cpu_ticks "${pidb:-0}") )); p0=$(pg_ticks)
	sleep "$secs"
	t1=$(now); a1=$(metric "$ua"); [ -z "$pidb" ] || b1=$(metric "$ub")
	c1=$(( $(cpu_ticks "$pida") + $(cpu_ticks "${pidb:-0}") )); p1=$(pg_ticks)
	load=$(cut -d' ' -f1 /proc/loadavg)
	kill -TERM "$sima"; wait "$sima"; sima=
	[ -z "$simb" ] || { kill -TERM "$simb"; wait "$simb"; simb=; }
	rate=$(python3 -c "print(round(($a1 - $a0 + $b1 - $b0) / ($t1 - $t0)))")
	cpu=$(python3 -c "print(round(100 * ($c1 - $c0) / $hz / ($t1 - $t0)))")
	pgcpu=$(python3 -c "print(round(100 * ($p1 - $p0) / $hz / ($t1 - $t0)))")
	p99=$(field "$dir/a.json" report_p99_ms) err=$(field "$dir/a.json" errors)
	if [ -f "$dir/b.json" ]; then
		p99=$(python3 -c "print(max($p99, $(field "$dir/b.json" report_p99_ms)))")
		err=$((err + $(field "$dir/b.json" errors)))
	fi
	echo "$1 $rate $p99 $err $cpu $pgcpu $load" >>"$dir/results"
	say "$1: ${rate}/s ingested, p99 ${p99} ms, errors ${err}, CPU snowd ${cpu}% PostgreSQL ${pgcpu}%, load ${load}"
}
stop_all() { stop_pid "$pida"; stop_pid "$pidb"; pida= pidb=; rm -f "$dir/a.json" "$dir/b.json"; }
sim() { # sim NAME URL PREFIX: a snow-nodesim for every node of PREFIX
	"$SNOW_BIN/snow-nodesim" --url "$2" --token "$token" --json --stats --prefix "$3" \
		--concurrency "$conc" --duration 3600 --interval-ms 1000 "${simopt[@]}" \
		>"$dir/$1.json" 2>"$dir/$1.err" &
}

run_sqlite() {
	rm -rf "$dir/a"
	launch a 127.0.0.1 "$pa"; pida=$!; up "$ua"; stop_pid "$pida"
	sqlite_fill "$dir/a/snow.db" m "$n" 1 || { say "cannot fill SQLite"; return 1; }
	launch a 127.0.0.1 "$pa"; pida=$!; up "$ua"
	token=$(cat "$dir/a/admin.token")
	sim a "$ua" m; sima=$!
	measure sqlite-1
	stop_all
}
run_pg() { # run_pg 1|2
	local db=snow_b$RANDOM
	rm -rf "$dir/a" "$dir/b"
	db_url=$(pg_url "$db")
	launch a 127.0.0.1 "$pa" --db "$db_url"; pida=$!; up "$ua"; stop_pid "$pida"
	if [ "$1" = 1 ]; then
		pg_fill "$db" m "$n" 1 || { say "cannot fill PostgreSQL"; return 1; }
	else
		pg_fill "$db" a $((n / 2)) 1 && pg_fill "$db" b $((n - n / 2)) 129 ||
			{ say "cannot fill PostgreSQL"; return 1; }
	fi
	launch a 127.0.0.1 "$pa" --db "$db_url"; pida=$!; up "$ua"
	token=$(cat "$dir/a/admin.token")
	if [ "$1" = 1 ]; then
		sim a "$ua" m; sima=$!
	else
		launch b 127.128.0.1 "$pb" --db "$db_url"; pidb=$!; up "$ub"
		sim a "$ua" a; sima=$!
		sim b "$ub" b; simb=$!
	fi
	measure "pg-$1"
	stop_all
	_pg "$PG_BIN/dropdb" -h "$PG_SOCK" -U snow "$db" 2>/dev/null
}

setups=${BENCH_SETUPS:-sqlite-1 pg-1 pg-2}
for r in $(seq "$reps"); do
	say "round $r of $reps, $n nodes at 1 s"
	[[ " $setups " == *" sqlite-1 "* ]] && run_sqlite
	[[ " $setups " == *" pg-1 "* ]] && run_pg 1
	[[ " $setups " == *" pg-2 "* ]] && run_pg 2
done

python3 - "$dir/results" "$n" "$secs" "$reps" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
n, secs, reps = sys.argv[2], sys.argv[3], sys.argv[4]
by = {}
for r in rows:
    by.setdefault(r[0], []).append(r[1:])
def med(k, i):
    v = [float(x[i]) for x in by.get(k, [])]
    return statistics.median(v) if v else float("nan")
base = med("sqlite-1", 0) if "sqlite-1" in by else float("nan")
print()
print(f"## scale-out ingest: {n} nodes at 1 s, {secs} s windows, median of {reps}")
print()
print("| setup | reports/s ingested | vs one snowd on SQLite | p99 ms (worst nodesim) | errors | CPU snowd (sum) | CPU PostgreSQL | load average |")
print("|---|---|---|---|---|---|---|---|")
names = {"sqlite-1": "one snowd, SQLite", "pg-1": "one snowd, PostgreSQL", "pg-2": "two snowd, one PostgreSQL"}
for k in ("sqlite-1", "pg-1", "pg-2"):
    if k not in by:
        continue
    loads = ", ".join(x[5] for x in by[k])
    print(f"| {names[k]} | {med(k,0):.0f}/s | {med(k,0)/base:.2f}x | {med(k,1):.1f} | {med(k,2):.0f} | {med(k,3):.0f} % | {med(k,4):.0f} % | {loads} |")
EOF
