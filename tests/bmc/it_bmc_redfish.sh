#!/usr/bin/env bash
# The redfish power driver against the emulated BMC (tests/bmc/redfish-bmc.py)
# on loopback, and the emulator against Debian's redfishtool: power status,
# off, on and cycle land on the BMC; one session serves several commands and
# is renewed after the BMC forgets it; TLS by CA file and by pinned key, a
# wrong certificate, a wrong password, malformed JSON and a hung BMC each
# fail with a reason that names the BMC while snowd answers on; commands to
# several BMCs run at once; no password in snowd's log.
. "$(dirname "$0")/../lib.sh"

command -v redfishtool >/dev/null || { skip "redfishtool not installed (make deps)"; exit 0; }
dir=$(mktemp -d /tmp/bmc-it-redfish.XXXXXX)
port=$(free_port)
url=http://127.0.0.1:$port
pid=
bmcs=()
on_exit 'stop_pid $pid; for b in "${bmcs[@]}"; do stop_pid $b; done; [ "$_failures" -gt 0 ] && { tail -30 "$dir/snowd.log"; tail -5 "$dir"/bmc*.log; }; rm -rf "$dir"'
# cert NAME: a key and a self-signed certificate for 127.0.0.1.
cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-keyout "$dir/$1.key" -out "$dir/$1.pem" -subj "/CN=$1" \
		-addext subjectAltName=IP:127.0.0.1 2>/dev/null
}
# bmc NAME PORT [--fault F]: start an emulated BMC with state file NAME.state; its pid in bmc_pid.
bmc() {
	local name=$1 p=$2; shift 2
	python3 "$SNOW_TOP/tests/bmc/redfish-bmc.py" --listen "127.0.0.1:$p" --cert "$dir/bmc.pem" \
		--key "$dir/bmc.key" --cred "$dir/bmc.cred" --state "$dir/$name.state" \
		--log "$dir/$name.log" "$@" 2>>"$dir/bmc.err" &
	bmc_pid=$!
	bmcs+=("$bmc_pid")
	wait_for 20 grep -q listening "$dir/$name.log"
}
check "certificates" cert bmc
check "another CA's certificate" cert other
printf 'admin:pw-not-in-logs\n' >"$dir/bmc.cred"
printf 'pw-not-in-logs\n' >"$dir/bmc.pw"
printf 'wrong-password\n' >"$dir/wrong.pw"
bport=$(free_port)
check "the emulated BMC starts" bmc bmc "$bport"
good=$bmc_pid

# 1. redfishtool (DMTF's client, not ours) reads and resets it: it speaks Redfish.
rft() { redfishtool -r "127.0.0.1:$bport" -u admin -p pw-not-in-logs -S Always "$@"; }
check "redfishtool reads Systems" bash -c "$(declare -f rft); bport=$bport; rft Systems | grep -q '/redfish/v1/Systems/1'"
check "redfishtool reads PowerState" bash -c "$(declare -f rft); bport=$bport; rft Systems -1 get | grep -q '\"PowerState\": \"On\"'"
check "redfishtool Systems reset ForceRestart" rft Systems reset ForceRestart
check "... reached the BMC" grep -q 'reset ForceRestart' "$dir/bmc.log"
check "redfishtool with a session: reset ForceOff" rft -A Session Systems reset ForceOff
check_eq "... the system is off" Off "$(cat "$dir/bmc.state")"
check "redfishtool: reset On" rft Systems reset On
check "redfishtool with a wrong password is refused" bash -c "! redfishtool -r 127.0.0.1:$bport -u admin -p nope -S Always Systems"

