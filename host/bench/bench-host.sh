#!/usr/bin/env bash
# make bench-host: the host benchmark (docs/nodesim.md).  Prints figures and
# ratios; never fails on speed.  Everything runs on loopback and is stopped by
# PID on any exit.  About 2-3 minutes:
#   1. snowd (fresh state) + snow-nodesim --add 1000 nodes, 20 s of reports:
#      reports/s (snowd's own counter from /metrics, and nodesim's), p50/p99
#   2. a reboot for all 1000 nodes in one POST /api/v1/commands, every node
#      woken (host/bench/command_push.py): until every command is done (the
#      stream says so), and until every node is back online with a new boot_id
#   3. 10000 nodes (inserted into a fresh inventory with sqlite3, because
#      adding 10k through the API takes many minutes: see docs/nodesim.md),
#      20 s of reports: the same figures
#      and a reboot for all of them in one POST (command_push.py, --no-back)
#   4. overlay render time, in process (boot_render_overlay)
#   5. boot files: host/bench/bootfiles.sh (kernel + initrd under wrk, snowd
#      and nginx interleaved; a boot storm of BENCH_STORM_NODES nodes)
# Knobs: BENCH_SECONDS (steady window, 20), BENCH_WRK_SECONDS (5),
# BENCH_WRK_CONNS (16), BENCH_NODES_BIG (10000), BENCH_PARTS (the parts to
# run, "1 2 3 4 5 6 7"; 2 runs inside 1's load: "3" alone is the reboot of
# BENCH_NODES_BIG nodes, and the table says n/a for what did not run),
# BENCH_BIN (programs from another build folder, for A/B runs).
. "$(dirname "$0")/../../tests/lib.sh"
set -o pipefail

secs=${BENCH_SECONDS:-20}
wrk_secs=${BENCH_WRK_SECONDS:-5}
wrk_conns=${BENCH_WRK_CONNS:-16}
big=${BENCH_NODES_BIG:-10000}
SNOW_BIN=${BENCH_BIN:-$SNOW_BIN}
parts=" ${BENCH_PARTS:-1 2 3 4 5 6 7} "
part() { [[ $parts == *" $1 "* ]]; }
images=$SNOW_TOP/build/images
bench_bin=$SNOW_TOP/build/bench
dir=$(mktemp -d /tmp/snow-bench-host.XXXXXX)
pid= sim= ngx=
on_exit 'stop_pid "$sim"; stop_pid "$pid"; stop_pid "$ngx"; rm -rf "$dir"'
say() { printf 'bench-host: %s\n' "$*" >&2; }
[ "$(id -u)" = 0 ] || { say "needs root (nodes bind 127/8 addresses)"; exit 1; }
ulimit -n 65536 2>/dev/null || true

