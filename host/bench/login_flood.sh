#!/usr/bin/env bash
# Health answers during a login flood (issue 12: "a login flood leaves health answers under
# 10 ms p90").  Starts the given snowd on loopback, adds a user, then RUNS times: six loops of
# 40 wrong passwords for unknown users, each loop from its own 127/8 address (each costs a
# hash until its address is throttled), while 60 health requests are timed one after the other.
# Prints p50/p90 of each run and the medians over the runs.  A benchmark: prints figures,
# never fails on speed.
#
#   host/bench/login_flood.sh [SNOWD] [RUNS]     (default build/bin/snowd, 5 runs)
#
# Needs curl and addresses on 127/8 (Linux answers on all of them).
set -u
cd "$(dirname "$0")/../.."
snowd=${1:-build/bin/snowd}
runs=${2:-5}
snowctl=build/bin/snowctl
[ -x "$snowd" ] && [ -x "$snowctl" ] || { echo "login_flood: needs $snowd and $snowctl (make)" >&2; exit 1; }

dir=$(mktemp -d /tmp/snow-bench-flood.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
"$snowd" --state-dir "$dir/state" --listen "127.0.0.1:$port" --boot-addr 127.0.0.1/8 \
	--dnsmasq none --max-conn-per-ip 300 >"$dir/snowd.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf -o /dev/null "$url/api/v1/health" && break; sleep 0.1; done
curl -sf -o /dev/null "$url/api/v1/health" || { echo "login_flood: snowd did not start" >&2; exit 1; }
export SNOW_URL=$url SNOW_TOKEN=$(cat "$dir/state/admin.token")
printf 'right-password-1\n' | "$snowctl" user add alice --role viewer >/dev/null

login() { # login ADDR USER PASSWORD
	curl -s -o /dev/null --interface "$1" -H 'Content-Type: application/json' \
		-d "{\"user\":\"$2\",\"password\":\"$3\"}" "$url/api/v1/login"
}
ms() { awk '{printf "%.1f", $1 * 1000}'; }
p50s=() p90s=()
idle=$(for _ in $(seq 30); do curl -s -o /dev/null -w '%{time_total}\n' "$url/api/v1/health"; done |
	sort -n | sed -n 15p | ms)
for r in $(seq "$runs"); do
	flood=()
	for a in 4 5 6 7 8 9; do
		# A new address block per run: the throttle of the run before does not carry over.
		(for i in $(seq 40); do login "127.$r.0.$a" "nobody$a-$i" wrong; done) &
		flood+=($!)
	done
	for _ in $(seq 60); do curl -s -o /dev/null -w '%{time_total}\n' "$url/api/v1/health"; done \
		>"$dir/times"
	for p in "${flood[@]}"; do wait "$p"; done
	p50=$(sort -n "$dir/times" | sed -n 30p | ms)
	p90=$(sort -n "$dir/times" | sed -n 54p | ms)
	p50s+=("$p50") p90s+=("$p90")
	echo "run $r: health p50 $p50 ms, p90 $p90 ms"
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
echo "login flood, $snowd, $runs runs: health idle p50 $idle ms; during the flood median p50 $(median "${p50s[@]}") ms, median p90 $(median "${p90s[@]}") ms"
