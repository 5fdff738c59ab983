#!/usr/bin/env bash
# HTTPS: snowd with a generated certificate serves the API over TLS (GnuTLS)
# beside plain HTTP for nodes only (the API is refused there); snowctl verifies the certificate (SNOW_CA);
# a key that is not the certificate's is refused at start.
. "$(dirname "$0")/../lib.sh"

dir=$(mktemp -d /tmp/snow-it-tls.XXXXXX)
port=$(free_port); tport=$(free_port)
pid=
on_exit 'command -v tmux_stop >/dev/null && tmux_stop; stop_pid $pid; [ "$_failures" -gt 0 ] && tail -20 "$dir/snowd.log"; rm -rf "$dir"'
gen() { # gen NAME: self-signed EC certificate for 127.0.0.1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj "/CN=snowd-test" -addext "subjectAltName=IP:127.0.0.1" \
		-keyout "$dir/$1.key" -out "$dir/$1.pem" 2>/dev/null
}
check "certificates generated" bash -c "$(declare -f gen); dir='$dir'; gen a && gen b"

msg=$("$SNOW_ASAN_BIN/snowd" --state-dir "$dir/s0" --listen "127.0.0.1:$port" --boot-addr 127.0.0.1/8 \
	--dnsmasq none --tls-cert "$dir/a.pem" --tls-key "$dir/b.key" 2>&1) && rc=0 || rc=$?
check "a key that is not the certificate's is refused at start ($(tail -1 <<<"$msg"))" \
	test "$rc" -ne 0 -a -n "$(grep 'tls-listen' <<<"$msg")"
msg=$("$SNOW_ASAN_BIN/snowd" --state-dir "$dir/s0" --listen "127.0.0.1:$port" --boot-addr 127.0.0.1/8 \
	--dnsmasq none --tls-cert "$dir/a.pem" 2>&1) && rc=0 || rc=$?
check "a certificate without its key is refused, named" test "$rc" -ne 0 -a -n "$(grep 'tls-key' <<<"$msg")"

"$SNOW_ASAN_BIN/snowd" --state-dir "$dir/state" --listen "127.0.0.1:$port" --boot-addr 127.0.0.1/8 \
	--dnsmasq none --tls-cert "$dir/a.pem" --tls-key "$dir/a.key" --tls-listen "127.0.0.1:$tport" \
	>"$dir/snowd.log" 2>&1 &
pid=$!
check "snowd starts with HTTPS" wait_for 10 curl -sf --cacert "$dir/a.pem" "https://127.0.0.1:$tport/api/v1/health"
export SNOW_TOKEN=$(cat "$dir/state/admin.token")
check "snowctl over HTTPS with the CA" env SNOW_CA="$dir/a.pem" SNOW_URL="https://127.0.0.1:$tport" \
	"$SNOW_ASAN_BIN/snowctl" node add node1 --mac 52:54:00:cc:00:01
msg=$(env SNOW_CA="$dir/b.pem" SNOW_URL="https://127.0.0.1:$tport" "$SNOW_ASAN_BIN/snowctl" node list 2>&1) && rc=0 || rc=$?
check "snowctl refuses a certificate it does not trust ($msg)" test "$rc" -ne 0 -a -n "$(grep 'not trusted' <<<"$msg")"
check "plain HTTP still serves nodes' boot scripts" bash -c "curl -sf 'http://127.0.0.1:$port/boot/52-54-00-cc-00-01.ipxe' | grep -q 'booting node1'"
check "the session cookie over HTTPS" bash -c "printf 'password-123\n' | SNOW_CA='$dir/a.pem' SNOW_URL='https://127.0.0.1:$tport' '$SNOW_ASAN_BIN/snowctl' user add alice --role viewer >/dev/null && curl -s --cacert '$dir/a.pem' -D - -o /dev/null -H 'Content-Type: application/json' -d '{\"user\":\"alice\",\"password\":\"password-123\"}' 'https://127.0.0.1:$tport/api/v1/login' | grep -i 'set-cookie: snow_session' | grep -q '; Secure'"
# With a certificate, plain HTTP serves boot files and the node channel only: no token, no
# password and no console travels in clear.
check_eq "plain HTTP refuses the API with TLS on: 403" 403 "$(curl -s -o "$dir/plain" -w '%{http_code}' -H "Authorization: Bearer $SNOW_TOKEN" "http://127.0.0.1:$port/api/v1/nodes")"
check "plain HTTP says where to go" grep -q 'HTTPS only' "$dir/plain"
check_eq "plain HTTP refuses a login with TLS on: 403" 403 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{"user":"alice","password":"password-123"}' "http://127.0.0.1:$port/api/v1/login")"
check_eq "plain HTTP refuses the console's files with TLS on: 403" 403 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")"

# snowtop over HTTPS: the API and the live stream through GnuTLS.
if command -v tmux >/dev/null && [ -x "$SNOW_BIN/snowtop" ]; then
	. "$SNOW_TOP/tests/console/lib_console.sh"
	msg=$(SNOW_CA="$dir/b.pem" SNOW_URL="https://127.0.0.1:$tport" timeout 10 "$SNOW_BIN/snowtop" 2>&1 </dev/null) && rc=0 || rc=$?
	check "snowtop refuses a certificate it does not trust, before its screen ($msg)" \
		test "$rc" -eq 1 -a -n "$(grep '^snowtop: .*not trusted' <<<"$msg")"
	tx -f /dev/null new-session -d -s top -x 120 -y 30 \
		"SNOW_CA='$dir/a.pem' SNOW_URL='https://127.0.0.1:$tport' SNOW_TOKEN='$SNOW_TOKEN' exec '$SNOW_BIN/snowtop'"
	check "snowtop over HTTPS: the list, and its stream is live" screen_has 10 "127.0.0.1:$tport +live"
	check "snowtop over HTTPS: node1 listed" screen_has 5 'Nodes: 1 '
	streams() { curl -s --cacert "$dir/a.pem" -H "Authorization: Bearer $SNOW_TOKEN" "https://127.0.0.1:$tport/metrics" | grep -q '^snowd_stream_clients 1'; }
	check "snowd counts snowtop's stream" wait_for 5 streams
	# A removal reaches snowtop only through the stream.
	SNOW_CA="$dir/a.pem" SNOW_URL="https://127.0.0.1:$tport" "$SNOW_BIN/snowctl" node rm node1 >/dev/null
	check "snowtop over HTTPS: the stream says node1 was removed" screen_has 10 'Nodes: 0 '
	tmux_stop
else
	skip "snowtop over HTTPS: tmux or snowtop missing"
fi

# The sanitizer build must have found nothing, leaks at exit included.
stop_pid $pid; pid=
check_sanitizer "$dir/snowd.log"
