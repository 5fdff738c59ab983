/*
 * Fuzz target: the SSE reader (lib/sse.c, sse_input()): an answer's headers,
 * chunked or plain body, and event lines, as snowd's stream would send them.
 * The first byte sets the size of the pieces the rest arrives in (1..256);
 * the same bytes are then fed whole to a second client.  How the bytes were
 * cut must not change the messages delivered, nor whether and why the
 * stream was closed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sse.h"

struct fz_log {
	struct buf msgs; /* "event\0len\0data" records */
	unsigned nmsgs, ups, downs;
	char why[160];
};

static void fz_message(void *ctx, const char *event, const char *data, size_t len)
{
	struct fz_log *l = ctx;
	char n[24];

	if (strlen(data) > len) {
		fprintf(stderr, "sse: data longer than its length %zu\n", len);
		abort();
	}
	snprintf(n, sizeof(n), "%zu", len);
	buf_append(&l->msgs, event, strlen(event) + 1);
	buf_append(&l->msgs, n, strlen(n) + 1);
	buf_append(&l->msgs, data, len);
	l->nmsgs++;
}

static void fz_state(void *ctx, int up, const char *why)
{
	struct fz_log *l = ctx;

	if (up) {
		l->ups++;
	} else if (!l->downs++) {
		snprintf(l->why, sizeof(l->why), "%s", why);
	}
}

static const struct sse_ops fz_ops = { fz_message, fz_state };

/* Feed data in pieces of step bytes to a new client logging into l. */
static void fz_run(const uint8_t *data, size_t size, size_t step, struct fz_log *l)
{
	struct http_url url = { .host = "127.0.0.1", .port = "1" };
	struct sse_client c;
	size_t off;

	if (sse_init(&c, &url, "/api/v1/stream", "token", &fz_ops, l))
		abort();
	c.state = SSE_HEADERS; /* as if connected and the request sent */
	for (off = 0; off < size; off += step)
		if (sse_input(&c, data + off, size - off < step ? size - off : step, 1000))
			break;
	sse_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_log cut = { BUF_INIT, 0, 0, 0, "" }, whole = { BUF_INIT, 0, 0, 0, "" };

	if (!size || size > 16384) /* longer headers than 16 kB are cut off by length */
		return 0;
	fz_run(data + 1, size - 1, (size_t)data[0] + 1, &cut);
	fz_run(data + 1, size - 1, size, &whole);
	if (cut.nmsgs != whole.nmsgs || cut.msgs.len != whole.msgs.len ||
	    (cut.msgs.len && memcmp(cut.msgs.data, whole.msgs.data, cut.msgs.len)) ||
	    cut.ups != whole.ups || cut.downs != whole.downs || strcmp(cut.why, whole.why)) {
		fprintf(stderr,
			"sse: in pieces of %d: %u messages, %u up, %u down (%s); whole: %u messages, "
			"%u up, %u down (%s)\n",
			data[0] + 1, cut.nmsgs, cut.ups, cut.downs, cut.why, whole.nmsgs, whole.ups,
			whole.downs, whole.why);
		abort();
	}
	buf_free(&cut.msgs);
	buf_free(&whole.msgs);
	return 0;
}
