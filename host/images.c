#include "images.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nettle/sha2.h>

#include "fsafe.h"
#include "log.h"
#include "nodes.h"
#include "snowd.h"
#include "valid.h"

/* Copy src to dst, hashing the bytes.  @ret 0 or -errno; *size gets the length. */
static int images_copy(int in, const char *dst, struct sha256_ctx *h, int64_t *size)
{
	char buf[65536];
	int out, rc = 0;
	ssize_t n;

	*size = 0;
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		rc = -errno;
		close(in);
		return rc;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		sha256_update(h, (size_t)n, (const uint8_t *)buf);
		if (write(out, buf, (size_t)n) != n) {
			rc = -EIO;
			break;
		}
		*size += n;
	}
	if (n < 0)
		rc = -errno;
	if (!rc && fsync(out))
		rc = -errno;
	close(in);
	close(out);
	return rc;
}

static void images_rmdir(const char *dir)
{
	char p[5000];

	snprintf(p, sizeof(p), "%s/vmlinuz", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/initrd", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/rootfs.squashfs", dir);
	unlink(p);
	rmdir(dir);
}

int images_register(struct snowd *sd, const char *name, const char *kernel, const char *initrd,
		    const char *rootfs, char version[INV_VERSION_LEN + 1], char *err, size_t errlen)
{
	char reg[4200], imgdir[4400], tmp[4600], dst[4800], path[4900];
	unsigned char digest[SHA256_DIGEST_SIZE];
	char hex[2 * SHA256_DIGEST_SIZE + 1];
	struct sha256_ctx h;
	int64_t ksize, isize, rsize = 0;
	struct stat st;
	json_t *gone, *v;
	size_t i;
	int rc;

	if (valid_name(name, NULL, 0)) {
		snprintf(err, errlen, "name: '%.64s' is not an image name", name);
		return -EINVAL;
	}
	if (kernel[0] != '/' || stat(kernel, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "kernel: %s is not a file on the host (absolute path)", kernel);
		return -EINVAL;
	}
	if (initrd[0] != '/' || stat(initrd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "initrd: %s is not a file on the host (absolute path)", initrd);
		return -EINVAL;
	}
	if (rootfs && (rootfs[0] != '/' || stat(rootfs, &st) || !S_ISREG(st.st_mode))) {
		snprintf(err, errlen, "rootfs: %s is not a file on the host (absolute path)", rootfs);
		return -EINVAL;
	}
	snprintf(reg, sizeof(reg), "%s/registry", sd->cfg.state_dir);
	snprintf(imgdir, sizeof(imgdir), "%s/%s", reg, name);
	snprintf(tmp, sizeof(tmp), "%s/.new.%d", imgdir, (int)getpid());
	if ((mkdir(reg, 0755) && errno != EEXIST) || (mkdir(imgdir, 0755) && errno != EEXIST) ||
	    (mkdir(tmp, 0755) && errno != EEXIST)) {
		snprintf(err, errlen, "image: cannot create %s: %s", tmp, strerror(errno));
		return -EIO;
	}
	sha256_init(&h);
	snprintf(path, sizeof(path), "%s/vmlinuz", tmp);
	rc = fsafe_open(sd->cfg.allow_dir, kernel, "kernel", err, errlen);
	if (rc < 0) {
		rc = -EINVAL;
		goto err_tmp;
	}
	rc = images_copy(rc, path, &h, &ksize);
	if (rc) {
		snprintf(err, errlen, "kernel: cannot copy %s: %s", kernel, strerror(-rc));
		goto err_tmp;
	}
	snprintf(path, sizeof(path), "%s/initrd", tmp);
	rc = fsafe_open(sd->cfg.allow_dir, initrd, "initrd", err, errlen);
	if (rc < 0) {
		rc = -EINVAL;
		goto err_tmp;
	}
	rc = images_copy(rc, path, &h, &isize);
	if (rc) {
		snprintf(err, errlen, "initrd: cannot copy %s: %s", initrd, strerror(-rc));
		goto err_tmp;
	}
	/*
	 * A whole-system image's squashfs is part of the version.  Copied here in
	 * the loop like the others (about a second for 100 MB); its digest is also
	 * in the initrd, so a node never mixes versions.
	 */
	if (rootfs) {
		snprintf(path, sizeof(path), "%s/rootfs.squashfs", tmp);
		rc = fsafe_open(sd->cfg.allow_dir, rootfs, "rootfs", err, errlen);
		if (rc < 0) {
			rc = -EINVAL;
			goto err_tmp;
		}
		rc = images_copy(rc, path, &h, &rsize);
		if (rc) {
			snprintf(err, errlen, "rootfs: cannot copy %s: %s", rootfs, strerror(-rc));
			goto err_tmp;
		}
	}
	sha256_digest(&h, sizeof(digest), digest);
	hex_encode(digest, sizeof(digest), hex);
	snprintf(version, INV_VERSION_LEN + 1, "%.*s", INV_VERSION_LEN, hex);
	snprintf(dst, sizeof(dst), "%s/%s", imgdir, version);
	if (!stat(dst, &st)) {
		/* The same files again: keep the copy already there. */
		images_rmdir(tmp);
	} else if (rename(tmp, dst)) {
		rc = -errno;
		snprintf(err, errlen, "image: cannot move into %s: %s", dst, strerror(errno));
		goto err_tmp;
	}
	if (inv_image_add(&sd->inv, name, version, ksize, isize, (int64_t)time(NULL))) {
		snprintf(err, errlen, "image: inventory error");
		return -EIO;
	}
	sd->settings_gen++;
	log_info("images: %s version %s registered (kernel %lld bytes, initrd %lld bytes, rootfs "
		 "%lld bytes)", name, version, (long long)ksize, (long long)isize, (long long)rsize);
	gone = inv_image_prune(&sd->inv, name, IMAGES_KEEP);
	json_array_foreach(gone, i, v) {
		snprintf(dst, sizeof(dst), "%s/%s", imgdir, json_string_value(v));
		images_rmdir(dst);
		log_info("images: %s version %s removed (older than the last %d)", name,
			 json_string_value(v), IMAGES_KEEP);
	}
	json_decref(gone);
	return 0;
err_tmp:
	images_rmdir(tmp);
	return rc;
}

