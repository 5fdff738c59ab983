#!/usr/bin/env bash
# Snow installed as an admin would (issue 14): a Debian 12 host VM (debootstrap,
# Debian's kernel, systemd as PID 1; tests/install/hostvm.sh) boots under QEMU;
# over ssh, as root in it:
#   apt install ./snow-host_*.deb ./snow-node_*.deb   (from `make deb`; the
#       dependencies come from SNOW_CACHE/debs, shared over 9p: no route out)
#   boot-if and boot-addr set in /etc/snow/snowd.conf
#   systemctl enable --now snowd                      (runs as the user snow)
#   snow-mkimage, snowctl image add default           (the installed node files)
# then snowctl outside the VM, through its forwarded port, adds a node, and a
# second QEMU VM on the boot network (-netdev socket, no taps) netboots from the
# VM's snowd to online.  `systemctl reload snowd` is checked on the way.
#
# Slow (a debootstrap and a kernel install the first time, two VMs under TCG):
# it runs when SNOW_INSTALL_TESTS=1 (make check-install), or when the host VM
# is cached already and build/deb has this version's packages; otherwise skipped.
. "$(dirname "$0")/../lib.sh"
need_root "debootstrap, chroot and QEMU"
. "$SNOW_TOP/tests/install/hostvm.sh"
version=$(cat "$SNOW_TOP/VERSION")
arch=$(dpkg --print-architecture)
debs=("$SNOW_TOP/build/deb/snow-host_${version}_$arch.deb" "$SNOW_TOP/build/deb/snow-node_${version}_$arch.deb")
if [ "${SNOW_INSTALL_TESTS:-0}" != 1 ]; then
	if [ ! -f "$hostvm_dir/.complete" ]; then
		skip "host VM install: its image is not cached ($hostvm_dir) and SNOW_INSTALL_TESTS is not 1 (make check-install runs it)"
		exit 0
	fi
	if [ ! -f "${debs[0]}" ] || [ ! -f "${debs[1]}" ]; then
		skip "host VM install: no packages of version $version in build/deb (make check-install builds them)"
		exit 0
	fi
fi
for tool in qemu-system-x86_64 debootstrap mkfs.ext4 ssh; do
	command -v "$tool" >/dev/null || { not_ok "$tool missing: run 'make deps'"; exit 1; }
done
for f in "${debs[@]}"; do [ -f "$f" ] || { not_ok "$f missing: run 'make deb'"; exit 1; }; done

