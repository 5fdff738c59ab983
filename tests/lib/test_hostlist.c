/*
 * node.conf's host_url as a list (lib/hostlist.c): one URL or several,
 * commas or blanks between them; refusals name the URL and the fault; the
 * move to the next one and the rule for when to move.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "hostlist.h"

static void test_parse(void **state)
{
	struct hostlist hl;
	char err[256];

	(void)state;
	assert_int_equal(hostlist_parse("http://127.0.0.1:8080", &hl, err, sizeof(err)), 0);
	assert_int_equal(hl.n, 1);
	assert_string_equal(hostlist_cur(&hl)->port, "8080");
	assert_int_equal(hostlist_next(&hl), 0); /* one URL: it stays */
	assert_int_equal(hostlist_parse(" http://a:1/api/ ,http://b:2/api\thttps://c/api,,", &hl, err,
					sizeof(err)), 0);
	assert_int_equal(hl.n, 3);
	assert_string_equal(hl.url[0].host, "a");
	assert_string_equal(hl.url[1].base, "/api");
	assert_int_equal(hl.url[2].tls, 1);
	assert_string_equal(hl.url[2].port, "443");
	assert_int_equal(hostlist_next(&hl), 1);
	assert_int_equal(hostlist_next(&hl), 2);
	assert_int_equal(hostlist_next(&hl), 0);
}

static void test_refusals(void **state)
{
	static const struct {
		const char *in, *err;
	} bad[] = {
		{ "", "host_url: empty" },
		{ " , ,", "host_url: empty" },
		{ "http://a:1, ftp://b", "host_url: URL 2: url: 'ftp://b' must start with http:// or https://" },
		{ "http://a:1 http://a:1", "host_url: URL 2 is URL 1 again" },
		{ "http://a:1/x http://b:1/y", "host_url: URL 2: path '/y' differs from URL 1's '/x' (every snowd serves the node channel at one path)" },
		{ "http://a:1 http://b:2 http://c:3 http://d:4 http://e:5 http://f:6 http://g:7 http://h:8 http://i:9",
		  "host_url: more than 8 URLs" },
		{ "http://a:x1", "host_url: URL 1: url: bad port in 'http://a:x1'" },
	};
	struct hostlist hl;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (hostlist_parse(bad[i].in, &hl, err, sizeof(err)) != -EINVAL ||
		    strcmp(err, bad[i].err))
			fail_msg("'%s': got '%s', want '%s'", bad[i].in, err, bad[i].err);
	}
	assert_int_equal(hostlist_parse(NULL, &hl, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "host_url: missing");
}

static void test_should_move(void **state)
{
	(void)state;
	assert_true(hostlist_should_move(-ECONNREFUSED, 0));
	assert_true(hostlist_should_move(-ETIMEDOUT, 0));
	assert_true(hostlist_should_move(-ECONNRESET, 0));
	assert_true(hostlist_should_move(-EPROTO, 503));
	assert_true(hostlist_should_move(-EPROTO, 500));
	assert_false(hostlist_should_move(-EPROTO, 404));
	assert_false(hostlist_should_move(-EACCES, 401));
	assert_false(hostlist_should_move(-EBADMSG, 0)); /* unsigned answer: not a reason */
	assert_false(hostlist_should_move(-ENOMEM, 0));
	assert_false(hostlist_should_move(0, 200));
	assert_false(hostlist_should_move(0, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_should_move),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
