/*
 * snow-oci: unpack an OCI or docker image archive into a root folder, for
 * snow-image import (docs/images.md).
 *
 *   snow-oci unpack DIR ROOT
 *   snow-oci tar TARBALL ROOT     (a root filesystem tarball: one layer, no digest)
 *
 * DIR is the archive unpacked by tar (index.json or manifest.json,
 * blobs/...); ROOT an empty folder.  Every blob named is checked against its
 * digest (and size) before any layer is applied, so a corrupt archive leaves
 * ROOT empty.  Layers are applied in order with their whiteouts (".wh.NAME"
 * removes NAME of the layers below, ".wh..wh..opq" empties its folder).
 * Every name is resolved inside ROOT (openat2 RESOLVE_IN_ROOT): an entry
 * naming "..", an absolute name, a symlink climbing out of the root, a hard
 * link to outside are refused; absolute symlink targets are rewritten
 * relative, and at the end no symlink in ROOT may lead outside it when
 * followed on this host (the later build steps write through them).
 * Exit 0, or 1 with "snow-oci: error: ..." naming the file and the reason.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <linux/openat2.h>
#include <nettle/sha2.h>

#include "oci.h"

#define OCI_JSON_MAX (4 << 20)

struct unpack {
	int dirfd;              /* the unpacked archive */
	int rootfd;             /* ROOT */
	char rootpath[PATH_MAX];
	long entries, whiteouts;
	char err[PATH_MAX + 200];
};

static int fail(struct unpack *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct unpack *u, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(u->err, sizeof(u->err), fmt, ap);
	va_end(ap);
	return -1;
}

static int oci_openat2(int dirfd, const char *path, int flags, unsigned long long resolve)
{
	struct open_how how = { .flags = (unsigned long long)flags | O_CLOEXEC, .resolve = resolve };

	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

/* A file of the archive: never through a symlink, never outside DIR. */
static int open_blob(struct unpack *u, const char *path)
{
	int fd = oci_openat2(u->dirfd, path, O_RDONLY,
			     RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);

	if (fd < 0)
		fail(u, "%s: %s", path, errno == ENOENT ? "missing from the archive" : strerror(errno));
	return fd;
}

/*
 * Check blob b's sha256 (and size when stated); with keep, its bytes (at most
 * OCI_JSON_MAX) into *data, NUL-terminated, for the caller to free.
 * @ret 0 or -1 with u->err.
 */
static int check_blob(struct unpack *u, const struct oci_blob *b, const char *what, char **data,
		      size_t *len)
{
	struct sha256_ctx h;
	unsigned char d[SHA256_DIGEST_SIZE];
	char hex[2 * SHA256_DIGEST_SIZE + 1], buf[65536], *keep = NULL;
	long long total = 0;
	ssize_t n;
	size_t i;
	int fd = open_blob(u, b->path);

	if (fd < 0)
		return -1;
	sha256_init(&h);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		sha256_update(&h, (size_t)n, (const uint8_t *)buf);
		if (data) {
			char *k;
			if (total + n > OCI_JSON_MAX) {
				free(keep);
				close(fd);
				return fail(u, "%s (%s): larger than %d bytes", what, b->path, OCI_JSON_MAX);
			}
			k = realloc(keep, (size_t)(total + n + 1));
			if (!k) {
				free(keep);
				close(fd);
				return fail(u, "out of memory");
			}
			keep = k;
			memcpy(keep + total, buf, (size_t)n);
		}
		total += n;
	}
	close(fd);
	if (n < 0) {
		free(keep);
		return fail(u, "%s (%s): %s", what, b->path, strerror(errno));
	}
	sha256_digest(&h, sizeof(d), d);
	for (i = 0; i < sizeof(d); i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	if (b->size >= 0 && total != b->size) {
		free(keep);
		return fail(u, "%s (%s): %lld bytes, the manifest says %lld (truncated?)", what, b->path,
			    total, (long long)b->size);
	}
	if (strcmp(b->digest + 7, hex)) {
		free(keep);
		return fail(u, "%s (%s): digest mismatch: got sha256:%s, want %s", what, b->path, hex,
			    b->digest);
	}
	if (data) {
		if (!keep && !(keep = malloc(1)))
			return fail(u, "out of memory");
		keep[total] = '\0';
		*data = keep;
		*len = (size_t)total;
	}
	return 0;
}

/* Read a JSON file of DIR that no digest covers (index.json, manifest.json). */
static int read_top(struct unpack *u, const char *path, char **data, size_t *len)
{
	struct stat st;
	int fd = open_blob(u, path);
	ssize_t n;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > OCI_JSON_MAX) {
		close(fd);
		return fail(u, "%s: not a file of at most %d bytes", path, OCI_JSON_MAX);
	}
	*data = malloc((size_t)st.st_size + 1);
	if (!*data) {
		close(fd);
		return fail(u, "out of memory");
	}
	n = read(fd, *data, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(*data);
		return fail(u, "%s: short read", path);
	}
	(*data)[n] = '\0';
	*len = (size_t)n;
	return 0;
}

