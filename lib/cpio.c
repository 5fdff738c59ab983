#include "cpio.h"

#include <errno.h>
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
