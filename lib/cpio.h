/*
 * Writer for the "newc" cpio format the Linux kernel unpacks from an
 * initramfs.  Entries are appended to a struct buf; cpio_finish() adds the
 * trailer.  Parent directories must be added before their files.
 */
#ifndef SNOW_CPIO_H
#define SNOW_CPIO_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

/* @ret 0 or -ENOMEM / -EINVAL (name empty or over 1023 bytes). */
int cpio_add_dir(struct buf *out, const char *path, mode_t perm);
int cpio_add_file(struct buf *out, const char *path, mode_t perm, const void *data, size_t len);
int cpio_add_symlink(struct buf *out, const char *path, const char *target);
int cpio_finish(struct buf *out);

#endif
