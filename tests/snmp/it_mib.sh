#!/usr/bin/env bash
# SNOW-CLUSTER-MIB compiles cleanly: smilint -l 6 prints nothing (it exits 0
# even on errors, so any output is a failure), and net-snmp's snmptranslate
# loads it from the shipped IETF modules alone (MIBS="", no system MIB dir
# but net-snmp's own for NET-SNMP-MIB).
. "$(dirname "$0")/../lib.sh"
command -v smilint >/dev/null || { skip "smilint not installed (apt-get install smitools)"; exit 0; }
command -v snmptranslate >/dev/null || { skip "snmptranslate not installed (apt-get install snmp)"; exit 0; }

mib=$SNOW_TOP/snmp/SNOW-CLUSTER-MIB.txt
tmp=$(mktemp -d /tmp/snow-it-mib.XXXXXX)
on_exit 'rm -rf "$tmp"'
export SMIPATH=$SNOW_TOP/snmp/mibs:/usr/share/snmp/mibs
export MIBDIRS=$SNOW_TOP/snmp/mibs:$SNOW_TOP/snmp:/usr/share/snmp/mibs MIBS=""
export SNMP_PERSISTENT_DIR=$tmp

out=$(smilint -l 6 "$mib" 2>&1)
if [ -z "$out" ]; then ok "smilint -l 6 prints nothing"; else not_ok "smilint -l 6 says:"; echo "$out" | sed 's/^/    /'; fi
for m in "$SNOW_TOP"/snmp/mibs/*.txt; do
	check "shipped module $(basename "$m") is what it is named" \
		grep -q "^$(basename "$m" .txt) DEFINITIONS ::= BEGIN" "$m"
done
# Every module the MIB imports is shipped (or is net-snmp's own NET-SNMP-MIB).
for imp in $(sed -n '/^IMPORTS/,/;/p' "$mib" | grep -o 'FROM [A-Za-z0-9-]*' | awk '{print $2}' | sort -u); do
	if [ -f "$SNOW_TOP/snmp/mibs/$imp.txt" ] || [ "$imp" = NET-SNMP-MIB ]; then
		ok "import $imp is available"
	else
		not_ok "import $imp is not in snmp/mibs/"
	fi
done

tree=$(snmptranslate -m "$mib" -Tp -IR snowClusterMIB 2>&1)
check "snmptranslate -Tp prints the tree" grep -q 'snowThresholdRise' <<<"$tree"
check "snmptranslate: no error lines" bash -c "! grep -Eiq 'cannot|error|unlinked|bad' <<<\"\$1\"" _ "$tree"
check_eq "snowClusterMIB sits under netSnmpPlaypen" .1.3.6.1.4.1.8072.9999.9999.7669 \
	"$(snmptranslate -m "$mib" -On SNOW-CLUSTER-MIB::snowClusterMIB 2>&1)"
check_eq "threshold rise is read-create (rows made with RowStatus)" "read-create" \
	"$(snmptranslate -m "$mib" -Td SNOW-CLUSTER-MIB::snowThresholdRise 2>&1 | sed -n 's/.*MAX-ACCESS[[:space:]]*//p')"
check_eq "device admin state is read-write" "read-write" \
	"$(snmptranslate -m "$mib" -Td SNOW-CLUSTER-MIB::snowDeviceAdminState 2>&1 | sed -n 's/.*MAX-ACCESS[[:space:]]*//p')"
n=$(snmptranslate -m "$mib" -Tp -IR snowNotifications 2>&1 | grep "snow[A-Za-z]*(" | grep -vc 'snowNotifications(')
check_eq "six notifications (threshold raised, cleared, device, node up, down, crashed)" 6 "$n"
# docs/snmp.md carries the tree as snmptranslate prints it: the same, or the doc is stale.
doc=$(sed -n '/<!-- snmptranslate-Tp begin -->/,/<!-- snmptranslate-Tp end -->/p' "$SNOW_TOP/docs/snmp.md" | sed '1,2d;$d' | sed '$d')
check_eq "docs/snmp.md has the MIB's snmptranslate -Tp tree" "$(grep -v "^Created directory" <<<"$tree")" "$doc"