/* Which blobs make the image, each checked.  @ret 0 or -1 with u->err. */
static int load_image(struct unpack *u, struct oci_image *img)
{
	char *text = NULL, why[400];
	size_t len, i;
	int nested = 0, depth, rc;

	if (!faccessat(u->dirfd, "index.json", F_OK, AT_SYMLINK_NOFOLLOW)) {
		struct oci_blob m;
		if (read_top(u, "index.json", &text, &len))
			return -1;
		rc = oci_parse_index(text, len, &m, &nested, why, sizeof(why));
		free(text);
		if (rc)
			return fail(u, "%s", why);
		/* An index names a manifest, or (multi-platform) one more index. */
		for (depth = 0; nested; depth++) {
			if (depth == 1)
				return fail(u, "index.json: image indexes nested more than two deep");
			if (check_blob(u, &m, "image index", &text, &len))
				return -1;
			rc = oci_parse_index(text, len, &m, &nested, why, sizeof(why));
			free(text);
			if (rc)
				return fail(u, "%s", why);
		}
		if (check_blob(u, &m, "manifest", &text, &len))
			return -1;
		rc = oci_parse_manifest(text, len, img, why, sizeof(why));
		free(text);
	} else if (!faccessat(u->dirfd, "manifest.json", F_OK, AT_SYMLINK_NOFOLLOW)) {
		if (read_top(u, "manifest.json", &text, &len))
			return -1;
		rc = oci_parse_docker(text, len, img, why, sizeof(why));
		free(text);
	} else {
		return fail(u, "neither index.json nor manifest.json: not an OCI or docker image archive");
	}
	if (rc)
		return fail(u, "%s", why);
	if (check_blob(u, &img->config, "config", &text, &len))
		return -1;
	rc = oci_parse_config(text, len, img, why, sizeof(why));
	free(text);
	if (rc)
		return fail(u, "%s", why);
	for (i = 0; i < img->nlayers; i++) {
		snprintf(why, sizeof(why), "layer %zu", i + 1);
		if (check_blob(u, &img->layers[i], why, NULL, NULL))
			return -1;
	}
	return 0;
}

/* Remove name in dirfd, a folder with all it holds.  @ret 0 (also when absent) or -errno. */
static int rm_tree(int at, const char *name)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int fd, rc = 0;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(at, name, 0) ? -errno : 0;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while (!rc && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			rc = rm_tree(dirfd(d), de->d_name);
	closedir(d);
	if (!rc && unlinkat(at, name, AT_REMOVEDIR))
		rc = -errno;
	return rc;
}

