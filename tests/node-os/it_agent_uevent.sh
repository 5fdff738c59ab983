#!/usr/bin/env bash
# Device changes seen when they happen: snow-agent, standalone in a network
# namespace this test makes (its own /sys through `ip netns exec`), reports
# every 60 s; a veth interface added, brought up and deleted there is a
# device.state event within seconds, caused by the kernel's uevent or
# rtnetlink message (cause "uevent" / "rtnetlink", not "observed", which is
# what the sample at each interval would say).
. "$(dirname "$0")/../lib.sh"

need_root "network namespaces"
agent=$SNOW_BIN/snow-agent
[ -x "$agent" ] || { not_ok "$agent missing (run 'make')"; exit 1; }
work=$(mktemp -d /tmp/snow-it-uevent.XXXXXX)
ns=snowue$$
agent_pid=''
on_exit 'stop_pid "$agent_pid"; ip netns del "$ns" 2>/dev/null; [ "$_failures" -gt 0 ] && sed "s/^/# /" "$work/agent.log"; rm -rf "$work"'
ip netns add "$ns"
ip -n "$ns" link set lo up
# The real root (no --root): /sys is the namespace's. No watchdog, no host.
ip netns exec "$ns" "$agent" --events "$work/events.jsonl" --state_dir "$work/state" \
	--watchdog none --event_socket none --interval 60000 2>"$work/agent.log" &
agent_pid=$!
started() { grep -q '"type":"agent.start"' "$work/events.jsonl"; }
check "the agent starts in the namespace" wait_for 20 started
# ev CAUSE RUN: a device.state event for net/snowdum0 with that cause and run state.
ev() {
	python3 - "$work/events.jsonl" "$1" "$2" <<'PY'
import json, sys
for e in map(json.loads, open(sys.argv[1])):
    a = e["attrs"]
    if e["type"] == "device.state" and a.get("path") == "net/snowdum0" and \
            a.get("cause") in sys.argv[2].split(",") and a.get("run") == sys.argv[3]:
        sys.exit(0)
sys.exit(1)
PY
}
t0=$SECONDS
ip -n "$ns" link add snowdum0 type veth peer name snowdum1
check "an interface added is an event at once (uevent or rtnetlink)" wait_for 10 ev uevent,rtnetlink offline
ip -n "$ns" link set snowdum0 up
check "brought up: an event from rtnetlink" wait_for 10 ev rtnetlink online
ip -n "$ns" link del snowdum0
check "deleted: an event" wait_for 10 ev uevent,rtnetlink absent
check "all within the first interval (60 s), not at a sample" [ $((SECONDS - t0)) -lt 55 ]
check_eq "no sample-time (observed) event for it" 0 \
	"$(grep '"path":"net/snowdum0"' "$work/events.jsonl" | grep -c '"cause":"observed"')"
stop_pid "$agent_pid"; agent_pid=
