#!/usr/bin/env bash
# What is in the node image (build/images/default, made by `make image`):
# /init, busybox and its applets, the agent with every library it links and
# the dynamic loader (proved by running it chrooted into the unpacked
# image), the modules and a modules.dep that lists virtio_net's
# dependencies, no per-node files.  Then snow-mkimage itself: clear errors
# for missing inputs, and the same inputs give a byte-identical initrd.
. "$(dirname "$0")/../lib.sh"

img=$SNOW_TOP/build/images/default
mkimage=$SNOW_BIN/snow-mkimage
for f in vmlinuz initrd MANIFEST; do
	[ -f "$img/$f" ] || { not_ok "image: $img/$f missing (run 'make image')"; exit 1; }
done
work=$(mktemp -d /tmp/snow-it-image.XXXXXX)
on_exit 'rm -rf "$work"'

check "initrd is gzip" gzip -t "$img/initrd"
zcat "$img/initrd" | cpio -itv --quiet >"$work/listing" 2>/dev/null
awk '{print $NF}' "$work/listing" >"$work/names"
# Symlinks show as "NAME -> TARGET" in the long listing.
sed -n 's/.* \([^ ]*\) -> \(.*\)$/\1 \2/p' "$work/listing" >"$work/links"
has() { grep -qx "$1" "$work/names"; }
kver=$(awk '$1 == "kernel_version" {print $2}' "$img/MANIFEST")
check "MANIFEST names a kernel version" [ -n "$kver" ]
check "vmlinuz is a Linux kernel" sh -c "file -b '$img/vmlinuz' 2>/dev/null | grep -q 'Linux kernel' || od -An -c -j 514 -N 4 '$img/vmlinuz' | grep -q 'H   d   r   S'"

for f in init bin/busybox usr/sbin/snow-agent etc/snow/udhcpc.script etc/snow/modules \
	lib64/ld-linux-x86-64.so.2 "lib/modules/$kver/modules.dep"; do
	check "archive has /$f" has "$f"
done
check "/init is executable" grep -qE '^-rwx.* init$' "$work/listing"
check "/dev/console is a character device" grep -qE '^c.* dev/console$' "$work/listing"
for a in bin/sh sbin/modprobe sbin/udhcpc sbin/ip; do
	check "busybox applet /$a links to /bin/busybox" grep -qx "$a /bin/busybox" "$work/links"
done
# Every library the agent links, at the path ldd gives.
while read -r lib; do
	check "archive has the agent's library $lib" has "${lib#/}"
done < <(ldd "$SNOW_BIN/snow-agent" | grep -o '/[^ ]*' | sort -u)
if grep -qE 'etc/snow/node.conf$' "$work/names"; then
	not_ok "base image must not carry a node.conf (that is the overlay's)"
else
	ok "no per-node node.conf in the base image"
fi

# Unpack for the module and agent checks.
mkdir "$work/root"
(cd "$work/root" && zcat "$img/initrd" | cpio -id --quiet 2>/dev/null)
dep=$work/root/lib/modules/$kver/modules.dep
vnet=$(grep '/virtio_net\.ko:' "$dep" || true)
check "modules.dep has virtio_net" [ -n "$vnet" ]
for d in net_failover failover virtio virtio_ring; do
	check "modules.dep: virtio_net depends on $d" grep -q "/$d\.ko\( \|$\)" <<<"${vnet#*:}"
done
# Every module modules.dep names is in the archive.
missing=
for m in $(tr -d ':' <"$dep"); do
	has "lib/modules/$kver/$m" || missing="$missing $m"
done
check_eq "every module in modules.dep is carried" "" "$missing"
for m in virtio_pci virtio_net e1000 e1000e i6300esb virtio_blk; do
	check "/etc/snow/modules loads $m" grep -qx "$m" "$work/root/etc/snow/modules"
