/*
 * Fuzz target: an HTTP answer as the client reads it (lib/httpc.c,
 * http_response_parse(): status line, headers, chunked or plain body).  The
 * input is the bytes the server sent, in a buffer of exactly their size
 * plus the NUL struct buf keeps.  Checks: a body is never longer than what
 * came, and a plain (not chunked) body is what follows the headers: all of
 * it, or with a Content-Length its first bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "httpc.h"

/* Whether word occurs in the n bytes at p, in any case. */
static int has_word(const char *p, size_t n, const char *word)
{
	size_t i, wl = strlen(word);

	for (i = 0; i + wl <= n; i++)
		if (!strncasecmp(p + i, word, wl))
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_response resp;
	struct buf raw = { malloc(size + 1), size, size + 1 };
	char err[200];
	const char *hend;
	int rc, chunked, sized;

	if (!raw.data)
		return 0;
	memcpy(raw.data, data, size);
	raw.data[size] = '\0';
	hend = strstr(raw.data, "\r\n\r\n");
	chunked = hend && memmem(raw.data, (size_t)(hend - raw.data), "hunked", 6);
	sized = hend && has_word(raw.data, (size_t)(hend - raw.data), "content-length");
	memset(&resp, 0, sizeof(resp));
	rc = http_response_parse(&raw, &resp, err, sizeof(err));
	if (!rc) {
		size_t hlen = (size_t)(hend - raw.data) + 4;
		if (resp.body.len > size || strlen(resp.content_type) >= sizeof(resp.content_type) ||
		    (!chunked && (resp.body.len > size - hlen ||
				  (!sized && resp.body.len != size - hlen) ||
				  memcmp(resp.body.data ? resp.body.data : "", data + hlen, resp.body.len)))) {
			fprintf(stderr, "httpc: body of %zu bytes from %zu (headers %zu)\n",
				resp.body.len, size, hlen);
			abort();
		}
	}
	http_response_free(&resp);
	free(raw.data);
	return 0;
}
