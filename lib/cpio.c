#include "cpio.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Inode numbers only need to be distinct within one archive. */
static unsigned cpio_ino_next(struct buf *out)
{
	return 0x5000 + (unsigned)(out->len & 0xfffff);
}

static int cpio_pad4(struct buf *out)
{
	static const char zeros[4];
	size_t pad = (4 - (out->len & 3)) & 3;

	return pad ? buf_append(out, zeros, pad) : 0;
}

static int cpio_entry(struct buf *out, const char *path, unsigned mode, const void *data,
		      size_t len)
{
	size_t namelen;
	int rc;

	if (!path || !*path)
		return -EINVAL;
	namelen = strlen(path) + 1;
	if (namelen > 1024 || len > 0xffffffffu)
		return -EINVAL;
	/* mtime 0 keeps the archive reproducible, which the golden tests need. */
	rc = buf_printf(out,
			"070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08zX%08X",
			cpio_ino_next(out), mode, 0u, 0u, (mode & S_IFMT) == S_IFDIR ? 2u : 1u, 0u,
			(unsigned)len, 0u, 0u, 0u, 0u, namelen, 0u);
	if (!rc)
		rc = buf_append(out, path, namelen);
	if (!rc)
		rc = cpio_pad4(out);
	if (!rc && len)
		rc = buf_append(out, data, len);
	if (!rc)
		rc = cpio_pad4(out);
	return rc;
}

int cpio_add_dir(struct buf *out, const char *path, mode_t perm)
{
	return cpio_entry(out, path, S_IFDIR | (perm & 07777), NULL, 0);
}

int cpio_add_file(struct buf *out, const char *path, mode_t perm, const void *data, size_t len)
{
	return cpio_entry(out, path, S_IFREG | (perm & 07777), data, len);
}

int cpio_add_symlink(struct buf *out, const char *path, const char *target)
{
	return cpio_entry(out, path, S_IFLNK | 0777, target, strlen(target));
}

int cpio_finish(struct buf *out)
{
	return cpio_entry(out, "TRAILER!!!", 0, NULL, 0);
}

/* ---- reader ------------------------------------------------------------------ */

#define CPIO_HDR_LEN 110
#define CPIO_NFIELDS 13
/* The fields a reader uses, by their index in the header. */
enum { CPIO_F_MODE = 1, CPIO_F_FILESIZE = 6, CPIO_F_NAMESIZE = 11 };

static const char *const cpio_field_names[CPIO_NFIELDS] = {
	"ino",      "mode",     "uid",       "gid",       "nlink",    "mtime", "filesize",
	"devmajor", "devminor", "rdevmajor", "rdevminor", "namesize", "check",
};

/*
 * Exactly eight hex digits: no sign, no blank, no "0x" (strtoul takes all
 * three, and a '-' made a size wrap round).  @ret 0 or -EINVAL.
 */
static int cpio_hex8(const char *p, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 8; i++) {
		unsigned c = (unsigned char)p[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -EINVAL;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

/* n rounded up to 4, or SIZE_MAX when that would wrap. */
static size_t cpio_pad4_size(size_t n)
{
	return n > SIZE_MAX - 3 ? SIZE_MAX : (n + 3) & ~(size_t)3;
}

int cpio_next(const void *data, size_t len, size_t *off, struct cpio_entry *e, char *err,
	      size_t errlen)
{
	const char *base = data, *h, *name;
	uint32_t f[CPIO_NFIELDS];
	size_t at = *off, name_off, data_off, end;
	int i;

	if (at > len || len - at < CPIO_HDR_LEN) {
		snprintf(err, errlen,
			 at >= len ? "cpio: ends at byte %zu without its TRAILER!!! entry"
				   : "cpio: header at byte %zu cut short",
			 at);
		return -EINVAL;
	}
	h = base + at;
	/* 070701 is newc; 070702 adds a checksum we have no use for. */
	if (memcmp(h, "070701", 6) && memcmp(h, "070702", 6)) {
		snprintf(err, errlen, "cpio: bad magic at %zu (not newc)", at);
		return -EINVAL;
	}
	for (i = 0; i < CPIO_NFIELDS; i++) {
		if (cpio_hex8(h + 6 + 8 * i, &f[i])) {
			snprintf(err, errlen,
				 "cpio: header at byte %zu: %s is not hex (eight digits 0-9a-f)", at,
				 cpio_field_names[i]);
			return -EINVAL;
		}
	}
	name_off = at + CPIO_HDR_LEN;
	if (f[CPIO_F_NAMESIZE] < 2 || f[CPIO_F_NAMESIZE] > CPIO_NAME_MAX ||
	    f[CPIO_F_NAMESIZE] > len - name_off) {
		snprintf(err, errlen,
			 "cpio: header at byte %zu: namesize %" PRIu32
			 " out of range (2..%d, and %zu bytes left)",
			 at, f[CPIO_F_NAMESIZE], CPIO_NAME_MAX, len - name_off);
		return -EINVAL;
	}
	name = base + name_off;
	if (name[f[CPIO_F_NAMESIZE] - 1] != '\0' ||
	    memchr(name, '\0', f[CPIO_F_NAMESIZE] - 1)) {
		snprintf(err, errlen, "cpio: name at byte %zu not NUL-terminated", name_off);
		return -EINVAL;
	}
	data_off = cpio_pad4_size(name_off + f[CPIO_F_NAMESIZE]);
	if (data_off > len) {
		snprintf(err, errlen, "cpio: entry at byte %zu: name padding past the end", at);
		return -EINVAL;
	}
	if (f[CPIO_F_FILESIZE] > len - data_off) {
		snprintf(err, errlen,
			 "cpio: entry at byte %zu: filesize %" PRIu32
			 " runs past the end (%zu bytes left)",
			 at, f[CPIO_F_FILESIZE], len - data_off);
		return -EINVAL;
	}
	if (!strcmp(name, "TRAILER!!!")) {
		/* Whatever follows (a tape block's zeros) is not ours to read. */
		*off = len;
		return 0;
	}
	end = cpio_pad4_size(data_off + f[CPIO_F_FILESIZE]);
	if (end > len) {
		snprintf(err, errlen, "cpio: entry at byte %zu: data padding past the end", at);
		return -EINVAL;
	}
	e->name = name;
	e->mode = f[CPIO_F_MODE];
	e->data = base + data_off;
	e->size = f[CPIO_F_FILESIZE];
	*off = end;
	return 1;
}

int cpio_find(const void *data, size_t len, const char *path, const void **out,
	      size_t *outlen, char *err, size_t errlen)
{
	struct cpio_entry e, found = { 0 };
	size_t off = 0;
	int rc;

	/* Read to the trailer: an archive cut short is refused, found or not. */
	while ((rc = cpio_next(data, len, &off, &e, err, errlen)) > 0) {
		const char *n = e.name;

		while (n[0] == '.' && n[1] == '/')
			n += 2;
		while (n[0] == '/')
			n++;
		if (!found.name && (e.mode & S_IFMT) == S_IFREG && !strcmp(n, path))
			found = e;
	}
	if (rc < 0)
		return rc;
	if (!found.name) {
		snprintf(err, errlen, "cpio: no file %s", path);
		return -ENOENT;
	}
	*out = found.data;
	*outlen = found.size;
	return 0;
}
