#!/usr/bin/env bash
# Two snowd on one PostgreSQL (docs/scale-out.md), each a virtual cluster of
# its own (host/snow-vcluster --db): its namespace, bridge, boot network,
# dnsmasq (DHCP + TFTP) and iPXE.  A has no VM; B has one QEMU node (TCG)
# that netboots through B's dnsmasq, iPXE and HTTP boot files and comes
# online.  Then A's API lists it online with "via" naming B, and a command
# queued on A reaches it (through B).  `down` of both leaves nothing behind.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/pg.sh"
need_root "virtual cluster on PostgreSQL"
command -v qemu-system-x86_64 >/dev/null || { skip "virtual cluster on PostgreSQL: no QEMU (make deps)"; exit 0; }

dir=$(mktemp -d /tmp/snow-it-pgvc.XXXXXX)
# dnsmasq drops to 'nobody' and PostgreSQL runs as 'postgres': both go through here.
chmod 0755 "$dir"
on_exit "rm -rf '$dir'"
pg_start "$dir/pg"
case $? in
0) ok "PostgreSQL started" ;;
2) skip "PostgreSQL: no initdb (make deps installs postgresql)"; exit 0 ;;
*) not_ok "PostgreSQL started"; exit 1 ;;
esac
db=$(pg_url snow_vc)

na=snpa$((RANDOM % 10000)) nb=snpb$((RANDOM % 10000))
neta=10.91 netb=10.92
# --name and --net always: a `down` without its state's config must not pick the defaults.
vca() { SNOW_VCLUSTER_DIR=$dir/a "$SNOW_BIN/snow-vcluster" "$@" --name "$na" --net "$neta"; }
vcb() { SNOW_VCLUSTER_DIR=$dir/b "$SNOW_BIN/snow-vcluster" "$@" --name "$nb" --net "$netb"; }
ua=http://$neta.255.2:8080 ub=http://$netb.255.2:8080
burl=http://$netb.0.1:8080 # B's own URL (its boot address), what "via" names
keep_logs() {
	[ "$_failures" -gt 0 ] || return 0
	local keep=$SNOW_TOP/build/test-logs/pg-vcluster c f
	rm -rf "$keep"; mkdir -p "$keep"
	for c in a b; do
		mkdir -p "$keep/$c"
		cp -r "$dir/$c"/*.log "$dir/$c"/*.serial "$dir/$c/snowd/dnsmasq.log" "$keep/$c/" 2>/dev/null
	done
	for f in "$keep"/*/*; do [ -f "$f" ] && { echo "--- $f"; tail -15 "$f"; }; done
}
on_exit "keep_logs; vcb down >/dev/null 2>&1; vca down >/dev/null 2>&1"

# A: network, snowd (on the database) and dnsmasq, no VM.  It makes the first admin token.
if ! vca up --nodes 0 --db "$db" >"$dir/upa.log" 2>&1; then
	cat "$dir/upa.log"
	not_ok "cluster A up on PostgreSQL (no VM)"
	exit 1
fi
ok "cluster A up on PostgreSQL (no VM)"
export SNOW_TOKEN
SNOW_TOKEN=$(cat "$dir/a/snowd/admin.token")
dnsmasq_up() { [ -s "$dir/$1/snowd/dnsmasq.pid" ] && [ -d "/proc/$(cat "$dir/$1/snowd/dnsmasq.pid")" ]; }
check "A runs its own dnsmasq" dnsmasq_up a

# B: its own network and dnsmasq, one QEMU node, on the same database.
start=$SECONDS
if ! vcb up --nodes 1 --db "$db" --token-file "$dir/a/snowd/admin.token" --no-build \
	--wait --timeout 300 >"$dir/upb.log" 2>&1; then
	cat "$dir/upb.log"
	not_ok "cluster B up on the same database, its node online"
	exit 1
