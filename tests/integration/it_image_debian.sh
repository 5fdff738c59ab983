#!/usr/bin/env bash
# A whole Debian system as the node image (issue 13), end to end:
# snow-image builds it (and a second build with the same inputs takes
# seconds), bad builds stop at the step that broke and register nothing,
# two QEMU nodes boot it diskless through snowd (rootfs.squashfs fetched,
# verified, mounted, switch_root into systemd) to online with the agent as a
# systemd service, and a corrupt squashfs is refused at boot with the stage
# shown as failed.
#
# Slow (a debootstrap the first time, two systemd boots under TCG): it runs
# when SNOW_IMAGE_TESTS=1 (make check-image) or when the image is already
# built (build/images/debian/STAMP); otherwise it is skipped.
. "$(dirname "$0")/../lib.sh"
need_root "debootstrap, chroot and a virtual cluster"

img=$SNOW_TOP/build/images/debian
if [ "${SNOW_IMAGE_TESTS:-0}" != 1 ] && [ ! -f "$img/STAMP" ]; then
	skip "Debian image: not built and SNOW_IMAGE_TESTS is not 1 (make check-image runs it)"
	exit 0
fi
for tool in debootstrap mksquashfs; do
	command -v "$tool" >/dev/null || { not_ok "$tool missing: run 'make deps'"; exit 1; }
done

