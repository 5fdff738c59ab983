/*
 * config.reload: fetch the node's overlay again from snowd
 * (GET HOST/boot/MAC/overlay.cpio, which snowd serves only to the node's own
 * address) and take /etc/snow/node.conf out of it.
 */
#ifndef SNOW_NODE_OVERLAY_H
#define SNOW_NODE_OVERLAY_H

#include <stddef.h>

#include "httpc.h"

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
 * Fetch the overlay for mac from the host at url and write its
 * etc/snow/node.conf to out (mode 0600).  @ret 0 or -errno with err filled.
 */
int overlay_fetch_conf(const struct http_url *url, const char *mac, const char *out,
		       int timeout_ms, char *err, size_t errlen);

#endif
