#include "overlay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OVERLAY_MAX (4u << 20) /* an overlay is a few KiB */

/* Eight hex digits of a newc header field. */
static int overlay_hex8(const char *p, unsigned long *out)
{
	char buf[9];
	char *end;

	memcpy(buf, p, 8);
	buf[8] = '\0';
	*out = strtoul(buf, &end, 16);
	return *end ? -EINVAL : 0;
}

static size_t overlay_pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

int overlay_cpio_find(const char *cpio, size_t len, const char *name, const char **data,
		      size_t *size, char *err, size_t errlen)
{
	size_t off = 0;

	while (off + 110 <= len) {
		const char *h = cpio + off;
		unsigned long namesize, filesize;
		const char *fname;
		size_t doff;

		if (memcmp(h, "070701", 6) && memcmp(h, "070702", 6)) {
			snprintf(err, errlen, "overlay: bad cpio header at byte %zu", off);
			return -EINVAL;
		}
		if (overlay_hex8(h + 54, &filesize) || overlay_hex8(h + 94, &namesize) ||
		    namesize == 0 || off + 110 + namesize > len) {
			snprintf(err, errlen, "overlay: bad cpio entry at byte %zu", off);
			return -EINVAL;
		}
		fname = h + 110;
		if (fname[namesize - 1] != '\0') {
			snprintf(err, errlen, "overlay: unterminated name at byte %zu", off);
			return -EINVAL;
		}
		doff = overlay_pad4(off + 110 + namesize);
		if (doff + filesize > len) {
			snprintf(err, errlen, "overlay: truncated entry '%.64s'", fname);
			return -EINVAL;
		}
		if (!strcmp(fname, "TRAILER!!!"))
			break;
		while (*fname == '.' && fname[1] == '/')
			fname += 2;
		while (*fname == '/')
			fname++;
		if (!strcmp(fname, name)) {
			*data = cpio + doff;
			*size = filesize;
			return 0;
		}
		off = overlay_pad4(doff + filesize);
	}
	snprintf(err, errlen, "overlay: no %s in it", name);
	return -ENOENT;
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
