#include "oci.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#define OCI_MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define OCI_MT_INDEX "application/vnd.oci.image.index.v1+json"
#define DOCKER_MT_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define DOCKER_MT_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

static int oci_fail(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s", what);
	return -EINVAL;
}

/* "sha256:" and 64 lowercase hex digits.  @ret 1 when d is one. */
static int oci_digest_ok(const char *d)
{
	return d && strlen(d) == OCI_DIGEST_LEN && !strncmp(d, "sha256:", 7) &&
	       strspn(d + 7, "0123456789abcdef") == 64;
}

/*
 * A descriptor {mediaType?, digest, size} into b, its path blobs/sha256/HEX.
 * @ret 0 or -EINVAL with err naming field (what).
 */
static int oci_descriptor(json_t *d, const char *what, struct oci_blob *b, char *err,
			  size_t errlen)
{
	const char *digest = json_string_value(json_object_get(d, "digest"));
	json_t *size = json_object_get(d, "size");

	if (!json_is_object(d)) {
		snprintf(err, errlen, "%s: not a descriptor object", what);
		return -EINVAL;
	}
	if (!oci_digest_ok(digest)) {
		snprintf(err, errlen, "%s: digest '%.80s' is not sha256:HEX (64 digits)", what,
			 digest ? digest : "(none)");
		return -EINVAL;
	}
	if (!json_is_integer(size) || json_integer_value(size) < 0) {
		snprintf(err, errlen, "%s: size missing or negative", what);
		return -EINVAL;
	}
	snprintf(b->digest, sizeof(b->digest), "%s", digest);
	snprintf(b->path, sizeof(b->path), "blobs/sha256/%s", digest + 7);
	b->size = json_integer_value(size);
	return 0;
}

/* Whether descriptor d's platform (when given) is linux/amd64. */
static int oci_platform_ok(json_t *d)
{
	json_t *p = json_object_get(d, "platform");
	const char *os = json_string_value(json_object_get(p, "os"));
	const char *arch = json_string_value(json_object_get(p, "architecture"));

	return !p || ((!os || !strcmp(os, "linux")) && (!arch || !strcmp(arch, "amd64")));
}

int oci_parse_index(const char *json, size_t len, struct oci_blob *out, int *nested, char *err,
		    size_t errlen)
{
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL), *ms, *d, *pick = NULL;
	const char *mt;
	size_t i, n = 0;
	int rc = -EINVAL;

	if (!json_is_object(root)) {
		oci_fail(err, errlen, "index.json: not a JSON object");
		goto out;
	}
	ms = json_object_get(root, "manifests");
	if (!json_is_array(ms) || !json_array_size(ms)) {
		oci_fail(err, errlen, "index.json: no manifests[]");
		goto out;
	}
	/* Several images (an index of platforms): take the one for linux/amd64. */
	json_array_foreach(ms, i, d) {
		if (!oci_platform_ok(d))
			continue;
		n++;
		if (!pick)
			pick = d;
	}
	if (!pick) {
		oci_fail(err, errlen, "index.json: no image for linux/amd64");
		goto out;
	}
	if (n > 1) {
		snprintf(err, errlen, "index.json: %zu images for linux/amd64: the archive must hold one", n);
		goto out;
	}
	mt = json_string_value(json_object_get(pick, "mediaType"));
	if (mt && strcmp(mt, OCI_MT_MANIFEST) && strcmp(mt, OCI_MT_INDEX) &&
	    strcmp(mt, DOCKER_MT_MANIFEST) && strcmp(mt, DOCKER_MT_LIST)) {
		snprintf(err, errlen, "index.json: manifest mediaType '%.80s' is not an image manifest", mt);
		goto out;
	}
	*nested = mt && (!strcmp(mt, OCI_MT_INDEX) || !strcmp(mt, DOCKER_MT_LIST));
	rc = oci_descriptor(pick, "index.json: manifests[]", out, err, errlen);
out:
	json_decref(root);
	return rc;
}