int images_path(struct snowd *sd, const char *ref, const char *file, char *out, size_t cap)
{
	char name[SNOW_NAME_MAX + 1], version[INV_VERSION_LEN + 1];
	const char *at = strchr(ref, '@');
	size_t n = at ? (size_t)(at - ref) : strlen(ref);

	if (n > SNOW_NAME_MAX)
		return -ENOENT;
	memcpy(name, ref, n);
	name[n] = '\0';
	if (valid_name(name, NULL, 0) ||
	    (strcmp(file, "vmlinuz") && strcmp(file, "initrd") && strcmp(file, "rootfs.squashfs")))
		return -ENOENT;
	if (at) {
		if (strlen(at + 1) != INV_VERSION_LEN ||
		    strspn(at + 1, "0123456789abcdef") != INV_VERSION_LEN ||
		    inv_image_has(&sd->inv, name, at + 1) != 1)
			return -ENOENT;
		snprintf(version, sizeof(version), "%s", at + 1);
	} else if (inv_image_current(&sd->inv, name, version)) {
		snprintf(out, cap, "%s/%s/%s", sd->cfg.image_dir, name, file);
		return 0;
	}
	snprintf(out, cap, "%s/registry/%s/%s/%s", sd->cfg.state_dir, name, version, file);
	return 0;
}

int images_ref(struct snowd *sd, const char *name, char *out, size_t cap)
{
	char version[INV_VERSION_LEN + 1];
	int rc = inv_image_current(&sd->inv, name, version);

	if (rc == -ENOENT)
		snprintf(out, cap, "%s", name);
	else if (!rc)
		snprintf(out, cap, "%s@%s", name, version);
	return rc == -ENOENT ? 0 : rc;
}

/* Who uses an image: images_remove() collects the names. */
struct images_users {
	struct snowd *sd;
	const char *name;
	int current;   /* the version being removed is the one a bare NAME boots */
	json_t *nodes; /* owned by the caller */
};

/* Whether setting image (a bare NAME: it boots the current version) is the one removed. */
static int images_uses(const struct images_users *u, const char *image)
{
	return image && !strcmp(image, u->name) && u->current;
}

static int images_node_user(void *ctx, const struct inv_node *n)
{
	struct images_users *u = ctx;
	json_t *eff = nodes_effective(u->sd, n, NULL);
	const char *image = json_string_value(json_object_get(eff, "image"));

	if (images_uses(u, image ? image : n->image))
		json_array_append_new(u->nodes, json_string(n->name));
	json_decref(eff);
	return 0;
}

