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

int overlay_fetch_conf(const struct http_url *url, const char *mac, const char *out,
		       int timeout_ms, char *err, size_t errlen)
{
	struct http_response resp = { 0 };
	char path[64];
	const char *data;
	size_t size;
	ssize_t n;
	int fd, rc;

	snprintf(path, sizeof(path), "/boot/%s/overlay.cpio", mac);
	rc = http_request(url, "GET", path, NULL, 0, NULL, 0, timeout_ms, &resp, err, errlen);
	if (rc)
		goto out;
	if (resp.status != 200) {
		snprintf(err, errlen, "overlay: GET %s answered %d", path, resp.status);
		rc = -EPROTO;
		goto out;
	}
	if (resp.body.len > OVERLAY_MAX) {
		snprintf(err, errlen, "overlay: %zu bytes is too big", resp.body.len);
		rc = -EFBIG;
		goto out;
	}
	rc = overlay_cpio_find(resp.body.data, resp.body.len, "etc/snow/node.conf", &data, &size,
			       err, errlen);
	if (rc)
		goto out;
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", out, strerror(errno));
		goto out;
	}
	n = write(fd, data, size);
	if (n != (ssize_t)size || close(fd)) {
		rc = n < 0 ? -errno : -EIO;
		snprintf(err, errlen, "%s: write failed", out);
		if (n == (ssize_t)size)
			goto out;
		close(fd);
		goto out;
	}
out:
	http_response_free(&resp);
	return rc;
}