/* Empty folder fd (an opaque whiteout).  @ret 0 or -errno. */
static int empty_dir(int fd)
{
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;
	struct dirent *de;
	DIR *d;

	if (dfd < 0 || !(d = fdopendir(dfd))) {
		if (dfd >= 0)
			close(dfd);
		return -errno;
	}
	while (!rc && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			rc = rm_tree(dirfd(d), de->d_name);
	closedir(d);
	return rc;
}

/* Folder path of ROOT (symlinks resolved inside ROOT); made when create.  @ret an fd or -errno. */
static int open_dir(struct unpack *u, const char *path, int create)
{
	char parent[PATH_MAX], *slash;
	int fd, pfd;

	if (!*path)
		return fcntl(u->rootfd, F_DUPFD_CLOEXEC, 0);
	fd = oci_openat2(u->rootfd, path, O_PATH | O_DIRECTORY, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	if (fd >= 0 || errno != ENOENT || !create)
		return fd >= 0 ? fd : -errno;
	snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	if (slash)
		*slash = '\0';
	else
		parent[0] = '\0';
	pfd = open_dir(u, parent, 1);
	if (pfd < 0)
		return pfd;
	if (mkdirat(pfd, slash ? slash + 1 : path, 0755) && errno != EEXIST) {
		close(pfd);
		return -errno;
	}
	close(pfd);
	fd = oci_openat2(u->rootfd, path, O_PATH | O_DIRECTORY, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	return fd >= 0 ? fd : -errno;
}

/* How many folders below ROOT the folder fd really is. */
static int dir_depth(struct unpack *u, int fd)
{
	char link[64], path[PATH_MAX];
	size_t rl = strlen(u->rootpath);
	ssize_t n;
	int d = 0;
	const char *p;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 0)
		return -1;
	path[n] = '\0';
	if (strncmp(path, u->rootpath, rl) || (path[rl] && path[rl] != '/'))
		return -1;
	for (p = path + rl; *p; p++)
		d += *p == '/';
	return d;
}

static void split(char *path, const char **dir, const char **base)
{
	char *slash = strrchr(path, '/');

	if (slash) {
		*slash = '\0';
		*dir = path;
		*base = slash + 1;
	} else {
		*dir = "";
		*base = path;
	}
}

/* Set owner, mode and times of base in pfd as the entry says. */
static int set_meta(int pfd, const char *base, struct archive_entry *e, int islink)
{
	struct timespec ts[2] = { { .tv_sec = archive_entry_mtime(e) }, { .tv_sec = archive_entry_mtime(e) } };

	if (fchownat(pfd, base, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e),
		     AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (!islink && fchmodat(pfd, base, archive_entry_perm(e) & 07777, 0))
		return -errno;
	utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
	return 0;
}

/* A regular file's bytes.  @ret 0 or -1 with u->err. */
static int write_file(struct unpack *u, struct archive *a, struct archive_entry *e, int pfd,
		      const char *base, const char *name)
{
	const char *xname;
	const void *xval, *blk;
	size_t xlen, size;
	la_int64_t off;
	int fd, r;

	fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail(u, "%s: %s", name, strerror(errno));
	while ((r = archive_read_data_block(a, &blk, &size, &off)) == ARCHIVE_OK) {
		if (pwrite(fd, blk, size, off) != (ssize_t)size) {
			close(fd);
			return fail(u, "%s: write: %s", name, strerror(errno));
		}
	}
	if (r != ARCHIVE_EOF) {
		close(fd);
		return fail(u, "%s: %s", name, archive_error_string(a));
	}
	if (ftruncate(fd, archive_entry_size(e))) {
		close(fd);
		return fail(u, "%s: %s", name, strerror(errno));
	}
	/* File capabilities (ping, ...) travel as xattrs: chown first, it clears them. */
	if (fchown(fd, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e)) ||
	    fchmod(fd, archive_entry_perm(e) & 07777)) {
		close(fd);
		return fail(u, "%s: %s", name, strerror(errno));
	}
	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &xname, &xval, &xlen) == ARCHIVE_OK)
		if (!strncmp(xname, "security.", 9) || !strncmp(xname, "user.", 5))
			fsetxattr(fd, xname, xval, xlen, 0);
	{
		struct timespec ts[2] = { { .tv_sec = archive_entry_mtime(e) },
					  { .tv_sec = archive_entry_mtime(e) } };
		futimens(fd, ts);
	}
	close(fd);
	return 0;
}

