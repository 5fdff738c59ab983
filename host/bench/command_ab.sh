#!/usr/bin/env bash
# Wake-ups A/B in one run (alone: host/bench/command_ab.sh; not in bench-host):
# one snowd, two groups of N simulated nodes reporting every 2 s (AB_INTERVAL_MS), one
# listening for wake-ups (prefix wa) and one not (prefix wn, --no-wake, as an
# older agent).  R rounds, interleaved: a watermarks.reset for every node of a
# group in one POST (command_push.py --no-back), until the stream says every
# command is done.  Prints a markdown table of the medians and the load
# average.  Knobs: AB_NODES (1000), AB_ROUNDS (3), AB_INTERVAL_MS (the nodes'
# report interval snowd gives them; default 2000).
. "$(dirname "$0")/../../tests/lib.sh"
set -o pipefail
n=${AB_NODES:-1000}
iv=${AB_INTERVAL_MS:-2000}
rounds=${AB_ROUNDS:-3}
dir=$(mktemp -d /tmp/snow-bench-ab.XXXXXX)
pid= sa= sb=
on_exit 'stop_pid "$sa"; stop_pid "$sb"; stop_pid "$pid"; rm -rf "$dir"'
say() { printf 'command_ab: %s\n' "$*" >&2; }
[ "$(id -u)" = 0 ] || { say "needs root (nodes bind 127/8 addresses)"; exit 1; }
ulimit -n 65536 2>/dev/null || true
port=$(free_port)
url=http://127.0.0.1:$port
"$SNOW_BIN/snowd" --state-dir "$dir/state" --listen "127.0.0.1:$port" --boot-addr 127.0.0.1/8 \
	--dnsmasq none >"$dir/snowd.log" 2>&1 &
pid=$!
wait_for 20 curl -sf "$url/api/v1/health" || { say "snowd did not start"; exit 1; }
stop_pid "$pid"
sqlite3 "$dir/state/snow.db" "BEGIN;
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $n)
INSERT INTO nodes (name, mac, ip, image, secret, created)
SELECT printf('wa%05d', i), printf('02:77:00:%02x:%02x:%02x', i >> 16, (i >> 8) & 255, i & 255),
       printf('127.4.%d.%d', i >> 8, i & 255), 'default', lower(hex(randomblob(32))), strftime('%s', 'now') FROM c
UNION ALL
SELECT printf('wn%05d', i), printf('02:78:00:%02x:%02x:%02x', i >> 16, (i >> 8) & 255, i & 255),
       printf('127.5.%d.%d', i >> 8, i & 255), 'default', lower(hex(randomblob(32))), strftime('%s', 'now') FROM c;
COMMIT;" || { say "cannot fill the inventory"; exit 1; }
"$SNOW_BIN/snowd" --state-dir "$dir/state" --listen "127.0.0.1:$port" --boot-addr 127.0.0.1/8 \
	--dnsmasq none --interval-ms "$iv" >>"$dir/snowd.log" 2>&1 &
pid=$!
wait_for 20 curl -sf "$url/api/v1/health" || { say "snowd did not start"; exit 1; }
token=$(cat "$dir/state/admin.token")
"$SNOW_BIN/snow-nodesim" --url "$url" --token "$token" --prefix wa --count "$n" >/dev/null 2>"$dir/wa.err" &
sa=$!
"$SNOW_BIN/snow-nodesim" --url "$url" --token "$token" --prefix wn --count "$n" --no-wake >/dev/null 2>"$dir/wn.err" &
sb=$!
for f in wa wn; do
	wait_for 300 grep -q 'nodes registered after' "$dir/$f.err" || { say "$f: not all registered"; exit 1; }
done
sleep 3 # let the registration crowd drain
f() { python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2]))' "$1" "$2"; }
med() { python3 -c 'import statistics,sys; v=[float(x) for x in sys.argv[1:] if x not in ("None", "n/a")]; print(round(statistics.median(v), 3) if v else "n/a")' "$@"; }
declare -A p50 all
for r in $(seq "$rounds"); do
	for g in wa wn; do
		j=$(python3 "$SNOW_TOP/host/bench/command_push.py" "$url" "$token" "$g" --op watermarks.reset --no-back) || j='{}'
		say "round $r, $g: $j"
		p50[$g]="${p50[$g]:-} $(f "$j" ack_p50_s)"
		all[$g]="${all[$g]:-} $(f "$j" all_acked_s)"
	done
done
echo
echo "| a command to $n nodes ($iv ms interval), one POST, $rounds rounds interleaved (medians) | done p50 | every one done | load avg |"
echo "|---|---|---|---|"
echo "| nodes woken (wake-ups) | $(med ${p50[wa]}) s | $(med ${all[wa]}) s | $(cut -d' ' -f1-3 /proc/loadavg) |"
echo "| nodes not listening (next report) | $(med ${p50[wn]}) s | $(med ${all[wn]}) s | |"
