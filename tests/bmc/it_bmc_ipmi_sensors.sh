#!/usr/bin/env bash
# BMC sensors and the SEL through a real IPMI BMC: OpenIPMI's ipmi_sim on
# loopback with three analog sensors (a temperature, a fan, a power draw)
# whose readings come from files the test writes, full sensor SDRs, and a
# SEL the test adds records to through ipmi_sim's console (sel_add).  No
# VM: the chassis is off, as a node that is powered off.  snowd polls it
# with one ipmitool a poll (exec of sensor and sel list): bmc.* gauges that
# follow the files, SEL records as bmc.log events, each once across a
# restart; a wrong password leaves a reason naming the BMC; serial-over-LAN
# (ipmi_sim's sol on a TCP "serial port" the test feeds lines into) is kept
# by snowd, one log a boot (a boot script fetch begins the next; the last
# --klog-boots-keep kept), ended with ipmitool's escape when snowd stops, and shown
# by snowctl node console (the current boot), also after a restart of snowd;
# the bmc.* gauges are SNMP rows (snmpd + snow-subagent) while the node is off;
# no password in snowd's log.
. "$(dirname "$0")/../lib.sh"

for t in ipmi_sim ipmitool; do
	command -v $t >/dev/null || { skip "$t not installed (make deps)"; exit 0; }
done
dir=$(mktemp -d /tmp/bmc-it-ipmis.XXXXXX)
port=$(free_port)
url=http://127.0.0.1:$port
lanport=$(free_port)
conport=$(free_port)
serport=$(free_port)
pid= sim= ser= snmp=
on_exit '[ -n "$snmp" ] && "$SNOW_BIN/snow-snmp" down --state "$dir/state" >/dev/null 2>&1; stop_pid $pid; stop_pid $sim; stop_pid $ser; [ "$_failures" -gt 0 ] && { tail -30 "$dir/snowd.log"; cat "$dir/sim.out"; }; rm -rf "$dir"'
# On a failure, how ipmi_sim stands: alive, its LAN socket's queues, its sessions.
sim_state() {
	if kill -0 "$sim" 2>/dev/null; then
		echo "# ipmi_sim (pid $sim): alive, state $(cut -d' ' -f3 "/proc/$sim/stat")"
	else
		wait "$sim"
		echo "# ipmi_sim (pid $sim): gone, exit status $?"
	fi
	ss -uanp "sport = :$lanport" 2>/dev/null | sed 's/^/# /'
	timeout 15 ipmitool -I lanplus -C 3 -H 127.0.0.1 -p "$lanport" -U admin -P pw-not-in-logs session info active 2>&1 |
		grep -E 'active sessions|Error' | head -3 | sed 's/^/# /'
}
# check_sim DESC COMMAND...: check, and on a failure how ipmi_sim stands.
check_sim() {
	local desc=$1; shift
	if "$@"; then ok "$desc"; else not_ok "$desc (command: $*)"; sim_state; fi
}

mkdir -p "$dir/simstate"
echo 45 >"$dir/temp"
echo 60 >"$dir/fan"
echo 100 >"$dir/power"
cat >"$dir/lan.conf" <<CONF
name "bmc-it-sensors"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 $lanport
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid 536e6f77424d43546573740000000002
  endlan
  console 127.0.0.1 $conport
  sol "tcp:127.0.0.1:$serport" 115200
  user 2 true "admin" "pw-not-in-logs" admin 10 none md2 md5 straight