/* One entry of a layer (not a whiteout).  @ret 0 or -1 with u->err. */
static int apply_entry(struct unpack *u, struct archive *a, struct archive_entry *e,
		       const char *name)
{
	char path[PATH_MAX], tgt[PATH_MAX], why[400];
	const char *dir, *base, *hl = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e);
	struct stat st;
	int pfd, rc = 0;

	snprintf(path, sizeof(path), "%s", name);
	split(path, &dir, &base);
	pfd = open_dir(u, dir, 1);
	if (pfd < 0)
		return fail(u, "%s: cannot make its folder: %s", name, strerror(-pfd));
	if (type == AE_IFDIR) {
		if (!fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) && !S_ISDIR(st.st_mode))
			rc = rm_tree(pfd, base);
		if (!rc && mkdirat(pfd, base, 0755) && errno != EEXIST)
			rc = -errno;
		if (!rc)
			rc = set_meta(pfd, base, e, 0);
		goto out;
	}
	rc = rm_tree(pfd, base);
	if (rc)
		goto out;
	if (hl) {
		/* A hard link names another entry of the image: resolved inside ROOT too. */
		char hpath[PATH_MAX];
		const char *hdir, *hbase;
		int hfd;
		why[0] = '\0';
		if (oci_entry_path(hl, hpath, sizeof(hpath), why, sizeof(why)) || !*hpath) {
			close(pfd);
			return fail(u, "%s: hard link: %s", name, *why ? why : "to the root");
		}
		split(hpath, &hdir, &hbase);
		hfd = open_dir(u, hdir, 0);
		if (hfd < 0 || linkat(hfd, hbase, pfd, base, 0)) {
			rc = hfd < 0 ? hfd : -errno;
			if (hfd >= 0)
				close(hfd);
			close(pfd);
			return fail(u, "%s: hard link to %s: %s", name, hl, strerror(-rc));
		}
		close(hfd);
		goto out;
	}
	switch (type) {
	case AE_IFREG:
		rc = write_file(u, a, e, pfd, base, name);
		close(pfd);
		return rc;
	case AE_IFLNK: {
		int depth = dir_depth(u, pfd);
		if (depth < 0 || oci_link_target(archive_entry_symlink(e) ? archive_entry_symlink(e) : "",
						 depth, tgt, sizeof(tgt), why, sizeof(why))) {
			close(pfd);
			return fail(u, "%s: %s", name, depth < 0 ? "folder outside the root" : why);
		}
		if (symlinkat(tgt, pfd, base))
			rc = -errno;
		else
			rc = set_meta(pfd, base, e, 1);
		break;
	}
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO:
		if (mknodat(pfd, base, type | (archive_entry_perm(e) & 07777), archive_entry_rdev(e)))
			rc = -errno;
		else
			rc = set_meta(pfd, base, e, 0);
		break;
	default:
		break; /* sockets: nothing to keep */
	}
out:
	close(pfd);
	if (rc)
		return fail(u, "%s: %s", name, strerror(-rc));
	return 0;
}

/* A whiteout entry, applied to the layers below.  @ret 0 or -1 with u->err. */
static int apply_whiteout(struct unpack *u, const char *name)
{
	char path[PATH_MAX];
	const char *dir, *base;
	int pfd, rc;

	snprintf(path, sizeof(path), "%s", name);
	split(path, &dir, &base);
	pfd = open_dir(u, dir, 0);
	if (pfd == -ENOENT || pfd == -ENOTDIR)
		return 0; /* nothing below to hide */
	if (pfd < 0)
		return fail(u, "%s: %s", name, strerror(-pfd));
	if (!strcmp(base, ".wh..wh..opq"))
		rc = empty_dir(pfd);
	else if (!strncmp(base, ".wh..wh.", 8))
		rc = 0; /* aufs' own bookkeeping */
	else if (!base[4] || !strcmp(base + 4, ".") || !strcmp(base + 4, ".."))
		rc = -EINVAL;
	else
		rc = rm_tree(pfd, base + 4);
	close(pfd);
	u->whiteouts++;
	return rc ? fail(u, "%s: whiteout: %s", name, strerror(-rc)) : 0;
}

/*
 * Layer b in two passes: its whiteouts first (they hide what is below, never
 * what the layer itself holds), then its entries.  @ret 0 or -1 with u->err.
 */
