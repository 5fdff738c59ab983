/*
 * config.reload: the node's overlay, fetched again from snowd over the
 * signed channel (link.c; the boot route serves it only once per boot),
 * and /etc/snow/node.conf taken out of it.
 */
#ifndef SNOW_NODE_OVERLAY_H
#define SNOW_NODE_OVERLAY_H

#include <stddef.h>

/*
 * Find the regular file named name (without a leading "./" or "/") in a
 * newc cpio archive of len bytes, with lib/cpio.h's reader (every field and
 * size checked, the whole archive read to its trailer).  *data and *size
 * point into the archive.  @ret 0, -ENOENT, or -EINVAL (malformed archive)
 * with err filled.
 */
int overlay_cpio_find(const char *cpio, size_t len, const char *name, const char **data,
		      size_t *size, char *err, size_t errlen);

/*
 * Write the etc/snow/node.conf of an overlay of len bytes to out (mode
 * 0600: it holds the node's secret).  @ret 0 or -errno with err filled.
 */
int overlay_write_conf(const char *cpio, size_t len, const char *out, char *err, size_t errlen);

#endif