fi
cat "$dir/upb.log"
ok "cluster B up on the same database, its node online"
echo "# B up to its node online: $((SECONDS - start)) s (load $(cut -d' ' -f1-3 /proc/loadavg))"
check "B runs its own dnsmasq" dnsmasq_up b
check "B made no admin token (one inventory: A's serves both)" test ! -e "$dir/b/snowd/admin.token"
check_eq "each snowd claims its own boot network" "$neta.0.1/24 $netb.0.1/24" \
	"$(pg_sql snow_vc 'SELECT boot_addr FROM snowd_nets ORDER BY boot_addr' | tr '\n' ' ' | sed 's/ $//')"

# The node booted on B's network only: B's dnsmasq gave it its address and iPXE.
mac=$(printf '52:54:00:%02x:00:01' "${netb#*.}")
check "B's dnsmasq handed out the node's address" grep -q "DHCPACK.*$netb.0.11 $mac" "$dir/b/snowd/dnsmasq.log"
check "A's dnsmasq never heard of it" bash -c "! grep -qi '$mac' '$dir/a/snowd/dnsmasq.log'"
curl -sf -H "Authorization: Bearer $SNOW_TOKEN" "$ub/api/v1/nodes/node1/boots" >"$dir/boots.json"
check "B's boot history of the node: DHCP, iPXE script, kernel, initrd, overlay, online" python3 - "$dir/boots.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))["boots"][0]["stages"]
order = ["dhcp", "first", "script", "kernel", "initrd", "overlay", "online"]
t0 = min(b.values())
print("# " + " ".join("%s=+%.2fs" % (s, (b[s] - t0) / 1000) for s in order if s in b))
sys.exit(0 if all(s in b for s in order) else 1)
PY
check "the node's /init started the agent" grep -q "snow-init.*starting snow-agent" "$dir/b/node1.serial"

# A's API: the node online, via B.
on_a() {
	curl -sf -H "Authorization: Bearer $SNOW_TOKEN" "$ua/api/v1/nodes" | python3 -c '
import json, sys
n = {x["name"]: x for x in json.load(sys.stdin)["nodes"]}.get("node1") or {}
sys.exit(0 if n.get("state") == "online" and n.get("via") == sys.argv[1] else 1)' "$burl"
}
check "A's API lists node1 online, via B ($burl)" wait_for 20 on_a
check "B's API lists it online as its own (no via)" bash -c "curl -sf -H 'Authorization: Bearer $SNOW_TOKEN' '$ub/api/v1/nodes/node1' |
	python3 -c 'import json,sys; n=json.load(sys.stdin); sys.exit(0 if n[\"state\"]==\"online\" and not n.get(\"via\") else 1)'"

# Commands queued on A reach the node through B, and come back done.
out=$("$SNOW_BIN/snowctl" --url "$ua" sysctl get node1 kernel.hostname 2>&1)
check "sysctl.get queued on A: done by the node on B ($out)" grep -q '"value":"node1"' <<<"$out"
out=$("$SNOW_BIN/snowctl" --url "$ua" watermarks reset node1 2>&1)
check "watermarks.reset queued on A: done ($out)" grep -q 'done' <<<"$out"

# Down leaves no namespace, uplink, QEMU, dnsmasq or snowd behind.
pids=$(awk '{print $2}' "$dir/a/pids" "$dir/b/pids"; cat "$dir"/[ab]/snowd/dnsmasq.pid 2>/dev/null)
check "cluster B down" vcb down
check "cluster A down" vca down
check "namespaces deleted" bash -c "! ip netns list | grep -qwE '^($na|$nb)'"
check "uplinks deleted" bash -c "! ip link show '$na-up' >/dev/null 2>&1 && ! ip link show '$nb-up' >/dev/null 2>&1"
alive=""
for p in $pids; do [ -d "/proc/$p" ] && alive="$alive $p"; done
check_eq "no process left (snowd, dnsmasq, qemu)" "" "$alive"
