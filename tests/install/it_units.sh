#!/usr/bin/env bash
# The packaged systemd units: `systemd-analyze verify` finds nothing to say,
# and `systemd-analyze security --offline=yes` rates each "OK" or better
# (exposure below 5.0; docs/install.md lists the figures).  The units name
# /usr/sbin/...: verify gets copies that point at build/bin instead.
. "$(dirname "$0")/../lib.sh"

command -v systemd-analyze >/dev/null || { skip "systemd-analyze missing (apt-get install systemd)"; exit 0; }
dir=$(mktemp -d /tmp/snow-it-units.XXXXXX)
on_exit 'rm -rf "$dir"'
limit=5.0

for unit in "$SNOW_TOP"/systemd/*.service; do
	name=${unit##*/}
	sed "s#/usr/sbin/#$SNOW_BIN/#g" "$unit" >"$dir/$name"
	# Its man pages are not installed here: checked against man/ instead.
	out=$(systemd-analyze verify --man=no "$dir/$name" 2>&1)
	check_eq "$name: systemd-analyze verify says nothing" "" "$out"
	for page in $(sed -n 's/^Documentation=//p' "$unit" | tr ' ' '\n' | sed -n 's/^man:\(.*\)(\([0-9]\))$/\1.\2/p'); do
		check "$name: its man page $page is in man/" test -f "$SNOW_TOP/man/$page.in"
	done
	exposure=$(systemd-analyze security --offline=yes "$unit" 2>&1 |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	if [ -z "$exposure" ]; then
		not_ok "$name: no exposure figure from systemd-analyze security"
	elif awk -v e="$exposure" -v l="$limit" 'BEGIN { exit !(e < l) }'; then
		ok "$name: exposure $exposure (< $limit)"
	else
		not_ok "$name: exposure $exposure, want < $limit"
	fi
	# The hardening this test stands for must stay in the unit.
	for key in User=snow ProtectSystem=strict PrivateTmp=yes NoNewPrivileges=yes \
		SystemCallFilter=@system-service CapabilityBoundingSet=; do
		check "$name: has $key" grep -q "^$key" "$unit"
	done
done
check "snowd.service is Type=notify" grep -qx "Type=notify" "$SNOW_TOP/systemd/snowd.service"
check "snowd.service keeps its state in StateDirectory=snow" grep -qx "StateDirectory=snow" \
	"$SNOW_TOP/systemd/snowd.service"
check "snowd.service reloads with SIGHUP" grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' \
	"$SNOW_TOP/systemd/snowd.service"
