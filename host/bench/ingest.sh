#!/usr/bin/env bash
# The ingest part of `make bench-host` (docs/nodesim.md), also runnable alone:
#   host/bench/ingest.sh [NODES...]      (default: 10000 20000 50000)
# For each count: a fresh inventory filled with one SQL transaction, snowd
# with a 1 s report interval, snow-nodesim until every node registered, then
# a measured window of $BENCH_SECONDS: reports/s from snowd's own counter and
# nodesim's (the mean of its --stats lines in the window), p50/p99, errors, snowd's RSS and CPU.  Then the same nodes'
# reports (same bodies, signatures, connection pattern) sent to nginx that
# answers every POST 204 (nodesim --sink), for the HTTP ceiling beside
# snowd's.  Prints a markdown table; never fails on speed.
# Knobs: BENCH_SECONDS (20), BENCH_INTERVAL_MS (1000), BENCH_CONCURRENCY (256),
# BENCH_KEEPALIVE (1: nodesim --keep-alive; 0: a connection per request, as
# snow-agent with keep_alive = no),
# BENCH_SIM_PROCS (nodesim's worker processes, --procs; default 2 past 10 000
# nodes, else 1: one nodesim thread is the ceiling past ~15 000 reports/s),
# BENCH_NGINX (1: also nginx), BENCH_INGEST_DIR (keep logs there), BENCH_PERF (1:
# perf record -g snowd during the window, into the logs), BENCH_BIN (the
# programs from another build folder, for A/B runs).
. "$(dirname "$0")/../../tests/lib.sh"
set -o pipefail
SNOW_BIN=${BENCH_BIN:-$SNOW_BIN} # another build to compare (A/B)

secs=${BENCH_SECONDS:-20}
ival=${BENCH_INTERVAL_MS:-1000}
conc=${BENCH_CONCURRENCY:-256}
# 1: every node keeps its connection (nodesim --keep-alive) while the descriptor limit allows;
# 0: one per request, as snow-agent with keep_alive = no
keep=${BENCH_KEEPALIVE:-1}
simopt=(); [ "$keep" = 1 ] && simopt=(--keep-alive)
procs_knob=${BENCH_SIM_PROCS:-}
use_nginx=${BENCH_NGINX:-1}
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(10000 20000 50000)
images=$SNOW_TOP/build/images
dir=${BENCH_INGEST_DIR:-$(mktemp -d /tmp/snow-bench-ingest.XXXXXX)}
mkdir -p "$dir"
pid= sim= ngx=
on_exit 'stop_pid "$sim"; stop_pid "$pid"; stop_pid "$ngx"; [ -n "${BENCH_INGEST_DIR:-}" ] || rm -rf "$dir"'
say() { printf 'bench-ingest: %s\n' "$*" >&2; }
[ "$(id -u)" = 0 ] || { say "needs root (nodes bind 127/8 addresses)"; exit 1; }
ulimit -n 200000 2>/dev/null || ulimit -n 65536 2>/dev/null || true