/* "node1, node2, node3 and 7 more" of names into out. */
static void images_names(json_t *names, char *out, size_t cap)
{
	size_t i, n = json_array_size(names), len = 0;

	out[0] = '\0';
	for (i = 0; i < n && i < 8 && len < cap; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? ", " : "",
					json_string_value(json_array_get(names, i)));
	if (n > 8 && len < cap)
		snprintf(out + len, cap - len, " and %zu more", n - 8);
}

int images_remove(struct snowd *sd, const char *ref, json_t **removed, char *err, size_t errlen)
{
	char name[SNOW_NAME_MAX + 1], cur[INV_VERSION_LEN + 1], dir[4400], who[1200], list[600];
	const char *at = strchr(ref, '@'), *version = at ? at + 1 : NULL;
	size_t n = at ? (size_t)(at - ref) : strlen(ref), i;
	struct images_users u = { .sd = sd, .name = name };
	json_t *profiles, *p, *gone, *v;
	int rc;

	*removed = NULL;
	if (n > SNOW_NAME_MAX || (memcpy(name, ref, n), name[n] = '\0', valid_name(name, NULL, 0)) ||
	    (version && (strlen(version) != INV_VERSION_LEN ||
			 strspn(version, "0123456789abcdef") != INV_VERSION_LEN))) {
		snprintf(err, errlen, "image: '%.80s' is not NAME or NAME@VERSION (16 hex digits)", ref);
		return -EINVAL;
	}
	rc = inv_image_current(&sd->inv, name, cur);
	if (rc == -ENOENT || (!rc && version && inv_image_has(&sd->inv, name, version) != 1)) {
		snprintf(err, errlen, "image: %s is not registered", ref);
		return -ENOENT;
	}
	if (rc)
		goto err_inv;
	/* Removing an older version leaves nodes booting the current one. */
	u.current = !version || !strcmp(version, cur);
	u.nodes = json_array();
	profiles = inv_profile_list(&sd->inv);
	if (!u.nodes || !profiles || inv_node_foreach(&sd->inv, images_node_user, &u)) {
		json_decref(u.nodes);
		json_decref(profiles);
		goto err_inv;
	}
	who[0] = '\0';
	if (json_array_size(u.nodes)) {
		images_names(u.nodes, list, sizeof(list));
		snprintf(who, sizeof(who), "node%s %s", json_array_size(u.nodes) > 1 ? "s" : "", list);
	}
	json_array_clear(u.nodes);
	json_array_foreach(profiles, i, p)
		if (images_uses(&u, json_string_value(json_object_get(json_object_get(p, "settings"),
									  "image"))))
			json_array_append(u.nodes, json_object_get(p, "name"));
	json_decref(profiles);
	if (json_array_size(u.nodes)) {
		images_names(u.nodes, list, sizeof(list));
		snprintf(who + strlen(who), sizeof(who) - strlen(who), "%sprofile%s %s",
			 who[0] ? " and " : "", json_array_size(u.nodes) > 1 ? "s" : "", list);
	}
	if (images_uses(&u, json_string_value(json_object_get(sd->defaults, "image"))))
		snprintf(who + strlen(who), sizeof(who) - strlen(who), "%sthe default image (snowd.conf)",
			 who[0] ? " and " : "");
	json_decref(u.nodes);
	if (who[0]) {
		snprintf(err, errlen, "image: %s is used by %s: give them another image first", ref, who);
		return -EBUSY;
	}
	gone = inv_image_rm(&sd->inv, name, version);
	if (!gone)
		goto err_inv;
	json_array_foreach(gone, i, v) {
		snprintf(dir, sizeof(dir), "%s/registry/%s/%s", sd->cfg.state_dir, name,
			 json_string_value(v));
		images_rmdir(dir);
		log_info("images: %s version %s removed", name, json_string_value(v));
	}
	snprintf(dir, sizeof(dir), "%s/registry/%s", sd->cfg.state_dir, name);
	rmdir(dir); /* only when no version is left */
	sd->settings_gen++;
	*removed = gone;
	return 0;
err_inv:
	snprintf(err, errlen, "image: inventory error");
	return -EIO;
}
