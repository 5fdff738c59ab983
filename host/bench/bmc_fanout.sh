#!/usr/bin/env bash
# make bench-host, BMC part: snowd's redfish driver against BMCS (default 1000)
# emulated BMCs in one process (tests/bmc/redfish-many.py, one loopback
# address each), 10% never answering, 10% answering their logins after 5 s;
# each command's deadline is BMC_DEADLINE_S (default 10): the silent ones fail
# then.  Prints the time until every command has ended, and the sequential
# time.  Goal (issue 17): every command ended within the slow ones' 5 s plus
# 1 s, the silent ones' deadline aside.
# BMC_FANOUT_MARK=FILE: FILE is made 2 s before the commands go (to start a
# profiler on snowd then); each kind of BMC gets its own median and max.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
n=${BMCS:-1000}
dir=$(mktemp -d /tmp/bmc-bench.XXXXXX)
emu= sd=
cleanup() {
	local p
	for p in $sd $emu; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$dir"
}
trap cleanup EXIT
ulimit -n 16384
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-keyout "$dir/key.pem" -out "$dir/cert.pem" -subj /CN=bmcs 2>/dev/null
pin=sha256//$(openssl x509 -in "$dir/cert.pem" -pubkey -noout | openssl pkey -pubin -outform der |
	openssl dgst -sha256 -binary | base64)
printf 'pw\n' >"$dir/pw"
bport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 "$top/tests/bmc/redfish-many.py" --count "$n" --base 127.1.0.1 --port "$bport" \
	--cert "$dir/cert.pem" --key "$dir/key.pem" --cred admin:pw --ready "$dir/ready" 2>"$dir/emu.err" &
emu=$!
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$top/build/bin/snowd" --state-dir "$dir/state" --listen "127.0.0.1:$port" --boot-addr 127.0.0.1/8 \
	--dnsmasq none --allow-dir "$dir" >"$dir/snowd.log" 2>&1 &
sd=$!
for _ in $(seq 300); do [ -f "$dir/ready" ] && curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null && break; sleep 0.2; done
[ -f "$dir/ready" ] || { cat "$dir/emu.err"; echo "bmc fan-out: the emulated BMCs did not start" >&2; exit 1; }
python3 "$top/host/bench/bmc_fanout.py" "http://127.0.0.1:$port" "$(cat "$dir/state/admin.token")" \
	"$n" 127.1.0.1 "$bport" "$pin" "$dir/pw" "${BMC_DEADLINE_S:-10}"
echo "  (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
