/* Logging: text from outside cannot forge a line or reach the terminal as an escape. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"

static void check_escape(const char *in, const char *want)
{
	char out[256];
	size_t n = log_escape(out, sizeof(out), in);

	if (strcmp(out, want))
		fail_msg("log_escape(\"%s\"): want \"%s\", got \"%s\"", in, want, out);
	assert_int_equal(n, strlen(want));
}

static void test_escape(void **state)
{
	check_escape("node1 online", "node1 online");
	check_escape("evil\nsnowd[info]: forged", "evil\\x0asnowd[info]: forged");
	check_escape("cr\rlf", "cr\\x0dlf");
	check_escape("\x1b[2Jtab\tdel\x7f", "\\x1b[2Jtab\\x09del\\x7f");
	/* Well-formed UTF-8 stays; a C1 control (U+009B, CSI) and broken bytes do not. */
	check_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa7", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa7");
	check_escape("a\xc2\x9b" "b", "a\\xc2\\x9bb");
	check_escape("\x9b\xff\xc3", "\\x9b\\xff\\xc3");
	check_escape("\xc0\xaf", "\\xc0\\xaf");             /* overlong '/' */
	check_escape("\xed\xa0\x80", "\\xed\\xa0\\x80");    /* a surrogate */
}

static void test_escape_bounds(void **state)
{
	char out[8];

	/* Cut at a whole character or escape, always terminated. */
	assert_int_equal(log_escape(out, sizeof(out), "abcdefghij"), 7);
	assert_string_equal(out, "abcdefg");
	assert_int_equal(log_escape(out, sizeof(out), "ab\n\n"), 6);
	assert_string_equal(out, "ab\\x0a");
	assert_int_equal(log_escape(out, sizeof(out), "abcde\xc3\xa9"), 7);
	assert_string_equal(out, "abcde\xc3\xa9");
	assert_int_equal(log_escape(out, 7, "abcde\xc3\xa9"), 5);
	assert_string_equal(out, "abcde");
}

/* What log_* write to stderr: each message one line, whatever its arguments hold. */
static void test_one_line(void **state)
{
	char path[] = "/tmp/snow-log-XXXXXX", text[4096];
	int fd = mkstemp(path), saved = dup(2), lines = 0;
	size_t n;
	FILE *f;

	assert_true(fd >= 0 && saved >= 0);
	log_init("test", LOG_LVL_DEBUG);
	fflush(stderr);
	dup2(fd, 2);
	log_info("login: refused for '%s' from %s", "x'\nsnowd[info]: login: admin (admin)", "10.0.0.1");
	log_warnx("node %s: online (agent %s)", "n1", "1.0\r\n\x1b]0;pwned\x07");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	f = fdopen(fd, "r");
	assert_non_null(f);
	rewind(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	unlink(path);
	for (size_t i = 0; i < n; i++)
		lines += text[i] == '\n';
	if (lines != 2 || strchr(text, '\r') || strchr(text, '\x1b'))
		fail_msg("want two clean lines, got %d:\n%s", lines, text);
	assert_non_null(strstr(text, "for 'x'\\x0asnowd[info]: login: admin (admin)' from 10.0.0.1"));
	assert_non_null(strstr(text, "(agent 1.0\\x0d\\x0a\\x1b]0;pwned\\x07)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_escape_bounds),
		cmocka_unit_test(test_one_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
