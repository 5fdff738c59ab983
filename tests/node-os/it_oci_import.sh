#!/usr/bin/env bash
# snow-image import of image archives (docs/images.md), in seconds: archives
# made here from a busybox root with tests/node-os/mkoci.sh (OCI with gzip
# layers, docker's manifest.json, a plain root tarball), unpacked by snow-oci
# with every digest checked and the second layer's whiteouts applied;
# `snow-image import --check` accepts them.  Corrupt and hostile archives (a
# bad digest, a truncated layer, no /sbin/init, "..", an absolute name,
# symlinks and hard links leading out, an arm64 image) are refused with the
# reason and register nothing, and nothing is written outside the root.
# The whole import (kernel, squashfs, initrd) and a boot run in
# it_image_debian.sh (make check-image).
. "$(dirname "$0")/../lib.sh"
need_root "snow-oci sets owners and device nodes"

state=$(mktemp -d /tmp/snow-it-oci.XXXXXX)
on_exit "rm -rf '$state'"
mkoci=$SNOW_TOP/tests/node-os/mkoci.sh
oci=$SNOW_BIN/snow-oci
cd "$state" || exit 1

# Layer 1: a root with busybox as its "systemd", an absolute symlink, things to hide.
mkdir -p l1/bin l1/sbin l1/lib/systemd l1/etc/systemd/system l1/etc/gone-dir l1/opt/opq l1/usr/bin l1/dev
cp /bin/busybox l1/bin/busybox
cp /bin/busybox l1/lib/systemd/systemd
ln -s /lib/systemd/systemd l1/sbin/init
ln -s /bin/busybox l1/usr/bin/sh
echo old >l1/etc/old.conf
echo a >l1/etc/gone-dir/a
echo x >l1/opt/opq/x
mknod l1/dev/null c 1 3
chmod 4755 l1/bin/busybox
# Layer 2: whiteouts of a file and a folder, an opaque folder, new files.
mkdir -p l2/etc l2/opt/opq
touch l2/etc/.wh.old.conf l2/etc/.wh.gone-dir l2/opt/opq/.wh..wh..opq
echo z >l2/opt/opq/z
echo new >l2/etc/new.conf

"$mkoci" --gzip oci.tar l1 l2
"$mkoci" --docker docker.tar l1 l2
mkdir -p x y
tar -C x -xf oci.tar
tar -C y -xf docker.tar
mkdir -p r-oci r-docker
check "snow-oci unpacks the OCI archive" "$oci" unpack x r-oci
check "and the docker archive" "$oci" unpack y r-docker
check "both give the same tree" diff -r --no-dereference r-oci r-docker
check "layer 1's files are there" bash -c "cmp -s r-oci/bin/busybox /bin/busybox && [ -x r-oci/lib/systemd/systemd ]"
check "a whiteout removed a file of layer 1" test ! -e r-oci/etc/old.conf
check "and a folder" test ! -e r-oci/etc/gone-dir
check "an opaque whiteout emptied its folder of layer 1's files" bash -c "[ ! -e r-oci/opt/opq/x ] && [ \"\$(cat r-oci/opt/opq/z)\" = z ]"
check "the whiteout files themselves are not in the root" bash -c "! find r-oci -name '.wh.*' | grep -q ."
check_eq "an absolute symlink is made relative to its folder" ../lib/systemd/systemd "$(readlink r-oci/sbin/init)"
check_eq "(two folders down)" ../../bin/busybox "$(readlink r-oci/usr/bin/sh)"
check_eq "set-uid bit kept" 4755 "$(stat -c %a r-oci/bin/busybox)"
check_eq "device node kept" "character special file 1:3" "$(stat -c '%F %t:%T' r-oci/dev/null)"

mkdir -p out
imp() { # imp ARCHIVE [ARGS]: snow-image import into out/, log in imp.log
	local a=$1
	shift
	"$SNOW_BIN/snow-image" import itoci "$a" --out "$state/out" "$@" >imp.log 2>&1
}
check "snow-image import --check accepts the OCI archive" imp oci.tar --check
check "saying what it is" grep -q 'oci.tar is a good image archive: /sbin/init is /lib/systemd/systemd' imp.log
check "and the docker archive" imp docker.tar --check
tar -C l1 -czf root.tar.gz .
check "and a root filesystem tarball" imp root.tar.gz --check
check "--check registers nothing" bash -c "[ -z \"\$(ls -A out)\" ]"

