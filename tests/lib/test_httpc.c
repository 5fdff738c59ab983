/* The HTTP client's answer parser: status, headers, plain and chunked bodies. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "httpc.h"

/* Parse text as an answer.  @ret what http_response_parse() returns. */
static int parse(const char *text, struct http_response *resp)
{
	struct buf raw = BUF_INIT;
	char err[200];
	int rc;

	memset(resp, 0, sizeof(*resp));
	assert_int_equal(buf_puts(&raw, text), 0);
	rc = http_response_parse(&raw, resp, err, sizeof(err));
	buf_free(&raw);
	return rc;
}

static void test_plain_and_chunked(void **state)
{
	struct http_response r;

	(void)state;
	assert_int_equal(parse("HTTP/1.1 201 Created\r\nContent-Type: application/json; charset=utf-8"
			       "\r\n\r\n{\"id\":1}", &r), 0);
	assert_int_equal(r.status, 201);
	assert_string_equal(r.content_type, "application/json");
	assert_string_equal(r.body.data, "{\"id\":1}");
	http_response_free(&r);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			       "5\r\nhello\r\n6;name=x\r\n world\r\nA \r\n0123456789\r\n0\r\n\r\n", &r), 0);
	assert_string_equal(r.body.data, "hello world0123456789");
	http_response_free(&r);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\n\r\n", &r), 0);
	assert_int_equal(r.body.len, 0);
	http_response_free(&r);
}

static void test_refusals(void **state)
{
	struct http_response r;

	(void)state;
	assert_int_equal(parse("SSH-2.0-OpenSSH_9.2\r\n\r\n", &r), -EPROTO);
	http_response_free(&r);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n", &r), -EPROTO);
	http_response_free(&r);
	/* A chunk longer than what came, a signed size, a size on the next line. */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffff\r\nab\r\n", &r),
			 -EPROTO);
	http_response_free(&r);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nab\r\n", &r),
			 -EPROTO);
	http_response_free(&r);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n2\r\nab\r\n0\r\n\r\n",
			       &r), -EPROTO);
	http_response_free(&r);
}

/*
 * Chunk size lines: strtoul() took blanks, signs and line ends before the
 * digits (so "\r\n5" read the next line's size); now only hex digits, then
 * nothing or an extension.
 */
static void test_chunk_size(void **state)
{
	const char *bad[] = { "", " 5", "+5", "-1", "\r", "\n5", "5x", "5 x", "0x5",
			      "1000000000000000" /* 16 digits */ };
	size_t i, sz;

	(void)state;
	assert_int_equal(http_chunk_size("1aF", 3, &sz), 0);
	assert_int_equal(sz, 0x1af);
	assert_int_equal(http_chunk_size("10 ;ext=1", 9, &sz), 0);
	assert_int_equal(sz, 16);
	assert_int_equal(http_chunk_size("fffffffffffffff", 15, &sz), 0);
	assert_true(sz == 0xfffffffffffffffull);
	assert_int_equal(http_chunk_size("5\r\n", 1, &sz), 0); /* len ends the line */
	assert_int_equal(sz, 5);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (http_chunk_size(bad[i], strlen(bad[i]), &sz) != -EPROTO)
			fail_msg("chunk size '%s' accepted as %zu", bad[i], sz);
	}
}

/*
 * Content-Length: a body cut short (the server died after its headers, with
 * its signature in them) is an error, not an empty body that fails the
 * signature check and looks forged; bytes past the length are dropped.
 */
static void test_content_length(void **state)
{
	const char *bad[] = { "x", "-1", "+3", "3x", "", "99999999999999999999999" };
	struct http_response r;
	char text[200];
	size_t i;

	(void)state;
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", &r), 0);
	assert_string_equal(r.body.data, "hello");
	http_response_free(&r);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\ncontent-length:3 \r\n\r\nhello", &r), 0);
	assert_string_equal(r.body.data, "hel");
	http_response_free(&r);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nX-Snow-Signature: ab\r\nContent-Length: 17\r\n"
			       "\r\n", &r), -EPROTO);
	http_response_free(&r);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhell", &r), -EPROTO);
	http_response_free(&r);
	/* Two lengths that disagree. */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n"
			       "\r\nabc", &r), -EPROTO);
	http_response_free(&r);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "HTTP/1.1 200 OK\r\nContent-Length: %s\r\n\r\nabc",
			 bad[i]);
		if (parse(text, &r) != -EPROTO)
			fail_msg("Content-Length '%s' accepted", bad[i]);
		http_response_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_chunked),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_chunk_size),
		cmocka_unit_test(test_content_length),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
