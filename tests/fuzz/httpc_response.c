/*
 * Fuzz target: an HTTP answer as the client reads it (lib/httpc.c,
 * http_response_parse(): status line, headers, chunked or plain body).  The
 * input is the bytes the server sent, in a buffer of exactly their size
 * plus the NUL struct buf keeps.  Checks: a body is never longer than what
 * came, and a plain (not chunked) body is what follows the headers: all of
 * it, or with a Content-Length its first bytes.  The same bytes through http_answer_end() (where an answer ends, for a
 * kept connection): the end lies within the input, an answer cut at its end
 * ends there too, a close changes no end already found, and one found
 * without the close leaves every shorter prefix incomplete or malformed.
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
	{
		int keep = 0, keep2 = 0;
		long end = http_answer_end((const char *)data, size, 0, &keep);
		long end_eof = http_answer_end((const char *)data, size, 1, NULL);

		if (end > (long)size || end_eof > (long)size || (end > 0 && end_eof != end)) {
			fprintf(stderr, "httpc: answer end %ld (at close %ld) of %zu bytes\n", end,
				end_eof, size);
			abort();
		}
		if (end > 0 && (http_answer_end((const char *)data, (size_t)end, 0, &keep2) != end ||
				keep2 != keep)) {
			fprintf(stderr, "httpc: answer cut at its end %ld ends elsewhere\n", end);
			abort();
		}
		if (end > 0 && http_answer_end((const char *)data, (size_t)end - 1, 0, NULL) > 0) {
			fprintf(stderr, "httpc: answer ending at %ld was complete a byte earlier\n",
				end);
			abort();
		}
	}
	memcpy(raw.data, data, size);
	raw.data[size] = '\0';
	hend = strstr(raw.data, "\r\n\r\n");
	chunked = hend && memmem(raw.data, (size_t)(hend - raw.data), "hunked", 6);
	sized = hend && has_word(raw.data, (size_t)(hend - raw.data), "content-length");
	memset(&resp, 0, sizeof(resp));
	rc = http_response_parse(&raw, &resp, err, sizeof(err));
	sized |= resp.status == 204 || resp.status == 304; /* no body, whatever follows */
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
