/*
 * The HTTP client: its answer parser (status, headers, plain and chunked
 * bodies), where an answer ends (http_answer_end()), and a connection kept
 * open against a scripted server: reused, replaced after the server closed
 * it, and the one retry of a request the server dropped unanswered.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
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

static void test_answer_end(void **state)
{
	static const struct {
		const char *in;
		int eof;
		long end; /* -1: -EPROTO */
		int keep;
	} cases[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", 0, 40, 1 },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1", 0, 40, 1 },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{", 0, 0, 0 },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{", 1, -1, 0 },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", 0, 59, 0 },
		{ "HTTP/1.1 204 No Content\r\nConnection: Keep-Alive\r\n\r\n", 0, 51, 1 },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 0, 59, 1 },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n", 0, 0, 0 },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}xx0\r\n\r\n", 0, -1, 0 },
		{ "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", 0, 39, 0 },
		{ "HTTP/1.1 200 OK\r\n\r\nuntil the close", 0, 0, 0 },
		{ "HTTP/1.1 200 OK\r\n\r\nuntil the close", 1, 34, 0 },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy", 0, -1, 0 },
		{ "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, -1, 0 },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", 0, -1, 0 },
		{ "HTTP/1.1 100 Continue\r\n\r\n", 0, -1, 0 },
		{ "HTTP/1.1 200 OK\r\n", 0, 0, 0 },
		{ "HTTP/1.1 200 OK\r\n", 1, -1, 0 },
		{ "SSH-2.0-x\r\n\r\n", 0, -1, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int keep = 7;
		long end = http_answer_end(cases[i].in, strlen(cases[i].in), cases[i].eof, &keep);
		long want = cases[i].end < 0 ? -EPROTO : cases[i].end;
		if (end != want || (end > 0 && keep != cases[i].keep))
			fail_msg("case %zu: end %ld keep %d, want %ld keep %d", i, end, keep, want,
				 cases[i].keep);
	}
}

/* Read one request (no body) from fd.  @ret 1, or 0 at the close. */
static int srv_read_request(int fd)
{
	char buf[4096];
	size_t len = 0;

	while (!memmem(buf, len, "\r\n\r\n", 4)) {
		ssize_t r = read(fd, buf + len, sizeof(buf) - len);
		if (r <= 0)
			return 0;
		len += (size_t)r;
	}
	return 1;
}

static void srv_answer(int fd, const char *extra, const char *body)
{
	char out[512];
	int n = snprintf(out, sizeof(out), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n%s\r\n%s",
			 strlen(body), extra, body);
	if (write(fd, out, (size_t)n) != n)
		_exit(3);
}

/*
 * The scripted server: connection 1 answers two requests, then reads a
 * third and closes unanswered (a server dropping an idle connection as a
 * request arrives); connection 2 answers it with "Connection: close";
 * connection 3 answers one request and closes while idle; connection 4
 * answers one, then sends half an answer and closes.
 */
static void srv_run(int lfd)
{
	int c;

	c = accept(lfd, NULL, NULL);
	if (!srv_read_request(c))
		_exit(2);
	srv_answer(c, "", "one");
	if (!srv_read_request(c))
		_exit(2);
	srv_answer(c, "", "two");
	if (!srv_read_request(c))
		_exit(2);
	close(c);
	c = accept(lfd, NULL, NULL);
	if (!srv_read_request(c))
		_exit(2);
	srv_answer(c, "Connection: close\r\n", "three");
	close(c);
	c = accept(lfd, NULL, NULL);
	if (!srv_read_request(c))
		_exit(2);
	srv_answer(c, "", "four");
	close(c);
	c = accept(lfd, NULL, NULL);
	if (!srv_read_request(c))
		_exit(2);
	srv_answer(c, "", "five");
	if (!srv_read_request(c))
		_exit(2);
	if (write(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhal", 42) != 42)
		_exit(3);
	close(c);
	_exit(0);
}

static void test_keepalive(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t sl = sizeof(sin);
	struct http_conn hc = HTTP_CONN_INIT;
	struct http_response r;
	struct http_url u;
	char url[64], err[256];
	static const char *const want[] = { "one", "two", "three", "four", "five" };
	/* Connections open after each request: kept, kept, retried, closed, new. */
	static const unsigned long long opened[] = { 1, 1, 2, 3, 4 };
	int lfd, status, i;
	pid_t pid;

	(void)state;
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 8), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &sl), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		srv_run(lfd);
	close(lfd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", ntohs(sin.sin_port));
	assert_int_equal(http_url_parse(url, &u, err, sizeof(err)), 0);
	for (i = 0; i < 5; i++) {
		int rc = http_request_on(&hc, &u, "GET", "/x", NULL, 0, NULL, 0, 5000, &r, err,
					 sizeof(err));
		if (rc || r.status != 200 || strcmp(r.body.data ? r.body.data : "", want[i]) ||
		    hc.opened != opened[i])
			fail_msg("request %d: rc %d (%s) status %d body '%s' opened %llu, want '%s' "
				 "opened %llu", i + 1, rc, rc ? err : "", r.status,
				 r.body.data ? r.body.data : "", hc.opened, want[i], opened[i]);
		http_response_free(&r);
		if (i == 3) {
			/* The server closes connection 3 while it is idle: wait until that shows. */
			struct pollfd p = { .fd = hc.fd, .events = POLLRDHUP };
			assert_int_equal(poll(&p, 1, 10000), 1);
		}
	}
	assert_int_equal(hc.retried, 1);
	/* Half an answer, then the close: an error, never sent again. */
	assert_int_equal(http_request_on(&hc, &u, "GET", "/x", NULL, 0, NULL, 0, 5000, &r, err,
					 sizeof(err)), -EPROTO);
	http_response_free(&r);
	assert_int_equal(hc.retried, 1);
	assert_int_equal(hc.fd, -1);
	http_conn_close(&hc);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_chunked),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_chunk_size),
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_answer_end),
		cmocka_unit_test(test_keepalive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