port=$(free_port)
url=http://127.0.0.1:$port
start_snowd() { # start_snowd STATE
	"$SNOW_BIN/snowd" --state-dir "$1" --listen "127.0.0.1:$port" --boot-addr 127.0.0.1/8 \
		--dnsmasq none --image-dir "$images" >>"$dir/snowd.log" 2>&1 &
	pid=$!
	wait_for 20 curl -sf "$url/api/v1/health" || { say "snowd did not start"; tail "$dir/snowd.log"; exit 1; }
	token=$(cat "$1/admin.token")
}
metric() { # snowd's reports counter
	curl -sf -H "Authorization: Bearer $token" "$url/metrics" |
		awk '$1 == "snowd_reports_total" {print $2; f=1} END {if (!f) print ""}'
}
now() { date +%s.%N; }
# run_load NAME NODESIM-ARGS...: nodesim in the background until steady, then
# a measured window of $secs; fills the rate_snowd_NAME variable.
run_load() {
	local name=$1 t0 t1 m0 m1 s; shift
	"$SNOW_BIN/snow-nodesim" --url "$url" --token "$token" --json --stats --keep-alive "$@" \
		>"$dir/$name.json" 2>"$dir/$name.err" &
	sim=$!
	s=$SECONDS
	until grep -q 'nodes registered after' "$dir/$name.err"; do
		kill -0 "$sim" 2>/dev/null || { say "$name: nodesim stopped"; tail "$dir/$name.err"; exit 1; }
		[ $((SECONDS - s)) -gt 240 ] && { say "$name: not all registered in 240 s"; break; }
		sleep 0.5
	done
	say "$name: $(grep 'nodes registered after' "$dir/$name.err" | sed 's/.*info\]: //')"
	sleep 2 # let the registration crowd drain
	t0=$(now); m0=$(metric)
	sleep "$secs"
	t1=$(now); m1=$(metric)
	if [ -n "$m0" ] && [ -n "$m1" ]; then
		eval "rate_snowd_$name=$(python3 -c "print(round(($m1 - $m0) / ($t1 - $t0)))")"
	else
		eval "rate_snowd_$name=n/a"
	fi
}
stop_load() {
	kill -TERM "$sim"
	wait "$sim" || say "nodesim exited $?"
	sim=
}
field() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2], "n/a"); print(round(v, 2) if isinstance(v, float) else v)' "$1" "$2"; }
# What a part that does not run leaves for the table.
for f in k1 m10 reboot reboot10; do echo '{}' >"$dir/$f.json"; done
rate_snowd_k1=n/a rate_snowd_m10=n/a ovl_mean=n/a ovl_p50=n/a ovl_p99=n/a ovl_bytes=n/a
rep_tree=n/a rep_fast=n/a rep_ratio=n/a rep_bytes=n/a
echo "(boot files not measured: BENCH_PARTS)" >"$dir/bootfiles.md"

say "snowd on $url, images from $images, state in $dir"
start_snowd "$dir/state1"

if part 1; then
	# 1. 1000 nodes created through the API.
	t=$(now)
	run_load k1 --add --count 1000 --prefix k --duration 3600
	say "k1: 1000 nodes added through the API and registered in $(python3 -c "print(round($(now) - $t - $secs - 2, 1))") s"

	# 2. A reboot for all of them, while they keep reporting.
	if part 2; then
		python3 "$SNOW_TOP/host/bench/command_push.py" "$url" "$token" k --cpu "$pid,$sim" \
			>"$dir/reboot.json" || echo '{}' >"$dir/reboot.json"
		say "reboot: $(cat "$dir/reboot.json")"
	fi
	stop_load
fi

# 3. The big one: a fresh inventory filled in one SQL transaction.
stop_pid "$pid"; pid=
if part 3; then
	start_snowd "$dir/state2"
	stop_pid "$pid"; pid=
	sqlite3 "$dir/state2/snow.db" "BEGIN;
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $big)
INSERT INTO nodes (name, mac, ip, image, secret, created)
SELECT printf('m%05d', i), printf('02:6d:00:%02x:%02x:%02x', i >> 16, (i >> 8) & 255, i & 255),
       printf('127.1.%d.%d', i >> 8, i & 255), 'default', lower(hex(randomblob(32))),
       strftime('%s', 'now') FROM c;
COMMIT;" || { say "cannot fill the inventory (schema changed?)"; exit 1; }
	start_snowd "$dir/state2"
	run_load m10 --prefix m --count "$big" --duration 3600
	python3 "$SNOW_TOP/host/bench/command_push.py" "$url" "$token" m --no-back --cpu "$pid,$sim" \
		>"$dir/reboot10.json" || echo '{}' >"$dir/reboot10.json"
	say "reboot 10k: $(cat "$dir/reboot10.json")"
	stop_load
	stop_pid "$pid"; pid=
fi

# 4. Overlay render time, in process.
if part 4; then
	read -r _ ovl_mean ovl_p50 ovl_p99 ovl_bytes < <("$bench_bin/overlay_bench" 100000)
	# ... and a steady report read, through jansson's tree and by report_fast().
	read -r _ _ rep_tree _ rep_fast _ rep_ratio _ rep_bytes < <("$bench_bin/report_bench" 20000 7)
fi

# 5. Boot files: snowd vs nginx, interleaved (host/bench/bootfiles.sh prints its tables).
stop_pid "$pid"; pid=
if part 5; then
	"$SNOW_TOP/host/bench/bootfiles.sh" >"$dir/bootfiles.md" || say "bootfiles.sh failed"
fi

