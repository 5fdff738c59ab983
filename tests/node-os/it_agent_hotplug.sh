#!/usr/bin/env bash
# Values that appear after registration (a hot-plugged interface, a new
# mount): the agent sends its schema again in the next report, once; snowd
# takes it from the report (the node's schema grows, the gauges' history goes
# on) and streams it.  The agent samples a fixture root (--root) and reports
# to the fake host; then snowd gets the same kind of report.
. "$(dirname "$0")/../lib.sh"

agent=$SNOW_BIN/snow-agent
[ -x "$agent" ] || { not_ok "$agent missing (run 'make')"; exit 1; }
work=$(mktemp -d /tmp/snow-it-hotplug.XXXXXX)
srv_pid='' agent_pid='' snowd_pid='' spid=''
on_exit 'stop_pid "$agent_pid"; stop_pid "$srv_pid"; stop_pid "$spid"; stop_pid "$snowd_pid"; [ "$_failures" -gt 0 ] && sed "s/^/# /" "$work/agent.log"; rm -rf "$work"'
cp -r "$SNOW_TOP/tests/node-os/fixtures/good" "$work/root"
port=$(free_port)
secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
cat >"$work/node.conf" <<CONF
name = hot1
host_url = http://127.0.0.1:$port
secret = $secret
interval_ms = 1000
mac = 52:54:00:00:07:01
CONF
python3 "$SNOW_TOP/tests/node-os/fakehost.py" --port "$port" --name hot1 --secret "$secret" \
	--log "$work/requests.jsonl" --interval-ms 300 2>>"$work/fakehost.err" &
srv_pid=$!
check "fake host starts" wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$port/"
"$agent" --config "$work/node.conf" --root "$work/root" 2>"$work/agent.log" &
agent_pid=$!
# reports: one line per accepted report: "SEQ SCHEMA-NAMES-WITH-eth7 (or -)"
reports() {
	python3 -c '
import json, sys
for r in map(json.loads, open(sys.argv[1])):
    if r["path"].endswith("/report") and r["status"] == 200:
        s = r["body"].get("schema")
        print(r["body"]["seq"], "-" if s is None else ",".join(sorted(x["name"] for x in s if ".eth7." in x["name"])) or "schema")' "$work/requests.jsonl"
}
three() { [ "$(reports | wc -l)" -ge 3 ]; }
check "the agent registers and reports" wait_for 20 three
check_eq "reports after the registration carry no schema" 0 "$(reports | grep -vc ' -$')"

# Hot-plug eth7: its counters appear in /proc/net/dev, its device in /sys/class/net.
cp -r "$work/root/sys/class/net/eth1" "$work/root/sys/class/net/eth7"
echo 7 >"$work/root/sys/class/net/eth7/ifindex"
echo 52:54:00:00:07:07 >"$work/root/sys/class/net/eth7/address"
echo '  eth7:     100       1    0    0    0     0          0         0      200       2    0    0    0     0       0          0' \
	>>"$work/root/proc/net/dev"
with_schema() { reports | grep -q 'net\.eth7\.'; }
check "the next report carries the schema, eth7's values in it" wait_for 15 with_schema
n=$(reports | wc -l)
more() { [ "$(reports | wc -l)" -ge $((n + 2)) ]; }
check "more reports" wait_for 15 more
check_eq "the schema went once" 1 "$(reports | grep -vc ' -$')"
check "the agent said so" grep -q 'carried the schema again' "$work/agent.log"
stop_pid "$agent_pid"; agent_pid=

# snowd takes a schema from a report: the node's schema grows, the history goes on, the stream says it.
sport=$(free_port)
surl=http://127.0.0.1:$sport
"$SNOW_ASAN_BIN/snowd" --state-dir "$work/state" --listen "127.0.0.1:$sport" --boot-addr 127.0.0.1/8 \
	--dnsmasq none --interval-ms 1000 >"$work/snowd.log" 2>&1 &
snowd_pid=$!
check "snowd starts" wait_for 10 curl -sf "$surl/api/v1/health"
export SNOW_URL=$surl SNOW_TOKEN=$(cat "$work/state/admin.token")
"$SNOW_BIN/snowctl" node add hot1 --mac 52:54:00:ab:07:01 >/dev/null
nsecret=$(node_secret "$surl" 52:54:00:ab:07:01 127.0.0.10 "$work/ov")
post() { node_post "$surl" "$nsecret" hot1 "$1" "$2" "$work/answer"; } # post PATH BODY: prints the status
curl -sN --max-time 20 -H "Authorization: Bearer $SNOW_TOKEN" "$surl/api/v1/stream" >"$work/stream" &
spid=$!
sleep 0.3
g1='{"name":"vm.load.avg1","kind":"gauge","unit":""}'
g2='{"name":"net.eth7.rx_bytes","kind":"counter","unit":"B"}'
g3='{"name":"net.eth7.mtu","kind":"gauge","unit":"B"}'
check_eq "register with one gauge" 200 "$(post /api/v1/node/register "{\"name\":\"hot1\",\"boot_id\":\"h-1\",\"schema\":[$g1]}")"
# A second node with the same schema (snowd keeps one copy for both): it must not grow with hot1's.
"$SNOW_BIN/snowctl" node add hot2 --mac 52:54:00:ab:07:02 >/dev/null
s2=$(node_secret "$surl" 52:54:00:ab:07:02 127.0.0.11 "$work/ov2")
check_eq "a second node registers with the same schema" 200 "$(node_post "$surl" "$s2" hot2 /api/v1/node/register "{\"name\":\"hot2\",\"boot_id\":\"h-2\",\"schema\":[$g1]}")"
check_eq "a report" 200 "$(post /api/v1/node/report '{"name":"hot1","boot_id":"h-1","seq":1,"values":{"vm.load.avg1":0.5}}')"
check_eq "a report with a bad schema is refused" 400 "$(post /api/v1/node/report '{"name":"hot1","boot_id":"h-1","seq":2,"values":{},"schema":[{"kind":"gauge"}]}')"
check "and says why" grep -q 'schema\[0\]: name' "$work/answer"
check_eq "a report with the grown schema" 200 "$(post /api/v1/node/report "{\"name\":\"hot1\",\"boot_id\":\"h-1\",\"seq\":3,\"values\":{\"vm.load.avg1\":0.7,\"net.eth7.rx_bytes\":10,\"net.eth7.mtu\":1500},\"schema\":[$g1,$g2,$g3]}")"
schema_names() { "$SNOW_BIN/snowctl" node show "${1:-hot1}" --json | python3 -c 'import json,sys; print(" ".join(sorted(s["name"] for s in json.load(sys.stdin)["schema"])))'; }
check_eq "snowd's schema of the node grew" "net.eth7.mtu net.eth7.rx_bytes vm.load.avg1" "$(schema_names)"
check_eq "the other node's schema did not" "vm.load.avg1" "$(schema_names hot2)"
hist() { curl -s -H "Authorization: Bearer $SNOW_TOKEN" "$surl/api/v1/nodes/hot1/history" | python3 -c 'import json,sys; h=json.load(sys.stdin); print(" ".join(sorted(h["values"])), h["values"]["vm.load.avg1"][-1] is not None)'; }
check_eq "the history goes on for the old gauge and has the new one" "net.eth7.mtu vm.load.avg1 True" "$(hist)"
check "the stream carries the new schema" wait_for 5 grep -q '"schema":\[.*net.eth7.mtu' "$work/stream"
stop_pid "$snowd_pid"; snowd_pid=
check_sanitizer "$work/snowd.log"
