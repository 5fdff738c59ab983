/*
 * Fuzz target: what snow-nodesim reads from the overlay snowd serves it
 * (host/nodesim/ovl.c): the newc archive (lib/cpio.c's reader, shared with
 * the agent) and the node.conf inside.  The first byte picks the archive
 * (0) or node.conf's text alone (1), so the text parser is reached without
 * a valid archive around it.  Checks that an accepted node.conf holds what
 * ovl.h promises: the required fields set, strings terminated, the secret
 * 64 lowercase hex digits, thresholds within bounds.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ovl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ovl_conf c;
	char err[512] = "";
	int rc;

	if (size < 1)
		return 0;
	if (data[0] & 1)
		rc = ovl_conf_parse((const char *)data + 1, size - 1, &c, err, sizeof(err));
	else
		rc = ovl_parse(data + 1, size - 1, &c, err, sizeof(err));
	if (rc) {
		if ((rc != -EINVAL && rc != -ENOENT) || !err[0] || !memchr(err, '\0', sizeof(err)))
			abort();
		return 0;
	}
	if (!memchr(c.name, '\0', sizeof(c.name)) || !c.name[0] ||
	    !memchr(c.host_url, '\0', sizeof(c.host_url)) || !c.host_url[0] ||
	    !memchr(c.sysctl_allow, '\0', sizeof(c.sysctl_allow)) ||
	    strlen(c.mac) != SNOW_MAC_STRLEN || strlen(c.secret) != SIGN_SECRET_HEX_LEN ||
	    strspn(c.secret, "0123456789abcdef") != SIGN_SECRET_HEX_LEN || c.nthr > OVL_THR_MAX ||
	    (c.interval_ms && (c.interval_ms < 100 || c.interval_ms > 3600000)))
		abort();
	ovl_sysctl_allowed(&c, "vm.swappiness");
	return 0;
}
