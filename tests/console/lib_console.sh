# Shared by the console tests (sourced after tests/lib.sh): what they need,
# the npm packages of the browser tests, snowtop in a private tmux server.

# console_need: skip the whole script when a tool is missing.
console_need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || { skip "console tests: $t is not installed (make deps)"; exit 0; }
	done
}

# playwright-core, pinned in tests/console/package-lock.json; never a browser download.
console_npm() {
	[ -f "$SNOW_TOP/tests/console/node_modules/playwright-core/package.json" ] && return 0
	(cd "$SNOW_TOP/tests/console" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
		npm ci --silent --no-audit --no-fund --loglevel=error >/dev/null 2>&1)
}

# console_users URL: the test's console users (snowctl with SNOW_URL/SNOW_TOKEN set).
# POST /api/v1/users may answer badly although it added the user: check the list.
console_users() {
	printf 'admin-pass-1\n' | "$SNOW_BIN/snowctl" user add adm --role admin >/dev/null 2>&1
	printf 'viewer-pass-1\n' | "$SNOW_BIN/snowctl" user add view --role viewer >/dev/null 2>&1
	"$SNOW_BIN/snowctl" user list 2>/dev/null | grep -q '^view' &&
		"$SNOW_BIN/snowctl" user list 2>/dev/null | grep -q '^adm'
}

# A tmux server of our own: tx ARGS... runs tmux on it.
TMUX_SOCK=snow-console-$$
tx() { tmux -L "$TMUX_SOCK" "$@"; }
tmux_stop() { tx kill-server 2>/dev/null || true; }
screen_text() { tx capture-pane -p -t top 2>/dev/null; }
# screen_has SECONDS REGEX: wait until the pane shows REGEX.
screen_has() {
	local limit=$1 re=$2 start=$SECONDS
	until screen_text | grep -Eq -- "$re"; do
		[ $((SECONDS - start)) -ge "$limit" ] && return 1
		sleep 0.2
	done
}
keys() { tx send-keys -t top "$@"; }

# cpu_ticks PID: utime + stime in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
