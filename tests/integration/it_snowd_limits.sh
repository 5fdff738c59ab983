#!/usr/bin/env bash
# snowd under floods: stream clients are capped and a client that stops reading is cut off
# with a last message (its backlog bounded); bodies are refused before they are buffered.
. "$(dirname "$0")/../lib.sh"
[ -x "$SNOW_BIN/snow-nodesim" ] || { skip "limits: build/bin/snow-nodesim is not built"; exit 0; }

dir=$(mktemp -d /tmp/snow-it-limits.XXXXXX)
port=$(free_port)
url=http://127.0.0.1:$port
pid= sim= hold= pid2= trickle=
"$SNOW_ASAN_BIN/snowd" --state-dir "$dir/state" --listen "127.0.0.1:$port" --boot-addr 127.0.0.1/8 \
	--dnsmasq none --max-conn-per-ip 300 >"$dir/snowd.log" 2>&1 &
pid=$!
on_exit 'stop_pid $hold; stop_pid $sim; stop_pid $pid; [ "$_failures" -gt 0 ] && tail -30 "$dir/snowd.log"; rm -rf "$dir"'
check "snowd starts" wait_for 10 curl -sf "$url/api/v1/health"
export SNOW_URL=$url SNOW_TOKEN=$(cat "$dir/state/admin.token")
metric() { curl -s -H "Authorization: Bearer $SNOW_TOKEN" "$url/metrics" | sed -n "s/^$1 //p"; }

# A client that opens the stream and never reads: it stays connected while 300 nodes
# report, its backlog fills, snowd cuts it off; when it finally reads, the stream ends with
# the cut message (whole SSE messages before it).
python3 - "$port" "$SNOW_TOKEN" "$dir/hold.ready" "$dir/hold.go" "$dir/hold.out" <<'EOF' &
import os, socket, sys, time
port, tok, ready, go, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
# A small receive buffer, set before connecting (TCP sizes its window then).
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
s.connect(("127.0.0.1", port))
# Connection: close, so the end of the stream is the end of the connection.
s.sendall(f"GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {tok}\r\n\r\n".encode())
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.2)
data = b""
s.settimeout(30)
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
open(out, "wb").write(data)
EOF
hold=$!
check "the stalled client is connected" wait_for 10 test -f "$dir/hold.ready"
check "the stalled client's stream is open" wait_for 10 bash -c "[ \"\$(curl -s -H 'Authorization: Bearer $SNOW_TOKEN' '$url/metrics' | sed -n 's/^snowd_stream_clients //p')\" = 1 ]"
"$SNOW_BIN/snow-nodesim" --add --count 300 --url "$url" --token "$SNOW_TOKEN" --interval-ms 500 \
	>"$dir/sim.log" 2>&1 &
sim=$!
check "a client that does not read is cut off (snowd_stream_cut_total 1)" wait_for 120 bash -c "[ \"\$(curl -s -H 'Authorization: Bearer $SNOW_TOKEN' '$url/metrics' | sed -n 's/^snowd_stream_cut_total //p')\" = 1 ]"
check "snowd says why" grep -q 'stream: a client fell .* bytes behind; cut off' "$dir/snowd.log"
stop_pid "$sim"; sim=
touch "$dir/hold.go"
check "the stalled client reads to the end" wait_for 60 test -f "$dir/hold.out"
# Undo the chunked framing first: a chunk may end inside any message, the cut one too.
python3 - "$dir/hold.out" "$dir/hold.txt" <<'EOF'
import sys
raw = open(sys.argv[1], "rb").read().decode(errors="replace")
rest, text = raw.split("\r\n\r\n", 1)[1], ""
while rest:
    line, _, rest = rest.partition("\r\n")
    n = int(line.strip() or "0", 16)
    if n == 0:
        break
    text, rest = text + rest[:n], rest[n + 2:]
open(sys.argv[2], "w").write(text)
EOF
check "its stream ends with the cut message" python3 -c '
import sys
msgs = [m for m in open(sys.argv[1]).read().split("\n\n") if m.strip()]
sys.exit(not (msgs and msgs[-1].startswith("event: cut")))' "$dir/hold.txt"
check "every values message before the cut is whole JSON" python3 -c '
import json, sys
for m in open(sys.argv[1]).read().split("\n\n"):
    for l in m.split("\n"):
        if l.startswith("data: "):
            json.loads(l[6:])' "$dir/hold.txt"
stop_pid "$hold"; hold=

# At most 256 stream clients: the 257th is told to come back later.
python3 - "$port" "$SNOW_TOKEN" >"$dir/cap.out" <<'EOF'
import socket, sys
port, tok = int(sys.argv[1]), sys.argv[2]
socks = []
def open_stream():
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tok}\r\n\r\n".encode())
    s.settimeout(20)
    head = b""
    while b"\r\n" not in head:
        head += s.recv(1)
    return s, head.split(b"\r\n")[0].decode()
for i in range(256):
    s, status = open_stream()
    socks.append(s)
    if " 200 " not in status:
        print("stream", i + 1, status)
        sys.exit(1)
s, status = open_stream()
print(status)
EOF
check "256 streams open" test $? -eq 0
check "the 257th stream gets 503" grep -q ' 503 ' "$dir/cap.out"
check "the streams are gone with their clients" wait_for 20 bash -c "[ \"\$(curl -s -H 'Authorization: Bearer $SNOW_TOKEN' '$url/metrics' | sed -n 's/^snowd_stream_clients //p')\" = 0 ]"
check "snowd still answers" curl -sf "$url/api/v1/health"