port=$(free_port)
url=http://127.0.0.1:$port
now() { date +%s.%N; }
start_snowd() { # start_snowd STATE
	"$SNOW_BIN/snowd" --state-dir "$1" --listen "127.0.0.1:$port" --boot-addr 127.0.0.1/8 \
		--dnsmasq none --image-dir "$images" --interval-ms "$ival" >>"$dir/snowd.log" 2>&1 &
	pid=$!
	wait_for 30 curl -sf "$url/api/v1/health" || { say "snowd did not start"; tail "$dir/snowd.log" >&2; exit 1; }
	token=$(cat "$1/admin.token")
}
metric() { curl -sf -H "Authorization: Bearer $token" "$url/metrics" |
	awk '$1 == "snowd_reports_total" {print $2; f=1} END {if (!f) print ""}'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# rq_ns PID: how long its (main) thread waited runnable for a core, ns (schedstat):
# a server below 100 % of a core that waits this much more would have used it
rq_ns() { awk '{print $2}' "/proc/$1/schedstat" 2>/dev/null || echo 0; }
# machine_ticks / machine_cpu T0 T1: the whole machine's CPU over the window, in % of
# all its cores: busy (user + system + softirq), of which softirq (loopback TCP), and idle
machine_ticks() { awk '$1 == "cpu" {print $2 + $3, $4, $7 + $8, $5 + $6}' /proc/stat; }
machine_cpu() {
	python3 -c '
import sys
a, b = [float(x) for x in sys.argv[1].split()], [float(x) for x in sys.argv[2].split()]
d = [y - x for x, y in zip(a, b)]; t = sum(d) or 1
print("%d %% busy (softirq %d %%)" % (round(100 * (t - d[3]) / t), round(100 * d[2] / t)))' "$1" "$2"
}
# sim_ticks PID: "TOTAL W1 W2 ...": nodesim's CPU ticks, its own and each worker's (--procs)
sim_ticks() {
	local t c all=
	t=$(cpu_ticks "$1")
	for c in $(pgrep -P "$1" | sort -n); do
		c=$(cpu_ticks "$c"); all="$all $c"; t=$((t + c))
	done
	echo "$t$all"
}
# sim_cpu T0 T1 SECS: "TOTAL% (PROCS x, busiest P%)" from two sim_ticks
sim_cpu() {
	python3 -c '
import sys
a, b, s, hz = sys.argv[1].split(), sys.argv[2].split(), float(sys.argv[3]), float(sys.argv[4])
tot = 100 * (int(b[0]) - int(a[0])) / hz / s
w = [100 * (int(y) - int(x)) / hz / s for x, y in zip(a[1:], b[1:])]
print("%d %%" % round(tot) if len(w) < 2 else "%d %% (%d procs, busiest %d %%)" % (round(tot), len(w), round(max(w))))' "$1" "$2" "$3" "$hz"
}
rss_mb() { awk '/^VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo n/a; }
field() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2], "n/a"); print(round(v, 1) if isinstance(v, float) else v)' "$1" "$2" 2>/dev/null || echo n/a; }
hz=$(getconf CLK_TCK)

# fill N: a fresh inventory with N nodes m00001.. (docs/nodesim.md: the API is slow for 10k adds)
fill() {
	local st=$dir/state-$1
	rm -rf "$st"
	start_snowd "$st"
	stop_pid "$pid"; pid=
	sqlite3 "$st/snow.db" "BEGIN;
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $1)
INSERT INTO nodes (name, mac, ip, image, secret, created)
SELECT printf('m%05d', i), printf('02:6d:00:%02x:%02x:%02x', i >> 16, (i >> 8) & 255, i & 255),
       printf('127.%d.%d.%d', 1 + (i >> 16), (i >> 8) & 255, i & 255), 'default',
       lower(hex(randomblob(32))), strftime('%s', 'now') FROM c;
COMMIT;" || { say "cannot fill the inventory (schema changed?)"; exit 1; }
	start_snowd "$st"
}

# wait_registered NAME: until nodesim says every node registered, each worker for its
# share (or 300 s)
wait_registered() {
	local s=$SECONDS
	# --sink: the parent says it once for all, before its workers start
	until [ "$(cat "$dir/$1.err" 2>/dev/null | grep -c 'nodes registered after')" -ge "$sim_procs" ] ||
		grep -qs 'none registers' "$dir/$1.err"; do
		kill -0 "$sim" 2>/dev/null || { say "$1: nodesim stopped"; tail "$dir/$1.err" >&2; return 1; }
		[ $((SECONDS - s)) -gt 300 ] && { say "$1: not all registered in 300 s"; return 0; }
		sleep 0.5
	done
}

