# A PostgreSQL of the test's own, for snowd --db (sourced after tests/lib.sh).
# It listens on a unix socket in its folder only (listen_addresses=''), and
# pg_start registers its stop with on_exit, so it goes even when a check fails.
#   pg_start DIR      initdb into DIR/data, start; PG_SOCK is the socket folder
#   pg_url NAME       create database NAME, print its URL for snowd --db
#   pg_stop           stop it (pg_ctl stop -m fast; kill -9 of its pid if that fails)
#   pg_halt, pg_resume  stop it keeping its data, start it again (the database down)
#   pg_freeze, pg_thaw  SIGSTOP / SIGCONT its postmaster (a server that accepts and never answers)
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
PG_SOCK=
# initdb and postgres refuse to run as root: as root, run them as 'postgres'.
_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
pg_start() {
	[ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] || return 2
	PG_SOCK=$1
	mkdir -p "$PG_SOCK" || return 1
	[ "$(id -u)" = 0 ] && chown postgres "$PG_SOCK"
	on_exit pg_stop
	_pg "$PG_BIN/initdb" -D "$PG_SOCK/data" -A trust -U snow -E UTF8 --locale=C.UTF-8 \
		>"$PG_SOCK/initdb.log" 2>&1 || { tail -5 "$PG_SOCK/initdb.log"; return 1; }
	_pg_run
}
_pg_run() {
	_pg "$PG_BIN/pg_ctl" -D "$PG_SOCK/data" -l "$PG_SOCK/postgres.log" -w -t 60 \
		-o "-k $PG_SOCK -c listen_addresses=''" start >/dev/null || { tail -5 "$PG_SOCK/postgres.log"; return 1; }
}
pg_halt() { _pg "$PG_BIN/pg_ctl" -D "$PG_SOCK/data" -m fast -w -t 60 stop >/dev/null; }
pg_resume() { _pg_run; }
_pg_pid() { head -1 "$PG_SOCK/data/postmaster.pid" 2>/dev/null; }
pg_freeze() { local p; p=$(_pg_pid) && [ -n "$p" ] && kill -STOP "$p"; }
pg_thaw() { local p; p=$(_pg_pid) && [ -n "$p" ] && kill -CONT "$p"; }
pg_url() {
	_pg "$PG_BIN/createdb" -h "$PG_SOCK" -U snow "$1" || return 1
	echo "postgresql://snow@/$1?host=$PG_SOCK"
}
# SQL on database NAME: pg_sql NAME 'SELECT ...' prints the rows, unaligned.
pg_sql() {
	_pg "$PG_BIN/psql" -h "$PG_SOCK" -U snow -d "$1" -XAtqc "$2"
}
pg_stop() {
	local pid
	[ -n "$PG_SOCK" ] && [ -d "$PG_SOCK/data" ] || return 0
	pid=$(_pg_pid)
	[ -n "$pid" ] && kill -CONT "$pid" 2>/dev/null # a test that froze it and failed
	if ! _pg "$PG_BIN/pg_ctl" -D "$PG_SOCK/data" -m fast -w -t 20 stop >/dev/null 2>&1 &&
		[ -n "$pid" ]; then
		kill -9 "$pid" 2>/dev/null
	fi
	rm -rf "$PG_SOCK"
	PG_SOCK=
}
