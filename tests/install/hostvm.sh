# shellcheck shell=bash
# The Debian 12 host VM of it_install_vm.sh, sourced (after tests/lib.sh).
#
#   hostvm_dir            the cached VM for the current inputs:
#                         SNOW_CACHE/hostvm/KEY/{disk.img,vmlinuz,initrd.img,
#                         id_ed25519,root/}; complete when KEY/.complete exists
#   hostvm_build          makes it when it is missing (as root):
#     - the root from snow-debroot (debootstrap, shared with snow-image's cache),
#     - Debian's kernel package, the one the node image is made from, installed
#       in it with dpkg (initramfs-tools makes an initrd with virtio disk and
#       ext4, the modules list only, so it boots fast under TCG),
#     - systemd-networkd for the two NICs (the admin NIC by DHCP from QEMU's user
#       network, the boot NIC with a fixed address), sshd with a key made here,
#       apt's lists (apt-get update, once), and SNOW_CACHE shared with the host
#       over 9p at /var/cache/snow, its debs/ as apt's archive folder,
#     - an ext4 disk image of it (mkfs.ext4 -d, no loop mount). The VM boots it
#       with snapshot=on: the cached image never changes.
#   hostvm_deps DEB...    downloads what apt will need to install DEB... into
#                         SNOW_CACHE/debs (apt-get --download-only in a chroot of
#                         the cached root, on the host), so apt in the VM, which
#                         has no route out, finds every dependency there.
HOSTVM_PKGS=systemd,systemd-sysv,udev,kmod,iproute2,openssh-server,initramfs-tools,linux-base,procps
HOSTVM_ADMIN_MAC=52:54:00:5e:00:01
HOSTVM_BOOT_MAC=52:54:00:5e:00:02
HOSTVM_BOOT_ADDR=10.79.0.1/24
hostvm_cache=${SNOW_CACHE:-/var/cache/snow}
hostvm_kernel=$(SNOW_CACHE=$hostvm_cache "$SNOW_TOP/node-os/mkimage/snow-kernel-deb" 2>/dev/null) || hostvm_kernel=
hostvm_dir=$hostvm_cache/hostvm/$({
	echo "$HOSTVM_PKGS $HOSTVM_ADMIN_MAC $HOSTVM_BOOT_MAC $HOSTVM_BOOT_ADDR"
	basename "$hostvm_kernel"
	sha256sum <"${BASH_SOURCE[0]}"
} | sha256sum | cut -c1-16)

hostvm_say() { echo "# hostvm: $*"; }

