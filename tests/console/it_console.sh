#!/usr/bin/env bash
# The web console in headless chromium and firefox-esr, and snowtop in tmux, against a real
# snowd on loopback with 1000 simulated nodes (snow-nodesim) reporting every
# second.  Prints the overview's first paint and update cost and snowtop's
# CPU at 1000 nodes ("perf: ..." lines).  Screenshots: build/test-logs/console/.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib_console.sh"
console_need node tmux /usr/bin/chromium
[ -x "$SNOW_BIN/snow-nodesim" ] || { skip "console tests: build/bin/snow-nodesim is not built"; exit 0; }
[ -x "$SNOW_BIN/snowtop" ] || { not_ok "build/bin/snowtop is built"; exit 1; }
[ -f "$SNOW_TOP/build/share/snow/web/index.html" ] || { not_ok "the web console is installed (make all)"; exit 1; }
check "playwright-core installed from the lock file" console_npm

dir=$(mktemp -d /tmp/snow-it-console.XXXXXX)
shots=$SNOW_TOP/build/test-logs/console
rm -rf "$shots" && mkdir -p "$shots"
port=$(free_port)
url=http://127.0.0.1:$port
pid= simpid=
"$SNOW_BIN/snowd" --state-dir "$dir/state" --listen "127.0.0.1:$port" --boot-addr 127.0.0.1/8 \
	--dnsmasq none --interval-ms 1000 >"$dir/snowd.log" 2>&1 &
pid=$!
on_exit 'tmux_stop; stop_pid $simpid; stop_pid $pid; [ "$_failures" -gt 0 ] && tail -20 "$dir/snowd.log"; rm -rf "$dir"'
check "snowd starts" wait_for 10 curl -sf "$url/api/v1/health"
export SNOW_URL=$url SNOW_TOKEN=$(cat "$dir/state/admin.token")
check "console users" console_users
"$SNOW_BIN/snow-nodesim" --add --count 1000 --url "$url" --token "$SNOW_TOKEN" --interval-ms 1000 \
	--events-rate 2 >"$dir/sim.log" 2>&1 &
simpid=$!
online() { [ "$("$SNOW_BIN/snowctl" node list 2>/dev/null | grep -c ' online ')" -ge "$1" ]; }
check "1000 simulated nodes online" wait_for 60 online 1000
# ("evil" below makes 1001 nodes; the sims are the 1000 online ones.)
# A node whose agent sends markup: the console must show it as text (XSS).
"$SNOW_BIN/snowctl" node add evil --mac 52:54:00:ee:00:01 >/dev/null
eip=$("$SNOW_BIN/snowctl" node show evil --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["ip"])')
secret=$(node_secret "$url" 52:54:00:ee:00:01 "$eip" "$dir/ov")
evil='<img src=x onerror=window.__xss=1>'
body="{\"name\":\"evil\",\"boot_id\":\"x-1\",\"hostname\":\"$evil\",\"schema\":[{\"name\":\"vm.load.avg1\",\"kind\":\"gauge\",\"unit\":\"<b>u</b>\",\"desc\":\"$evil\"}]}"
check "a node registers with markup in its hostname" test "$(node_post "$url" "$secret" evil /api/v1/node/register "$body")" = 200
export SNOW_XSS_NODE=evil SNOW_XSS_TEXT=$evil
echo "# $SECONDS s: browser"

# --- the web console --------------------------------------------------------
(cd "$SNOW_TOP/tests/console" && timeout 240 node browser.mjs sim "$url" "$shots" sim0001) 2>&1
rc=$?
[ "$rc" -eq 0 ] || echo "# browser.mjs exited $rc"
# The same scenario in Firefox (stock firefox-esr over WebDriver BiDi).
if command -v firefox-esr >/dev/null 2>&1; then
	echo "# $SECONDS s: firefox"
	(cd "$SNOW_TOP/tests/console" && SNOW_BROWSER=firefox timeout 300 node browser.mjs sim "$url" "$shots" sim0002) 2>&1
	rc=$?
	[ "$rc" -eq 0 ] || echo "# browser.mjs (firefox) exited $rc"
else
	skip "the console in Firefox: firefox-esr is not installed (make deps)"
fi

# --- snowtop ----------------------------------------------------------------
echo "# $SECONDS s: snowtop"
tx -f /dev/null new-session -d -s top -x 150 -y 45 \
	"SNOW_URL=$url SNOW_TOKEN=$SNOW_TOKEN exec '$SNOW_BIN/snowtop' 2>'$dir/snowtop.err'"
toppid=$(tx list-panes -t top -F '#{pane_pid}')
check "snowtop: the list shows every node" screen_has 15 'Nodes: 100[01] +online 100[01]'
check "snowtop: header meters and the live events pane" screen_has 5 'EVENTS \(live\)'
check "snowtop: the online meter" screen_has 5 'Online\[\|+ *1000/100[01]\]'
screen_text >"$shots/snowtop-list.txt"

# Sorting: by load, highest first.
keys L I
check "snowtop: sort by load, descending" screen_has 5 'sort: load \(desc\)'
# The screen is redrawn at most every 500 ms: wait for a drawn list whose loads go down.
descending() {
	local loads
	screen_text >"$shots/snowtop-sorted.txt"
	loads=$(awk '/^  NODE/{f=1; next} f && /^[ *] sim[0-9]+ +online/ {for (i = 3; i <= NF; i++) if ($i ~ /^[0-9.]+$/) {print $i; break}} /EVENTS/{exit}' "$shots/snowtop-sorted.txt" | head -20)
	[ "$(printf '%s\n' $loads | wc -l)" -ge 10 ] && printf '%s\n' $loads | sort -rn -c 2>/dev/null
}
check "snowtop: the loads shown go down" wait_for 5 descending
keys N I
check "snowtop: sort by name again" screen_has 5 'sort: name'