int oci_parse_manifest(const char *json, size_t len, struct oci_image *img, char *err,
		       size_t errlen)
{
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL), *layers, *d;
	char what[64];
	size_t i;
	int rc = -EINVAL;

	memset(img, 0, sizeof(*img));
	if (!json_is_object(root)) {
		oci_fail(err, errlen, "manifest: not a JSON object");
		goto out;
	}
	rc = oci_descriptor(json_object_get(root, "config"), "manifest: config", &img->config, err,
			    errlen);
	if (rc)
		goto out;
	rc = -EINVAL;
	layers = json_object_get(root, "layers");
	if (!json_is_array(layers) || !json_array_size(layers)) {
		oci_fail(err, errlen, "manifest: no layers[]");
		goto out;
	}
	if (json_array_size(layers) > OCI_MAX_LAYERS) {
		snprintf(err, errlen, "manifest: %zu layers (at most %d)", json_array_size(layers),
			 OCI_MAX_LAYERS);
		goto out;
	}
	json_array_foreach(layers, i, d) {
		const char *mt = json_string_value(json_object_get(d, "mediaType"));
		snprintf(what, sizeof(what), "manifest: layers[%zu]", i);
		/* Encrypted or foreign (Windows) layers cannot be unpacked here. */
		if (mt && (strstr(mt, "+encrypted") || strstr(mt, "foreign"))) {
			snprintf(err, errlen, "%s: mediaType '%.80s' cannot be unpacked", what, mt);
			goto out;
		}
		rc = oci_descriptor(d, what, &img->layers[i], err, errlen);
		if (rc)
			goto out;
		rc = -EINVAL;
	}
	img->nlayers = json_array_size(layers);
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/* A path docker wrote into manifest.json, checked into out.  @ret 0 or -EINVAL. */
static int oci_docker_path(const char *p, const char *what, char *out, size_t cap, char *err,
			   size_t errlen)
{
	char why[200];

	if (!p || !*p) {
		snprintf(err, errlen, "manifest.json: %s missing", what);
		return -EINVAL;
	}
	if (oci_entry_path(p, out, cap, why, sizeof(why))) {
		snprintf(err, errlen, "manifest.json: %s: %s", what, why);
		return -EINVAL;
	}
	if (!*out) {
		snprintf(err, errlen, "manifest.json: %s: empty path", what);
		return -EINVAL;
	}
	return 0;
}

int oci_parse_docker(const char *json, size_t len, struct oci_image *img, char *err,
		     size_t errlen)
{
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL), *im, *layers, *l;
	const char *cfg;
	char what[64];
	size_t i;
	int rc = -EINVAL;

	memset(img, 0, sizeof(*img));
	img->docker = 1;
	if (!json_is_array(root) || json_array_size(root) != 1) {
		oci_fail(err, errlen, "manifest.json: not an array of exactly one image");
		goto out;
	}
	im = json_array_get(root, 0);
	cfg = json_string_value(json_object_get(im, "Config"));
	rc = oci_docker_path(cfg, "Config", img->config.path, sizeof(img->config.path), err, errlen);
	if (rc)
		goto out;
	rc = -EINVAL;
	/* Its name is its digest: HEX.json (old docker) or blobs/sha256/HEX. */
	{
		const char *base = strrchr(img->config.path, '/');
		char d[OCI_DIGEST_LEN + 1];
		base = base ? base + 1 : img->config.path;
		snprintf(d, sizeof(d), "sha256:%.64s", base);
		if (!oci_digest_ok(d) || (base[64] && strcmp(base + 64, ".json"))) {
			snprintf(err, errlen, "manifest.json: Config '%.80s' is not named by its digest",
				 img->config.path);
			goto out;
		}
		snprintf(img->config.digest, sizeof(img->config.digest), "%s", d);
	}
	img->config.size = -1;
	layers = json_object_get(im, "Layers");
	if (!json_is_array(layers) || !json_array_size(layers)) {
		oci_fail(err, errlen, "manifest.json: no Layers[]");
		goto out;
	}
	if (json_array_size(layers) > OCI_MAX_LAYERS) {
		snprintf(err, errlen, "manifest.json: %zu layers (at most %d)", json_array_size(layers),
			 OCI_MAX_LAYERS);
		goto out;
	}
	json_array_foreach(layers, i, l) {
		snprintf(what, sizeof(what), "Layers[%zu]", i);
		rc = oci_docker_path(json_string_value(l), what, img->layers[i].path,
				     sizeof(img->layers[i].path), err, errlen);
		if (rc)
			goto out;
		img->layers[i].size = -1;
	}
	img->nlayers = json_array_size(layers);
	rc = 0;
