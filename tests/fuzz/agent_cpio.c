/*
 * Fuzz target: the overlay the agent fetches from snowd on config.reload
 * (node-os/agent/overlay.c, through lib/cpio.c's reader), as a hostile boot
 * network could send it.  Checks that what is found lies inside the input,
 * that walking the archive entry by entry moves forward on 4-byte bounds and
 * agrees with the finder, and that every refusal says why.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpio.h"
#include "overlay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *base = (const char *)data, *found = NULL;
	struct cpio_entry e;
	size_t flen = 0, off = 0, prev = 0;
	char err[256] = "";
	int rc, walk;

	rc = overlay_cpio_find(base, size, "etc/snow/node.conf", &found, &flen, err, sizeof(err));
	if (rc == 0 && (found < base || flen > size || (size_t)(found - base) > size - flen))
		abort();
	if (rc && ((rc != -EINVAL && rc != -ENOENT) || !err[0]))
		abort();
	while ((walk = cpio_next(data, size, &off, &e, err, sizeof(err))) > 0) {
		const char *n = e.name;
		size_t nl = strlen(n);

		if (off <= prev || off > size || (off & 3) || !nl || nl >= CPIO_NAME_MAX ||
		    n < base || (size_t)(n - base) + nl >= size ||
		    (const char *)e.data < base || e.size > size ||
		    (size_t)((const char *)e.data - base) > size - e.size)
			abort();
		prev = off;
	}
	/* The finder reads the same archive to its trailer: both refuse it or neither. */
	if ((walk < 0) != (rc == -EINVAL))
		abort();
	return 0;
}
