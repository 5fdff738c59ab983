/*
 * Fuzz target: the wake-up datagram (lib/wakeup.c), as the agent and
 * snow-nodesim receive it.  An input the parser accepts must hold what it
 * promises (a node name, 64 lowercase hex digits) and, built again with
 * its own fields, be the same datagram but for a final newline; an input
 * refused leaves an error message.  Whatever is accepted then goes through
 * wakeup_accept with a fixed key: only a datagram built with that key may
 * pass, and only once.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wakeup.h"

#define FZ_CHECK(cond, ...)                                                                        \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "wakeup: " __VA_ARGS__);                                   \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char key[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	struct wakeup_guard g = { 0 };
	struct wakeup_msg m;
	char err[128] = "", again[WAKEUP_MAX + 1], want[65];
	size_t len = size;
	int rc, n;

	rc = wakeup_parse(data, size, &m, err, sizeof(err));
	if (rc) {
		FZ_CHECK(rc == -EINVAL && err[0], "refused with rc %d and no message", rc);
		return 0;
	}
	FZ_CHECK(!valid_name(m.name, NULL, 0), "name '%s' accepted", m.name);
	FZ_CHECK(strlen(m.mac) == SIGN_HEX_LEN && strspn(m.mac, "0123456789abcdef") == SIGN_HEX_LEN,
		 "mac '%s' accepted", m.mac);
	if (len && data[len - 1] == '\n')
		len--;
	n = snprintf(again, sizeof(again), WAKEUP_MAGIC " %s %lld %llu %s", m.name, (long long)m.time,
		     (unsigned long long)m.nonce, m.mac);
	FZ_CHECK(n > 0 && (size_t)n == len && !memcmp(again, data, len),
		 "'%.*s' read back as '%s'", (int)len, (const char *)data, again);
	/* Only the right MAC passes, once. */
	sign_request(key, "WAKE", m.name, m.time, m.nonce, NULL, 0, want);
	rc = wakeup_accept(&g, &m, m.name, key, m.time, 1);
	if (strcmp(want, m.mac))
		FZ_CHECK(rc == -EBADMSG, "a wrong MAC gave %d", rc);
	else if (!rc)
		FZ_CHECK(wakeup_accept(&g, &m, m.name, key, m.time, 2) == -EALREADY, "accepted twice");
	return 0;
}