# The table.
k1=$dir/k1.json m10=$dir/m10.json rb=$dir/reboot.json
rbf() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2], "n/a"); print(" / ".join(map(str, v)) if isinstance(v, list) else v)' "$rb" "$1"; }
cat <<EOF2

## make bench-host, $(date -u +%Y-%m-%d) on $(nproc) cores ($(uname -r)), report interval 2000 ms, nodesim concurrency 256, keep-alive (snow-agent's default)

| figure | 1k nodes | ${big} nodes |
|---|---|---|
| reports demanded (nodes / interval) | 500/s | $((big / 2))/s |
| reports ingested, snowd's counter | ${rate_snowd_k1}/s | ${rate_snowd_m10}/s |
| reports answered 2xx, nodesim, steady window | $(field "$k1" reports_per_s)/s | $(field "$m10" reports_per_s)/s |
| report latency p50 / p99 | $(field "$k1" report_p50_ms) / $(field "$k1" report_p99_ms) ms | $(field "$m10" report_p50_ms) / $(field "$m10" report_p99_ms) ms |
| nodes online when nodesim stopped (the ${big} were just rebooted and not waited for) | $(field "$k1" online) | $(field "$m10" online) |
| errors (timeouts, 5xx, transport) | $(field "$k1" errors) | $(field "$m10" errors) |
| all registered after (overlay + register, from start) | $(field "$k1" registered_after_s) s (with API adds) | $(field "$m10" registered_after_s) s |
| overlay fetch over HTTP p50 / p99 | $(field "$k1" overlay_p50_ms) / $(field "$k1" overlay_p99_ms) ms | $(field "$m10" overlay_p50_ms) / $(field "$m10" overlay_p99_ms) ms |

| reboot for every node, one POST /api/v1/commands, nodes woken | $(rbf nodes) nodes | $(rb=$dir/reboot10.json rbf nodes) nodes |
|---|---|---|
| the POST answered (all queued) | $(rbf post_s) s | $(rb=$dir/reboot10.json rbf post_s) s |
| commands done (result stored), from the POST: p50 / p99 | $(rbf ack_p50_s) / $(rbf ack_p99_s) s | $(rb=$dir/reboot10.json rbf ack_p50_s) / $(rb=$dir/reboot10.json rbf ack_p99_s) s |
| every command done | $(rbf all_acked_s) s ($(rbf done) done, $(rbf failed) not) | $(rb=$dir/reboot10.json rbf all_acked_s) s ($(rb=$dir/reboot10.json rbf done) done) |
| CPU from the POST to the last one done: snowd, nodesim | $(rbf cpu_s) s | $(rb=$dir/reboot10.json rbf cpu_s) s |
| every node online again with a new boot_id (boot delay 1 s) | $(rbf all_back_s) s ($(rbf back) back) | |

| overlay render, in process (boot_render_overlay, 100000 nodes) | |
|---|---|
| mean / p50 / p99 | ${ovl_mean} / ${ovl_p50} / ${ovl_p99} µs per node (${ovl_bytes} bytes) |

| a steady report read and kept, in process (report_bench, CPU time, median of 7) | |
|---|---|
| through jansson's tree (jsonh_parse_object + report_check) | ${rep_tree} µs (${rep_bytes} bytes) |
| report_fast() into the same typed structs | ${rep_fast} µs (${rep_ratio}x less) |

$(cat "$dir/bootfiles.md")
EOF2

# 6. Ingest at a 1 s interval: 10k, 20k, 50k nodes, each beside nginx answering
# the same reports 204 (host/bench/ingest.sh, docs/nodesim.md).
if part 6; then
	"$SNOW_TOP/host/bench/ingest.sh" ${BENCH_INGEST_NODES:-10000 20000 50000} ||
		say "the ingest benchmark failed"
fi

# 7. The same ingest on PostgreSQL, one snowd and two sharing the nodes, against one
# snowd on SQLite (host/bench/ingest_pg.sh, docs/scale-out.md).
if part 7; then
	"$SNOW_TOP/host/bench/ingest_pg.sh" ${BENCH_PG_NODES:-10000} ||
		say "the scale-out ingest benchmark failed"
fi
