#!/usr/bin/env bash
# Events with a severity and a publisher, and programs on the node posting
# their own: snow-agent (fixture root) reports to a real snowd every 30 s;
# `snow-event` posts through the agent's socket and the event is in snowd's
# events API within seconds (the agent reports new events early) as
# app.TYPE with its severity, publisher, attrs and the sender's uid; the
# agent's own events say "snow-agent"; a member of event_group may post, any
# other user may not reach the socket; bad posts are refused with the reason.
# An older agent's events (no severity, no publisher) are still taken, a bad
# severity is refused naming the field.
. "$(dirname "$0")/../lib.sh"

need_root "setpriv to post as other users"
agent=$SNOW_BIN/snow-agent
post=$SNOW_BIN/snow-event
snowd=$SNOW_ASAN_BIN/snowd
for b in "$agent" "$post" "$snowd"; do
	[ -x "$b" ] || { not_ok "$b missing (run 'make' and 'make unit-tests')"; exit 1; }
done
work=$(mktemp -d /tmp/snow-it-events.XXXXXX)
chmod 0755 "$work"
snowd_pid='' agent_pid=''
on_exit 'stop_pid "$agent_pid"; stop_pid "$snowd_pid"; [ "$_failures" -gt 0 ] && { sed "s/^/# /" "$work/agent.log"; tail -n 20 "$work/snowd.log" | sed "s/^/# /"; }; rm -rf "$work"'
cp -a "$SNOW_TOP/tests/node-os/fixtures/good" "$work/root"
sport=$(free_port)
surl=http://127.0.0.1:$sport
"$snowd" --state-dir "$work/sstate" --listen "127.0.0.1:$sport" --boot-addr 127.0.0.1/8 \
	--dnsmasq none --interval-ms 30000 >"$work/snowd.log" 2>&1 &
snowd_pid=$!
check "snowd starts" wait_for 10 curl -sf "$surl/api/v1/health"
export SNOW_URL=$surl SNOW_TOKEN=$(cat "$work/sstate/admin.token")
"$SNOW_BIN/snowctl" node add evt1 --mac 52:54:00:ab:08:01 >/dev/null
node_ip() { "$SNOW_BIN/snowctl" node show "$1" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["ip"])'; }
secret=$(node_secret "$surl" 52:54:00:ab:08:01 "$(node_ip evt1)" "$work/ov")
check "the node's secret from its overlay" [ -n "$secret" ]
group=65533
cat >"$work/node.conf" <<CONF
name = evt1
host_url = $surl
secret = $secret
mac = 52:54:00:ab:08:01
event_group = $group
CONF
"$agent" --config "$work/node.conf" --root "$work/root" --state_dir "$work/state" \
	2>"$work/agent.log" &
agent_pid=$!
check "the agent registers" wait_for 20 grep -q 'registered with' "$work/agent.log"
# evq EXPR: a Python expression over snowd's events of evt1 (evs, newest first).
evq() {
	curl -s -H "Authorization: Bearer $SNOW_TOKEN" "$surl/api/v1/events?node=${2:-evt1}&limit=1000" |
		python3 -c 'import json, sys; evs = json.load(sys.stdin)["events"]; print(eval(sys.argv[1]))' "$1"
}
yes() { [ "$(evq "$@")" = True ]; }
check "the agent's events reach snowd" wait_for 10 yes "any(e['type'] == 'agent.start' for e in evs)"
check_eq "the agent's own events: severity info, publisher snow-agent" "info snow-agent" \
	"$(evq "' '.join(next((e.get('severity', '-'), e.get('publisher', '-')) for e in evs if e['type'] == 'boot'))")"

seq=$("$post" -s "$work/state/event.sock" -p backup -l warning backup.done files=12 dest=nas1)
check "snow-event prints the event's seq" [ "${seq:-0}" -gt 0 ]
t0=$SECONDS
app() { evq "[(e['seq'], e['severity'], e['publisher'], e['attrs']['files'], e['attrs']['dest'], e['attrs']['uid']) for e in evs if e['type'] == 'app.backup.done']"; }
posted() { [ "$(app)" != "[]" ]; }
check "the posted event is in snowd's events" wait_for 10 posted
check "within seconds, though the node reports every 30 s" [ $((SECONDS - t0)) -lt 15 ]
check_eq "as posted: seq, severity, publisher, attrs, the sender's uid" "[($seq, 'warning', 'backup', 12, 'nas1', 0)]" "$(app)"

# Who may post: the event_group yes; another user cannot even reach the socket.
gseq=$(setpriv --reuid=65534 --regid=$group --clear-groups "$post" -s "$work/state/event.sock" -p cron nightly.done 2>"$work/g.err")
check "a member of event_group posts" [ "${gseq:-0}" -gt 0 ]
check "its uid is the kernel's word (65534)" wait_for 10 yes "any(e['attrs'].get('uid') == 65534 for e in evs if e['type'] == 'app.nightly.done')"
check "another user cannot post" sh -c "! setpriv --reuid=65534 --regid=65534 --clear-groups '$post' -s '$work/state/event.sock' -p cron x 2>'$work/o.err'"
check "and is told why" grep -q 'Permission denied' "$work/o.err"
# Refusals name the field.
refused() { "$post" -s "$work/state/event.sock" "$@" 2>&1 >/dev/null; }
check_eq "a bad severity is refused" "snow-event: refused: severity: must be debug, info, notice, warning, error or critical" "$(refused -l loud -p a x)"
check_eq "the agent's own publisher is refused" "snow-event: refused: publisher: 'snow-agent' is the agent's own name" "$(refused -p snow-agent x)"
check_eq "a bad type is refused" "snow-event: refused: type: 'Bad/Type' must be dot-separated segments of [a-z0-9_-]" "$(refused -p a Bad/Type)"
check "the agent logged the refusals" grep -q 'event_socket: refused an event' "$work/agent.log"
stop_pid "$agent_pid"; agent_pid=

# An older agent's events carry neither: still taken, shown without them.
"$SNOW_BIN/snowctl" node add evt2 --mac 52:54:00:ab:08:02 >/dev/null
s2=$(node_secret "$surl" 52:54:00:ab:08:02 "$(node_ip evt2)" "$work/ov2")
p2() { node_post "$surl" "$s2" evt2 "$1" "$2" "$work/answer"; }
check_eq "an older agent registers" 200 "$(p2 /api/v1/node/register '{"name":"evt2","boot_id":"old-1"}')"
check_eq "its event without severity or publisher is taken" 200 "$(p2 /api/v1/node/report '{"name":"evt2","boot_id":"old-1","seq":1,"events":[{"seq":1,"time":1790000000,"type":"boot","attrs":{}}]}')"
check_eq "and shown without them" "boot - -" "$(evq "' '.join(next((e['type'], e.get('severity', '-'), e.get('publisher', '-')) for e in evs))" evt2)"
check_eq "a bad severity is refused" 400 "$(p2 /api/v1/node/report '{"name":"evt2","boot_id":"old-1","seq":2,"events":[{"seq":2,"time":1790000000,"type":"x","severity":"loud"}]}')"
check "naming the field" grep -q 'events\[0\].severity' "$work/answer"
check_eq "a bad publisher is refused" 400 "$(p2 /api/v1/node/report '{"name":"evt2","boot_id":"old-1","seq":3,"events":[{"seq":2,"time":1790000000,"type":"x","publisher":"A B"}]}')"
check "naming the field" grep -q 'publisher' "$work/answer"
stop_pid "$snowd_pid"; snowd_pid=
check_sanitizer "$work/snowd.log"
