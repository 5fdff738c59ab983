/* The SSE reader's decoder (sse_input()): messages from headers, chunks and lines. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sse.h"

struct log {
	struct buf msgs;
	char why[160];
	int ups, downs;
};

static void on_message(void *ctx, const char *event, const char *data, size_t len)
{
	struct log *l = ctx;

	buf_printf(&l->msgs, "%s=%.*s;", event, (int)len, data);
}

static void on_state(void *ctx, int up, const char *why)
{
	struct log *l = ctx;

	if (up)
		l->ups++;
	else
		l->downs++;
	snprintf(l->why, sizeof(l->why), "%s", why);
}

static const struct sse_ops ops = { on_message, on_state };

#define HEAD "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"

/* Feed text in pieces of step bytes to a connected client.  @ret sse_input()'s last result. */
static int feed(const char *text, size_t step, struct log *l)
{
	struct http_url url = { .host = "127.0.0.1", .port = "1" };
	struct sse_client c;
	size_t off, n = strlen(text);
	int rc = 0;

	memset(l, 0, sizeof(*l));
	assert_int_equal(sse_init(&c, &url, "/api/v1/stream", NULL, &ops, l), 0);
	c.state = SSE_HEADERS;
	for (off = 0; off < n && !rc; off += step)
		rc = sse_input(&c, text + off, n - off < step ? n - off : step, 1);
	sse_free(&c);
	return rc;
}

static void test_messages(void **state)
{
	const char *text = HEAD "f\r\nevent: node\ndat\r\n" "e\r\na: {}\n\ndata:1\n\r\n"
			   "b\r\ndata: 2\r\n\r\n\r\n";
	size_t step;
	struct log l;

	(void)state;
	for (step = 1; step <= strlen(text); step++) {
		assert_int_equal(feed(text, step, &l), 0);
		assert_string_equal(l.msgs.data, "node={};message=1\n2;");
		assert_int_equal(l.ups, 1);
		assert_int_equal(l.downs, 0);
		buf_free(&l.msgs);
	}
}

/*
 * What the fuzz target (tests/fuzz/sse.c) found: how the bytes were cut
 * changed what came out.  Messages whole before a bad chunk were lost when
 * the bad chunk came in the same read, and a size line read past its own
 * line end to the next line's digits when they had arrived.
 */
static void test_cut_does_not_matter(void **state)
{
	const char *bad_after = HEAD "e\r\ndata: before\n\n\r\nzz\r\n";
	const char *blank_size = HEAD "\r\n5\r\ndata:\r\n";
	size_t step;
	struct log l;

	(void)state;
	for (step = 1; step <= strlen(bad_after); step++) {
		assert_int_equal(feed(bad_after, step, &l), -EPIPE);
		assert_string_equal(l.msgs.data, "message=before;");
		assert_string_equal(l.why, "malformed chunk");
		buf_free(&l.msgs);
	}
	for (step = 1; step <= strlen(blank_size); step++) {
		assert_int_equal(feed(blank_size, step, &l), -EPIPE);
		assert_string_equal(l.why, "malformed chunk");
		buf_free(&l.msgs);
	}
}

static void test_refused_answers(void **state)
{
	struct log l;

	(void)state;
	assert_int_equal(feed("HTTP/1.1 401 Unauthorized\r\n\r\n", 7, &l), -EPIPE);
	assert_non_null(strstr(l.why, "401"));
	assert_int_equal(feed("garbage\r\n\r\n", 3, &l), -EPIPE);
	assert_string_equal(l.why, "malformed answer");
	/* A chunk's payload not followed by CRLF. */
	assert_int_equal(feed(HEAD "2\r\n::XX", 64, &l), -EPIPE);
	assert_string_equal(l.why, "malformed chunk");
}

/* A chunk-size line that never ends is refused, not buffered without end. */
static void test_endless_size_line(void **state)
{
	char text[sizeof(HEAD) + 2048];
	struct log l;

	(void)state;
	snprintf(text, sizeof(text), "%s", HEAD);
	memset(text + strlen(HEAD), '0', 1500);
	text[strlen(HEAD) + 1500] = '\0';
	assert_int_equal(feed(text, 100, &l), -EPIPE);
	assert_string_equal(l.why, "malformed chunk");
	buf_free(&l.msgs);
	/* Leading zeros within the bound are still a size. */
	assert_int_equal(feed(HEAD "00008\r\ndata:x\n\n\r\n", 7, &l), 0);
	assert_string_equal(l.msgs.data, "message=x;");
	buf_free(&l.msgs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_cut_does_not_matter),
		cmocka_unit_test(test_refused_answers),
		cmocka_unit_test(test_endless_size_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
