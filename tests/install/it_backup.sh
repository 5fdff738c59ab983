#!/usr/bin/env bash
# docs/install.md's backup and restore: `sqlite3 snow.db ".backup FILE"` while
# snowd runs and writes gives a consistent copy; restored into a fresh state
# folder (the -wal and -shm files gone) it brings back the nodes, profiles and
# tokens that were acknowledged before the backup.
. "$(dirname "$0")/../lib.sh"

dir=$(mktemp -d /tmp/snow-it-backup.XXXXXX)
port=$(free_port)
url=http://127.0.0.1:$port
pid=
on_exit 'stop_pid $pid; [ "$_failures" -gt 0 ] && tail -30 "$dir/snowd.log"; rm -rf "$dir"'
start() { # start STATE
	"$SNOW_ASAN_BIN/snowd" --state-dir "$1" --listen "127.0.0.1:$port" --boot-addr 10.77.0.1/24 \
		--dnsmasq none >>"$dir/snowd.log" 2>&1 &
	pid=$!
	wait_for 20 curl -sf "$url/api/v1/health"
}
ctl() { SNOW_URL=$url SNOW_TOKEN=$token "$SNOW_ASAN_BIN/snowctl" "$@"; }

check "snowd starts" start "$dir/a"
token=$(cat "$dir/a/admin.token")
for i in $(seq 1 20); do
	ctl node add "n$i" --mac "52:54:00:cc:00:$(printf %02x "$i")" >/dev/null || not_ok "node add n$i"
done
check "a profile" ctl profile add rack1 interval_ms=5000
# Writes go on while the backup is taken.
( for i in $(seq 21 60); do ctl node add "n$i" --mac "52:54:00:cc:00:$(printf %02x "$i")" >/dev/null; done ) &
writer=$!
check "sqlite3 .backup while snowd runs" sqlite3 "$dir/a/snow.db" ".backup '$dir/backup.db'"
wait "$writer"
check_eq "the backup is a whole database" ok "$(sqlite3 "$dir/backup.db" 'PRAGMA integrity_check')"
n=$(sqlite3 "$dir/backup.db" 'SELECT count(*) FROM nodes')
check "it holds the 20 nodes added before it, and what came in during it (got $n)" test "$n" -ge 20 -a "$n" -le 60
stop_pid "$pid"; pid=

# Restore into a fresh folder, as after losing the disk.
mkdir -m 0700 "$dir/b"
install -m 0600 "$dir/backup.db" "$dir/b/snow.db"
check "snowd starts on the restored database" start "$dir/b"
check "no new admin token: the old one works" test ! -e "$dir/b/admin.token"
check_eq "every node of the backup is back" "$n" "$(ctl node list | tail -n +2 | wc -l)"
check "the profile is back" ctl profile show rack1
stop_pid "$pid"; pid=
check_sanitizer "$dir/snowd.log"