# 2. snowd's driver.
start_snowd() {
	"$SNOW_ASAN_BIN/snowd" --state-dir "$dir/state" --listen "127.0.0.1:$port" \
		--boot-addr 127.0.0.1/8 --dnsmasq none --allow-dir "$dir" -v >>"$dir/snowd.log" 2>&1 &
	pid=$!
	wait_for 20 curl -sf "$url/api/v1/health"
}
check "snowd starts" start_snowd
export SNOW_URL=$url SNOW_TOKEN=$(cat "$dir/state/admin.token")
ctl() { "$SNOW_ASAN_BIN/snowctl" "$@"; }
check "node add" ctl node add node1 --mac 52:54:00:b3:00:01 --ip 127.0.0.21
rf="\"driver\":\"redfish\",\"url\":\"https://127.0.0.1:$bport\",\"user\":\"admin\",\"password_file\":\"$dir/bmc.pw\""
out=$(ctl node set node1 "power={\"driver\":\"redfish\",\"url\":\"http://127.0.0.1:$bport\",\"user\":\"admin\",\"password_file\":\"$dir/bmc.pw\"}" 2>&1)
check "a plain http url is refused ($out)" grep -q 'power.url: must be https://' <<<"$out"
out=$(ctl node set node1 "power={$rf,\"off\":\"Sideways\"}" 2>&1)
check "an unknown off reset is refused ($out)" grep -q 'power.off: must be ForceOff or GracefulShutdown' <<<"$out"
out=$(ctl node set node1 "power={$rf,\"pin\":\"md5//abc\"}" 2>&1)
check "a pin that is not sha256//BASE64 is refused ($out)" grep -q 'power.pin: must be sha256//BASE64' <<<"$out"
out=$(ctl node set node1 "power={$rf,\"system\":\"/redfish/v1/../x\"}" 2>&1)
check "a system path off the service is refused ($out)" grep -q 'power.system: must be a path under /redfish/v1/' <<<"$out"
out=$(ctl node set node1 "power={$rf,\"timeout_s\":0}" 2>&1)
check "a deadline out of range is refused ($out)" grep -q 'power.timeout_s' <<<"$out"
out=$(ctl node set node1 "power={\"driver\":\"redfish\",\"url\":\"https://127.0.0.1:$bport/redfish\",\"user\":\"admin\",\"password_file\":\"$dir/bmc.pw\"}" 2>&1)
check "a url with a path is refused ($out)" grep -q 'power.url: must be https://HOST\[:PORT\], without a path' <<<"$out"
check "power set to redfish with a CA file" ctl node set node1 "power={$rf,\"ca_file\":\"$dir/bmc.pem\"}"
power() { ctl node power node1 "$1" --timeout 60 2>&1; }
logins() { grep -c '^login admin' "$dir/bmc.log"; }
l0=$(logins) # redfishtool's
out=$(power status)
check "status: On ($out)" grep -q 'done: .*"status":"On"' <<<"$out"
out=$(power off)
check "off: ForceOff, then Off ($out)" grep -q 'done: {"driver":"redfish","before":"On","status":"Off","reset":"ForceOff"}' <<<"$out"
check_eq "... the BMC is off" Off "$(cat "$dir/bmc.state")"
out=$(power off)
check "off when off: no reset ($out)" grep -q 'done: {"driver":"redfish","before":"Off","status":"Off"}' <<<"$out"
out=$(power on)
check "on: On ($out)" grep -q '"before":"Off","status":"On","reset":"On"' <<<"$out"
out=$(power cycle)
check "cycle: PowerCycle ($out)" grep -q '"before":"On","status":"On","reset":"PowerCycle"' <<<"$out"
check_eq "one login served the five commands" $((l0 + 1)) "$(logins)"
check "the ActionInfo was read (no inline AllowableValues)" grep -q '^actioninfo' "$dir/bmc.log"
kill -USR1 "$good"
check "the BMC forgot its sessions" wait_for 10 grep -q 'sessions forgotten' "$dir/bmc.log"
out=$(power status)
check "after the BMC forgot the session: status still done ($out)" grep -q 'done: .*"status":"On"' <<<"$out"
check_eq "... by a second login" $((l0 + 2)) "$(logins)"
check "... the old token was refused first" grep -q 'refused GET' "$dir/bmc.log"

# TLS: a pinned key instead of a CA; a wrong pin; a certificate of another CA.
pin=sha256//$(openssl x509 -in "$dir/bmc.pem" -pubkey -noout | openssl pkey -pubin -outform der |
	openssl dgst -sha256 -binary | base64)
check "power with a pinned key" ctl node set node1 "power={$rf,\"pin\":\"$pin\"}"
out=$(power status)
check "pinned: status done ($out)" grep -q 'done: .*"status":"On"' <<<"$out"
otherpin=sha256//$(openssl x509 -in "$dir/other.pem" -pubkey -noout | openssl pkey -pubin -outform der |
	openssl dgst -sha256 -binary | base64)
ctl node set node1 "power={$rf,\"pin\":\"$otherpin\"}" >/dev/null
out=$(power status)
check "a wrong pin fails, naming the BMC and the key ($out)" grep -q "failed: redfish https://127.0.0.1:$bport: .*[Pp]ublic key" <<<"$out"
ctl node set node1 "power={$rf,\"ca_file\":\"$dir/other.pem\"}" >/dev/null
out=$(power status)
check "a certificate of another CA fails, naming the BMC and the certificate ($out)" grep -qi "failed: redfish https://127.0.0.1:$bport: .*certificate" <<<"$out"
ctl node set node1 "power={$rf,\"ca_file\":\"$dir/bmc.pem\",\"password_file\":\"$dir/wrong.pw\",\"user\":\"other\"}" >/dev/null
out=$(power status)
check "a wrong password fails: login refused ($out)" grep -q "failed: redfish https://127.0.0.1:$bport: login refused (HTTP 401" <<<"$out"
ctl node set node1 "power={$rf,\"ca_file\":\"$dir/bmc.pem\",\"password_file\":\"/etc/shadow\"}" >/dev/null
out=$(power status)
check "a password file outside --allow-dir is not read ($out)" grep -q 'failed: power.password_file' <<<"$out"

