#!/usr/bin/env bash
# Boot files, snowd vs nginx on the same files, the same run (make bench-host,
# or alone: host/bench/bootfiles.sh).  Prints markdown tables on stdout, and
# never fails on speed:
#   1. vmlinuz and initrd under `wrk -t1 -cC -dS`: snowd and nginx (one
#      worker, sendfile) interleaved, R rounds; the median of each and of the
#      ratios
#   2. a boot storm: N nodes (in a fresh inventory, each on its own 127/8
#      address) fetch script, kernel, initrd and overlay at once
#      (host/bench/bootstorm.py); time to each node's last byte, snowd vs
#      nginx serving the same bytes (the script and overlay as static files
#      rendered by snowd for the first node), interleaved, R rounds
# Knobs: BENCH_WRK_SECONDS (5), BENCH_WRK_CONNS (16), BENCH_WRK_ROUNDS (3),
# BENCH_STORM_NODES (1000), BENCH_STORM_ROUNDS (2), BENCH_RT (0; 1 runs snowd,
# nginx and wrk at SCHED_FIFO priority 50, so a machine busy with other work
# still gives them their CPUs: quiet-machine figures).  Needs root (addresses on
# 127/8), nginx and wrk (make deps).
. "$(dirname "$0")/../../tests/lib.sh"
set -o pipefail

wrk_secs=${BENCH_WRK_SECONDS:-5}
wrk_conns=${BENCH_WRK_CONNS:-16}
rounds=${BENCH_WRK_ROUNDS:-3}
storm_n=${BENCH_STORM_NODES:-1000}
storm_rounds=${BENCH_STORM_ROUNDS:-2}
images=$SNOW_TOP/build/images
dir=$(mktemp -d /tmp/snow-bench-boot.XXXXXX)
pid= ngx=
on_exit 'stop_pid "$pid"; stop_pid "$ngx"; rm -rf "$dir"'
say() { printf 'bootfiles: %s\n' "$*" >&2; }
[ "$(id -u)" = 0 ] || { say "needs root (nodes bind 127/8 addresses)"; exit 1; }
command -v nginx >/dev/null && command -v wrk >/dev/null ||
	{ say "nginx or wrk missing (make deps installs them)"; exit 1; }
[ -f "$images/default/vmlinuz" ] && [ -f "$images/default/initrd" ] ||
	{ say "no $images/default/{vmlinuz,initrd} (make image)"; exit 1; }
ulimit -n 65536 2>/dev/null || true
rt=()
[ "${BENCH_RT:-0}" = 1 ] && rt=(chrt -f 50)

# snowd with storm_n nodes, inserted in one transaction before it starts.
port=$(free_port)
url=http://127.0.0.1:$port
start_snowd() {
	"${rt[@]}" "$SNOW_BIN/snowd" --state-dir "$dir/state" --listen "127.0.0.1:$port" --boot-addr 127.0.0.1/8 \
		--dnsmasq none --image-dir "$images" >>"$dir/snowd.log" 2>&1 &
	pid=$!
	wait_for 20 curl -sf "$url/api/v1/health" || { say "snowd did not start"; tail "$dir/snowd.log" >&2; exit 1; }
}
start_snowd
stop_pid "$pid"; pid=
sqlite3 "$dir/state/snow.db" "BEGIN;
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $storm_n)
INSERT INTO nodes (name, mac, ip, image, secret, created)
SELECT printf('b%05d', i), printf('02:62:00:%02x:%02x:%02x', i >> 16, (i >> 8) & 255, i & 255),
       printf('127.3.%d.%d', i >> 8, i & 255), 'default', lower(hex(randomblob(32))),
       strftime('%s', 'now') FROM c;
COMMIT;" || { say "cannot fill the inventory (schema changed?)"; exit 1; }
python3 -c "
for i in range(1, $storm_n + 1):
    print('02:62:00:%02x:%02x:%02x 127.3.%d.%d' % (i >> 16, (i >> 8) & 255, i & 255, i >> 8, i & 255))" >"$dir/nodes.txt"
start_snowd

# nginx: the image files, and node 1's script and overlay as static files for every MAC.
mkdir -p "$dir/nginx/logs" "$dir/nginx/tmp" "$dir/static"
curl -sf --interface 127.3.0.1 -o "$dir/static/script.ipxe" "$url/boot/02-62-00-00-00-01.ipxe" &&
	curl -sf --interface 127.3.0.1 -o "$dir/static/overlay.cpio" "$url/boot/02-62-00-00-00-01/overlay.cpio" ||
	{ say "cannot fetch node 1's script and overlay"; exit 1; }
