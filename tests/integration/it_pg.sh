#!/usr/bin/env bash
# snowd on PostgreSQL (snowd --db): a cluster of the test's own (initdb into a
# temporary folder, a unix socket only, stopped on any exit); -n checks the
# URL and the credentials; then it_snowd_api.sh's round trips (API, signed
# node channel, commands, events, kill -9 with nothing acknowledged lost and
# replays still refused) run again with the inventory in PostgreSQL, and so do
# the inventory's unit tests (tests/host/test_inventory.c).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/pg.sh"

dir=$(mktemp -d /tmp/snow-it-pg.XXXXXX)
chmod 0755 "$dir"
on_exit 'rm -rf "$dir"'
pg_start "$dir/pg"
case $? in
0) ok "PostgreSQL started (unix socket only, in $dir/pg)" ;;
2) skip "PostgreSQL: no initdb (make deps installs postgresql)"; exit 0 ;;
*) not_ok "PostgreSQL started"; exit 1 ;;
esac
check "it listens on no TCP port" bash -c "! grep -q 'listening on IPv' '$dir/pg/postgres.log'"

# -n runs the plain build: the sanitizers' build exits before its output is flushed.
url=$(pg_url snow_check)
msg=$("$SNOW_BIN/snowd" -n --db "$url" --dnsmasq none --boot-addr 127.0.0.1/8 2>&1)
check "-n with a good URL: configuration OK" grep -q 'configuration OK' <<<"$msg"
msg=$("$SNOW_BIN/snowd" -n --db "postgresql://snow@/nosuch?host=$dir/pg" --dnsmasq none \
	--boot-addr 127.0.0.1/8 2>&1) && rc=0 || rc=$?
check "-n with a database that does not exist fails, naming it ($msg)" \
	bash -c "[ $rc -ne 0 ] && grep -q 'database: cannot connect.*nosuch' <<<'$msg'"
msg=$("$SNOW_BIN/snowd" -n --db "postgresql://nobody:pw-not-shown-42@/snow_check?host=$dir/pg" \
	--dnsmasq none --boot-addr 127.0.0.1/8 2>&1) && rc=0 || rc=$?
check "-n with a wrong user fails, naming the user ($msg)" \
	bash -c "[ $rc -ne 0 ] && grep -q 'nobody' <<<'$msg'"
check "and the password is not in the message" bash -c "! grep -q pw-not-shown-42 <<<'$msg'"
msg=$("$SNOW_BIN/snowd" -n --db "postgresql://snow@/snow_check?host=$dir/nowhere" \
	--dnsmasq none --boot-addr 127.0.0.1/8 2>&1) && rc=0 || rc=$?
check "-n with no server there fails ($msg)" bash -c "[ $rc -ne 0 ] && grep -q 'cannot connect' <<<'$msg'"
msg=$(printf 'db = %s\n' "$url" >"$dir/snowd.conf" &&
	"$SNOW_BIN/snowd" -n --config "$dir/snowd.conf" --dnsmasq none --boot-addr 127.0.0.1/8 2>&1)
check "db in the config file is checked too" grep -q 'configuration OK' <<<"$msg"

# The inventory's unit tests on PostgreSQL (cmocka's totals count in tests/run.sh).
if [ -x "$SNOW_TOP/build/tests/host/test_inventory" ]; then
	url=$(pg_url snow_unit)
	SNOW_TEST_DB=$url CMOCKA_MESSAGE_OUTPUT=stdout "$SNOW_TOP/build/tests/host/test_inventory" \
		>"$dir/unit.out" 2>&1
	rc=$?
	grep -E '^\[  (PASSED  |FAILED  |SKIPPED |ERROR   )\]' "$dir/unit.out"
	check_eq "test_inventory on PostgreSQL exits 0" 0 "$rc"
	[ "$rc" = 0 ] || tail -30 "$dir/unit.out"
else
	skip "test_inventory on PostgreSQL: make unit-tests builds it"
fi

# it_snowd_api.sh on PostgreSQL: its lines, prefixed, are this test's.
url=$(pg_url snow_api)
SNOW_TEST_DB=$url bash "$(dirname "$0")/it_snowd_api.sh" >"$dir/api.out" 2>&1
rc=$?
sed -n -e 's/^ok - /ok - pg: /p' -e 's/^not ok - /not ok - pg: /p' -e 's/^skip - /skip - pg: /p' "$dir/api.out"
n=$(grep -c '^not ok - ' "$dir/api.out")
_failures=$((_failures + n))
[ "$rc" -ne 0 ] && [ "$n" -eq 0 ] && not_ok "pg: it_snowd_api.sh exited $rc" && tail -20 "$dir/api.out"
want_v=$(sed -n 's/^#define INV_SCHEMA_VERSION \([0-9]*\).*/\1/p' "$SNOW_TOP/host/inv.h") # the schema snowd brings
check "schema version $want_v in PostgreSQL" bash -c "[ \"$(pg_sql snow_api 'SELECT version FROM snow_schema')\" = $want_v ]"
check "events were stored there" bash -c "[ \"$(pg_sql snow_api 'SELECT count(*) > 0 FROM events')\" = t ]"