dir=$(mktemp -d /tmp/snow-it-vm.XXXXXX)
hpid='' npid=''
keep_logs() {
	[ "$_failures" -gt 0 ] || return 0
	local keep=$SNOW_TOP/build/test-logs/install-vm
	rm -rf "$keep" && mkdir -p "$keep" && cp "$dir"/*.log "$dir"/*.serial "$keep/" 2>/dev/null
	for f in "$keep"/*; do echo "--- $f"; tail -30 "$f"; done
}
on_exit "keep_logs; stop_pid \"\$npid\"; stop_pid \"\$hpid\"; hostvm_undeps; rm -rf '$dir'"
secs() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
figures=()
took() { figures+=("$1 $2 s"); }

# --- the host VM image (cached) ----------------------------------------------------
t=$(date +%s.%N)
cold=0
[ -f "$hostvm_dir/.complete" ] || cold=1
if ! nice -n 19 bash -c ". '$SNOW_TOP/tests/lib.sh'; . '$SNOW_TOP/tests/install/hostvm.sh'; hostvm_build" \
	>"$dir/build.log" 2>&1; then
	cat "$dir/build.log"
	not_ok "host VM image (debootstrap, kernel, disk)"
	exit 1
fi
took "image$([ $cold = 1 ] && echo " (made)" || echo " (cached)")" "$(secs "$t")"
ok "host VM image: $hostvm_dir ($(secs "$t") s)"
sed -n 's/^# hostvm/# hostvm/p; /^snow-debroot/s/^/# /p' "$dir/build.log"
t=$(date +%s.%N)
check "the packages' dependencies are in $hostvm_cache/debs" hostvm_deps "${debs[@]}"
took "deps" "$(secs "$t")"

# --- boot it -----------------------------------------------------------------------
sshp=$(free_port) apip=$(free_port) sockp=$(free_port)
key=$hostvm_dir/id_ed25519
vm() { ssh -q -i "$key" -p "$sshp" -o BatchMode=yes -o StrictHostKeyChecking=no \
	-o UserKnownHostsFile=/dev/null -o ConnectTimeout=10 root@127.0.0.1 "$@"; }
t=$(date +%s.%N)
qemu-system-x86_64 -name snowhost -accel tcg -m 1536 -smp 2 -nodefaults -no-user-config \
	-display none -serial "file:$dir/host.serial" \
	-kernel "$hostvm_dir/vmlinuz" -initrd "$hostvm_dir/initrd.img" \
	-append "root=/dev/vda rw console=ttyS0 systemd.show_status=1" \
	-drive "file=$hostvm_dir/disk.img,format=raw,if=virtio,snapshot=on" \
	-netdev "user,id=admin,restrict=on,hostfwd=tcp:127.0.0.1:$sshp-:22,hostfwd=tcp:127.0.0.1:$apip-:8080" \
	-device "virtio-net-pci,netdev=admin,mac=$HOSTVM_ADMIN_MAC,romfile=" \
	-netdev "socket,id=boot,listen=127.0.0.1:$sockp" \
	-device "virtio-net-pci,netdev=boot,mac=$HOSTVM_BOOT_MAC,romfile=" \
	-virtfs "local,path=$hostvm_cache,mount_tag=snowcache,security_model=none" \
	-pidfile "$dir/host.pid" -daemonize 2>"$dir/qemu-host.log" ||
	{ cat "$dir/qemu-host.log"; not_ok "QEMU for the host VM did not start"; exit 1; }
hpid=$(cat "$dir/host.pid")
# The serial console's login prompt: systemd started the getty on ttyS0.
if wait_for 600 grep -aq 'snowhost login:' "$dir/host.serial"; then
	ok "host VM: booted to the login prompt ($(secs "$t") s)"
else
	not_ok "host VM: no login prompt on the serial console in 600 s"; exit 1
fi
check "host VM: ssh answers" wait_for 120 vm true
check_eq "host VM: systemd says the system is running" running "$(vm timeout 300 systemctl is-system-running --wait)"
took "boot" "$(secs "$t")"
check_eq "PID 1 is systemd" systemd "$(vm cat /proc/1/comm)"
check "Snow's cache is shared over 9p" vm "mountpoint -q /var/cache/snow && ls /var/cache/apt/archives/ | grep -q '^dpkg_'"

# --- install, configure, start: what docs/install.md tells an admin -------------------
t=$(date +%s.%N)
scp -q -i "$key" -P "$sshp" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	"${debs[@]}" root@127.0.0.1:/root/ || not_ok "copying the packages in"
if vm "cd /root && DEBIAN_FRONTEND=noninteractive apt-get install -y -q ./$(basename "${debs[0]}") ./$(basename "${debs[1]}")" \
	>"$dir/apt.log" 2>&1; then
	ok "apt install ./snow-host ./snow-node ($(secs "$t") s)"
else
	not_ok "apt install ./snow-host ./snow-node"; tail -30 "$dir/apt.log"; exit 1
fi
took "install" "$(secs "$t")"
grep -E '^(Need to get|After this|The following NEW)' "$dir/apt.log" | sed 's/^/# /'
check "apt resolved dependencies (dnsmasq-base among them)" grep -q 'dnsmasq-base' "$dir/apt.log"
check "the package made the user snow" vm "getent passwd snow >/dev/null"
check "snowd is not enabled by the install" vm "! systemctl is-enabled -q snowd"
bootif=$(vm "ip -o link | awk -v m=$HOSTVM_BOOT_MAC '\$0 ~ m { sub(\":\$\", \"\", \$2); print \$2 }'")
check "the boot NIC is there ($bootif)" test -n "$bootif"
vm "sed -i 's|^#boot-if = .*|boot-if = $bootif|; s|^#boot-addr = .*|boot-addr = $HOSTVM_BOOT_ADDR|' /etc/snow/snowd.conf"
check "snowd.conf: boot-if and boot-addr set" vm "grep -qx 'boot-if = $bootif' /etc/snow/snowd.conf && grep -qx 'boot-addr = $HOSTVM_BOOT_ADDR' /etc/snow/snowd.conf"
t=$(date +%s.%N)
if vm systemctl enable --now snowd >"$dir/enable.log" 2>&1; then
	ok "systemctl enable --now snowd ($(secs "$t") s)"
	took "enable" "$(secs "$t")"
else
	not_ok "systemctl enable --now snowd"; cat "$dir/enable.log"
	vm journalctl -u snowd --no-pager | tail -30; exit 1
fi
check "snowd is active" vm systemctl is-active -q snowd
check_eq "snowd runs as the user snow" snow "$(vm ps -o user= -C snowd | head -1)"
check_eq "dnsmasq runs as snow too" snow "$(vm ps -o user= -C dnsmasq | head -1)"
check "the admin token is written" wait_for 30 vm test -s /var/lib/snow/admin.token
token=$(vm cat /var/lib/snow/admin.token)

# --- the node image from the installed files -------------------------------------------
t=$(date +%s.%N)
if vm "snow-mkimage --out /var/lib/snow/build/default && snowctl image add default \
	--kernel /var/lib/snow/build/default/vmlinuz --initrd /var/lib/snow/build/default/initrd" \
	>"$dir/mkimage.log" 2>&1; then
	ok "snow-mkimage and snowctl image add default in the VM ($(secs "$t") s)"
else
	not_ok "snow-mkimage / image add in the VM"; cat "$dir/mkimage.log"; exit 1
fi
took "image" "$(secs "$t")"

# --- snowctl outside, through the forwarded port ---------------------------------------
export SNOW_URL=http://127.0.0.1:$apip SNOW_TOKEN=$token
check "snowctl outside reaches the API through the forwarded port" bash -c "'$SNOW_BIN/snowctl' node list >/dev/null"
nodemac=52:54:00:5e:01:01
check "snowctl node add node1" bash -c "'$SNOW_BIN/snowctl' node add node1 --mac $nodemac >/dev/null"

# --- reload --------------------------------------------------------------------------
vm "sed -i 's|^#interval-ms = .*|interval-ms = 3000|' /etc/snow/snowd.conf"
check "systemctl reload snowd" vm systemctl reload snowd
check "the reload took the new interval and snowd still serves" wait_for 30 vm \
	"journalctl -u snowd --no-pager | grep -q 'interval 3000 ms' && systemctl is-active -q snowd"
[ "$_failures" -gt 0 ] && vm journalctl -u snowd --no-pager | tail -20

# --- a node netboots from the VM's snowd -------------------------------------------------
t=$(date +%s.%N)
qemu-system-x86_64 -name node1 -accel tcg -m 384 -smp 1 -nodefaults -no-user-config \
	-display none -serial "file:$dir/node1.serial" \
	-netdev "socket,id=n0,connect=127.0.0.1:$sockp" \
	-device "virtio-net-pci,netdev=n0,mac=$nodemac" -boot n \
	-pidfile "$dir/node1.pid" -daemonize 2>"$dir/qemu-node.log" ||
	{ cat "$dir/qemu-node.log"; not_ok "QEMU for the node did not start"; exit 1; }
npid=$(cat "$dir/node1.pid")
node_state() { "$SNOW_BIN/snowctl" node show node1 --json 2>/dev/null |
	python3 -c 'import json,sys; print(json.load(sys.stdin).get("state",""))'; }
node_online() { [ "$(node_state)" = online ]; }
if wait_for 600 node_online; then
	ok "node1 netbooted from the VM's snowd to online ($(secs "$t") s)"
else
	not_ok "node1 did not come online in 600 s (state: $(node_state))"
	vm journalctl -u snowd --no-pager | tail -30
fi
took "node online" "$(secs "$t")"
curl -s -H "Authorization: Bearer $SNOW_TOKEN" "$SNOW_URL/api/v1/nodes/node1/boots" >"$dir/boots.json"
check "node1's boot history: DHCP, script, kernel, initrd, online" python3 - "$dir/boots.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))["boots"][0]["stages"]
order = ["dhcp", "script", "kernel", "initrd", "online"]
t0 = min(b.values())
print("# " + " ".join("%s=+%.1fs" % (s, (b[s] - t0) / 1000) for s in order if s in b))
sys.exit(0 if all(s in b for s in order) else 1)
PY

echo "# figures: $(printf '%s; ' "${figures[@]}")"