# A password with a quote and a backslash reaches the BMC whole (the login body is JSON).
qport=$(free_port)
printf 'admin:q"uo\\te-pw\n' >"$dir/quote.cred"
printf 'q"uo\\te-pw\n' >"$dir/quote.pw"
check "a BMC whose password has a quote and a backslash starts" bmc bmcquote "$qport" --cred "$dir/quote.cred"
ctl node set node1 "power={\"driver\":\"redfish\",\"url\":\"https://127.0.0.1:$qport\",\"user\":\"admin\",\"password_file\":\"$dir/quote.pw\",\"ca_file\":\"$dir/bmc.pem\"}" >/dev/null
out=$(power status)
check "... snowd logs in with it ($out)" grep -q 'done: .*"status":"On"' <<<"$out"

# Malformed JSON from the BMC.
mport=$(free_port)
check "a BMC answering malformed JSON starts" bmc bmcbad "$mport" --fault malformed
ctl node set node1 "power={\"driver\":\"redfish\",\"url\":\"https://127.0.0.1:$mport\",\"user\":\"admin\",\"password_file\":\"$dir/bmc.pw\",\"ca_file\":\"$dir/bmc.pem\"}" >/dev/null
out=$(power status)
check "malformed JSON fails, naming the BMC and the request ($out)" grep -q "failed: redfish https://127.0.0.1:$mport: GET /redfish/v1/Systems/1: not JSON" <<<"$out"

# A hung BMC: snowd answers on; the command fails at its deadline.
hport=$(free_port)
check "a hung BMC starts" bmc bmchang "$hport" --fault hang
ctl node set node1 "power={\"driver\":\"redfish\",\"url\":\"https://127.0.0.1:$hport\",\"user\":\"admin\",\"password_file\":\"$dir/bmc.pw\",\"ca_file\":\"$dir/bmc.pem\",\"timeout_s\":10}" >/dev/null
power status >"$dir/hung.out" &
ppid=$!
# While the BMC holds the request, the command is pending: health answering
# then (and the command still pending after) shows the loop is not waiting on it.
check "the hung BMC holds the request" wait_for 20 grep -q "hanging on" "$dir/bmchang.log"
check "health answers while the BMC hangs" bash -c "for i in 1 2 3; do curl -sf -m 5 -o /dev/null '$url/api/v1/health' || exit 1; done"
check "... the command still pending" kill -0 $ppid
wait $ppid
out=$(cat "$dir/hung.out")
check "the hung BMC fails at the deadline, named ($out)" grep -q "failed: redfish https://127.0.0.1:$hport: .*no answer within 10 s (deadline passed)" <<<"$out"

# Several BMCs at once: each holds the request for the system until all of
# them have one (the gate fault), so one BMC at a time would meet the 20 s
# deadline at the first and fail; all done means all were in flight together.
n=4
mkdir "$dir/gate"
for i in $(seq $n); do
	sp=$(free_port)
	check "gated BMC $i starts" bmc "slow$i" "$sp" --fault "gate:$dir/gate:$n"
	ctl node add "slow$i" --mac "52:54:00:b3:01:0$i" --ip "127.0.0.$((30 + i))" >/dev/null
	ctl node set "slow$i" "power={\"driver\":\"redfish\",\"url\":\"https://127.0.0.1:$sp\",\"user\":\"admin\",\"password_file\":\"$dir/bmc.pw\",\"ca_file\":\"$dir/bmc.pem\",\"timeout_s\":20,\"sensors_s\":0}" >/dev/null
done
spids=()
for i in $(seq $n); do
	ctl node power "slow$i" status --timeout 60 >"$dir/slow$i.out" 2>&1 &
	spids+=($!)
done
wait "${spids[@]}"
check_eq "all $n gated BMCs done: their requests were in flight at once" $n "$(cat "$dir"/slow*.out | grep -c 'done: .*"status":"On"')"
check_eq "... each BMC saw its gate" $n "$(ls "$dir/gate" | wc -l)"

check "no password in snowd's log" bash -c "! grep -q pw-not-in-logs '$dir/snowd.log'"
stop_pid $pid; pid=
check_sanitizer "$dir/snowd.log"
