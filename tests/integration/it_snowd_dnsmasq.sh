#!/usr/bin/env bash
# snowd with its dnsmasq, in a network namespace of our own (a veth boot
# interface): dnsmasq's state in health and /metrics, restarts after it dies,
# it dies with snowd even by kill -9, and a dnsmasq of ours that an earlier
# snowd left running is replaced at start, never duplicated, while a stranger
# named by the pid file is left alone.  Files: 0600 in a 0711 state dir, but
# for what dnsmasq reads as 'nobody' (dhcp-hosts, tftp/) and its pid file.
. "$(dirname "$0")/../lib.sh"
need_root "a network namespace"
DNSMASQ=/usr/sbin/dnsmasq
[ -x "$DNSMASQ" ] || { skip "dnsmasq is not installed"; exit 0; }

dir=$(mktemp -d /tmp/snow-it-dns.XXXXXX)
chmod 0755 "$dir" # dnsmasq, as 'nobody', must reach the state dir
state=$dir/state
conf=$state/dnsmasq.conf
ns=snowdns$$
port=$(free_port)
url=http://127.0.0.1:$port
pid= stranger= stale=
in_ns() { ip netns exec "$ns" "$@"; }
# Our dnsmasq processes: dnsmasq's binary with our --conf-file (never another's).
ours() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/exe" 2>/dev/null)" = "$DNSMASQ" ] || continue
		tr '\0' '\n' <"$p/cmdline" 2>/dev/null | grep -qx -- "--conf-file=$conf" && echo "${p#/proc/}"
	done
}
cleanup() {
	local p
	stop_pid "$pid"
	for p in $(ours); do kill "$p" 2>/dev/null; done
	stop_pid "$stale"
	stop_pid "$stranger"
	ip netns del "$ns" 2>/dev/null
	[ "$_failures" -gt 0 ] && tail -40 "$dir/snowd.log"
	rm -rf "$dir"
}
on_exit cleanup
ip netns add "$ns" && ip -n "$ns" link set lo up && ip -n "$ns" link add boot0 type veth peer name boot1 && ip -n "$ns" link set boot1 up &&
	ip -n "$ns" addr add 10.78.0.1/24 dev boot0 && ip -n "$ns" link set boot0 up ||
	{ not_ok "network namespace with a veth boot interface"; exit 1; }

start_snowd() {
	# ip netns exec, not in_ns: a function would run in a subshell of its own, and $!
	# would be that subshell's pid, not snowd's.
	ip netns exec "$ns" "$SNOW_ASAN_BIN/snowd" --state-dir "$state" --listen "127.0.0.1:$port" \
		--boot-if boot0 --boot-addr 10.78.0.1/24 --dnsmasq "$DNSMASQ" -v >>"$dir/snowd.log" 2>&1 &
	pid=$! # ip netns exec execs snowd: the same pid
	wait_for 15 in_ns curl -sf "$url/api/v1/health"
}
health() { in_ns curl -s "$url/api/v1/health" | python3 -c "import json,sys; h=json.load(sys.stdin); print($1)"; }
metric() { in_ns curl -s -H "Authorization: Bearer $(cat "$state/admin.token")" "$url/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
running() { [ "$(health 'h["dnsmasq"]["running"]')" = True ] && [ "$(ours | wc -l)" = 1 ]; }
dnsmasq_pid() { ours | head -1; }

check "snowd starts with dnsmasq" start_snowd
check "dnsmasq runs (health, one process of ours)" wait_for 10 running
d1=$(dnsmasq_pid)
check_eq "health: ok" ok "$(health 'h["status"]')"
check_eq "health: no restarts" 0 "$(health 'h["dnsmasq"]["restarts"]')"
check_eq "metrics: dnsmasq up" 1 "$(metric snowd_dnsmasq_up)"
check_eq "state dir 0711 (dnsmasq reaches files by name, lists nothing)" 711 "$(stat -c %a "$state")"
check_eq "nothing else readable by others" "" \
	"$(find "$state" -mindepth 1 -perm /077 ! -name dhcp-hosts ! -name dnsmasq.pid ! -path "$state/tftp*" -printf '%p %m\n')"
check_eq "leases file 0600" 600 "$(stat -c %a "$state/dnsmasq.leases")"

# dnsmasq dies: health says so while it is down, and it is started again.
kill -9 "$d1"
restarted() { [ "$(health 'h["dnsmasq"]["restarts"]')" = 1 ] && running && [ "$(dnsmasq_pid)" != "$d1" ]; }
check "dnsmasq killed: started again, one restart counted" wait_for 15 restarted
check_eq "metrics: one restart" 1 "$(metric snowd_dnsmasq_restarts_total)"

# snowd killed with -9: its dnsmasq goes with it.
d2=$(dnsmasq_pid)
kill -9 "$pid"; wait "$pid" 2>/dev/null; pid=
gone() { ! kill -0 "$d2" 2>/dev/null; }
check "kill -9 of snowd: its dnsmasq exits too" wait_for 10 gone
check_eq "no dnsmasq of ours left" "" "$(ours)"

# A dnsmasq of ours left running (as an older snowd did after kill -9).
ip netns exec "$ns" "$DNSMASQ" --keep-in-foreground "--conf-file=$conf" >/dev/null 2>&1 &
stale=$!
stale_up() { [ "$(cat "$state/dnsmasq.pid" 2>/dev/null)" = "$stale" ]; }
check "a stale dnsmasq of ours runs, in the pid file" wait_for 10 stale_up
check "snowd starts over it" start_snowd
stale_gone() { ! kill -0 "$stale" 2>/dev/null; }
check "the stale dnsmasq is stopped" wait_for 10 stale_gone
wait "$stale" 2>/dev/null; stale=
check "its stop is logged" grep -q "is a dnsmasq of ours an earlier snowd left running: stopping it" "$dir/snowd.log"
check "replaced, not duplicated: one dnsmasq of ours, running" wait_for 10 running
no_restarts() { [ "$(health 'h["dnsmasq"]["restarts"]')" = 0 ]; }
check "the new dnsmasq did not fail to start (no restarts)" no_restarts
stop_pid "$pid"; pid=
check_eq "SIGTERM of snowd stops its dnsmasq" "" "$(ours)"

# A stranger behind the pid file is left alone.
sleep 600 &
stranger=$!
echo "$stranger" >"$state/dnsmasq.pid"
check "snowd starts with a stranger's pid in the pid file" start_snowd
check "the stranger is left alone" wait_for 5 grep -q "names pid $stranger, which is not our dnsmasq: left alone" "$dir/snowd.log"
check "the stranger still runs" kill -0 "$stranger"
check "snowd's dnsmasq runs" wait_for 10 running
stop_pid "$pid"; pid=
stop_pid "$stranger"; stranger=
check_sanitizer "$dir/snowd.log"