# Filter, then a node's page.
# Typed ahead in one go: the second Enter must open the first node of the filtered list.
keys / sim001 Enter Enter
check "snowtop: Enter opens the node page (values)" screen_has 5 'sim0010 +online.*host sim0010'
check "snowtop: the node's values" screen_has 5 'vm\.load\.avg1'
keys 2
check "snowtop: the node's devices" screen_has 5 'cpu/cpu1 +cpu +enabled +online'
screen_text >"$shots/snowtop-node-devices.txt"

# An action with its confirmation: cpu/cpu1 offline, then online again.
keys Down Enter
check "snowtop: the device's operations menu" screen_has 5 'Enter: choose'
keys o Enter
check "snowtop: a confirmation saying what will happen" screen_has 5 'Proceed\? \[y\]'
screen_text >"$shots/snowtop-confirm.txt"
keys y
check "snowtop: the command is done" screen_has 20 'offline cpu/cpu1 sim0010 \(command [0-9]+\): done'
check "snowtop: cpu/cpu1 shows offline" screen_has 20 'cpu/cpu1 +cpu +enabled +offline'
keys Enter
screen_has 5 'Enter: choose' && keys o Enter && screen_has 5 'Proceed' && keys y
check "snowtop: cpu/cpu1 back online" screen_has 20 'cpu/cpu1 +cpu +enabled +online'
keys n  # nothing open: harmless

# A threshold from the keyboard (prompt + confirmation).
keys 1 t
check "snowtop: the threshold prompt" screen_has 5 'VALUE high\|low RISE CLEAR'
keys C-u
keys -l 'vm.load.avg1 high 0.001 0.0005'
keys Enter
check "snowtop: threshold confirmation" screen_has 5 'Raised when vm\.load\.avg1 goes above 0\.001'
keys y
check "snowtop: the threshold command is done" screen_has 20 'threshold.set sim0010 .*: done'
keys 3
check "snowtop: the threshold shows raised" screen_has 20 'vm\.load\.avg1 +high .* raised'
screen_text >"$shots/snowtop-node-thresholds.txt"

# Resize: the screen follows (SIGWINCH through ncurses).
tx resize-window -t top -x 100 -y 30
small_whole() {
	screen_text >"$dir/small"
	[ "$(wc -l <"$dir/small")" -eq 30 ] && [ "$(awk '{ if (length > m) m = length } END { print m }' "$dir/small")" -le 100 ] &&
		tail -1 "$dir/small" | grep -q F1Help && grep -qE 'Nodes: 100[01]' "$dir/small"
}
check "snowtop: resized to 100x30, still whole" wait_for 5 small_whole
screen_text >"$shots/snowtop-resized.txt"
tx resize-window -t top -x 150 -y 45
keys F1
check "snowtop: F1 help" screen_has 5 'Every action asks first'
keys q Escape
# Exactly the ten: the whole list sorted by name shows sim0010..sim0019 too.
ten_rows() {
	screen_text >"$dir/search"
	[ "$(grep -cE '^[ *] sim001[0-9] ' "$dir/search")" -eq 10 ] && [ "$(grep -cE '^[ *] sim[0-9]+ ' "$dir/search")" -eq 10 ]
}
check "snowtop: the search narrowed the list to sim0010..sim0019" wait_for 5 ten_rows
keys /
keys BSpace BSpace BSpace BSpace BSpace BSpace Enter
check "snowtop: back to the whole list" screen_has 5 'sim0001 '

echo "# $SECONDS s: snowtop CPU"
# CPU at 1000 nodes reporting every second, over 20 s.
t0=$(cpu_ticks "$toppid"); s0=$(date +%s.%N)
sleep 20
t1=$(cpu_ticks "$toppid"); s1=$(date +%s.%N)
hz=$(getconf CLK_TCK)
pct=$(python3 -c "print(f'{100 * ($t1 - $t0) / $hz / ($s1 - $s0):.1f}')")
echo "perf: snowtop CPU at 1000 nodes reporting every second: $pct % of one core over 20 s (stream $(curl -s -H "Authorization: Bearer $SNOW_TOKEN" "$url/metrics" | awk '/^snowd_stream_clients/ {print $2}') clients)"
check "snowtop stays under 25 % of a core" python3 -c "import sys; sys.exit(0 if $pct < 25 else 1)"
keys q
gone() { ! kill -0 "$toppid" 2>/dev/null; }
check "snowtop quits on q" wait_for 5 gone
tmux_stop

# A viewer's snowtop may look but not act.
vtok=$("$SNOW_BIN/snowctl" token create top-viewer --role viewer)
tx -f /dev/null new-session -d -s top -x 150 -y 45 "SNOW_URL=$url SNOW_TOKEN=$vtok exec '$SNOW_BIN/snowtop'"
# Under load the first list of 1000 nodes may take a while: the key goes once snowtop shows it.
check "snowtop: a viewer's snowtop starts" screen_has 60 'role viewer'
keys a
check "snowtop: a viewer is not offered actions" screen_has 15 'role viewer: this token may only look'
keys q
tmux_stop
