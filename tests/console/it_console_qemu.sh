#!/usr/bin/env bash
# The web console against one QEMU node (snow-vcluster): log in, open the
# node, see its plots move, set and clear a threshold, take cpu1 offline and
# back, reboot it and watch it come back online; a viewer is offered none of
# it and the API refuses it anyway; in chromium, then firefox-esr.  Then snowtop
# on the same node.
# Screenshots: build/test-logs/console/qemu-*.png.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib_console.sh"
need_root "console on a QEMU node"
console_need node tmux /usr/bin/chromium qemu-system-x86_64
check "playwright-core installed from the lock file" console_npm

state=$(mktemp -d /tmp/snow-it-cq.XXXXXX)
shots=$SNOW_TOP/build/test-logs/console
mkdir -p "$shots"
vc() { SNOW_VCLUSTER_DIR=$state "$SNOW_BIN/snow-vcluster" "$@"; }
on_exit 'tmux_stop; vc down >/dev/null 2>&1; [ "$_failures" -gt 0 ] && tail -n 20 "$state/up.log" "$state/snowd.log"; rm -rf "$state"'
if ! vc up --nodes 1 --name "sncq$((RANDOM % 1000))" --net 10.88 --wait --timeout 300 >"$state/up.log" 2>&1; then
	not_ok "snow-vcluster up with one QEMU node online"
	exit 1
fi
ok "snow-vcluster up with one QEMU node online"
. "$state/env"
check "console users" console_users

echo "# $SECONDS s: browser"
(cd "$SNOW_TOP/tests/console" && timeout 240 node browser.mjs qemu "$SNOW_URL" "$shots" node1) 2>&1
rc=$?
[ "$rc" -eq 0 ] || echo "# browser.mjs exited $rc"
if command -v firefox-esr >/dev/null 2>&1; then
	echo "# $SECONDS s: firefox"
	(cd "$SNOW_TOP/tests/console" && SNOW_BROWSER=firefox timeout 240 node browser.mjs qemu "$SNOW_URL" "$shots" node1) 2>&1
	rc=$?
	[ "$rc" -eq 0 ] || echo "# browser.mjs (firefox) exited $rc"
else
	skip "the QEMU node in Firefox: firefox-esr is not installed (make deps)"
fi

echo "# $SECONDS s: snowtop"
tx -f /dev/null new-session -d -s top -x 150 -y 40 "SNOW_URL=$SNOW_URL SNOW_TOKEN=$SNOW_TOKEN exec '$SNOW_BIN/snowtop'"
check "snowtop: node1 online in the list" screen_has 20 'node1 +online'
keys Enter 2
check "snowtop: node1's devices from its agent" screen_has 10 'cpu/cpu1 +cpu +enabled +online'
keys 1 t C-u
keys -l 'kern.procs.count high 1 0'
keys Enter
check "snowtop: threshold confirmation" screen_has 5 'Raised when kern\.procs\.count goes above 1'
keys y
check "snowtop: the QEMU node applies the threshold" screen_has 30 'threshold.set node1 .*: done'
keys 3
check "snowtop: the threshold shows raised" screen_has 30 'kern\.procs\.count +high .* raised'
keys c
check "snowtop: clearing asks first" screen_has 5 'Clear threshold kern\.procs\.count high on node1'
keys y
check "snowtop: the threshold is cleared" screen_has 30 'threshold.clear node1 .*: done'
screen_text >"$shots/snowtop-qemu-node.txt"
keys F10
tmux_stop
