#!/usr/bin/env bash
# Ingest on SQLite vs PostgreSQL, and two snowd sharing one PostgreSQL
# (docs/scale-out.md).  A private PostgreSQL (tests/integration/pg.sh),
# N simulated nodes (default 400) reporting every BENCH_INTERVAL_MS (100),
# BENCH_SECONDS (15) measured per run, the three variants interleaved
# BENCH_ROUNDS (2) times; prints each run and the medians, with the load
# average.  Never fails on speed.  Usage: host/bench/ingest_pg.sh [N]
. "$(dirname "$0")/../../tests/lib.sh"
. "$SNOW_TOP/tests/integration/pg.sh"
n=${1:-400}
secs=${BENCH_SECONDS:-15}
ival=${BENCH_INTERVAL_MS:-100}
rounds=${BENCH_ROUNDS:-2}
dir=$(mktemp -d /tmp/snow-bench-pg.XXXXXX)
chmod 0755 "$dir"
pids=()
on_exit 'for p in "${pids[@]}"; do stop_pid "$p"; done; rm -rf "$dir"'
[ "$(id -u)" = 0 ] || { echo "bench-pg: needs root (nodes bind 127/8 addresses)" >&2; exit 1; }
pg_start "$dir/pg" || { echo "bench-pg: PostgreSQL did not start" >&2; exit 1; }

snowd() { # snowd NAME PORT [DB]: prints its pid
	"$SNOW_BIN/snowd" --state-dir "$dir/$1" --listen "127.0.0.1:$2" --boot-addr 127.0.0.1/8 \
		--dnsmasq none --interval-ms "$ival" ${3:+--db "$3"} >>"$dir/$1.log" 2>&1 &
	echo $!
}
sim() { # sim URL PREFIX COUNT OUT: nodes added, then a measured window
	SNOW_TOKEN=$token "$SNOW_BIN/snow-nodesim" --url "$1" --add --prefix "$2" --count "$3" \
		--interval-ms "$ival" --duration "$secs" --json >"$4" 2>>"$dir/sim.err"
}
rate() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(round(j["reports_per_s"]), round(j["report_p99_ms"], 1))' "$1"; }
run() { # run VARIANT ROUND
	local pa pb a b db=
	pa=$(free_port); pb=$(free_port)
	case $1 in
	sqlite) a=$(snowd "s$2" "$pa") ;;
	pg) db=$(pg_url "one$2"); a=$(snowd "p$2" "$pa" "$db") ;;
	pg2) db=$(pg_url "two$2"); a=$(snowd "a$2" "$pa" "$db"); b=$(snowd "b$2" "$pb" "$db") ;;
	esac
	pids+=("$a" ${b:+"$b"})
	wait_for 30 curl -sf "http://127.0.0.1:$pa/api/v1/health" || { echo "bench-pg: snowd did not start" >&2; return 1; }
	[ -z "${b:-}" ] || wait_for 30 curl -sf "http://127.0.0.1:$pb/api/v1/health"
	case $1 in
	sqlite) token=$(cat "$dir/s$2/admin.token") ;;
	pg) token=$(cat "$dir/p$2/admin.token") ;;
	pg2) token=$(cat "$dir/a$2/admin.token" 2>/dev/null || cat "$dir/b$2/admin.token") ;;
	esac
	if [ "$1" = pg2 ]; then
		sim "http://127.0.0.1:$pa" "a$2x" $((n / 2)) "$dir/$1-$2-a.json" &
		local s=$!
		sim "http://127.0.0.1:$pb" "b$2x" $((n / 2)) "$dir/$1-$2-b.json"
		wait $s
		read -r ra pa99 < <(rate "$dir/$1-$2-a.json")
		read -r rb pb99 < <(rate "$dir/$1-$2-b.json")
		echo "$1 $2 $((ra + rb)) $pa99/$pb99"
	else
		sim "http://127.0.0.1:$pa" "n$2x" "$n" "$dir/$1-$2.json"
		echo "$1 $2 $(rate "$dir/$1-$2.json")"
	fi
	stop_pid "$a"; [ -z "${b:-}" ] || stop_pid "$b"
}
echo "# $n nodes every $ival ms, ${secs} s windows; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# variant round reports/s p99_ms"
for r in $(seq "$rounds"); do
	for v in sqlite pg pg2; do run "$v" "$r" | tee -a "$dir/runs"; done
done
echo "# medians (reports/s): $(for v in sqlite pg pg2; do
	printf '%s %s  ' "$v" "$(awk -v v=$v '$1 == v {print $3}' "$dir/runs" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')"
done); load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
