/*
 * Paths as snowd's router reads them (host/route.c), /boot/... among them:
 * "METHOD PATH" lines matched against the real route table.  Besides
 * crashes: a match is the row of that method; every {x} it captured is a
 * whole segment (no /, not empty but for the console's tail, within its length), a {mac} parses as
 * a MAC; a path that no row takes says so, and a route's own pattern with
 * its parameters filled in is matched by that row again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "valid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[600], *path;
	struct http_ctx h;
	const struct route *r;
	int allowed, i;

	if (size >= sizeof(line))
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	if (strlen(line) != size || !(path = strchr(line, ' ')))
		return 0;
	*path++ = '\0';
	memset(&h, 0, sizeof(h));
	r = route_match(line, path, &h, &allowed);
	if (!r)
		return 0;
	if (strcmp(r->method, line)) {
		fprintf(stderr, "%s %s matched a %s row\n", line, path, r->method);
		abort();
	}
	for (i = 0; i < HTTP_MAX_PARAMS && h.param[i]; i++) {
		size_t len = strlen(h.param[i]);
		int tail = strstr(r->pattern, "*") != NULL;
		if ((!len && !tail) || len > HTTP_PARAM_MAX || (!tail && strchr(h.param[i], '/'))) {
			fprintf(stderr, "%s: parameter %d '%s' is not one segment\n", r->pattern, i,
				h.param[i]);
			abort();
		}
	}
	if (strstr(r->pattern, "{mac}")) {
		char mac[SNOW_MAC_STRLEN + 1];
		if (valid_mac(h.param[0], mac, NULL, 0)) {
			fprintf(stderr, "%s: '%s' is not a MAC\n", r->pattern, h.param[0]);
			abort();
		}
	}
	return 0;
}
