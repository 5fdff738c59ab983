/*
 * The "newc" cpio format the Linux kernel unpacks from an initramfs.
 * Writer: entries are appended to a struct buf; cpio_finish() adds the
 * trailer.  Parent directories must be added before their files.
 * Reader: one for every archive that comes from outside (the overlay the
 * agent and snow-nodesim fetch from snowd): each header field must be eight
 * hex digits, and every size is checked against what is left of the input
 * before it is used.
 */
#ifndef SNOW_CPIO_H
#define SNOW_CPIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

/* @ret 0 or -ENOMEM / -EINVAL (name empty or over 1023 bytes). */
int cpio_add_dir(struct buf *out, const char *path, mode_t perm);
int cpio_add_file(struct buf *out, const char *path, mode_t perm, const void *data, size_t len);
int cpio_add_symlink(struct buf *out, const char *path, const char *target);
int cpio_finish(struct buf *out);

#define CPIO_NAME_MAX 4096 /* namesize, with its NUL */

/* One entry of an archive being read; everything borrowed from the archive. */
struct cpio_entry {
	const char *name; /* NUL-terminated, as written (may start with "./" or "/") */
	uint32_t mode;    /* S_IFMT type and permissions */
	const void *data;
	size_t size;
};

/*
 * Read the entry at *off of the len-byte archive data into e and move *off
 * past it and its padding.  Start with *off = 0.
 * @ret 1 (an entry), 0 at the TRAILER!!! entry (e untouched; what follows the
 * trailer is ignored), or -EINVAL with err saying what is wrong at which
 * byte: bad magic, a field that is not eight hex digits, a name size out of
 * 2..CPIO_NAME_MAX, a name without its one NUL at the end, a name, data or
 * padding past the end, or an archive that ends without a trailer.
 */
int cpio_next(const void *data, size_t len, size_t *off, struct cpio_entry *e, char *err,
	      size_t errlen);

/*
 * Find the regular file path (compared without a leading "./" or "/"; the
 * first of that name wins) in a newc archive of len bytes.  The whole
 * archive is read up to its trailer first: a malformed one is refused even
 * when the file comes before the damage.  *out points into data (borrowed),
 * *outlen is its size.  @ret 0; -ENOENT when there is no such regular file
 * ("cpio: no file PATH"); -EINVAL (as cpio_next()) with err filled.
 */
int cpio_find(const void *data, size_t len, const char *path, const void **out,
	      size_t *outlen, char *err, size_t errlen);

#endif