hostvm_build() {
	local d=$hostvm_dir p r base rc=0
	[ -f "$d/.complete" ] && return 0
	[ -n "$hostvm_kernel" ] || { echo "no kernel package in $hostvm_cache (make deps)" >&2; return 1; }
	mkdir -p "$(dirname "$d")"
	exec 8>"$d.lock"
	flock 8
	[ -f "$d/.complete" ] && return 0
	p=$d.partial r=$d.partial/root
	# A build that was killed may have left its /proc mounted.
	! mountpoint -q "$r/proc" 2>/dev/null || umount -l "$r/proc"
	rm -rf "$p" && mkdir -p "$p"
	base=$("$SNOW_TOP/node-os/mkimage/snow-debroot" "$HOSTVM_PKGS") || return 1
	hostvm_say "copying $base"
	cp -a "$base" "$r" && rm -f "$r/.snow-complete" || return 1

	# Debian's kernel, installed as an admin's system has it.
	mkdir -p "$r/etc/initramfs-tools/conf.d"
	echo MODULES=list >"$r/etc/initramfs-tools/conf.d/snow-vm.conf"
	printf '%s\n' virtio_pci virtio_blk ext4 >>"$r/etc/initramfs-tools/modules"
	cp "$hostvm_kernel" "$r/tmp/kernel.deb"
	cp /etc/resolv.conf "$r/etc/resolv.conf"
	mount -t proc proc "$r/proc" || return 1
	hostvm_say "installing $(basename "$hostvm_kernel") and apt's lists"
	{ chroot "$r" dpkg -i /tmp/kernel.deb && chroot "$r" apt-get update -q; } >"$p/chroot.log" 2>&1 || rc=$?
	umount "$r/proc"
	rm -f "$r/tmp/kernel.deb"
	[ "$rc" = 0 ] || { tail -20 "$p/chroot.log" >&2; return 1; }
	cp "$r"/boot/vmlinuz-* "$p/vmlinuz" && cp "$r"/boot/initrd.img-* "$p/initrd.img" || return 1
	# QEMU boots these two from the cache: initramfs-tools' triggers (busybox
	# comes with snow-node) need not make the initrd again in the VM, under TCG.
	sed -i 's/^update_initramfs=.*/update_initramfs=no/' "$r/etc/initramfs-tools/update-initramfs.conf"

	# The system: names, disks, the two NICs, ssh, Snow's cache from the host.
	echo snowhost >"$r/etc/hostname"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\tsnowhost\n' >"$r/etc/hosts"
	cat >"$r/etc/fstab" <<-EOF
	/dev/vda / ext4 defaults 0 1
	snowcache /var/cache/snow 9p trans=virtio,version=9p2000.L,msize=262144,x-systemd.requires=systemd-modules-load.service 0 0
	/var/cache/snow/debs /var/cache/apt/archives none bind,x-systemd.requires-mounts-for=/var/cache/snow 0 0
	EOF
	mkdir -p "$r/var/cache/snow"
	printf '9p\n9pnet_virtio\n' >"$r/etc/modules-load.d/snow-vm.conf"
	printf '[Match]\nMACAddress=%s\n[Network]\nDHCP=ipv4\n' "$HOSTVM_ADMIN_MAC" >"$r/etc/systemd/network/10-admin.network"
	printf '[Match]\nMACAddress=%s\n[Link]\nRequiredForOnline=no\n[Network]\nAddress=%s\nConfigureWithoutCarrier=yes\nLinkLocalAddressing=ipv6\n' \
		"$HOSTVM_BOOT_MAC" "$HOSTVM_BOOT_ADDR" >"$r/etc/systemd/network/20-boot.network"
	chroot "$r" systemctl enable -q systemd-networkd || return 1
	# The VM reaches nothing outside: apt's daily runs would only wait.
	chroot "$r" systemctl mask -q apt-daily.timer apt-daily-upgrade.timer 2>/dev/null || true
	printf 'nameserver 10.0.2.3\n' >"$r/etc/resolv.conf"
	ssh-keygen -q -t ed25519 -N '' -C snow-hostvm-test -f "$p/id_ed25519" || return 1
	install -d -m 0700 "$r/root/.ssh"
	install -m 0600 "$p/id_ed25519.pub" "$r/root/.ssh/authorized_keys"
	chroot "$r" passwd -l root >/dev/null

	hostvm_say "making the disk image"
	mkfs.ext4 -q -F -L snowhost -d "$r" "$p/disk.img" 3G || return 1
	touch "$p/.complete"
	mv "$p" "$d"
}

hostvm_deps() {
	local r=$hostvm_dir/root f rc=0 list=()
	mkdir -p "$r/tmp/snowdebs" "$hostvm_cache/debs/partial"
	for f in "$@"; do cp "$f" "$r/tmp/snowdebs/" && list+=("/tmp/snowdebs/$(basename "$f")"); done
	hostvm_undeps
	mount --bind "$hostvm_cache/debs" "$r/var/cache/apt/archives" || return 1
	chroot "$r" env DEBIAN_FRONTEND=noninteractive apt-get install -q -y --download-only \
		-o Debug::NoLocking=1 "${list[@]}" >"$hostvm_dir/deps.log" 2>&1 || rc=$?
	hostvm_undeps
	rm -rf "$r/tmp/snowdebs"
	[ "$rc" = 0 ] || tail -20 "$hostvm_dir/deps.log" >&2
	return "$rc"
}

# hostvm_undeps: the bind mount of hostvm_deps undone (the test's exit runs it too).
hostvm_undeps() {
	local m=$hostvm_dir/root/var/cache/apt/archives
	! mountpoint -q "$m" 2>/dev/null || umount "$m"
}