nport=$(free_port)
cat >"$dir/nginx/nginx.conf" <<NGX
worker_processes 1;
daemon off;
user root;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/logs/error.log warn;
worker_rlimit_nofile 65536;
events { worker_connections 16384; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path $dir/nginx/tmp/body;
    proxy_temp_path $dir/nginx/tmp/proxy;
    fastcgi_temp_path $dir/nginx/tmp/fastcgi;
    uwsgi_temp_path $dir/nginx/tmp/uwsgi;
    scgi_temp_path $dir/nginx/tmp/scgi;
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$nport backlog=4096;
        location /boot/images/ { alias $images/; }
        location ~ \.ipxe\$ { root $dir/static; try_files /script.ipxe =404; }
        location ~ /overlay\.cpio\$ { root $dir/static; try_files /overlay.cpio =404; }
    }
}
NGX
"${rt[@]}" nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/nginx/logs/error.log" &
ngx=$!
wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$nport/boot/images/default/initrd" ||
	{ say "nginx did not start: $(tail -3 "$dir/nginx/logs/error.log")"; exit 1; }

med() { python3 -c 'import statistics,sys; v=[float(x) for x in sys.argv[1:] if x != "n/a"]; print(round(statistics.median(v), 2) if v else "n/a")' "$@"; }
wrk_mbs() { # wrk_mbs URL -> MB/s
	"${rt[@]}" wrk -t1 -c"$wrk_conns" -d"${wrk_secs}s" "$1" 2>&1 | python3 -c '
import re, sys
b = re.search(r"Transfer/sec:\s*([\d.]+)([KMG]?B)", sys.stdin.read())
print(round(float(b.group(1)) * {"B": 1e-6, "KB": 1024 / 1e6, "MB": 1024**2 / 1e6, "GB": 1024**3 / 1e6}[b.group(2)], 1) if b else "n/a")'
}
load() { cut -d' ' -f1-3 /proc/loadavg; }

echo
echo "| boot file, wrk -t1 -c$wrk_conns -d${wrk_secs}s, $rounds rounds interleaved (medians)${rt:+, SCHED_FIFO} | snowd | nginx (1 worker) | snowd / nginx | load avg |"
echo "|---|---|---|---|---|"
for f in vmlinuz initrd; do
	s_all=() n_all=() r_all=()
	for r in $(seq "$rounds"); do
		s=$(wrk_mbs "$url/boot/images/default/$f")
		n=$(wrk_mbs "http://127.0.0.1:$nport/boot/images/default/$f")
		s_all+=("$s"); n_all+=("$n")
		r_all+=("$(python3 -c "print(round($s / $n, 3))" 2>/dev/null || echo n/a)")
		say "$f round $r: snowd $s MB/s, nginx $n MB/s"
	done
	printf '| %s (%.1f MB) | %s MB/s | %s MB/s | %s | %s |\n' "$f" \
		"$(python3 -c "print($(stat -c %s "$images/default/$f") / 1e6)")" \
		"$(med "${s_all[@]}")" "$(med "${n_all[@]}")" "$(med "${r_all[@]}")" "$(load)"
done

storm() { # storm PORT -> JSON
	python3 "$SNOW_TOP/host/bench/bootstorm.py" 127.0.0.1 "$1" "$dir/nodes.txt"
}
sf() { python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2]))' "$1" "$2"; }
echo
echo "| boot storm: $storm_n nodes at once (script, kernel, initrd, overlay each) | last byte | p50 / p99 node | MB/s | failed | retries | load avg |"
echo "|---|---|---|---|---|---|---|"
for r in $(seq "$storm_rounds"); do
	for side in snowd nginx; do
		p=$port
		[ $side = nginx ] && p=$nport
		j=$(storm "$p") || j='{}'
		say "storm round $r, $side: $j"
		echo "| $side (round $r) | $(sf "$j" last_byte_s) s | $(sf "$j" p50_s) / $(sf "$j" p99_s) s | $(sf "$j" mb_per_s) | $(sf "$j" failed) | $(sf "$j" retries) | $(load) |"
	done
done
