/*
 * Fuzz target: the snow_cmd NOTIFY payload another snowd sends
 * (host/peerp.c).  An accepted payload must be digits only, at most 19,
 * no leading zero, and print back to itself; a refused one leaves *id alone.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peerp.h"

#define FZ_CHECK(cond, ...)                                                                        \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "peerp: " __VA_ARGS__);                                    \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), again[32];
	int64_t id = -7;
	int rc;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0'; /* a NOTIFY payload is a C string: a NUL inside ends it */
	rc = peer_parse_id(s, &id);
	if (rc) {
		FZ_CHECK(rc == -EINVAL, "refused with rc %d", rc);
		FZ_CHECK(id == -7, "refused, yet *id changed to %" PRId64, id);
	} else {
		FZ_CHECK(id > 0, "accepted id %" PRId64, id);
		snprintf(again, sizeof(again), "%" PRId64, id);
		FZ_CHECK(!strcmp(again, s), "'%s' accepted as %s", s, again);
	}
	FZ_CHECK(peer_parse_id(NULL, &id) == -EINVAL, "NULL accepted");
	free(s);
	return 0;
}
