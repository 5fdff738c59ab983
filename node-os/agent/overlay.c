#include "overlay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cpio.h"

#define OVERLAY_MAX (4u << 20) /* an overlay is a few KiB */

int overlay_cpio_find(const char *cpio, size_t len, const char *name, const char **data,
		      size_t *size, char *err, size_t errlen)
{
	const void *p;
	int rc;

	rc = cpio_find(cpio, len, name, &p, size, err, errlen);
	if (!rc)
		*data = p;
	return rc;
}

int overlay_write_conf(const char *cpio, size_t len, const char *out, char *err, size_t errlen)
{
	const char *data;
	size_t size;
	ssize_t n;
	int fd, rc;

	if (len > OVERLAY_MAX) {
		snprintf(err, errlen, "overlay: %zu bytes is too big", len);
		return -EFBIG;
	}
	rc = overlay_cpio_find(cpio, len, "etc/snow/node.conf", &data, &size, err, errlen);
	if (rc)
		return rc;
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%.200s: %s", out, strerror(errno));
		return rc;
	}
	n = write(fd, data, size);
	if (close(fd) || n != (ssize_t)size) {
		snprintf(err, errlen, "%.200s: write failed", out);
		return -EIO;
	}
	return 0;
}