static int apply_layer(struct unpack *u, const struct oci_blob *b, int n)
{
	struct archive_entry *e;
	char name[PATH_MAX], why[400];
	const char *base;
	int pass, fd, r, rc = 0;

	for (pass = 0; pass < 2 && !rc; pass++) {
		struct archive *a = archive_read_new();
		if (!a)
			return fail(u, "out of memory");
		archive_read_support_filter_all(a);
		archive_read_support_format_tar(a);
		fd = open_blob(u, b->path);
		if (fd < 0) {
			archive_read_free(a);
			return -1;
		}
		if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK) {
			rc = fail(u, "layer %d (%s): %s", n, b->path, archive_error_string(a));
			goto next;
		}
		while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
			const char *raw = archive_entry_pathname(e);
			if (!raw || oci_entry_path(raw, name, sizeof(name), why, sizeof(why))) {
				rc = fail(u, "layer %d: refused entry %s", n, raw ? why : "without a name");
				break;
			}
			if (!*name)
				continue; /* "./", the root itself */
			base = strrchr(name, '/');
			base = base ? base + 1 : name;
			if (!strncmp(base, ".wh.", 4)) {
				if (!pass && apply_whiteout(u, name)) {
					rc = -1;
					break;
				}
				continue;
			}
			if (!pass)
				continue;
			if (apply_entry(u, a, e, name)) {
				char keep[sizeof(u->err)];
				snprintf(keep, sizeof(keep), "%s", u->err);
				rc = fail(u, "layer %d: %s", n, keep);
				break;
			}
			u->entries++;
		}
		if (!rc && r != ARCHIVE_EOF)
			rc = fail(u, "layer %d (%s): not a tar archive: %s", n, b->path,
				  archive_error_string(a));
next:
		archive_read_free(a);
		close(fd);
	}
	return rc;
}

static struct unpack *walk_u;
static int walk_bad;

/* nftw: a symlink that leads out of ROOT when the host follows it. */
static int walk_link(const char *fpath, const struct stat *sb, int flag, struct FTW *ftw)
{
	const char *rel;
	int fd;

	(void)sb;
	(void)ftw;
	if (flag != FTW_SL && flag != FTW_SLN)
		return 0;
	rel = fpath + strlen(walk_u->rootpath) + 1;
	fd = oci_openat2(walk_u->rootfd, rel, O_PATH, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno == EXDEV) {
		char t[PATH_MAX];
		ssize_t n = readlink(fpath, t, sizeof(t) - 1);
		t[n > 0 ? n : 0] = '\0';
		fail(walk_u, "/%s -> %s leads out of the root", rel, t);
		walk_bad = 1;
		return 1;
	}
	return 0; /* dangling, a loop: harmless */
}

int main(int argc, char **argv)
{
	static struct oci_image img;
	struct unpack u = { .dirfd = -1, .rootfd = -1 };
	size_t i;

	char dir[PATH_MAX], *slash;

	if (argc != 4 || (strcmp(argv[1], "unpack") && strcmp(argv[1], "tar"))) {
		fprintf(stderr, "usage: snow-oci unpack DIR ROOT\n       snow-oci tar TARBALL ROOT\n");
		return 2;
	}
	/* tar: one root filesystem tarball, applied as a single layer. */
	snprintf(dir, sizeof(dir), "%s", argv[2]);
	slash = strrchr(dir, '/');
	if (!strcmp(argv[1], "tar")) {
		if (!slash)
			snprintf(dir, sizeof(dir), ".");
		else
			*slash = '\0';
		img.nlayers = 1;
		snprintf(img.layers[0].path, sizeof(img.layers[0].path), "%s",
			 slash ? slash + 1 : argv[2]);
	}
	u.dirfd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	u.rootfd = open(argv[3], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (u.dirfd < 0 || u.rootfd < 0 || !realpath(argv[3], u.rootpath)) {
		fprintf(stderr, "snow-oci: error: %s: %s\n", u.dirfd < 0 ? argv[2] : argv[3],
			strerror(errno));
		return 1;
	}
	if (!strcmp(argv[1], "unpack")) {
		if (load_image(&u, &img))
			goto err;
		fprintf(stderr, "snow-oci: %s image, %zu layers, every digest checked\n",
			img.docker ? "docker" : "OCI", img.nlayers);
	}
	for (i = 0; i < img.nlayers; i++)
		if (apply_layer(&u, &img.layers[i], (int)i + 1))
			goto err;
	walk_u = &u;
	if (nftw(u.rootpath, walk_link, 64, FTW_PHYS) < 0 && !walk_bad) {
		fail(&u, "%s: %s", u.rootpath, strerror(errno));
		goto err;
	}
	if (walk_bad)
		goto err;
	fprintf(stderr, "snow-oci: %ld entries, %ld whiteouts applied\n", u.entries, u.whiteouts);
	return 0;
err:
	fprintf(stderr, "snow-oci: error: %s\n", u.err);
	return 1;
}
