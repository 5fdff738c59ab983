#!/usr/bin/env bash
# End to end: two QEMU nodes with different MACs netboot through dnsmasq
# (DHCP), iPXE (the NIC ROM), snowd (scripts, kernel, base initramfs and
# per-node overlay over HTTP) and register; both show online in
# `snowctl node list --json`, each with the hostname from its own overlay.
# Then `snow-vcluster down` must leave nothing behind.
. "$(dirname "$0")/../lib.sh"
need_root "virtual cluster"

state=$(mktemp -d /tmp/snow-it-vc.XXXXXX)
name=snit$((RANDOM % 10000))
net=10.79
vc() { SNOW_VCLUSTER_DIR=$state "$SNOW_BIN/snow-vcluster" "$@"; }
# On failure keep the logs where tests/run.sh keeps its own, and show their ends.
keep_logs() {
	[ "$_failures" -gt 0 ] || return 0
	local keep=$SNOW_TOP/build/test-logs/vcluster
	rm -rf "$keep"; mkdir -p "$keep"
	cp -r "$state"/*.log "$state"/*.serial "$state/snowd/dnsmasq.log" "$keep/" 2>/dev/null
	for f in "$keep"/*; do echo "--- $f"; tail -15 "$f"; done
}
on_exit "keep_logs; vc down >/dev/null 2>&1; rm -rf '$state'"

start=$SECONDS
if ! vc up --nodes 2 --name "$name" --net "$net" --wait --timeout 300 >"$state/up.log" 2>&1; then
	cat "$state/up.log"
	not_ok "snow-vcluster up with 2 nodes, all online"
	exit 1
fi
cat "$state/up.log"
ok "snow-vcluster up with 2 nodes, all online"
echo "# up to all online: $((SECONDS - start)) s"
. "$state/env"

nodes_json=$("$SNOW_BIN/snowctl" node list --json)
echo "$nodes_json" >"$state/nodes.json"
check "both nodes online, each with the hostname from its own overlay" python3 - "$state/nodes.json" <<'PY'
import json, sys
nodes = {n["name"]: n for n in json.load(open(sys.argv[1]))}
bad = []
for name in ("node1", "node2"):
    n = nodes.get(name)
    if not n:
        bad.append(name + " missing"); continue
    if n["state"] != "online": bad.append("%s state %s" % (name, n["state"]))
    if n.get("hostname") != name: bad.append("%s hostname %r" % (name, n.get("hostname")))
    v = n.get("values", {})
    if not v.get("kern.mem.total_kb"): bad.append("%s has no memory values: %r" % (name, v))
if nodes.get("node1", {}).get("mac") == nodes.get("node2", {}).get("mac"): bad.append("same MAC")
if bad:
    print("; ".join(bad)); sys.exit(1)
PY
[ "$_failures" -gt 0 ] && cat "$state/nodes.json"

# Each node's boot history has every stage, in order, and they are printed.
for i in 1 2; do
	curl -s -H "Authorization: Bearer $SNOW_TOKEN" "$SNOW_URL/api/v1/nodes/node$i/boots" >"$state/boots$i.json"
	check "node$i: boot history has every stage in order" python3 - "$state/boots$i.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))["boots"][0]["stages"]
order = ["dhcp", "first", "script", "kernel", "initrd", "overlay", "online"]
missing = [s for s in order if s not in b]
t0 = min(b.values())
print("# " + " ".join("%s=+%.2fs" % (s, (b[s] - t0) / 1000) for s in order if s in b))
sys.exit(1 if missing or [b[s] for s in order] != sorted(b[s] for s in order) else 0)
PY
done

# Each node booted through every stage, from its own MAC.
for i in 1 2; do
	log=$state/node$i.serial
	check "node$i: /init started the agent" grep -q "snow-init.*starting snow-agent" "$log"
done
check "dnsmasq handed out both fixed addresses" \
	bash -c "grep -q 'DHCPACK.*$net.0.11' '$state/snowd/dnsmasq.log' && grep -q 'DHCPACK.*$net.0.12' '$state/snowd/dnsmasq.log'"
check "dnsmasq serves iPXE for PXE ROMs over TFTP" \
	bash -c "ip netns exec '$name' curl -sf tftp://$net.0.1/undionly.kpxe | cmp -s - /usr/lib/ipxe/undionly.kpxe"

# The overlay holds the node's secret: nobody but the node's address gets it.
code=$(curl -s -o /dev/null -w '%{http_code}' "$SNOW_URL/boot/52-54-00-4f-00-01/overlay.cpio")
check_eq "overlay refused to another address" 403 "$code"

# Bad input against the live snowd: refused, field named, nothing changed.
before=$("$SNOW_BIN/snowctl" node list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
refused() { # refused FIELD ARGS...: node add must fail with a message naming FIELD
	local field=$1 msg rc; shift
	msg=$("$SNOW_BIN/snowctl" node add "$@" 2>&1) && rc=0 || rc=$?
	if [ "$rc" -ne 0 ] && grep -q "$field:" <<<"$msg"; then
		ok "refused: node add $* ($msg)"
	else
		not_ok "node add $*: rc=$rc, message '$msg' should name $field"
	fi
}
refused name Bad_Name --mac 52:54:00:4f:00:09
refused mac node9 --mac 52:54:00:4f:00:zz
refused ip node9 --mac 52:54:00:4f:00:09 --ip 10.1.2.3
refused mac node9 --mac 52:54:00:4f:00:01
refused name node1 --mac 52:54:00:4f:00:09
after=$("$SNOW_BIN/snowctl" node list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
check_eq "refused adds changed nothing" "$before" "$after"

# The console over HTTPS with the generated certificate, and SNMP (SNMPv3
# authPriv) on the uplink, both started by snow-vcluster.
check "web console over HTTPS" bash -c "curl -sf --cacert '$state/tls/cert.pem' 'https://$net.255.2:8443/' | grep -qi '<html'"
check "console login with the printed password" bash -c "curl -sf --cacert '$state/tls/cert.pem' -H 'Content-Type: application/json' -d '{\"user\":\"admin\",\"password\":\"'\$(cat '$state/console-password')'\"}' 'https://$net.255.2:8443/api/v1/login' | grep -q csrf"
snmp_env=$("$SNOW_BIN/snow-snmp" env --state "$state/snowd")
snmp_args=$("$SNOW_BIN/snow-snmp" args --state "$state/snowd")
# shellcheck disable=SC2086
check "SNMP: the node table lists both nodes" wait_for 10 bash -c "env $snmp_env snmpwalk $snmp_args -Oqv $net.255.2 SNOW-CLUSTER-MIB::snowNodeName | grep -c node | grep -q 2"

# The agent on a real 2-CPU node (issue 3): values and devices, a threshold
# crossing, a CPU offline and back, refusals with reasons, all as events.
ctl() { "$SNOW_BIN/snowctl" "$@"; }
# The node's first reports after online carry them: wait for a show that has them all.
values_devices() {
	ctl node show node1 --json >"$state/n1.json" && python3 -c "
import json,sys; n=json.load(open('$state/n1.json')); v=n.get('values') or {}; d={x['path']:x for x in n.get('devices') or []}
sys.exit(0 if len(v) > 40 and 'kern.mem.pages_avail' in v and d.get('cpu/cpu1', {}).get('run')=='online' and 'net/eth0' in d else 1)"
}
check "node show lists values and devices" wait_for 20 values_devices
check "threshold set (high, below the reading: it must raise)" ctl threshold set node1 kern.mem.free_kb --high --rise 1000 --clear 900
check "the raise event arrives" wait_for 20 bash -c "'$SNOW_BIN/snowctl' events --node node1 | grep -q 'threshold.raise.*kern.mem.free_kb'"
check "a clear on the wrong side of rise is refused" bash -c "! '$SNOW_BIN/snowctl' threshold set node1 kern.mem.free_kb --high --rise 10 --clear 20 2>&1 | grep -q done"
check "cpu1 offline" bash -c "'$SNOW_BIN/snowctl' device node1 cpu/cpu1 offline | grep -q 'done.*offline'"
check "node reports cpu1 offline" wait_for 10 bash -c "'$SNOW_BIN/snowctl' node show node1 | grep -Eq 'cpu/cpu1 +cpu +enabled +offline'"
check "cpu0 refused, with the reason" bash -c "'$SNOW_BIN/snowctl' device node1 cpu/cpu0 offline | grep -q 'failed: .*boot CPU'"
check "diag only when offline: audit of an offline cpu refused" bash -c "'$SNOW_BIN/snowctl' device node1 cpu/cpu1 audit | grep -q failed"
check "cpu1 online again" bash -c "'$SNOW_BIN/snowctl' device node1 cpu/cpu1 online | grep -q 'done.*online'"
check "a sysctl read by name" bash -c "'$SNOW_BIN/snowctl' sysctl get node1 kernel.hostname | grep -q '\"value\":\"node1\"'"
check "an unknown sysctl is refused, named" bash -c "'$SNOW_BIN/snowctl' sysctl get node1 kernel.no_such_thing | grep -q 'failed: name: kernel.no_such_thing'"
check "device state changes are events" bash -c "'$SNOW_BIN/snowctl' events --node node1 | grep -c 'device.state.*cpu/cpu1' | grep -q 2"

# Reconfigure (an env variable) with a reboot through the agent: the node
# comes back with a new boot and the variable reaches /init.
b0=$(ctl node show node1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["boot_id"])')
check "reconfigure with reboot" bash -c "'$SNOW_BIN/snowctl' node set node1 env.SNOW_JOB=lattice --reboot | grep -q 'reboot queued'"
check "node1 back online with a new boot" wait_for 120 bash -c "'$SNOW_BIN/snowctl' node show node1 --json | python3 -c 'import json,sys; n=json.load(sys.stdin); sys.exit(0 if n[\"state\"]==\"online\" and n[\"boot_id\"]!=\"$b0\" else 1)'"
check "the new environment reached the node" grep -q 'snow-init: .*environment:.*SNOW_JOB' "$state/node1.serial"
check "the node's console log through the API" bash -c "curl -sf -H 'Authorization: Bearer $SNOW_TOKEN' '$SNOW_URL/api/v1/nodes/node1/console' | grep -q 'snow-init'"

# Power off and on through QEMU's QMP socket (snow-vcluster registers it).
node_field() { "$SNOW_BIN/snowctl" node show "$1" --json | python3 -c "import json,sys; print(json.load(sys.stdin).get('$2', ''))"; }
boot_before=$(node_field node2 boot_id)
check "power off node2 (qmp)" bash -c "'$SNOW_BIN/snowctl' node power node2 off | grep -q 'status\":\"paused'"
check "node2 goes offline" wait_for 30 bash -c "[ \"\$('$SNOW_BIN/snowctl' node show node2 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"state\"])')\" = offline ]"
check "power on node2 (qmp)" "$SNOW_BIN/snowctl" node power node2 on
check "node2 boots again and comes online" wait_for 120 bash -c "[ \"\$('$SNOW_BIN/snowctl' node show node2 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"state\"])')\" = online ]"
check "with a new boot id" test "$(node_field node2 boot_id)" != "$boot_before"

# Down leaves no namespace, tap, QEMU, dnsmasq or SNMP daemon behind.
pids=$(awk '{print $2}' "$state/pids"; cat "$state"/snowd/snmp/*.pid 2>/dev/null)
dpid=$(cat "$state/snowd/dnsmasq.pid" 2>/dev/null || true)
vc down >"$state/down.log" 2>&1
check "snow-vcluster down" test $? -eq 0
check "namespace deleted" bash -c "! ip netns list | grep -qw '^$name'"
check "uplink deleted" bash -c "! ip link show '$name-up' >/dev/null 2>&1"
alive=""
for p in $pids $dpid; do [ -d "/proc/$p" ] && alive="$alive $p"; done
check_eq "no process left (snowd, dnsmasq, qemu)" "" "$alive"
