#!/usr/bin/env bash
# The ipmi power driver against a real IPMI BMC: OpenIPMI's ipmi_sim on
# loopback, whose chassis is a QEMU VM (ipmi-bmc-extern + isa-ipmi-kcs on
# ipmi_sim's VM serial port; no OS: SeaBIOS alone, so the test stays small
# under TCG).  ipmitool's power on/off/reset land on the VM; snowd's power
# status/off/on/cycle through the ipmi driver do too; a wrong password fails.
. "$(dirname "$0")/../lib.sh"

for t in ipmi_sim ipmitool qemu-system-x86_64; do
	command -v $t >/dev/null || { skip "$t not installed (make deps)"; exit 0; }
done
dir=$(mktemp -d /tmp/bmc-it-ipmi.XXXXXX)
port=$(free_port)
url=http://127.0.0.1:$port
lanport=$(free_port)
serport=$(free_port)
pid= sim=
on_exit 'stop_pid $pid; stop_pid $sim; for q in $(cat "$dir/qemu.pids" 2>/dev/null); do stop_pid $q; done; [ "$_failures" -gt 0 ] && { tail -30 "$dir/snowd.log"; cat "$dir/sim.out"; }; rm -rf "$dir"'

mkdir -p "$dir/simstate"
cat >"$dir/lan.conf" <<CONF
name "bmc-it"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 $lanport
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid 536e6f77424d43546573740000000001
  endlan
  serial 15 127.0.0.1 $serport codec VM
  startcmd "$dir/start-vm"
  startnow false
  poweroff_wait 5
  kill_wait 5
  user 2 true "admin" "pw-not-in-logs" admin 10 none md2 md5 straight
CONF
cat >"$dir/sim.emu" <<CONF
mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr
sel_enable 0x20 1000 0x0a
mc_enable 0x20
CONF
# What ipmi_sim runs to power the chassis on: a VM whose BMC is ipmi_sim.
# SeaBIOS writes a banner to the debug port at each start and reset.
cat >"$dir/start-vm" <<VM
#!/bin/sh
echo \$\$ >>"$dir/qemu.pids"
exec qemu-system-x86_64 -accel tcg -m 32 -nodefaults -no-user-config -display none \\
  -chardev socket,id=ipmi0,host=127.0.0.1,port=$serport,reconnect=1 \\
  -device ipmi-bmc-extern,chardev=ipmi0,id=bmc0 -device isa-ipmi-kcs,bmc=bmc0 \\
  -chardev file,id=dbg,path="$dir/bios.log" -device isa-debugcon,iobase=0x402,chardev=dbg
VM
chmod +x "$dir/start-vm"
ipmi_sim -c "$dir/lan.conf" -f "$dir/sim.emu" -s "$dir/simstate" -n >"$dir/sim.out" 2>&1 &
sim=$!
ipmi() { ipmitool -I lanplus -C 3 -H 127.0.0.1 -p "$lanport" -U admin -P pw-not-in-logs "$@" 2>/dev/null; }
power_is() { ipmi power status | grep -q "Chassis Power is $1"; }
starts() { wc -l <"$dir/qemu.pids" 2>/dev/null || echo 0; }
vm_alive() { kill -0 "$(tail -1 "$dir/qemu.pids")" 2>/dev/null; }
banners() { grep -c 'SeaBIOS (version' "$dir/bios.log" 2>/dev/null || echo 0; }
check "ipmi_sim answers: chassis off" wait_for 20 power_is off

# 1. ipmitool straight at ipmi_sim: on starts the VM, reset resets it, off ends it.
check "ipmitool power on" ipmi power on
check "... the VM runs" wait_for 20 vm_alive
check "... and boots (SeaBIOS banner)" wait_for 30 bash -c "grep -q 'SeaBIOS (version' '$dir/bios.log'"
check "... ipmi_sim says on" wait_for 10 power_is on
b=$(banners)
check "ipmitool power reset" ipmi power reset
check "... the VM was reset (another SeaBIOS banner, was $b)" wait_for 30 bash -c "[ \$(grep -c 'SeaBIOS (version' '$dir/bios.log') -gt $b ]"
check "ipmitool power off" ipmi power off
check "... the VM is gone" wait_for 20 bash -c "! kill -0 $(tail -1 "$dir/qemu.pids") 2>/dev/null"
check "... ipmi_sim says off" wait_for 10 power_is off

# 2. snowd's ipmi driver (ipmitool as its child) against the same BMC.
printf 'pw-not-in-logs\n' >"$dir/bmc.pw"
printf 'wrong\n' >"$dir/wrong.pw"
"$SNOW_ASAN_BIN/snowd" --state-dir "$dir/state" --listen "127.0.0.1:$port" --boot-addr 127.0.0.1/8 \
	--dnsmasq none --allow-dir "$dir" -v >>"$dir/snowd.log" 2>&1 &
pid=$!
check "snowd starts" wait_for 20 curl -sf "$url/api/v1/health"
export SNOW_URL=$url SNOW_TOKEN=$(cat "$dir/state/admin.token")
ctl() { "$SNOW_ASAN_BIN/snowctl" "$@"; }
check "node add" ctl node add node1 --mac 52:54:00:b3:02:01 --ip 127.0.0.41
ip="\"driver\":\"ipmi\",\"host\":\"127.0.0.1\",\"port\":$lanport,\"cipher\":3,\"user\":\"admin\""
out=$(ctl node set node1 "power={$ip,\"password_file\":\"$dir/bmc.pw\",\"cipher\":99}" 2>&1)
check "a cipher out of range is refused ($out)" grep -q 'power.cipher' <<<"$out"
check "power set to ipmi on ipmi_sim's port" ctl node set node1 "power={$ip,\"password_file\":\"$dir/bmc.pw\"}"
power() { ctl node power node1 "$1" --timeout 90 2>&1; }
n0=$(starts)
out=$(power on)
check "snowctl power on: done ($out)" grep -q 'done' <<<"$out"
check "... a new VM started" wait_for 20 bash -c "[ \$(wc -l <'$dir/qemu.pids') -gt $n0 ]"
check "... and runs" wait_for 20 vm_alive
out=$(power status)
check "snowctl power status: On, from ipmitool's answer ($out)" grep -q 'done: {"driver":"ipmi","status":"On"}' <<<"$out"
n1=$(starts)
out=$(power cycle)
check "snowctl power cycle: done ($out)" grep -q 'done' <<<"$out"
check "... the VM was started again" wait_for 30 bash -c "[ \$(wc -l <'$dir/qemu.pids') -gt $n1 ] && kill -0 \$(tail -1 '$dir/qemu.pids')"
out=$(power off)
check "snowctl power off: done ($out)" grep -q 'done' <<<"$out"
check "... the VM is gone" wait_for 20 bash -c "! kill -0 $(tail -1 "$dir/qemu.pids") 2>/dev/null"
check "... ipmi_sim says off" wait_for 10 power_is off
out=$(power status)
check "snowctl power status: Off ($out)" grep -q 'done: {"driver":"ipmi","status":"Off"}' <<<"$out"
ctl node set node1 "power={$ip,\"password_file\":\"$dir/wrong.pw\"}" >/dev/null
n2=$(starts)
out=$(power on)
check "a wrong password fails ($out)" grep -q 'failed: ipmitool exited with 1' <<<"$out"
check_eq "... and started no VM (ipmitool ended before any power on)" "$n2" "$(starts)"
check "... ipmi_sim still says off" power_is off
check "no password in snowd's log" bash -c "! grep -q pw-not-in-logs '$dir/snowd.log'"
stop_pid $pid; pid=
check_sanitizer "$dir/snowd.log"
