/* conf_doc / conf_early: the installed config file and man page options come from the table. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conf.h"

struct cfg {
	char *config;
	char *dir;
	long n;
	int flag;
};

#define OPT(n, s, t, f, lo, hi, a, h) { n, s, t, offsetof(struct cfg, f), lo, hi, a, h }
static const struct conf_option opts[] = {
	OPT("config", 'c', CONF_STR, config, 0, 0, "FILE", "read options from FILE"),
	OPT("dir", 'd', CONF_STR, dir, 0, 0, "DIR",
	    "a rather long help text that goes on and on so that it must be wrapped over more "
	    "than one comment line of the file (default /var/lib/x)"),
	OPT("count", 0, CONF_INT, n, 1, 99, "N", ".starts with a dot and has a \\ backslash"),
	OPT("flag", 'f', CONF_BOOL, flag, 0, 0, NULL, "a switch"),
	{ 0 },
};
static const char *const actions[] = { "config", NULL };

/* Any key read from the generated file is a failure: every setting there is commented out. */
static int no_key(void *ctx, const char *key, const char *value, char *err, size_t errlen)
{
	(*(int *)ctx)++;
	snprintf(err, errlen, "key '%s' is set", key);
	return -EINVAL;
}

/* What conf_doc writes, in a buffer the caller frees. */
static char *doc(enum conf_doc kind)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	conf_doc(f, opts, kind, actions);
	fclose(f);
	return text;
}

static void test_file(void **state)
{
	char *t = doc(CONF_DOC_FILE), *line, *save = NULL;
	char err[256];
	int keys = 0;
	FILE *f;

	if (strstr(t, "config"))
		fail_msg("an action is in the file:\n%s", t);
	assert_non_null(strstr(t, "\n#dir = DIR\n"));
	assert_non_null(strstr(t, "\n#count = N\n"));
	assert_non_null(strstr(t, "\n#flag = no\n"));
	/* Every line a comment or blank, none longer than 80 columns. */
	for (line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] != '#')
			fail_msg("not a comment: '%s'", line);
		if (strlen(line) > 80)
			fail_msg("%zu columns: '%s'", strlen(line), line);
	}
	free(t);
	/* And the file reads back as nothing set. */
	t = doc(CONF_DOC_FILE);
	f = fmemopen(t, strlen(t), "r");
	assert_non_null(f);
	assert_int_equal(conf_read_stream(f, "doc", no_key, &keys, err, sizeof(err)), 0);
	assert_int_equal(keys, 0);
	fclose(f);
	free(t);
}

static void test_mdoc(void **state)
{
	char *t = doc(CONF_DOC_MDOC);

	assert_non_null(strstr(t, ".Bl -tag -width Ds\n"));
	assert_non_null(strstr(t, ".It Fl c , Fl \\-config Ar FILE\nread options from FILE\n"));
	assert_non_null(strstr(t, ".It Fl f , Fl \\-flag\na switch\n"));
	/* A leading dot would be a request, a backslash an escape. */
	assert_non_null(strstr(t, "\n\\&.starts with a dot and has a \\e backslash\nRange 1 to 99.\n"));
	assert_non_null(strstr(t, ".El\n"));
	free(t);
}

static void test_early(void **state)
{
	char *v[] = { "prog", "-d", "x", "--version", NULL };
	char *after[] = { "prog", "--", "--version", NULL };
	char *bad[] = { "prog", "--conf-doc=html", NULL };
	char *none[] = { "prog", "-d", "x", NULL };

	assert_int_equal(conf_early(opts, actions, "prog", 4, v), 1);
	assert_int_equal(conf_early(opts, actions, "prog", 3, after), 0);
	assert_int_equal(conf_early(opts, actions, "prog", 2, bad), -EINVAL);
	assert_int_equal(conf_early(opts, actions, "prog", 3, none), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_mdoc),
		cmocka_unit_test(test_early),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
