#!/usr/bin/env bash
# The NIC offload engine on the virtual cluster: two QEMU nodes with a second
# (compute) NIC on snowbr1 each run snow-nic under /init; the node agent shows
# it as the device nic/engine0 with its counters as nic.* values.  Through
# snowctl: online on both nodes, the nodes hear each other on the compute
# network (control frames received), audit passes, offline stops it, diag
# (snow-nic --self-test: messages to the node's own id, every byte checked)
# passes, online brings it back.  The cluster goes down on any exit.
. "$(dirname "$0")/../lib.sh"
need_root "virtual cluster with a compute network"

state=$(mktemp -d /tmp/snow-it-vcnic.XXXXXX)
name=snic$(($$ % 100000)) # --name allows 9 characters
net=10.83
vc() { SNOW_VCLUSTER_DIR=$state "$SNOW_BIN/snow-vcluster" "$@"; }
keep_logs() {
	[ "$_failures" -gt 0 ] || return 0
	local keep=$SNOW_TOP/build/test-logs/vcluster-nic
	rm -rf "$keep"; mkdir -p "$keep"
	cp -r "$state"/*.log "$state"/*.serial "$keep/" 2>/dev/null
	for f in "$keep"/*.serial; do echo "--- $f"; grep -E 'snow-(init|nic)' "$f" | tail -20; done
}
on_exit "keep_logs; vc down >/dev/null 2>&1; rm -rf '$state'"

start=$SECONDS
if ! vc up --nodes 2 --name "$name" --net "$net" --wait --timeout 150 >"$state/up.log" 2>&1; then
	cat "$state/up.log"
	not_ok "snow-vcluster up with 2 nodes and a compute network, all online"
	exit 1
fi
ok "snow-vcluster up with 2 nodes and a compute network, all online ($((SECONDS - start)) s)"
. "$state/env"
ctl() { "$SNOW_BIN/snowctl" "$@"; }

check "snowbr1 (MTU 9000) with one tap per node" bash -c \
	"ip -n $name link show snowbr1 | grep -q 'mtu 9000' && [ \$(ip -n $name link show master snowbr1 | grep -c ctap) = 2 ]"

# STATE NODE: the engine's run state, or what is wrong.
engine() {
	ctl node show "$1" --json | python3 -c '
import json, sys
n = json.load(sys.stdin)
d = [d for d in n.get("devices", []) if d["path"] == "nic/engine0"]
print(d[0]["run"] if d else "absent")'
}
# Fresh reports: the engine online, the nic.* values there, control frames
# heard from the peer over snowbr1 (hellos and credits).
nic_ok() {
	ctl node show "$1" --json >"$state/$1.json" && python3 - "$state/$1.json" <<'PY'
import json, sys
n = json.load(open(sys.argv[1]))
d = [d for d in n.get("devices", []) if d["path"] == "nic/engine0"]
v = n.get("values", {})
bad = []
if not d: bad.append("no nic/engine0 device")
elif d[0]["run"] != "online" or d[0]["class"] != "nic-engine": bad.append("engine %s/%s" % (d[0]["class"], d[0]["run"]))
elif d[0].get("stats", {}).get("mtu") != 9000: bad.append("stats %r" % d[0].get("stats"))
for k in ("nic.msgs_tx", "nic.bytes_rx", "nic.drops_nobuf", "nic.credits_avail", "nic.ctrl_rx", "nic.mtu"):
    if k not in v: bad.append(k + " missing")
if v.get("nic.ctrl_rx", 0) < 1: bad.append("no control frame from the peer (nic.ctrl_rx %r)" % v.get("nic.ctrl_rx"))
kinds = {s["name"]: s["kind"] for s in n.get("schema", [])}
for k, want in (("nic.msgs_tx", "counter"), ("nic.credits_avail", "gauge"), ("nic.held_frames", "gauge")):
    if kinds.get(k) != want: bad.append("%s kind %r" % (k, kinds.get(k)))
if bad: print("; ".join(bad)); sys.exit(1)
PY
}
for i in 1 2; do
	if wait_for 30 nic_ok "node$i"; then
		ok "node$i: nic/engine0 online, nic.* values with their kinds, frames from the peer"
	else
		nic_ok "node$i"; not_ok "node$i: nic/engine0 online with nic.* values"
	fi
done

# OP WANT_IN: run the op on node1's engine, the output must contain WANT_IN.
dev_op() {
	local out
	out=$(ctl device node1 nic/engine0 "$1" 2>&1)
	echo "# $1: $out"
	grep -qF -- "$2" <<<"$out"
}
check "audit: status fresh, carrier up" dev_op audit '"result":"pass"'
check "offline" dev_op offline '"run":"offline"'
engine_is() { [ "$(engine "$1")" = "$2" ]; }
wait_for 10 engine_is node1 offline
check_eq "node1 engine state after offline" offline "$(engine node1)"
check "audit refused while offline" dev_op audit "audit runs only on an online device"
check "diag (self-test over the engines) passes" dev_op diag '"result":"pass"'
check "diag checked every byte" dev_op diag "bytes checked"
check "online" dev_op online '"run":"online"'
wait_for 15 engine_is node1 online
check_eq "node1 engine online again" online "$(engine node1)"
check "diag refused while online" dev_op diag "diag is intrusive and runs only on an offline device"
check_eq "node2's engine untouched" online "$(engine node2)"
check "node1's /init logged the hold and the restart" grep -q "snow-nic stopped (status .*): held offline" "$state/node1.serial"

vc down >/dev/null 2>&1
check "down removes the namespace (bridges and taps with it)" bash -c "! ip netns list | grep -qw '^$name'"
echo "# total: $((SECONDS - start)) s"
exit $((_failures > 0))