# mode N: nodesim's connection options for N nodes: keep-alive needs a descriptor
# per node on both sides (each nodesim worker holds its share; snowd, or nginx, all
# of them), so past the descriptor limit it is one per request.  And how many
# nodesim processes: BENCH_SIM_PROCS, else 2 past 10 000 nodes.
mode() {
	sim_procs=${procs_knob:-1}
	[ -z "$procs_knob" ] && [ "$1" -gt 10000 ] && sim_procs=2
	if [ "$keep" = 1 ] && [ $(($1 + 2048)) -le "$(ulimit -n)" ]; then
		simopt=(--keep-alive); r_mode[$1]=keep-alive
	else
		simopt=(); r_mode[$1]=close
	fi
	simopt+=(--procs "$sim_procs")
	r_procs[$1]=$sim_procs
}

# wait_online NAME N: until nodesim's progress line counts N nodes online,
# that is every node's first report answered (at most 180 s).  A first
# report carries the node's schema, devices and thresholds (the tree path);
# with 20 000 nodes and more they take many seconds to go round, and a window
# over them measures that crowd, not the steady reports.
wait_online() {
	local s=$SECONDS
	until tail -n 8 "$dir/$1.err" | grep -q " online $2 "; do
		[ $((SECONDS - s)) -gt 180 ] && { say "$1: not all $2 online in 180 s"; return 0; }
		sleep 0.5
	done
}

# win_rate NAME L0 L1: nodesim's reports/s over its --stats lines L0+1..L1 (the
# window), not its summary's steady rate, which also counts the crowd of first
# reports after registering (with --sink there is none: the two would differ)
win_rate() {
	sed -n "$(($2 + 1)),$3p" "$dir/$1.err" | awk '/^nodesim: t=/ { for (i = 1; i < NF; i++)
		if ($i == "reports") { s += $(i + 1); n++ } } END { if (n) printf "%.0f", s / n; else print "n/a" }'
}
lines() { wc -l <"$dir/$1.err"; }

# run_snowd N: fills r_* variables
run_snowd() {
	local n=$1 name=s$1 t0 t1 m0 m1 c0 c1 cs0 cs1 l0 l1 k0 k1 q0 q1
	mode "$n"
	fill "$n"
	"$SNOW_BIN/snow-nodesim" --url "$url" --token "$token" --json --stats --prefix m \
		--count "$n" --concurrency "$conc" --duration 3600 --interval-ms "$ival" \
		"${simopt[@]}" >"$dir/$name.json" 2>"$dir/$name.err" &
	sim=$!
	wait_registered "$name" || return 1
	wait_online "$name" "$n"
	t0=$(now); m0=$(metric); c0=$(cpu_ticks "$pid"); q0=$(rq_ns "$pid"); cs0=$(sim_ticks "$sim"); l0=$(lines "$name"); k0=$(machine_ticks)
	if [ -n "${BENCH_PERF:-}" ]; then
		perf record ${BENCH_PERF_OPTS:--g} -o "$dir/perf-$n.data" -p "$pid" -- sleep "$secs" >/dev/null 2>&1
	else
		sleep "$secs"
	fi
	t1=$(now); m1=$(metric); c1=$(cpu_ticks "$pid"); q1=$(rq_ns "$pid"); cs1=$(sim_ticks "$sim"); l1=$(lines "$name"); k1=$(machine_ticks)
	r_mach[$n]=$(machine_cpu "$k0" "$k1")
	r_rss[$n]=$(rss_mb "$pid")
	r_rate[$n]=$(python3 -c "print(round(($m1 - $m0) / ($t1 - $t0)))" 2>/dev/null || echo n/a)
	r_cpu[$n]=$(python3 -c "print(round(100 * ($c1 - $c0) / $hz / ($t1 - $t0)))")
	r_wait[$n]=$(python3 -c "print(round(100 * ($q1 - $q0) / 1e9 / ($t1 - $t0)))")
	r_simcpu[$n]=$(sim_cpu "$cs0" "$cs1" "$(python3 -c "print($t1 - $t0)")")
	kill -TERM "$sim"; wait "$sim"; sim=
	r_simrate[$n]=$(win_rate "$name" "$l0" "$l1")
	r_p50[$n]=$(field "$dir/$name.json" report_p50_ms)
	r_p99[$n]=$(field "$dir/$name.json" report_p99_ms)
	r_err[$n]=$(field "$dir/$name.json" errors)
	r_online[$n]=$(field "$dir/$name.json" online)
	say "snowd $n nodes: ${r_rate[$n]}/s ingested (nodesim ${r_simrate[$n]}/s), p50/p99 ${r_p50[$n]}/${r_p99[$n]} ms, errors ${r_err[$n]}, RSS ${r_rss[$n]} MB, CPU snowd ${r_cpu[$n]}% (+${r_wait[$n]}% waiting for a core) nodesim ${r_simcpu[$n]}, machine ${r_mach[$n]}, load $(cut -d' ' -f1 /proc/loadavg)"
	stop_pid "$pid"; pid=
}

