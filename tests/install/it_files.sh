#!/usr/bin/env bash
# What the packages install beside the binaries, made from the binaries'
# option tables: /etc/snow/snowd.conf and snow-subagent.conf carry every
# setting (commented out) and parse as they are; the man pages list every
# option, render without a warning from man (lintian's check), and name the
# version in VERSION, which every binary's --version prints too.
. "$(dirname "$0")/../lib.sh"

version=$(cat "$SNOW_TOP/VERSION")
gen=$SNOW_TOP/build
dir=$(mktemp -d /tmp/snow-it-files.XXXXXX)
on_exit 'rm -rf "$dir"'

for b in snowd snowctl snowtop snow-agent snow-nic snow-nodesim snow-subagent; do
	check_eq "$b --version" "$b $version" "$("$SNOW_BIN/$b" --version 2>&1)"
done

# Options from --help: "  -x, --name ARG  help" or "      --name ARG  help".
help_opts() { "$SNOW_BIN/$1" --help | sed -n 's/^ *\(-., \)\{0,1\}--\([a-z0-9_-]*\).*/\2/p' | sort -u; }
file_opts() { sed -n 's/^#\([a-z0-9_-]*\) = .*/\1/p' "$1" | sort -u; }
for pair in snowd:"config routes check-config" snow-subagent:"config check-config"; do
	b=${pair%%:*} actions=${pair#*:}
	conf=$gen/etc/$b.conf
	check "$b.conf is built" test -s "$conf"
	want=$(help_opts "$b" | grep -vxF -f <(tr ' ' '\n' <<<"$actions"))
	check_eq "$b.conf has every setting of --help, and only those" "$want" "$(file_opts "$conf")"
	check "$b.conf is what $b --conf-doc=file prints now" \
		cmp -s "$conf" <(cat "$SNOW_TOP/man/$b.conf.head"; "$SNOW_BIN/$b" --conf-doc=file)
	check "$b.conf: every line a comment or blank" bash -c "! grep -qv '^\\(#.*\\)\\{0,1\\}\$' '$conf'"
done
out=$("$SNOW_BIN/snowd" --config "$gen/etc/snowd.conf" --boot-addr 10.77.0.1/24 --dnsmasq none -n 2>&1)
check_eq "snowd reads the shipped snowd.conf as it is" "snowd: configuration OK (boot URL http://10.77.0.1:8080)" "$out"
# A setting uncommented is taken (the key names are the table's).
sed 's/^#interval-ms = MS$/interval-ms = 100/' "$gen/etc/snowd.conf" >"$dir/bad.conf"
out=$("$SNOW_BIN/snowd" --config "$dir/bad.conf" --boot-addr 10.77.0.1/24 --dnsmasq none -n 2>&1)
check "an uncommented key is read (100 is below interval-ms's range)" grep -q "interval-ms" <<<"$out"

export MANWIDTH=80
for page in "$gen"/man/*.[18]; do
	name=${page##*/}
	check "$name: made from man/$name.in" test -f "$SNOW_TOP/man/$name.in"
	warn=$(LC_ALL=C.UTF-8 MANROFFSEQ='' man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null)
	check_eq "$name: man renders it without a warning" "" "$warn"
	check "$name: names version $version" grep -q "^\\.Os Snow $version\$" "$page"
	check "$name: has a NAME, SYNOPSIS and DESCRIPTION" bash -c \
		"grep -qx '.Sh NAME' '$page' && grep -qx '.Sh SYNOPSIS' '$page' && grep -qx '.Sh DESCRIPTION' '$page'"
done
for b in snowd snowtop snow-subagent snow-agent snow-nic snow-nodesim; do
	page=$(ls "$gen"/man/$b.[18] 2>/dev/null)
	check_eq "$b's man page lists every option of --help" "$(help_opts "$b")" \
		"$(sed -n 's/^\.It \(Fl . , \)\{0,1\}Fl \\-\([a-z0-9_-]*\).*/\2/p' "$page" | sort -u)"
done
for p in snowd.8 snowctl.1 snowtop.1 snow-mkimage.8 snow-subagent.8 snow-agent.8 snow-nic.8 snow-nodesim.1; do
	check "man page $p exists" test -f "$gen/man/$p"
done
check "snowctl's bash completion parses" bash -n "$SNOW_TOP/host/snowctl.bash-completion"
