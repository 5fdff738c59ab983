/*
 * OCI and docker image archives (`podman save --format oci-archive`,
 * `docker save`): the JSON that says which blobs make an image, parsed into
 * typed structs, and the names of layer entries checked.  Pure functions of
 * their input (no files): snow-oci (oci_main.c) reads the files, these say
 * what they mean.  Everything here is outside input.
 *
 * Layouts read:
 *   OCI   oci-layout, index.json -> manifests[] (an image manifest, or an
 *         image index one level down) -> {config, layers[]}, each a
 *         descriptor {mediaType, digest "sha256:HEX", size} naming
 *         blobs/sha256/HEX.  Layer digests are of the blob as stored.
 *   docker manifest.json, [{Config, Layers[]}] with paths in the archive; a
 *         layer's digest is the config's rootfs.diff_ids[i] (uncompressed).
 */
#ifndef SNOW_OCI_H
#define SNOW_OCI_H

#include <stddef.h>
#include <stdint.h>

#define OCI_MAX_LAYERS 128
#define OCI_DIGEST_LEN 71 /* "sha256:" + 64 hex */
#define OCI_PATH_MAX 256  /* a path inside the archive */

struct oci_blob {
	char path[OCI_PATH_MAX];            /* inside the archive, checked (oci_entry_path) */
	char digest[OCI_DIGEST_LEN + 1];    /* "sha256:HEX", or "" when the config gives it */
	int64_t size;                       /* -1: not stated */
};

struct oci_image {
	struct oci_blob config;
	struct oci_blob layers[OCI_MAX_LAYERS];
	size_t nlayers;
	int docker;                         /* layer digests come from the config's diff_ids */
};

/*
 * index.json: the descriptor of the one image manifest for linux/amd64 (the
 * only one, or the one whose platform says so).  *nested is set when the
 * descriptor is an image index (read it with oci_parse_index again).
 * @ret 0, or -EINVAL with err naming what is wrong.
 */
int oci_parse_index(const char *json, size_t len, struct oci_blob *out, int *nested, char *err,
		    size_t errlen);

/* An image manifest (blobs/sha256/...): config and layers.  @ret 0 or -EINVAL with err. */
int oci_parse_manifest(const char *json, size_t len, struct oci_image *img, char *err,
		       size_t errlen);

/* docker's manifest.json: its one image's config and layer paths.  @ret 0 or -EINVAL with err. */
int oci_parse_docker(const char *json, size_t len, struct oci_image *img, char *err,
		     size_t errlen);

/*
 * The image config: refuses an image not for linux/amd64; for a docker
 * archive, fills each layer's digest from rootfs.diff_ids.  @ret 0 or -EINVAL with err.
 */
int oci_parse_config(const char *json, size_t len, struct oci_image *img, char *err,
		     size_t errlen);

/*
 * A layer entry's name made relative and clean: "./usr//bin/" -> "usr/bin";
 * "" for the root itself.  Refused: an absolute name, a ".." component, a
 * name of PATH_MAX bytes or more.  @ret 0 or -EINVAL with err.
 */
int oci_entry_path(const char *name, char *out, size_t cap, char *err, size_t errlen);

/*
 * A symlink's target made to stay inside the root: an absolute target is
 * made relative to the entry's folder, which lies depth folders below the
 * root ("/usr/bin/x" at depth 1 -> "../usr/bin/x").  A relative target that
 * climbs above the root is refused.  @ret 0 or -EINVAL with err.
 */
int oci_link_target(const char *target, int depth, char *out, size_t cap, char *err,
		    size_t errlen);

#endif
