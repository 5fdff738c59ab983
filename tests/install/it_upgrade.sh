#!/usr/bin/env bash
# Upgrades: a database the previous schema made (version 6, kept as SQL in
# fixtures/inventory-schema6.sql) is migrated when today's snowd starts on it,
# and every row is still there through the API afterwards: nodes with their
# addresses, profile and own settings, events, commands, boots, the
# discovered list, images and the old admin token (no new one is made).
. "$(dirname "$0")/../lib.sh"

fixture=$SNOW_TOP/tests/install/fixtures/inventory-schema6.sql
token=$(sed -n 's/^-- The admin token below is \(snow_[0-9a-f]*\)\.$/\1/p' "$fixture")
dir=$(mktemp -d /tmp/snow-it-upgrade.XXXXXX)
port=$(free_port)
url=http://127.0.0.1:$port
pid=
on_exit 'stop_pid $pid; [ "$_failures" -gt 0 ] && tail -30 "$dir/snowd.log"; rm -rf "$dir"'

# The fixture's rows are from 2025: retention (90 days for events) would
# prune them, which is another test's business.
keep="--events-keep-days 0 --boots-keep-days 0 --commands-keep-days 0"
mkdir -m 0700 "$dir/state"
sqlite3 "$dir/state/snow.db" <"$fixture"
check_eq "fixture is schema 6" 6 "$(sqlite3 "$dir/state/snow.db" 'PRAGMA user_version')"

"$SNOW_ASAN_BIN/snowd" --state-dir "$dir/state" --listen "127.0.0.1:$port" \
	--boot-addr 10.77.0.1/24 --dnsmasq none $keep >"$dir/snowd.log" 2>&1 &
pid=$!
check "snowd starts on the old database" wait_for 20 curl -sf "$url/api/v1/health"
want=$(sed -n 's/^#define INV_SCHEMA_VERSION \([0-9]*\).*/\1/p' "$SNOW_TOP/host/inv.h")
check "the schema version is known" test -n "$want"
check_eq "migrated to the current schema" "$want" "$(sqlite3 "$dir/state/snow.db" 'PRAGMA user_version')"
check "the log names each migration step" grep -q "migrating schema 6 -> 7" "$dir/snowd.log"
check "no new admin token made: the old one is still there" test ! -e "$dir/state/admin.token"

api() { curl -sf -H "Authorization: Bearer $token" "$url/api/v1/$1"; }
jq_py() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

nodes=$(api nodes) || nodes='{}'
check_eq "old token still admits" "ok" "$( [ "$nodes" != '{}' ] && echo ok)"
check_eq "both nodes kept, with their addresses" "old1 52:54:00:aa:00:01 10.77.0.11;old2 52:54:00:aa:00:02 10.77.0.12;" \
	"$(jq_py "''.join('%s %s %s;' % (n['name'], n['mac'], n['ip']) for n in sorted((d['nodes'] if isinstance(d, dict) else d), key=lambda n: n['name']))" <<<"$nodes")"
old2=$(api nodes/old2) || old2='{}'
check_eq "a node's own settings kept" "rescue ['rack1']" \
	"$(jq_py "str(d['settings']['image']) + ' ' + str(d['settings']['groups'])" <<<"$old2" 2>&1)"
old1=$(api nodes/old1) || old1='{}'
check_eq "a node's profile kept" "compute" "$(jq_py "d.get('profile')" <<<"$old1" 2>&1)"
check_eq "the profile kept" "quiet 5000" \
	"$(api profiles/compute | jq_py "'%s %s' % (d['settings']['cmdline'], d['settings']['interval_ms'])" 2>&1)"
check "events kept" grep -q '"agent.start"' <(api "events?node=old1")
check "commands kept" grep -q '"sysctl.get"' <(api nodes/old1/commands)
check "boots kept" grep -q '"b-old"' <(api nodes/old1/boots)
check "discovered MACs kept" grep -q '52:54:00:bb:00:09' <(api discovered)
check "images kept" grep -q '"rescue"' <(api images)

# A second start migrates nothing.
stop_pid "$pid"; pid=
"$SNOW_ASAN_BIN/snowd" --state-dir "$dir/state" --listen "127.0.0.1:$port" \
	--boot-addr 10.77.0.1/24 --dnsmasq none $keep >"$dir/snowd2.log" 2>&1 &
pid=$!
check "snowd starts again" wait_for 20 curl -sf "$url/api/v1/health"
check "the second start migrates nothing" bash -c "! grep -q migrating '$dir/snowd2.log'"
stop_pid "$pid"; pid=
check_sanitizer "$dir/snowd.log" "$dir/snowd2.log"