# --- refused ----------------------------------------------------------------------------
# refuse NAME ARCHIVE REASON: the import fails at the import step, naming REASON.
refuse() {
	imp "$2" && rc=0 || rc=$?
	check "$1 refused: $3" bash -c "[ $rc -ne 0 ] && grep -q \"step 'import' failed: .*$3\" imp.log"
	grep -q "step 'import' failed: .*$3" imp.log || cat imp.log
	check "($1: nothing registered, no build folder left)" bash -c "[ -z \"\$(ls -A out)\" ]"
}
# Corrupt blobs: one byte changed, a layer cut short.
manifest=$(python3 -c 'import json; print(json.load(open("x/index.json"))["manifests"][0]["digest"][7:])')
layer2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][1]["digest"][7:])' "x/blobs/sha256/$manifest")
cp -a x bad && printf 'X' | dd of="bad/blobs/sha256/$layer2" bs=1 seek=100 conv=notrunc status=none
tar -C bad -cf baddigest.tar . && rm -rf bad
refuse "a layer with one byte changed" baddigest.tar "layer 2 (blobs/sha256/$layer2): digest mismatch"
cp -a x bad && truncate -s 50 "bad/blobs/sha256/$layer2"
tar -C bad -cf truncated.tar . && rm -rf bad
refuse "a truncated layer" truncated.tar "layer 2 .*50 bytes, the manifest says"
cp -a y bad && echo junk >>bad/l2/layer.tar
tar -C bad -cf baddocker.tar . && rm -rf bad
refuse "a docker layer that is not its diff_id" baddocker.tar "layer 2 (l2/layer.tar): digest mismatch"
mkdir -p noinit/etc/systemd
"$mkoci" noinit.tar noinit
refuse "an image without an init" noinit.tar "noinit.tar has no /sbin/init"
python3 - <<'PY'
# Hostile layers, as no tar command makes them.
import io, tarfile
def layer(path, entries):
    with tarfile.open(path, "w") as t:
        for name, kind, arg in entries:
            i = tarfile.TarInfo(name)
            if kind == "file":
                i.size = len(arg); t.addfile(i, io.BytesIO(arg))
            elif kind == "sym":
                i.type = tarfile.SYMTYPE; i.linkname = arg; t.addfile(i)
            elif kind == "hard":
                i.type = tarfile.LNKTYPE; i.linkname = arg; t.addfile(i)
            elif kind == "dir":
                i.type = tarfile.DIRTYPE; i.mode = 0o755; t.addfile(i)
layer("dotdot.tar", [("etc", "dir", None), ("etc/../../escaped", "file", b"out\n")])
layer("absolute.tar", [("/tmp/snow-oci-absolute", "file", b"out\n")])
layer("symout.tar", [("etc", "dir", None), ("etc/up", "sym", "../../../../tmp")])
layer("chain.tar", [("here", "sym", "."), ("away", "sym", "here/..")])
layer("hardout.tar", [("h", "hard", "../../etc/passwd")])
layer("through.tar", [("lnk", "sym", "/"), ("lnk/../../escaped2", "file", b"out\n")])
PY
for l in dotdot:"'..' in the name" absolute:"absolute name" symout:"symlink target '../../../../tmp' points out of the root" \
	chain:"/away -> here/.. leads out of the root" hardout:"hard link: .*'..' in the name" through:"'..' in the name"; do
	"$mkoci" --layers "${l%%:*}.oci.tar" "${l%%:*}.tar"
	refuse "a layer with ${l%%:*}" "${l%%:*}.oci.tar" "${l#*:}"
done
check "nothing was written outside the root" bash -c "[ ! -e /tmp/snow-oci-absolute ] && [ ! -e '$state/escaped' ] && [ ! -e /escaped ] && [ ! -e /escaped2 ]"
# An image for another machine; a config changed after the fact.
"$mkoci" --arch arm64 arm.tar l1
refuse "an arm64 image" arm.tar "config: the image is for linux/arm64; nodes run linux/amd64"
mkdir -p armx && tar -C armx -xf oci.tar
cfg=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"]["digest"][7:])' "x/blobs/sha256/$manifest")
sed -i 's/amd64/arm64/' "armx/blobs/sha256/$cfg" && tar -C armx -cf armcfg.tar .
refuse "a config changed after the fact" armcfg.tar "config (blobs/sha256/$cfg): digest mismatch"
