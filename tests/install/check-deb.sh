#!/usr/bin/env bash
# make check-deb: build the packages (make deb, which runs lintian and fails
# on any error) and check what they hold.  Not in `make check`: the package
# build compiles everything again with Debian's flags, about 2.5 minutes on
# the 2-core test machine, and an image built by the installed snow-mkimage
# (another 1-2.5 minutes).  Prints "ok - ..." lines like the other tests.
. "$(dirname "$0")/../lib.sh"
cd "$SNOW_TOP"
version=$(cat VERSION)
arch=$(dpkg --print-architecture)
log=$(mktemp /tmp/snow-check-deb.XXXXXX)
on_exit 'rm -f "$log"'

if make --no-print-directory deb >"$log" 2>&1; then ok "make deb (lintian: no error)"; else
	not_ok "make deb failed"; tail -30 "$log"; exit 1
fi
echo "lintian said:"; sed -n '/^lintian /,/^total /p' "$log" | grep -E '^[EWIP]: ' || echo "  nothing"
has() { # has PACKAGE PATH...
	local deb=build/deb/$1_${version}_$arch.deb p list; shift
	list=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's#^\./#/#')
	for p in "$@"; do check "$(basename "$deb"): $p" grep -qx -- "$p" <<<"$list"; done
}
has snow-host /usr/sbin/snowd /usr/bin/snowctl /usr/bin/snowtop /usr/sbin/snow-mkimage \
	/usr/lib/snow/snow-kernel-deb /usr/share/snow/web/index.html /etc/snow/snowd.conf \
	/lib/systemd/system/snowd.service /usr/share/man/man8/snowd.8.gz \
	/usr/share/man/man1/snowctl.1.gz /usr/share/bash-completion/completions/snowctl \
	/usr/share/doc/snow-host/install.md.gz
has snow-node /usr/lib/snow/node/snow-agent /usr/lib/snow/node/snow-nic /usr/lib/snow/node/init \
	/usr/lib/snow/node/udhcpc.script /usr/share/man/man8/snow-agent.8.gz
has snow-snmp /usr/sbin/snow-subagent /usr/share/snow/snmp/SNOW-CLUSTER-MIB.txt \
	/usr/share/snow/snmp/mibs/SNMPv2-SMI.txt /etc/snmp/snmpd.conf.d/snow.conf \
	/lib/systemd/system/snow-subagent.service /etc/snow/snow-subagent.conf
ctrl=$(mktemp -d /tmp/snow-check-deb.XXXXXX)
on_exit 'rm -rf "$ctrl"'
dpkg-deb -e "build/deb/snow-host_${version}_$arch.deb" "$ctrl/host"
check "snowd.conf is a conffile" grep -qx /etc/snow/snowd.conf "$ctrl/host/conffiles"
check "postinst makes the user snow" grep -q "adduser --system" "$ctrl/host/postinst"
check "postrm purges /var/lib/snow" grep -q "rm -rf /var/lib/snow" "$ctrl/host/postrm"
# dh_installsystemd --no-enable: enabled again on upgrade only if it was (debian-installed).
check "the unit is not enabled at install" grep -q "deb-systemd-helper debian-installed 'snowd.service'" \
	"$ctrl/host/postinst"
check_eq "snowd in the package prints VERSION" "snowd $version" \
	"$(dpkg-deb --fsys-tarfile "build/deb/snow-host_${version}_$arch.deb" | tar -xO ./usr/sbin/snowd >"$ctrl/snowd" && chmod +x "$ctrl/snowd" && "$ctrl/snowd" --version)"
check "snowd in the package is a release build (no sanitizer)" bash -c "! nm -D '$ctrl/snowd' | grep -q __asan"

# snow-mkimage as installed finds the kernel helper, the agent, snow-nic and
# /init where the packages put them (unpacked here, not installed).
root=$ctrl/root
dpkg-deb -x "build/deb/snow-host_${version}_$arch.deb" "$root"
dpkg-deb -x "build/deb/snow-node_${version}_$arch.deb" "$root"
if [ -n "$(ls "${SNOW_CACHE:-/var/cache/snow}"/linux-image-*.deb 2>/dev/null)" ]; then
	check "installed snow-mkimage builds an image from the installed node files" \
		nice "$root/usr/sbin/snow-mkimage" --out "$ctrl/img"
	check "the image has the installed agent and snow-nic" bash -c \
		"grep -q '^program /usr/sbin/snow-agent' '$ctrl/img/MANIFEST' && grep -q '^program /usr/bin/snow-nic' '$ctrl/img/MANIFEST'"
else
	skip "snow-mkimage from the packages: no kernel package cached (make deps)"
fi