# run_nginx N: the same nodes' reports to nginx answering 204
run_nginx() {
	local n=$1 name=n$1 nport c0 c1 t0 t1 cs0 cs1 l0 l1 k0 k1 q0 q1
	mode "$n"
	start_snowd "$dir/state-$n" # nodesim takes the node list (names, secrets) from snowd
	nport=$(free_port)
	mkdir -p "$dir/nginx/logs" "$dir/nginx/tmp"
	# One worker: snowd answers from one thread.  Keep-alive as snowd's (60 s).
	cat >"$dir/nginx/nginx.conf" <<-NGX
	worker_processes 1;
	master_process off;
	daemon off;
	user root;
	worker_rlimit_nofile 200000;
	pid $dir/nginx/nginx.pid;
	error_log $dir/nginx/logs/error.log warn;
	events { worker_connections 120000; }
	http {
	    access_log off;
	    keepalive_requests 1000000;
	    keepalive_timeout 60s;
	    client_body_buffer_size 64k;
	    client_body_temp_path $dir/nginx/tmp/body;
	    proxy_temp_path $dir/nginx/tmp/proxy;
	    fastcgi_temp_path $dir/nginx/tmp/fastcgi;
	    uwsgi_temp_path $dir/nginx/tmp/uwsgi;
	    scgi_temp_path $dir/nginx/tmp/scgi;
	    server {
	        listen 127.0.0.1:$nport backlog=4096;
	        location / { return 204; }
	    }
	}
	NGX
	nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/nginx/logs/error.log" &
	ngx=$!
	if ! wait_for 10 curl -sf -o /dev/null -X POST "http://127.0.0.1:$nport/api/v1/node/report"; then
		say "nginx did not start: $(tail -3 "$dir/nginx/logs/error.log")"
		stop_pid "$ngx"; ngx=; stop_pid "$pid"; pid=
		return 1
	fi
	"$SNOW_BIN/snow-nodesim" --url "$url" --token "$token" --json --stats --prefix m \
		--count "$n" --concurrency "$conc" --duration 3600 --interval-ms "$ival" \
		"${simopt[@]}" --sink "http://127.0.0.1:$nport" >"$dir/$name.json" 2>"$dir/$name.err" &
	sim=$!
	wait_registered "$name" || return 1
	sleep 3
	t0=$(now); c0=$(cpu_ticks "$ngx"); q0=$(rq_ns "$ngx"); cs0=$(sim_ticks "$sim"); l0=$(lines "$name"); k0=$(machine_ticks)
	sleep "$secs"
	t1=$(now); c1=$(cpu_ticks "$ngx"); q1=$(rq_ns "$ngx"); cs1=$(sim_ticks "$sim"); l1=$(lines "$name"); k1=$(machine_ticks)
	n_mach[$n]=$(machine_cpu "$k0" "$k1")
	n_cpu[$n]=$(python3 -c "print(round(100 * ($c1 - $c0) / $hz / ($t1 - $t0)))")
	n_wait[$n]=$(python3 -c "print(round(100 * ($q1 - $q0) / 1e9 / ($t1 - $t0)))")
	n_simcpu[$n]=$(sim_cpu "$cs0" "$cs1" "$(python3 -c "print($t1 - $t0)")")
	kill -TERM "$sim"; wait "$sim"; sim=
	n_rate[$n]=$(win_rate "$name" "$l0" "$l1")
	n_p50[$n]=$(field "$dir/$name.json" report_p50_ms)
	n_p99[$n]=$(field "$dir/$name.json" report_p99_ms)
	n_err[$n]=$(field "$dir/$name.json" errors)
	say "nginx $n nodes: ${n_rate[$n]}/s answered, p50/p99 ${n_p50[$n]}/${n_p99[$n]} ms, errors ${n_err[$n]}, CPU nginx ${n_cpu[$n]}% (+${n_wait[$n]}% waiting for a core) nodesim ${n_simcpu[$n]}, machine ${n_mach[$n]}, load $(cut -d' ' -f1 /proc/loadavg)"
	stop_pid "$ngx"; ngx=
	stop_pid "$pid"; pid=
}

