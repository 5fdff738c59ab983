#!/usr/bin/env bash
# A virtual cluster whose node has a BMC (snow-vcluster up --bmc, redfish by
# default; BMC=ipmi for ipmi_sim, as it_bmc_vcluster_ipmi.sh runs it): the node boots and comes online; its
# credentials are in bmc/node1.cred; redfishtool reads the emulated BMC from
# this host (redfish); snowctl reads the power state, turns the node off
# (the BMC and snowd both say off) and on again, and the node boots again
# and comes back online.  The BMC's sensors are bmc.* values beside the
# agent's while the node runs, and stay fresh while it is off.  One small
# QEMU node under TCG.
. "$(dirname "$0")/../lib.sh"
need_root "virtual cluster"
kind=${BMC:-redfish}
[ "$kind" = redfish ] && ! command -v redfishtool >/dev/null && { skip "redfishtool missing (make deps)"; exit 0; }
[ "$kind" = ipmi ] && ! command -v ipmi_sim >/dev/null && { skip "ipmi_sim missing (make deps)"; exit 0; }

state=$(mktemp -d /tmp/bmc-it-vc.XXXXXX)
name=bmc$((RANDOM % 10000))
net=10.81
vc() { SNOW_VCLUSTER_DIR=$state "$SNOW_BIN/snow-vcluster" "$@"; }
keep_logs() {
	[ "$_failures" -gt 0 ] || return 0
	local f
	for f in "$state"/*.log "$state"/*.serial "$state"/bmc/*.log; do echo "--- $f"; tail -15 "$f"; done
}
on_exit "keep_logs; vc down >/dev/null 2>&1; rm -rf '$state'"

start=$SECONDS
if ! vc up --nodes 1 --bmc "$kind" --name "$name" --net "$net" --wait --timeout 300 >"$state/up.log" 2>&1; then
	cat "$state/up.log"
	not_ok "snow-vcluster up --bmc $kind with 1 node, online"
	exit 1
fi
ok "snow-vcluster up --bmc $kind with 1 node, online"
echo "# up to online: $((SECONDS - start)) s"
. "$state/env"
ctl() { "$SNOW_BIN/snowctl" "$@"; }
check "the BMC's credentials as user:password" grep -Eq '^admin:[A-Za-z0-9]{8,}$' "$state/bmc/node1.cred"
check "the node's power setting points at its BMC" bash -c "ctl() { '$SNOW_BIN/snowctl' \"\$@\"; }; ctl node show node1 | grep -q '\"driver\":\"$kind\"'"
cred=$(cat "$state/bmc/node1.cred")
if [ "$kind" = redfish ]; then
	bmcurl=$(grep -o 'https://[0-9.]*:[0-9]*' <<<"$(ctl node show node1)" | head -1)
	rft() { redfishtool -r "${bmcurl#https://}" -u "${cred%%:*}" -p "${cred#*:}" -S Always "$@"; }
	check "redfishtool reads the node's BMC from this host ($bmcurl)" bash -c "$(declare -f rft); bmcurl=$bmcurl cred='$cred'; rft Systems -1 get | grep '\"PowerState\": \"On\"' >/dev/null"
fi
boots() {
	curl -s -H "Authorization: Bearer $SNOW_TOKEN" "$SNOW_URL/api/v1/nodes/node1/boots" |
		python3 -c 'import json,sys; b=json.load(sys.stdin)["boots"]; print(len(b), "online" in b[0]["stages"] if b else False)'
}
read -r nb _ <<<"$(boots)"
node_py() { curl -s -H "Authorization: Bearer $SNOW_TOKEN" "$SNOW_URL/api/v1/nodes/node1" | python3 -c "import json,sys; n=json.load(sys.stdin); $1"; }
both='v=n.get("values",{}); sys.exit(0 if any(k.startswith("bmc.temp.") for k in v) and any(not k.startswith("bmc.") for k in v) else 1)'
check "online: the BMC's bmc.temp.* beside the agent's values" wait_for 60 node_py "$both"
linux_boots() { ctl node console node1 2>/dev/null | grep -c 'snow-init: .* starting ('; }
if [ "$kind" = ipmi ]; then
	check "serial-over-LAN: snowctl node console shows the boot messages (snow-init starting)" wait_for 60 bash -c \
		"$(declare -f ctl linux_boots); SNOW_BIN=$SNOW_BIN; [ \$(linux_boots) -ge 1 ]"
fi
power() { ctl node power node1 "$1" --timeout 90 2>&1; }
out=$(power status)
check "power status: on ($out)" grep -q 'done: .*"status":"On"' <<<"$out"
out=$(power off)
check "power off: done ($out)" grep -q 'done' <<<"$out"
if [ "$kind" = redfish ]; then
	out=$(power status)
	check "power status after off: Off ($out)" grep -q '"status":"Off"' <<<"$out"
	check "... redfishtool sees Off too" bash -c "$(declare -f rft); bmcurl=$bmcurl cred='$cred'; rft Systems -1 get | grep '\"PowerState\": \"Off\"' >/dev/null"
else
	check "... the VM is gone" wait_for 20 bash -c "! kill -0 \$(cat '$state/node1.pid') 2>/dev/null"
	out=$(power status)
	check "power status after off: Off ($out)" grep -q '"status":"Off"' <<<"$out"
fi
if [ "$kind" = redfish ]; then
	check "off: the BMC's power draw drops to 9 W (bmc.power.system_power)" wait_for 60 node_py \
		"sys.exit(0 if n['values'].get('bmc.power.system_power') == 9 else 1)"
else
	echo 47 >"$state/bmc/node1.sensors/temp"
	check "off: bmc.temp.cpu_temp follows the BMC's sensor (47)" wait_for 60 node_py \
		"sys.exit(0 if n['values'].get('bmc.temp.cpu_temp') == 47 else 1)"
fi
p1=$(node_py "print(n['bmc']['polled'])")
check "... and stays fresh while off (polled after $p1)" wait_for 40 node_py "sys.exit(0 if n['bmc']['polled'] > $p1 else 1)"
check "... the node goes offline meanwhile" wait_for 90 node_py "sys.exit(0 if n['state'] == 'offline' else 1)"
t=$SECONDS
out=$(power on)
check "power on: done ($out)" grep -q 'done' <<<"$out"
back() { read -r n on <<<"$(boots)"; [ "$n" -gt "$nb" ] && [ "$on" = True ]; }
check "the node booted again and is back online" wait_for 240 back
echo "# power on to online: $((SECONDS - t)) s"
check "back online: bmc.* beside the agent's values again" wait_for 60 node_py "$both"
if [ "$kind" = ipmi ]; then
	# One SOL log a boot: the console shows the current boot's, the older boot keeps its own.
	check "serial-over-LAN: snowctl node console shows the second boot's messages" wait_for 60 bash -c \
		"$(declare -f ctl linux_boots); SNOW_BIN=$SNOW_BIN; [ \$(linux_boots) -ge 1 ]"
	check_eq "... and only the current boot's (one snow-init start)" 1 "$(linux_boots)"
	check "... in a new boot's log: the power on began it" bash -c "ctl() { '$SNOW_BIN/snowctl' \"\$@\"; }; ctl node console node1 | grep -q 'boot of node1 begun at [0-9]* (powered on by its BMC)'"
	logs=$(grep -l 'snow-init: .* starting (' "$state"/snowd/sol/node1/*.log 2>/dev/null | wc -l)
	check_eq "two boots, two SOL logs with the boot messages (snowd/sol/node1/)" 2 "$logs"
	if [ "$_failures" -gt 0 ]; then
		for f in "$state"/snowd/sol/node1/*; do
			echo "--- $f: $(wc -c <"$f") bytes"
			grep -a -m3 'snowd:\|snow-init' "$f"
		done
	fi
fi
echo "# whole test: $((SECONDS - start)) s (load average $(cut -d" " -f1-3 /proc/loadavg))"