state=$(mktemp -d /tmp/snow-it-img.XXXXXX)
chmod 755 "$state" # dnsmasq, as 'nobody', reaches snowd's folder under it
name=snimg$((RANDOM % 1000))
net=10.81
bad=$SNOW_TOP/build/images/itbadroot$$
vc() { SNOW_VCLUSTER_DIR=$state/vc "$SNOW_BIN/snow-vcluster" "$@"; }
keep_logs() {
	[ "$_failures" -gt 0 ] || return 0
	local keep=$SNOW_TOP/build/test-logs/image-debian
	rm -rf "$keep"; mkdir -p "$keep"
	cp -r "$state"/*.log "$state"/vc/*.log "$state"/vc/*.serial "$keep/" 2>/dev/null
	for f in "$keep"/*; do echo "--- $f"; tail -25 "$f"; done
}
on_exit "keep_logs; vc down >/dev/null 2>&1; rm -rf '$state' '$bad'"
secs() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# --- build, and the same build again ------------------------------------------------
t=$(date +%s.%N)
if nice -n 19 "$SNOW_BIN/snow-image" build debian >"$state/build.log" 2>&1; then
	ok "snow-image build debian ($(secs "$t") s)"
else
	cat "$state/build.log"
	not_ok "snow-image build debian"
	exit 1
fi
grep -E '\[[a-z]+\] done in|built debian' "$state/build.log" | sed 's/^/# /'
for f in vmlinuz initrd rootfs.squashfs rootfs.sha256 MANIFEST STAMP; do
	check "image has $f" test -s "$img/$f"
done
check "rootfs.sha256 matches the squashfs" bash -c "cd '$img' && sha256sum -c --quiet rootfs.sha256"
check "the initrd carries the same digest" bash -c "zcat '$img/initrd' | cpio -i --quiet --to-stdout etc/snow/rootfs | grep -qx \"sha256=\$(cut -d' ' -f1 '$img/rootfs.sha256')\""
check "systemd is the image's init" bash -c "unsquashfs -llc '$img/rootfs.squashfs' usr/sbin/init 2>/dev/null | grep -q 'usr/sbin/init -> .*systemd'"
check "the agent is an enabled service" bash -c "unsquashfs -ll '$img/rootfs.squashfs' etc/systemd/system/multi-user.target.wants/snow-agent.service usr/sbin/snow-agent | grep -q 'snow-agent.service ->' && unsquashfs -ll '$img/rootfs.squashfs' usr/sbin/snow-agent | grep -q usr/sbin/snow-agent"
check "root has no password" bash -c "unsquashfs -cat '$img/rootfs.squashfs' etc/shadow | grep -q '^root:[!*]'"
check "no SSH host key in the image" bash -c "! unsquashfs -ll '$img/rootfs.squashfs' etc/ssh | grep -q ssh_host_"

t=$(date +%s.%N)
"$SNOW_BIN/snow-image" build debian >"$state/rebuild.log" 2>&1
took=$(secs "$t")
check "a rebuild with the same inputs is a no-op (${took} s)" grep -q 'up to date' "$state/rebuild.log"
# Most of it is snow-kernel-deb asking apt which kernel is current (6 s on a loaded machine).
check "and takes seconds" awk -v t="$took" 'BEGIN { exit !(t < 30) }'

# --- builds that fail: the step is named, nothing is registered ---------------------
mkdir -p "$state/out"
"$SNOW_BIN/snow-image" build itbadpkg --out "$state/out" --packages snow-no-such-package \
	>"$state/badpkg.log" 2>&1 && rc=0 || rc=$?
check "an unknown package fails the build" test "$rc" -ne 0
check "naming the step (base)" grep -q "step 'base' failed" "$state/badpkg.log"
check "and registering nothing" test ! -e "$state/out/itbadpkg"
printf '#!/bin/sh\necho from the script\nexit 3\n' >"$state/fail.sh"
"$SNOW_BIN/snow-image" build itbadscript --out "$state/out" --script "$state/fail.sh" \
	>"$state/badscript.log" 2>&1 && rc=0 || rc=$?
check "a script exiting 3 fails the build" test "$rc" -ne 0
check "naming the step (script) and the status" grep -q "step 'script' failed: .*status 3" "$state/badscript.log"
check "and registering nothing" bash -c "[ -z \"\$(ls -A '$state/out')\" ]"
[ "$_failures" -gt 0 ] && cat "$state/badpkg.log" "$state/badscript.log"

# --- import: a root filesystem tarball made elsewhere ----------------------------------
mkdir -p "$state/noinit/etc" "$state/oci"
echo '[]' >"$state/oci/manifest.json"
tar -C "$state/noinit" -czf "$state/noinit.tar.gz" .
tar -C "$state/oci" -cf "$state/oci.tar" manifest.json
for a in noinit.tar.gz:"has no /sbin/init" oci.tar:"manifest.json: not an array of exactly one image"; do
	"$SNOW_BIN/snow-image" import itimp "$state/${a%%:*}" --out "$state/out" >"$state/imp.log" 2>&1 && rc=0 || rc=$?
	check "import of ${a%%:*} refused: ${a#*:}" bash -c "[ $rc -ne 0 ] && grep -q \"step 'import' failed: .*${a#*:}\" '$state/imp.log'"
done
check "and nothing registered" bash -c "[ -z \"\$(ls -A '$state/out')\" ]"
# A Debian root as an admin would save it as an OCI image (here: the built image's own
# files as layer 1, and a layer 2 that hides a file of layer 1 and adds one).
unsquashfs -q -d "$state/exported" "$img/rootfs.squashfs" >/dev/null 2>&1
mkdir -p "$state/layer2/etc"
touch "$state/layer2/etc/.wh.issue"
echo from-layer-2 >"$state/layer2/etc/snow-oci-test"
"$SNOW_TOP/tests/node-os/mkoci.sh" --gzip "$state/debian-oci.tar" "$state/exported" "$state/layer2"
rm -rf "$state/exported"
t=$(date +%s.%N)
nice -n 19 "$SNOW_BIN/snow-image" import imported "$state/debian-oci.tar" --out "$state/out" >"$state/import.log" 2>&1 && rc=0 || rc=$?
check "import of an OCI image archive of $(du -m "$state/debian-oci.tar" | cut -f1) MB ($(secs "$t") s)" test "$rc" -eq 0
grep -E '\[[a-z]+\] done in|snow-oci' "$state/import.log" | sed 's/^/# import: /'
check "the imported image is complete and checks" bash -c "cd '$state/out/imported' && sha256sum -c --quiet rootfs.sha256 && test -s initrd && grep -q '^kind imported' MANIFEST"
check "layer 2 applied: its file in, its whiteout's file out" bash -c "[ \"\$(unsquashfs -cat '$state/out/imported/rootfs.squashfs' etc/snow-oci-test)\" = from-layer-2 ] && unsquashfs -ll '$state/out/imported/rootfs.squashfs' etc/issue.net | grep -q 'etc/issue.net' && ! unsquashfs -ll '$state/out/imported/rootfs.squashfs' etc/issue | grep -q 'etc/issue\$'"
[ "$_failures" -gt 0 ] && cat "$state/import.log"
rm -rf "$state/out/imported" "$state/debian-oci.tar"

# --- two nodes boot it -----------------------------------------------------------------
t=$(date +%s.%N)
if ! vc up --nodes 2 --image debian --name "$name" --net "$net" --no-build --wait --timeout 900 \
	>"$state/up.log" 2>&1; then
	cat "$state/up.log"
	not_ok "snow-vcluster up --image debian: 2 nodes online"
	exit 1
fi
ok "snow-vcluster up --image debian: 2 nodes online ($(secs "$t") s)"
grep 'snow-vcluster: [0-9]*s:' "$state/up.log" | sed 's/^/# /'
. "$state/vc/env"
version=$("$SNOW_BIN/snowctl" image list 2>/dev/null | awk '$1 == "debian" { print $2; exit }')
check "snow-vcluster registered the image as a version (debian@$version)" test -n "$version"
check "the nodes fetched that version's squashfs" grep -aq "fetching .*/boot/images/debian@$version/rootfs.squashfs" "$state/vc/node1.serial"
for i in 1 2; do
	log=$state/vc/node$i.serial
	check "node$i: root filesystem verified and mounted by /init" \
		bash -c "grep -aq 'snow-init: .*root filesystem verified' '$log' && grep -aq 'switching to systemd' '$log'"
	check "node$i: systemd started the agent as a service" wait_for 60 grep -aq 'Started.*snow-agent.service' "$log"
	curl -s -H "Authorization: Bearer $SNOW_TOKEN" "$SNOW_URL/api/v1/nodes/node$i/boots" >"$state/boots$i.json"
	check "node$i: boot history has the rootfs stages in order" python3 - "$state/boots$i.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))["boots"][0]["stages"]
order = ["dhcp", "script", "kernel", "initrd", "overlay", "rootfs", "rootfs_verified", "rootfs_mounted", "online"]
t0 = min(b.values())
print("# " + " ".join("%s=+%.2fs" % (s, (b[s] - t0) / 1000) for s in order if s in b))
missing = [s for s in order if s not in b]
if missing:
    print("missing:", missing); sys.exit(1)
sys.exit(0 if [b[s] for s in order] == sorted(b[s] for s in order) else 1)
PY
done
"$SNOW_BIN/snowctl" node show node1 --json >"$state/node1.json"
check "node1 runs the image's kernel with its hostname" python3 -c "
import json,sys; n=json.load(open('$state/node1.json'))
sys.exit(0 if n['hostname']=='node1' and n['state']=='online' and n.get('kernel','').endswith('-amd64') else 1)"
check "the agent on systemd sees more processes than busybox has" python3 -c "
import json,sys; n=json.load(open('$state/node1.json'))
sys.exit(0 if n['values'].get('kern.procs.count', 0) >= 10 else 1)"

# SSH with the admin's key (snow-vcluster's, given to snowd as --authorized-keys),
# checked against the host key snowd made for the node and keeps.
for i in 1 2; do
	hk=$state/vc/snowd/ssh/node$i/ssh_host_ed25519_key.pub
	check "node$i: snowd keeps its SSH host key" test -s "$hk"
	echo "$net.0.$((10 + i)) $(cut -d' ' -f1,2 "$hk")" >>"$state/known_hosts"
done
sshn() { # sshn N COMMAND: run COMMAND as root on node N, the host key checked
	local n=$1; shift
	ip netns exec "$name" ssh -i "$state/vc/ssh/id_ed25519" -o BatchMode=yes \
		-o StrictHostKeyChecking=yes -o UserKnownHostsFile="$state/known_hosts" \
		-o HostKeyAlgorithms=ssh-ed25519 -o ConnectTimeout=20 "root@$net.0.$((10 + n))" "$@"
}
# sshd starts after the agent (it makes the RSA and ECDSA keys the image lacks): wait for it.
check "ssh into node1 with the admin's key" wait_for 120 sshn 1 true
check "ssh into node2 with the admin's key" wait_for 120 sshn 2 true
check_eq "node1: systemd is PID 1" systemd "$(sshn 1 cat /proc/1/comm 2>&1)"
check_eq "node1: the agent is an active systemd service" active "$(sshn 1 systemctl is-active snow-agent 2>&1)"
check_eq "node2: its own hostname over ssh" node2 "$(sshn 2 hostname 2>&1)"
check_eq "node1: its root is an overlayfs (squashfs + tmpfs)" overlay "$(sshn 1 findmnt -no FSTYPE / 2>&1)"
hosts=$(sshn 1 cat /etc/hosts 2>&1)
check "node1: /etc/hosts names every node (the overlay's)" grep -q "^$net.0.12[[:space:]]*node2" <<<"$hosts"
check_eq "node1: login shells get the node's environment" yes "$(sshn 1 'test -r /etc/profile.d/snow-env.sh && echo yes' 2>&1)"
# What the root costs in RAM on the node (printed, not checked).
sshn 1 'free -m | sed -n 2p; du -m /run/snow/rootfs.squashfs; df -m /run/snow/rw | tail -1' 2>&1 | sed 's/^/# node1: /'

# --- a corrupt squashfs is refused at boot --------------------------------------------
rm -rf "$bad"
mkdir -p "$bad"
cp "$img/vmlinuz" "$img/initrd" "$bad/"
cp "$img/rootfs.squashfs" "$bad/rootfs.squashfs"
# One byte changed in the middle: same size, wrong digest.
size=$(stat -c %s "$bad/rootfs.squashfs")
printf '\xff' | dd of="$bad/rootfs.squashfs" bs=1 seek=$((size / 2)) conv=notrunc status=none
# /init's lines reach the console twice (its own output, and the kernel log netconsole
# carries); its own carry its uptime: "snow-init: [12.34] ...".  Count those only.
init_lines() { grep -ac "snow-init: \[[0-9.]*\] .*$1" "$state/vc/node2.serial"; }
mounted_before=$(init_lines 'switching to systemd')
check "node2's console shows its good boot (/init's own line)" test "$mounted_before" -ge 1
check "node2 set to the corrupt image, with a reboot" \
	bash -c "'$SNOW_BIN/snowctl' node set node2 image=$(basename "$bad") --reboot >'$state/bad.log' 2>&1"
cat >"$state/stage.sh" <<EOF
#!/bin/sh
# Prints node2's state and stage.
'$SNOW_BIN/snowctl' node show node2 --json |
	python3 -c 'import json,sys; n=json.load(sys.stdin); print(n["state"], n.get("stage",""))'
EOF
chmod +x "$state/stage.sh"
check "node2 reboots into the corrupt image and reports rootfs_failed" \
	wait_for 300 bash -c "[ \"\$('$state/stage.sh')\" = 'booting rootfs_failed' ]"
check "the node says why (digest mismatch) on its console" grep -aq 'root filesystem: digest mismatch' "$state/vc/node2.serial"
check "snowd logs the failure with the reason" grep -q 'node node2: root filesystem failed: digest' "$state/vc/snowd.log"
retried() { [ "$(init_lines 'root filesystem: digest mismatch')" -ge 2 ]; }
check "and it retries with a back-off" wait_for 60 retried
check_eq "it never mounts the corrupt root" "$mounted_before" "$(init_lines 'switching to systemd')"
"$state/stage.sh" | sed 's/^/# node2: /'

vc down >"$state/down.log" 2>&1
check "snow-vcluster down" test $? -eq 0
