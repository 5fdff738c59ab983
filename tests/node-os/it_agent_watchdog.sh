#!/usr/bin/env bash
# snow-agent keeps patting its watchdog while its host does not answer.  A
# request cannot pat while it waits, and the agent's HTTP timeout (5 s) was as
# long as the shortest watchdog timeout (5 s): a host that accepts connections
# and never answers reset the node.  Here the watchdog "device" is a FIFO whose
# reader notes when each pat arrives, the host a listener that never answers,
# watchdog_timeout = 5: no two pats may be 4.5 s apart.
. "$(dirname "$0")/../lib.sh"

agent=$SNOW_BIN/snow-agent
[ -x "$agent" ] || { not_ok "$agent missing (run 'make')"; exit 1; }
work=$(mktemp -d /tmp/snow-it-wdog.XXXXXX)
on_exit 'rm -rf "$work"'
port=$(free_port)
mkfifo "$work/watchdog"
cat >"$work/node.conf" <<EOF2
name = wdog1
host_url = http://127.0.0.1:$port
secret = $(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
mac = 52:54:00:00:00:43
watchdog = $work/watchdog
watchdog_timeout = 5
EOF2

# The host: accepts, reads, never answers; one line per connection.
cat >"$work/silent.py" <<'PY'
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
held = []
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        c, _ = s.accept()
        held.append(c)  # kept open, never answered
        log.write("%f connection\n" % time.monotonic())
PY
# The watchdog: one line per byte written, with its time; 'V' is the magic close.
cat >"$work/wdog.py" <<'PY'
import sys, time
with open(sys.argv[1], "rb", buffering=0) as f, open(sys.argv[2], "a", buffering=1) as log:
    while True:
        b = f.read(1)
        if not b:
            break
        log.write("%f %s\n" % (time.monotonic(), "close" if b == b"V" else "pat"))
PY
python3 "$work/silent.py" "$port" "$work/conns.log" 2>"$work/silent.err" &
srv_pid=$!
on_exit 'stop_pid "$srv_pid"'
python3 "$work/wdog.py" "$work/watchdog" "$work/pats.log" &
wdog_pid=$!
on_exit 'stop_pid "$wdog_pid"'
check "silent host listens" wait_for 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $port)).close()"

"$agent" --config "$work/node.conf" -v 2>"$work/agent.log" &
agent_pid=$!
on_exit 'stop_pid "$agent_pid"'
check "watchdog armed" wait_for 10 grep -q "watchdog: $work/watchdog armed, 5 s" "$work/agent.log"
# span: seconds from the first pat to the last
span() { awk '$2 == "pat" { if (!f) f = $1; l = $1 } END { exit !(l - f >= 13) }' "$work/pats.log"; }
check "pats seen for 13 s" wait_for 40 span
# Connections after the one create_connection() made.
conns=$(($(wc -l <"$work/conns.log") - 1))
check "the agent kept trying the host (at least 3 requests unanswered)" test "$conns" -ge 3
gap=$(awk '$2 == "pat" { if (p && $1 - p > g) g = $1 - p; p = $1 } END { printf "%d", g * 1000 }' "$work/pats.log")
check "no two pats more than 4.5 s apart (timeout 5 s; longest gap ${gap} ms)" test "$gap" -lt 4500
check "requests time out and are retried" grep -q 'register: host unreachable' "$work/agent.log"
kill -TERM "$agent_pid"
check "SIGTERM: agent exits" wait_for 10 sh -c "! kill -0 $agent_pid"
agent_pid=
check "a clean stop disarms the watchdog (magic close)" wait_for 5 grep -q close "$work/pats.log"
if [ "$_failures" -gt 0 ]; then sed 's/^/# /' "$work/agent.log" "$work/pats.log"; fi
