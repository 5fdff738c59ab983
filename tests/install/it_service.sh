#!/usr/bin/env bash
# snowd as the packaged unit runs it, without systemd: not root but a system
# user (here 'nobody', uid 65534) with only the unit's ambient capabilities
# (NET_BIND_SERVICE, NET_ADMIN, NET_RAW), in a network namespace of our own.
#   - it starts, dnsmasq with it, both as that user, dnsmasq on ports 67 and 69;
#   - it says READY=1 on $NOTIFY_SOCKET once it serves, RELOADING=1 then
#     READY=1 around a SIGHUP, STOPPING=1 at SIGTERM (Type=notify);
#   - with stderr on the journal (JOURNAL_STREAM names it) lines carry
#     syslog levels ("<3>" error), and plain lines otherwise.
. "$(dirname "$0")/../lib.sh"
need_root "a network namespace and setpriv"
DNSMASQ=/usr/sbin/dnsmasq
[ -x "$DNSMASQ" ] || { skip "dnsmasq is not installed"; exit 0; }
command -v setpriv >/dev/null || { skip "setpriv missing (util-linux)"; exit 0; }

uid=65534
dir=$(mktemp -d /tmp/snow-it-svc.XXXXXX)
chmod 0755 "$dir"
state=$dir/state
ns=snowsvc$$
port=$(free_port)
url=http://127.0.0.1:$port
pid= lpid=
caps=+net_bind_service,+net_admin,+net_raw
cleanup() {
	stop_pid "$pid"
	stop_pid "$lpid"
	ip netns del "$ns" 2>/dev/null
	[ "$_failures" -gt 0 ] && { tail -30 "$dir/snowd.log"; cat "$dir/notify.log"; }
	rm -rf "$dir"
}
on_exit cleanup

# The notify socket: every datagram becomes a line of notify.log.
python3 - "$dir/notify.sock" "$dir/notify.log" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o777)
with open(sys.argv[2], "a", buffering=1) as log:
    log.write("listening\n")
    while True:
        log.write(s.recv(4096).decode().replace("\n", " ") + "\n")
PY
lpid=$!
wait_for 10 grep -q listening "$dir/notify.log" || not_ok "notify listener did not start"

ip netns add "$ns" && ip -n "$ns" link set lo up &&
	ip -n "$ns" link add boot0 type veth peer name boot1 && ip -n "$ns" link set boot1 up &&
	ip -n "$ns" addr add 10.78.0.1/24 dev boot0 && ip -n "$ns" link set boot0 up ||
	{ not_ok "namespace setup"; exit 1; }
install -d -m 0711 -o "$uid" -g "$uid" "$state"
printf 'boot-if = boot0\nboot-addr = 10.78.0.1/24\nlisten = 127.0.0.1:%s\nstate-dir = %s\ninterval-ms = 2000\n' \
	"$port" "$state" >"$dir/snowd.conf"
chmod 0644 "$dir/snowd.conf"

# ip netns exec execs setpriv, which execs snowd: $! is snowd's pid.
NOTIFY_SOCKET=$dir/notify.sock ip netns exec "$ns" setpriv --reuid=$uid --regid=$uid --clear-groups \
	--inh-caps=$caps --ambient-caps=$caps --bounding-set=-all,$caps \
	"$SNOW_ASAN_BIN/snowd" --config "$dir/snowd.conf" >"$dir/snowd.log" 2>&1 &
pid=$!
check "snowd, not root, says READY=1" wait_for 30 grep -qx "READY=1" "$dir/notify.log"
check "and answers" ip netns exec "$ns" curl -sf "$url/api/v1/health"
check_eq "snowd runs as uid $uid" "$uid" "$(awk '/^Uid:/ {print $2}' /proc/$pid/status)"
dpid=$(cat "$state/dnsmasq.pid" 2>/dev/null)
check "dnsmasq started" test -n "$dpid"
check_eq "dnsmasq runs as the same user" "$uid" "$(awk '/^Uid:/ {print $2}' /proc/${dpid:-0}/status 2>/dev/null)"
check "dnsmasq holds DHCP (67) and TFTP (69)" bash -c \
	"ip netns exec $ns ss -ulnp | grep -q ':67 ' && ip netns exec $ns ss -ulnp | grep -q ':69 '"
check_eq "snowd's capabilities: the three, no more" "0000000000003400" \
	"$(awk '/^CapEff:/ {print $2}' /proc/$pid/status)"

sed -i 's/^interval-ms = 2000/interval-ms = 3000/' "$dir/snowd.conf"
kill -HUP "$pid"
check "SIGHUP: RELOADING=1, then READY=1" wait_for 20 bash -c \
	"grep -n . '$dir/notify.log' | grep -A5 ':RELOADING=1' | grep -q ':READY=1'"
check "the reload took the new interval" wait_for 10 grep -q "interval 3000 ms" "$dir/snowd.log"
kill "$pid"
check "SIGTERM: STOPPING=1" wait_for 20 grep -qx "STOPPING=1" "$dir/notify.log"
wait_for 20 bash -c "! kill -0 $pid" || not_ok "snowd did not stop"
wait "$pid"
check_eq "snowd exits 0 (LeakSanitizer ran clean as that user)" 0 "$?"
pid=
check "dnsmasq gone with snowd" wait_for 10 bash -c "! kill -0 ${dpid:-0}"

# Journal levels: stderr is a file here; JOURNAL_STREAM naming it makes it "the journal".
"$SNOW_ASAN_BIN/snowd" --no-such-option 2>"$dir/j.log"
js=$(stat -c '%d:%i' "$dir/j.log")
JOURNAL_STREAM=$js "$SNOW_ASAN_BIN/snowd" --no-such-option 2>"$dir/j.log"
check "on the journal an error line starts with <3>" grep -q "^<3>unknown option '--no-such-option'" "$dir/j.log"
JOURNAL_STREAM=1:1 "$SNOW_ASAN_BIN/snowd" --no-such-option 2>"$dir/p.log"
check "elsewhere the line is the usual one" grep -q "snowd\[error\]: unknown option" "$dir/p.log"
check_sanitizer "$dir/snowd.log" "$dir/j.log" "$dir/p.log"