CONF
# sdr NUM SENSOR-TYPE UNIT M NAME: a full sensor record (SDR type 01) for an
# analog threshold sensor owned by the BMC, reading = M * raw (B 0, no exponents).
sdr() {
	local num=$1 st=$2 unit=$3 m=$4 name=$5 i
	# owner, LUN, number; entity, instance, init (scanning, events), caps, type,
	# threshold reading type; masks; units (unsigned, base unit, no modifier);
	# linear, M, tolerance, B, accuracy, exponents; analog flags, nominal, normal
	# max/min, sensor max/min; six thresholds, two hystereses, two reserved, OEM.
	local body="0x20 0x00 $num 0x03 $num 0x7f 0x40 $st 0x01 0 0 0 0 0x3f 0x3f 0x00 $unit 0x00 0x00 $m 0 0 0 0 0 0 0 0 0 0xff 0 0 0 0 0 0 0 0 0 0 0 0"
	local n chars=""
	n=$(wc -w <<<"$body")
	for ((i = 0; i < ${#name}; i++)); do chars="$chars '${name:i:1}"; done
	printf 'main_sdr_add 0x20 0x00 0x%02x 0x51 0x01 0x%02x %s 0x%02x%s\n' "$num" \
		$((n + 1 + ${#name})) "$body" $((0xc0 + ${#name})) "$chars"
}
{
	echo "mc_setbmc 0x20"
	echo "mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr"
	echo "sel_enable 0x20 1000 0x0a"
	i=1
	for s in "temp 0x01" "fan 0x04" "power 0x08"; do
		set -- $s
		echo "sensor_add 0x20 0 $i $2 0x01 poll 500 file \"$dir/$1\""
		echo "sensor_set_event_support 0x20 0 $i enable scanning per-state 000000000000000 000000000000000 000000000000000 000000000000000"
		i=$((i + 1))
	done
	sdr 1 0x01 0x01 1 CPU_Temp
	sdr 2 0x04 0x12 50 Fan_1
	sdr 3 0x08 0x06 2 PSU_Power
	echo "mc_enable 0x20"
} >"$dir/sim.emu"
# The node's serial port: a TCP server writing numbered lines to whoever connects (ipmi_sim).
python3 - "$serport" >"$dir/ser.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
n = 0
while True:
    c, _ = s.accept()
    try:
        while True:
            n += 1
            c.sendall(b"serial line %d of node1\r\n" % n)
            time.sleep(0.3)
    except OSError:
        c.close()
PY
ser=$!
# SIGPIPE ignored (kept across exec): ipmi_sim writes its log lines to every console
# connection, and one written after sel_add's client has gone would otherwise end it.
(trap '' PIPE; exec ipmi_sim -c "$dir/lan.conf" -f "$dir/sim.emu" -s "$dir/simstate" -n) >"$dir/sim.out" 2>&1 &
sim=$!
ipmi() { ipmitool -I lanplus -C 3 -H 127.0.0.1 -p "$lanport" -U admin -P pw-not-in-logs "$@" 2>/dev/null; }
# sel_add N: N SEL records (a temperature going high) through ipmi_sim's console.
sel_add() {
	python3 - "$conport" "$1" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
for _ in range(int(sys.argv[2])):
    s.sendall(b"sel_add 0x20 0x02 0 0 0 0 0x20 0x00 0x04 0x01 0x01 0x01 0x09 0x00 0x00\n")
    buf = b""
    while b"Added record" not in buf:
        buf += s.recv(4096)
s.close()
PY
}
check "ipmi_sim's sensors read by ipmitool" wait_for 20 bash -c "$(declare -f ipmi); lanport=$lanport; ipmi sensor | grep -q 'CPU_Temp .*| 45.000 '"

printf 'pw-not-in-logs\n' >"$dir/bmc.pw"
printf 'wrong\n' >"$dir/wrong.pw"
start_snowd() {
	"$SNOW_ASAN_BIN/snowd" --state-dir "$dir/state" --listen "127.0.0.1:$port" \
		--boot-addr 127.0.0.1/8 --dnsmasq none --allow-dir "$dir" --klog-boots-keep 3 -v \
		>>"$dir/snowd.log" 2>&1 &
	pid=$!
	wait_for 20 curl -sf "$url/api/v1/health"
}
check "snowd starts" start_snowd
export SNOW_URL=$url SNOW_TOKEN=$(cat "$dir/state/admin.token")
ctl() { "$SNOW_ASAN_BIN/snowctl" "$@"; }
api() { curl -sf -H "Authorization: Bearer $SNOW_TOKEN" "$url$1"; }
node_py() { api "/api/v1/nodes/$1" | python3 -c "import json,sys; n=json.load(sys.stdin); $2"; }
ip="\"driver\":\"ipmi\",\"host\":\"127.0.0.1\",\"port\":$lanport,\"cipher\":3,\"user\":\"admin\""
check "node add" ctl node add node1 --mac 52:54:00:b3:03:01 --ip 127.0.0.51
out=$(ctl node set node1 "power={$ip,\"password_file\":\"$dir/bmc.pw\",\"sol\":1}" 2>&1)
check "a sol that is not a boolean is refused ($out)" grep -q 'power.sol: must be true or false' <<<"$out"
check "power set to ipmi_sim, sensors every second, serial-over-LAN" ctl node set node1 "power={$ip,\"password_file\":\"$dir/bmc.pw\",\"sensors_s\":1,\"sol\":true}"
value_is() { node_py node1 "sys.exit(0 if n.get('values',{}).get('$1') == $2 else 1)"; }
check "an off node gets bmc.temp.cpu_temp = 45 from the SDR sensor" wait_for 30 value_is bmc.temp.cpu_temp 45
check "... bmc.fan.fan_1 = 3000 RPM (raw 60 x 50)" value_is bmc.fan.fan_1 3000
check "... bmc.power.psu_power = 200 W (raw 100 x 2)" value_is bmc.power.psu_power 200
check "... units in the schema" node_py node1 \
	"s={e['name']:e for e in n['schema']}; sys.exit(0 if s['bmc.temp.cpu_temp']['unit']=='C' and s['bmc.fan.fan_1']['unit']=='RPM' and s['bmc.power.psu_power']['unit']=='W' else 1)"
echo 52 >"$dir/temp"
check "fresh: the sensor's new reading 52 comes in" wait_for 30 value_is bmc.temp.cpu_temp 52
check "... watermarks [45, 52]" node_py node1 "sys.exit(0 if n['watermarks']['bmc.temp.cpu_temp'] == [45, 52] else 1)"

# SNMP: the bmc.* gauges are rows of snowValueTable, as the agent's values are (the node is off:
# it never booted), read through a real snmpd and snow-subagent following snowd's stream.
if command -v snmpd >/dev/null && command -v snmpwalk >/dev/null; then
	sport=$(free_port) tport=$(free_port)
	snmp=1
	check "snow-snmp up (snmpd, snow-subagent)" "$SNOW_BIN/snow-snmp" up --state "$dir/state" --url "$url" \
		--listen "udp:127.0.0.1:$sport" --trap "udp:127.0.0.1:$tport"
	export MIBS="" SNMP_PERSISTENT_DIR=$dir/snmpcli
	read -ra v3 <<<"$("$SNOW_BIN/snow-snmp" args --state "$dir/state")"
	M=.1.3.6.1.4.1.8072.9999.9999.7669
	# The index of node 1's value NAME: node id, then the name's length and characters.
	vidx() { local o="1.${#1}" i; for ((i = 0; i < ${#1}; i++)); do o="$o.$(printf %d "'${1:i:1}")"; done; echo "$o"; }
	# snmp_col COLUMN NAME: node1's value NAME in snowValueTable's column COLUMN.
	snmp_col() { snmpget "${v3[@]}" -t 2 -r 1 -On -Oqv "127.0.0.1:$sport" "$M.1.3.1.$1.$(vidx "$2")" 2>/dev/null | tr -d '"'; }
	snmp_is() { [ "$(snmp_col 7 "$1")" = "$2" ]; }
	check "snmpget: snowValueText of node1's bmc.temp.cpu_temp is 52 (node off)" wait_for 30 snmp_is bmc.temp.cpu_temp 52
	check_eq "... snowValueUnit" C "$(snmp_col 4 bmc.temp.cpu_temp)"
	check_eq "... snowValueKind gauge(3)" 3 "$(snmp_col 3 bmc.temp.cpu_temp)"
	walk=$(snmpwalk "${v3[@]}" -t 2 -r 1 -On -Oq "127.0.0.1:$sport" "$M.1.3.1.7.1" 2>&1)
	for v in bmc.temp.cpu_temp bmc.fan.fan_1 bmc.power.psu_power; do
		check "snmpwalk of node1's value table has $v" grep -q "^$M.1.3.1.7.$(vidx $v) " <<<"$walk"
	done
	wm=$(node_py node1 "d=10**$(snmp_col 5 bmc.temp.cpu_temp); print(*[round(x*d) for x in n['watermarks']['bmc.temp.cpu_temp']])")
	check_eq "... its watermarks as the API has them (snowValueLow, snowValueHigh)" "$wm" \
		"$(snmp_col 8 bmc.temp.cpu_temp) $(snmp_col 9 bmc.temp.cpu_temp)"
	echo 49 >"$dir/temp"
	check "a new reading (49) reaches SNMP while the node stays off" wait_for 30 snmp_is bmc.temp.cpu_temp 49
	echo 52 >"$dir/temp"
	check "... and back (52)" wait_for 30 snmp_is bmc.temp.cpu_temp 52
else
	skip "snmpd or snmpwalk not installed: bmc.* over SNMP not checked"
fi

console_has() { ctl node console node1 2>/dev/null | grep -q "$1"; }
check "snowctl node console: the serial port's lines, through SOL" wait_for 40 console_has 'serial line [0-9]* of node1'
check "... with snowd's mark of the session" console_has "serial-over-LAN session to ipmi 127.0.0.1:$lanport started"
# One log a boot: the node fetching its boot script (from its own address) begins a new one.
sol_logs() { ls "$dir/state/sol/node1" 2>/dev/null | grep -c '\.log$'; }
check_eq "one boot's SOL log so far (state/sol/node1/BOOT.log)" 1 "$(sol_logs)"
check "the node fetches its boot script: a new boot" curl -sf --interface 127.0.0.51 -o /dev/null "$url/boot/52-54-00-b3-03-01.ipxe"
check_eq "... a second boot's SOL log" 2 "$(sol_logs)"
console_new() {
	local out
	out=$(ctl node console node1 2>&1)
	grep -q 'boot of node1 begun at [0-9]* (it fetched its boot script)' <<<"$out" &&
		grep -q 'serial line' <<<"$out" && ! grep -q 'serial-over-LAN session to' <<<"$out"
}
check "snowctl node console: the new boot's log (its mark and lines, not the first boot's)" wait_for 20 console_new
first=$(ls "$dir/state/sol/node1"/*.log | head -1)
check "... the first boot's log keeps its session mark and lines" bash -c "grep -q 'serial-over-LAN session to' '$first' && grep -q 'serial line' '$first'"
fetch_script() { curl -sf --interface 127.0.0.51 -o /dev/null "$url/boot/52-54-00-b3-03-01.ipxe"; }
check "two boots more (script fetches)" bash -c "$(declare -f fetch_script); url=$url; fetch_script && fetch_script"
check_eq "... the last three boots' logs kept (--klog-boots-keep 3)" 3 "$(sol_logs)"
check "... the first boot's went" test ! -e "$first"
check "... snowctl node console: the newest boot's" wait_for 20 console_new
bmc_events() { api "/api/v1/events?node=node1&limit=100" | python3 -c "
import json,sys
e=[x for x in json.load(sys.stdin)['events'] if x['type']=='bmc.log']
print(len(e)); [print(x['attrs']['id'], x['attrs']['source'], x['attrs']['message']) for x in sorted(e, key=lambda x: x['attrs']['id'])]"; }
count_is() { [ "$(bmc_events | head -1)" = "$1" ]; }
check "two SEL records added" sel_add 2
check_sim "... become two bmc.log events" wait_for 30 count_is 2
ev=$(bmc_events)
check "... from the SEL, with ipmitool's words ($ev)" bash -c "grep -q '^1 sel Temperature #0x01: Upper Critical going high (Asserted)$' <<<'$ev' && grep -q '^2 sel ' <<<'$ev'"
stop_pid $pid; pid=
check "stopping, snowd ended the SOL session with ipmitool's escape (the BMC closes it)" \
	grep -q '1 of 1 serial-over-LAN sessions ended by ipmitool' "$dir/snowd.log"
check "snowd starts again" start_snowd
check "... the readings come back" wait_for 30 value_is bmc.temp.cpu_temp 52
last=$(ctl node console node1 | grep -o 'serial line [0-9]*' | tail -1 | grep -o '[0-9]*$')
check "after the restart, SOL again (a stale session ended first): lines after $last" wait_for 40 bash -c \
	"$(declare -f ctl); SNOW_ASAN_BIN=$SNOW_ASAN_BIN; [ \$(ctl node console node1 | grep -o 'serial line [0-9]*' | tail -1 | grep -o '[0-9]*\$') -gt $((last + 3)) ]"
check "one more SEL record" sel_add 1
check_sim "... one more event" wait_for 30 count_is 3
check_eq "... and the first two not again (three in all)" 3 "$(bmc_events | head -1)"

check "node2 with a wrong password" bash -c "$(declare -f ctl); SNOW_ASAN_BIN=$SNOW_ASAN_BIN; ctl node add node2 --mac 52:54:00:b3:03:02 --ip 127.0.0.52 && ctl node set node2 'power={$ip,\"password_file\":\"$dir/wrong.pw\",\"sensors_s\":1}'"
err_has() { node_py node2 "e=(n.get('bmc') or {}).get('error') or ''; print(e); sys.exit(0 if '$1' in e else 1)"; }
check "... its bmc.error names the BMC and ipmitool's reason" wait_for 40 err_has "ipmi 127.0.0.1:$lanport: ipmitool exited with 1"
out=$(ctl node console node2 2>&1)
check "node console of a node without SOL or console_log says so ($out)" grep -q 'console_log: not set for node2' <<<"$out"
check "no password in snowd's log" bash -c "! grep -q pw-not-in-logs '$dir/snowd.log'"
stop_pid $pid; pid=
check_sanitizer "$dir/snowd.log"