# 64 unauthenticated half-sent 4 MiB bodies: routed and refused from their headers, none is
# buffered, so snowd does not grow by their size (it would by 256 MiB).
rss() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }
rss0=$(rss)
python3 - "$port" "$dir/bodies.out" <<'EOF'
import socket, sys
port, out = int(sys.argv[1]), sys.argv[2]
socks, chunk = [], b"x" * 65536
for path in ["/api/v1/nodes"] * 32 + ["/api/v1/node/report"] * 32:
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              f"Transfer-Encoding: chunked\r\n\r\n".encode())
    s.setblocking(False)
    socks.append(s)
# Half of 4 MiB each, in chunks, as far as snowd takes them.
sent = 0
for _ in range(32):
    for s in socks:
        try:
            s.send(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            sent += len(chunk)
        except OSError:
            pass
open(out, "w").write(f"{sent}\n")
EOF
rss1=$(rss)
grown=$(( (rss1 - rss0) / 1024 ))
echo "perf: 64 half-sent 4 MiB bodies (sent $(( $(cat "$dir/bodies.out") / 1048576 )) MiB): snowd RSS $((rss0 / 1024)) -> $((rss1 / 1024)) MiB"
check "64 half-sent 4 MiB bodies grow snowd by less than 32 MiB (grew $grown MiB)" test "$grown" -lt 32
check "snowd answers after the bodies" curl -sf "$url/api/v1/health"

# A login flood: passwords are hashed off the loop, failures are throttled per address and
# per user (429 + Retry-After, nothing hashed), and health keeps answering meanwhile.
printf 'right-password-1\n' | "$SNOW_ASAN_BIN/snowctl" user add alice --role viewer >/dev/null
printf 'right-password-2\n' | "$SNOW_ASAN_BIN/snowctl" user add bob --role viewer >/dev/null
login() { # login ADDR USER PASSWORD -> status
	curl -s -o "$dir/login.out" -D "$dir/login.head" -w '%{http_code}' --interface "$1" \
		-H 'Content-Type: application/json' -d "{\"user\":\"$2\",\"password\":\"$3\"}" "$url/api/v1/login"
}
check_eq "a right password logs in" 200 "$(login 127.0.0.1 alice right-password-1)"
codes=""
for i in $(seq 8); do codes="$codes $(login 127.0.0.1 alice wrong-$i)"; done
check "wrong passwords: 401 first, then 429" bash -c "[[ '$codes' == *401* && '$codes' == *429 ]]"
check "429 says when to come back" grep -qi '^retry-after: [1-9]' "$dir/login.head"
check_eq "the right password waits too while alice is throttled" 429 "$(login 127.0.0.3 alice right-password-1)"
check_eq "another user from another address is not held up" 200 "$(login 127.0.0.2 bob right-password-2)"
# Six parallel loops of wrong passwords for bob's neighbours (unknown users cost a hash too),
# each from its own address, while health is timed.
flood_pids=()
for a in 4 5 6 7 8 9; do
	(for i in $(seq 40); do login 127.0.0.$a "nobody$a-$i" wrong >/dev/null; done) &
	flood_pids+=($!)
done
for i in $(seq 60); do curl -s -o /dev/null -w '%{time_total}\n' "$url/api/v1/health"; done >"$dir/health.times"
for p in "${flood_pids[@]}"; do wait "$p"; done
check "health answered all through the flood" test "$(wc -l <"$dir/health.times")" -eq 60
echo "perf: health during a login flood (6 loops of wrong passwords): p50 $(sort -n "$dir/health.times" | sed -n 30p) s, p90 $(sort -n "$dir/health.times" | sed -n 54p) s"
check "snowd logged the refusals" grep -q "login: refused for 'alice'" "$dir/snowd.log"

# Half-sent requests against a snowd with 64 descriptors: one address holds at most a quarter
# of the connections, others are still served, and trickled headers are cut at their deadline
# (10 s for headers, 60 s for a body) however slowly they trickle.
port2=$(free_port)
url2=http://127.0.0.1:$port2
prlimit --nofile=64:64 "$SNOW_ASAN_BIN/snowd" --state-dir "$dir/state2" --listen "127.0.0.1:$port2" \
	--boot-addr 127.0.0.1/8 --dnsmasq none >"$dir/snowd2.log" 2>&1 &
pid2=$!
on_exit 'stop_pid $pid2'
check "snowd starts with 64 descriptors" wait_for 10 curl -sf "$url2/api/v1/health"
python3 - "$port2" "$dir/trickle.out" <<'EOF' &
import socket, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
socks = []
for i in range(60):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")  # never the blank line
        socks.append(s)
    except OSError:
        pass
# Trickle a header byte a second to each, as long as they stay open.
start, alive = time.time(), len(socks)
while time.time() - start < 40 and alive:
    time.sleep(1)
    alive = 0
    for s in socks:
        try:
            s.sendall(b"X")
            alive += 1
        except OSError:
            pass
open(out, "w").write(f"{len(socks)} {alive} {time.time() - start:.0f}\n")
EOF
trickle=$!
on_exit 'stop_pid $trickle'
check "another address is served while one trickles" wait_for 10 curl -sf --interface 127.0.0.2 "$url2/api/v1/health"
check "trickled headers are cut at their deadline" wait_for 45 test -s "$dir/trickle.out"
read -r opened alive secs <"$dir/trickle.out" || true
check_eq "no trickling connection outlived the deadline ($opened opened, all cut after ${secs:-?} s)" 0 "${alive:-?}"
tok2=$(cat "$dir/state2/admin.token")
check "snowd counts them (snowd_http_connections_cut_total)" bash -c "curl -s -H 'Authorization: Bearer $tok2' '$url2/metrics' | grep -q '^snowd_http_connections_cut_total [1-9]'"
check "the same address is served again" curl -sf "$url2/api/v1/health"
stop_pid $pid2
check_sanitizer "$dir/snowd.log" "$dir/snowd2.log"
