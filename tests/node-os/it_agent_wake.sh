#!/usr/bin/env bash
# snow-agent against a real snowd on loopback, reporting every 60 s: a command
# queued for it is acknowledged long before its next report, because snowd
# wakes it (a UDP datagram MACed with its wake key, docs/protocol.md
# "Wake-up").  A forged wake-up and a replayed one are refused and logged;
# an agent started with wake_port = -1 registers no port and still gets its
# command with its next report.
. "$(dirname "$0")/../lib.sh"

agent=$SNOW_BIN/snow-agent
[ -x "$agent" ] || { not_ok "$agent missing (run 'make')"; exit 1; }
dir=$(mktemp -d /tmp/snow-it-wake.XXXXXX)
port=$(free_port)
url=http://127.0.0.1:$port
pid= apid=
on_exit 'stop_pid "$apid"; stop_pid "$pid"; [ "$_failures" -gt 0 ] && { tail -20 "$dir/snowd.log"; tail -20 "$dir/agent.log"; }; rm -rf "$dir"'

"$SNOW_BIN/snowd" --state-dir "$dir/state" --listen "127.0.0.1:$port" --boot-addr 127.0.0.1/8 \
	--dnsmasq none --interval-ms 60000 >"$dir/snowd.log" 2>&1 &
pid=$!
check "snowd starts (report interval 60 s)" wait_for 10 curl -sf "$url/api/v1/health"
export SNOW_TOKEN SNOW_URL=$url
SNOW_TOKEN=$(cat "$dir/state/admin.token")
auth=(-H "Authorization: Bearer $SNOW_TOKEN")
api() { curl -sf "${auth[@]}" "$url/api/v1/$1"; }
py() { python3 -c "$@"; }
# The fixture's eth0 is the service NIC: 52:54:00:00:00:01.
check "node added" "$SNOW_BIN/snowctl" node add wake1 --mac 52:54:00:00:00:01 --ip 127.0.0.61
check "its script, from its address" curl -sf -o /dev/null --interface 127.0.0.61 "$url/boot/52-54-00-00-00-01.ipxe"
check "its overlay, from its address" curl -sf -o "$dir/overlay.cpio" --interface 127.0.0.61 "$url/boot/52-54-00-00-00-01/overlay.cpio"
mkdir -p "$dir/ov"
(cd "$dir/ov" && cpio -id --quiet <"$dir/overlay.cpio")
cp -a "$SNOW_TOP/tests/node-os/fixtures/good" "$dir/root"
start_agent() { # start_agent ARGS...
	"$agent" --config "$dir/ov/etc/snow/node.conf" --root "$dir/root" --state_dir "$dir/agent-state" \
		--watchdog none "$@" >>"$dir/agent.log" 2>&1 &
	apid=$!
}
start_agent
reported() { [ "$(api nodes/wake1 | py 'import json,sys; n=json.load(sys.stdin); print(n["state"], n.get("seq", 0) >= 1)')" = "online True" ]; }
check "the agent registers and reports once" wait_for 30 reported
check "it registered a wake-up port" grep -q 'wake-ups: udp port' "$dir/agent.log"
wport=$(sed -n 's/.*wake-ups: udp port \([0-9]*\).*/\1/p' "$dir/agent.log" | tail -1)

cmd() { curl -sf "${auth[@]}" -H 'Content-Type: application/json' -d "$2" "$url/api/v1/nodes/$1/commands" | py 'import json,sys; print(json.load(sys.stdin)["id"])'; }
cmd_is() { [ "$(api "commands/$1" | py 'import json,sys; print(json.load(sys.stdin)["state"])')" = "$2" ]; }
id=$(cmd wake1 '{"op":"watermarks.reset"}')
# Its next report is 60 s away: done within 25 s means it was woken.
check "an idle agent acknowledges a command at once (woken, not at its next report)" wait_for 25 cmd_is "$id" done
check "snowd sent the wake-up" bash -c "curl -sf -H 'Authorization: Bearer $SNOW_TOKEN' '$url/metrics' | grep -q 'snowd_wakeups_total{result=\"sent\"} 1'"

# A forged wake-up (wrong MAC) and a replay of a good one are refused, and logged.
udp() { python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(sys.argv[2].encode(), ("127.0.0.1", int(sys.argv[1])))' "$@"; }
now=$(date +%s)
check "a forged wake-up sent" udp "$wport" "snow-wake/1 wake1 $now ${now}000001 $(printf '0%.0s' $(seq 64))"
check "is refused: bad MAC" wait_for 10 grep -q 'wake-up refused: bad MAC' "$dir/agent.log"
key=$(py 'import hmac,hashlib,sys; print(hmac.new(sys.argv[1].encode(), b"WAKEKEY\n\n0\n0\n", hashlib.sha256).hexdigest())' \
	"$(sed -n 's/^secret = //p' "$dir/ov/etc/snow/node.conf")")
good=$(py 'import hmac,hashlib,sys; k,t=sys.argv[1],int(sys.argv[2]); n=t*1000000+7
print("snow-wake/1 wake1 %d %d %s" % (t, n, hmac.new(k.encode(), ("WAKE\nwake1\n%d\n%d\n" % (t, n)).encode(), hashlib.sha256).hexdigest()))' "$key" "$now")
check "a good wake-up sent twice" bash -c "$(declare -f udp); udp $wport '$good' && udp $wport '$good'"
check "is refused as a replay" wait_for 10 grep -q 'wake-up refused: replayed' "$dir/agent.log"
check "no secret in the agent's log" bash -c "! grep -q '$(sed -n 's/^secret = //p' "$dir/ov/etc/snow/node.conf")' '$dir/agent.log'"

# An agent that does not listen registers no port (it_nodesim shows such a
# node's command done with its next report).
stop_pid "$apid"; apid=
start_agent --wake_port -1
check "an agent without wake-ups registers again" wait_for 30 bash -c "[ \$(grep -c 'registered with' '$dir/agent.log') -ge 2 ]"
check "and says nothing of a port" bash -c "[ \$(grep -c 'wake-ups: udp port' '$dir/agent.log') -eq 1 ]"
id=$(cmd wake1 '{"op":"watermarks.reset"}')
check "a command for it queued" test -n "$id"
check "and no wake-up sent (snowd knows no port: it waits for the next report)" bash -c "curl -sf -H 'Authorization: Bearer $SNOW_TOKEN' '$url/metrics' | grep -q 'snowd_wakeups_total{result=\"sent\"} 1'"