out:
	json_decref(root);
	return rc;
}

int oci_parse_config(const char *json, size_t len, struct oci_image *img, char *err,
		     size_t errlen)
{
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL), *ids, *id;
	const char *os, *arch;
	size_t i;
	int rc = -EINVAL;

	if (!json_is_object(root)) {
		oci_fail(err, errlen, "config: not a JSON object");
		goto out;
	}
	os = json_string_value(json_object_get(root, "os"));
	arch = json_string_value(json_object_get(root, "architecture"));
	if ((os && strcmp(os, "linux")) || (arch && strcmp(arch, "amd64"))) {
		snprintf(err, errlen, "config: the image is for %.32s/%.32s; nodes run linux/amd64",
			 os ? os : "?", arch ? arch : "?");
		goto out;
	}
	ids = json_object_get(json_object_get(root, "rootfs"), "diff_ids");
	if (img->docker) {
		if (!json_is_array(ids) || json_array_size(ids) != img->nlayers) {
			snprintf(err, errlen, "config: rootfs.diff_ids has %zu digests for %zu layers",
				 json_array_size(ids), img->nlayers);
			goto out;
		}
		json_array_foreach(ids, i, id) {
			if (!oci_digest_ok(json_string_value(id))) {
				snprintf(err, errlen, "config: rootfs.diff_ids[%zu] is not sha256:HEX", i);
				goto out;
			}
			snprintf(img->layers[i].digest, sizeof(img->layers[i].digest), "%s",
				 json_string_value(id));
		}
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

int oci_entry_path(const char *name, char *out, size_t cap, char *err, size_t errlen)
{
	const char *p = name, *e;
	size_t n = 0, l;

	if (cap)
		out[0] = '\0';
	if (strlen(name) >= PATH_MAX || strlen(name) >= cap) {
		snprintf(err, errlen, "'%.80s...': name too long", name);
		return -EINVAL;
	}
	if (name[0] == '/') {
		snprintf(err, errlen, "'%.200s': absolute name", name);
		return -EINVAL;
	}
	while (*p) {
		e = strchrnul(p, '/');
		l = (size_t)(e - p);
		if (l == 2 && !strncmp(p, "..", 2)) {
			snprintf(err, errlen, "'%.200s': '..' in the name", name);
			return -EINVAL;
		}
		if (l && !(l == 1 && *p == '.')) {
			if (n)
				out[n++] = '/';
			memcpy(out + n, p, l);
			n += l;
		}
		p = *e ? e + 1 : e;
	}
	out[n] = '\0';
	return 0;
}

int oci_link_target(const char *target, int depth, char *out, size_t cap, char *err,
		    size_t errlen)
{
	const char *p = target, *e;
	size_t n = 0, l;
	int d = depth, i;

	if (!*target || strlen(target) >= PATH_MAX || strlen(target) + 3 * (size_t)depth >= cap) {
		snprintf(err, errlen, "symlink target '%.80s': empty or too long", target);
		return -EINVAL;
	}
	if (*target == '/') {
		/* Absolute: from the root, which is depth folders up. */
		for (i = 0; i < depth; i++) {
			memcpy(out + n, "../", 3);
			n += 3;
		}
		d = 0;
		while (*p == '/')
			p++;
		if (!*p) {
			snprintf(out + n, cap - n, "%s", n ? "" : ".");
			if (n)
				out[n - 1] = '\0';
			return 0;
		}
	}
	/* Walk it as the kernel would, from the entry's folder: never above the root. */
	for (e = p; *e;) {
		const char *c = e, *s = strchrnul(c, '/');
		l = (size_t)(s - c);
		if (l == 2 && !strncmp(c, "..", 2)) {
			if (--d < 0) {
				snprintf(err, errlen, "symlink target '%.200s' points out of the root",
					 target);
				return -EINVAL;
			}
		} else if (l && !(l == 1 && *c == '.')) {
			d++;
		}
		e = *s ? s + 1 : s;
	}
	snprintf(out + n, cap - n, "%s", p);
	return 0;
}