done
check "MANIFEST: af_packet noted as built in" grep -q '^modules_builtin .*af_packet' "$img/MANIFEST"
sha=$(sha256sum "$img/initrd" | cut -d' ' -f1)
check "MANIFEST has the initrd's sha256" grep -q "^initrd_bytes .* sha256 $sha\$" "$img/MANIFEST"
size=$(stat -c %s "$img/initrd")
check "initrd is small (< 4 MiB; is $size bytes)" [ "$size" -lt $((4 << 20)) ]

# The agent in the image runs with only the image's libraries.
if [ "$(id -u)" = 0 ]; then
	out=$(chroot "$work/root" /usr/sbin/snow-agent --help 2>&1)
	check "agent runs chrooted in the image (--help)" grep -q -- '--interval' <<<"$out"
	cat >"$work/root/tmp/node.conf" <<EOF
name = n1
host_url = http://10.0.2.2:8080
secret = $(printf '%064d' 7)
mac = 52:54:00:00:00:07
EOF
	check "agent in the image checks a node.conf (-n)" \
		chroot "$work/root" /usr/sbin/snow-agent -n --config /tmp/node.conf
	out=$(chroot "$work/root" /usr/bin/snow-nic -i eth1 --node 1 --peers 2=52:54:01:00:00:02 -n 2>&1)
	check "snow-nic runs chrooted in the image (-n): $out" grep -q "configuration ok" <<<"$out"
	check "snow-event is in the image and runs" chroot "$work/root" /usr/bin/snow-event -h
	check "snow-wdhold is in the image and runs (usage)" \
		bash -c "chroot '$work/root' /usr/bin/snow-wdhold 2>&1 | grep -q 'usage: snow-wdhold'"
	check "ramoops is carried for /init (docs/crash.md)" \
		bash -c "ls '$work/root'/lib/modules/*/kernel/fs/pstore/ramoops.ko"
	check "busybox sh runs in the image" chroot "$work/root" /bin/sh -c 'modprobe --help 2>&1 | grep -q modprobe'
else
	skip "chroot checks need root"
fi

# snow-mkimage's refusals: clear message, non-zero exit, nothing written.
out=$("$mkimage" --out "$work/o1" --kernel-deb "$work/none.deb" 2>&1)
rc=$?
check "mkimage: missing kernel .deb refused" [ "$rc" != 0 ]
check "mkimage: error names the .deb" grep -q "none.deb' does not exist" <<<"$out"
check "mkimage: nothing written on error" [ ! -e "$work/o1/initrd" ]
out=$("$mkimage" --out "$work/o2" --agent "$work/no-agent" 2>&1)
check "mkimage: missing agent refused with its path" grep -q "no-agent' missing" <<<"$out"
out=$("$mkimage" --out "$work/o3" --extra-bin 2>&1)
check "mkimage: --extra-bin without a path refused" grep -q "needs at least one path" <<<"$out"
out=$("$mkimage" 2>&1)
check "mkimage: --out required" grep -q -- "--out DIR is required" <<<"$out"
leftover=$(find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'snow-mkimage.*' -newer "$work/listing" 2>/dev/null)
check_eq "mkimage: no temporary directory left behind by failed runs" "" "$leftover"

# Reproducible: the same inputs (those of node-os.mk) give the same bytes.
if "$mkimage" --out "$work/again" --agent "$SNOW_BIN/snow-agent" --extra-bin "$SNOW_BIN/snow-nic" "$SNOW_BIN/snow-event" "$SNOW_BIN/snow-wdhold" 2>"$work/mkimage.err"; then
	check_eq "initrd rebuilt from the same inputs is identical" "$sha" \
		"$(sha256sum "$work/again/initrd" | cut -d' ' -f1)"
	check "mkimage printed progress" grep -q '^snow-mkimage: modules: ' "$work/mkimage.err"
else
	not_ok "mkimage rebuild failed: $(cat "$work/mkimage.err")"
fi