declare -A r_wait n_wait r_mach n_mach r_mode r_procs r_rss r_rate r_cpu r_simcpu r_simrate r_p50 r_p99 r_err r_online n_cpu n_simcpu n_rate n_p50 n_p99 n_err
for n in "${counts[@]}"; do
	run_snowd "$n"
	if [ "$use_nginx" = 1 ] && command -v nginx >/dev/null; then
		run_nginx "$n"
	fi
done

ratio() { python3 -c "print(round(float('$1') / float('$2'), 2))" 2>/dev/null || echo n/a; }
share() { python3 -c "print(round(100 * float('$1') / float('$2'), 1))" 2>/dev/null || echo n/a; }
{
	echo
	echo "## ingest, $(date -u +%Y-%m-%d), $(nproc) cores, interval ${ival} ms, nodesim concurrency ${conc}, keep-alive ${keep}, ${secs} s window, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
	echo
	printf '| nodes | connections, nodesim processes | demand | snowd ingested (counter) | %% of demand | nodesim 2xx/s (window) | p50 / p99 ms | errors | online | snowd RSS | CPU snowd (+ waiting for a core) / nodesim | machine | nginx 204/s | nginx p50 / p99 ms | CPU nginx (+ waiting) / nodesim | machine | snowd / nginx |\n'
	printf '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n'
	for n in "${counts[@]}"; do
		d=$((n * 1000 / ival))
		printf '| %s | %s, %s | %s/s | %s/s | %s %% | %s/s | %s / %s | %s | %s | %s MB | %s %% (+%s %%) / %s | %s | %s/s | %s / %s | %s %% (+%s %%) / %s | %s | %s |\n' \
			"$n" "${r_mode[$n]}" "${r_procs[$n]}" "$d" "${r_rate[$n]}" "$(share "${r_rate[$n]}" "$d")" "${r_simrate[$n]}" \
			"${r_p50[$n]}" "${r_p99[$n]}" "${r_err[$n]}" "${r_online[$n]}" "${r_rss[$n]}" \
			"${r_cpu[$n]}" "${r_wait[$n]}" "${r_simcpu[$n]}" "${r_mach[$n]}" "${n_rate[$n]:-n/a}" \
			"${n_p50[$n]:-n/a}" "${n_p99[$n]:-n/a}" "${n_cpu[$n]:-n/a}" "${n_wait[$n]:-n/a}" \
			"${n_simcpu[$n]:-n/a}" "${n_mach[$n]:-n/a}" \
			"$(ratio "${r_simrate[$n]}" "${n_rate[$n]:-x}")"
	done
}
