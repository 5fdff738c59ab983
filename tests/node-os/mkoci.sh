#!/usr/bin/env bash
# mkoci.sh: make an image archive from folders, one layer each, the way
# `podman save --format oci-archive` or `docker save` lays it out, with tar,
# sha256sum and a JSON manifest (there is no registry to pull from here).
#
#   mkoci.sh [--docker] [--gzip] [--arch ARCH] OUT.tar LAYERDIR...
#   mkoci.sh --layers OUT.tar LAYER.tar...   (layer tarballs made elsewhere)
#
# A file named .wh.NAME in a layer folder is a whiteout of NAME in the layers
# below, .wh..wh..opq empties its folder.  OCI by default (oci-layout,
# index.json, blobs/sha256/); --docker writes docker's manifest.json with
# the config's diff_ids and uncompressed layers; --gzip compresses OCI layers.
set -euo pipefail
docker=0 gz=0 given=0 arch=amd64
while [ $# -gt 0 ]; do
	case "$1" in
	--docker) docker=1; shift ;;
	--gzip) gz=1; shift ;;
	--layers) given=1; shift ;;
	--arch) arch=$2; shift 2 ;;
	*) break ;;
	esac
done
out=$1
shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/a/blobs/sha256"
blob() { # FILE MEDIATYPE: move FILE into blobs/, print its descriptor
	local sum size
	sum=$(sha256sum "$1" | cut -d' ' -f1)
	size=$(stat -c %s "$1")
	mv "$1" "$work/a/blobs/sha256/$sum"
	printf '{"mediaType":"%s","digest":"sha256:%s","size":%s}' "$2" "$sum" "$size"
}
layers=() diffs=() paths=() i=0
for src in "$@"; do
	i=$((i + 1))
	if [ "$given" = 1 ]; then
		cp "$src" "$work/layer$i.tar"
	else
		tar -C "$src" --numeric-owner --owner=0 --group=0 --sort=name -cf "$work/layer$i.tar" .
	fi
	diffs+=("\"sha256:$(sha256sum "$work/layer$i.tar" | cut -d' ' -f1)\"")
	if [ "$docker" = 1 ]; then
		mkdir -p "$work/a/l$i"
		mv "$work/layer$i.tar" "$work/a/l$i/layer.tar"
		paths+=("\"l$i/layer.tar\"")
	elif [ "$gz" = 1 ]; then
		gzip -n "$work/layer$i.tar"
		layers+=("$(blob "$work/layer$i.tar.gz" application/vnd.oci.image.layer.v1.tar+gzip)")
	else
		layers+=("$(blob "$work/layer$i.tar" application/vnd.oci.image.layer.v1.tar)")
	fi
done
join() { local IFS=,; echo "$*"; }
printf '{"architecture":"%s","os":"linux","config":{"Cmd":["/sbin/init"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
	"$arch" "$(join "${diffs[@]}")" >"$work/config.json"
if [ "$docker" = 1 ]; then
	sum=$(sha256sum "$work/config.json" | cut -d' ' -f1)
	mv "$work/config.json" "$work/a/$sum.json"
	printf '[{"Config":"%s.json","RepoTags":["snow/test:latest"],"Layers":[%s]}]' "$sum" \
		"$(join "${paths[@]}")" >"$work/a/manifest.json"
else
	cfg=$(blob "$work/config.json" application/vnd.oci.image.config.v1+json)
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":%s,"layers":[%s]}' \
		"$cfg" "$(join "${layers[@]}")" >"$work/manifest.json"
	man=$(blob "$work/manifest.json" application/vnd.oci.image.manifest.v1+json)
	printf '{"schemaVersion":2,"manifests":[%s]}' "${man%\}},\"annotations\":{\"org.opencontainers.image.ref.name\":\"latest\"}}" >"$work/a/index.json"
	printf '{"imageLayoutVersion":"1.0.0"}' >"$work/a/oci-layout"
fi
tar -C "$work/a" --sort=name -cf "$out" .
