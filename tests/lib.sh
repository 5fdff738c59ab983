# Helpers for integration scripts (tests/*/it_*.sh), sourced by them.
# Each check prints "ok - DESC" or "not ok - DESC" (what tests/run.sh counts);
# cleanup functions registered with on_exit run on any exit, failure or not.
set -u
SNOW_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SNOW_BIN=$SNOW_TOP/build/bin
# snowd and snowctl with ASan+UBSan (make unit-tests builds them).
SNOW_ASAN_BIN=$SNOW_TOP/build/asan/bin
_exit_hooks=()
_failures=0

on_exit() { _exit_hooks=("$*" "${_exit_hooks[@]}"); }
_run_exit_hooks() {
	local rc=$? h
	for h in "${_exit_hooks[@]}"; do eval "$h" || true; done
	[ "$_failures" -gt 0 ] && rc=1
	exit "$rc"
}
trap _run_exit_hooks EXIT
trap 'exit 130' INT TERM

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; _failures=$((_failures + 1)); }
skip() { echo "skip - $*"; }

# check DESC COMMAND...: ok when COMMAND succeeds.
check() {
	local desc=$1; shift
	if "$@"; then ok "$desc"; else not_ok "$desc (command: $*)"; fi
}
# check_eq DESC WANT GOT
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: want '$2', got '$3'"; fi
}
# wait_for SECONDS COMMAND...: poll COMMAND every 0.2 s until it succeeds.
wait_for() {
	local limit=$1 start=$SECONDS; shift
	until "$@" >/dev/null 2>&1; do
		[ $((SECONDS - start)) -ge "$limit" ] && return 1
		sleep 0.2
	done
}
# A free TCP port on loopback.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# Kill a PID we started (never by name) and wait for it.
stop_pid() {
	local pid=${1:-}
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null || true
}
need_root() { [ "$(id -u)" = 0 ] || { skip "$1: needs root"; exit 0; }; }
# check_sanitizer LOG...: no AddressSanitizer/UBSan report in the logs.
check_sanitizer() {
	local f bad=""
	for f in "$@"; do
		grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$f" 2>/dev/null && bad="$bad $f"
	done
	if [ -z "$bad" ]; then ok "no sanitizer report"; else
		not_ok "sanitizer reports in:$bad"
		grep -hE -A12 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' $bad | head -40
	fi
}

# node_secret URL MAC IP DIR: a node's HMAC secret, from its overlay fetched from the
# node's own address IP (snowd serves the overlay only there, once per boot: its script
# asked from that address first opens the window), unpacked into DIR.
node_secret() {
	mkdir -p "$4" && curl -s -o /dev/null --interface "$3" "$1/boot/${2//:/-}.ipxe" &&
		curl -s --interface "$3" "$1/boot/${2//:/-}/overlay.cpio" | (cd "$4" && cpio -id --quiet) &&
		sed -n 's/^secret = //p' "$4/etc/snow/node.conf"
}
# node_post URL SECRET NODE PATH BODY [OUT]: POST BODY signed as NODE (tests/lib/nodesign.py);
# prints the HTTP status, the answer goes to OUT (default: nowhere).
node_post() {
	local h
	mapfile -t h < <(python3 "$SNOW_TOP/tests/lib/nodesign.py" "$2" "$3" POST "$4" "$5")
	curl -s -o "${6:-/dev/null}" -w '%{http_code}' "${h[@]}" -H 'Content-Type: application/json' -d "$5" "$1$4"
}
