/*
 * node-os/agent/overlay.c: the agent's overlay reader (config.reload) on
 * what a hostile boot network could send.  Its old strtoul() reader looped
 * for ever on a filesize of "-0000001" and read out of bounds on such a
 * namesize; it also took a file from an archive cut short.  Each test runs
 * under alarm(), so a reader that loops fails instead of hanging the run.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cpio.h"
#include "overlay.h"

#define CONF "etc/snow/node.conf"

static int arm(void **state)
{
	alarm(10);
	return 0;
}

static int disarm(void **state)
{
	alarm(0);
	return 0;
}

/* The overlay as snowd writes it: etc, etc/snow, node.conf, trailer. */
static void overlay(struct buf *b, int trailer)
{
	static const char text[] = "name = n1\n";

	assert_int_equal(cpio_add_dir(b, "etc", 0755), 0);
	assert_int_equal(cpio_add_dir(b, "etc/snow", 0755), 0);
	assert_int_equal(cpio_add_file(b, CONF, 0600, text, strlen(text)), 0);
	if (trailer)
		assert_int_equal(cpio_finish(b), 0);
}

/* overlay_cpio_find on the first len bytes of an exact-size copy (ASan sees a read past it). */
static int find(const struct buf *b, size_t len, char *err, size_t errlen)
{
	char *copy = malloc(b->len ? b->len : 1);
	const char *data = NULL;
	size_t size = 0;
	int rc;

	assert_non_null(copy);
	memcpy(copy, b->data, b->len);
	err[0] = '\0';
	rc = overlay_cpio_find(copy, len, CONF, &data, &size, err, errlen);
	if (!rc) {
		assert_true(data >= copy && data + size <= copy + len);
		snprintf(err, errlen, "%.*s", (int)size, data); /* what it found */
	}
	free(copy);
	return rc;
}

static void test_good(void **state)
{
	struct buf b = BUF_INIT;
	char err[256];

	overlay(&b, 1);
	assert_int_equal(find(&b, b.len, err, sizeof(err)), 0);
	assert_string_equal(err, "name = n1\n");
	buf_free(&b);
}

/*
 * A '-' in the first entry's filesize: -0x74 took the old reader back to
 * byte 0 for ever.  Then in its namesize, blanks and 0x: all refused.
 */
static void test_signed_fields(void **state)
{
	struct buf b = BUF_INIT;
	char err[256];

	overlay(&b, 1);
	memcpy(b.data + 6 + 6 * 8, "-0000074", 8);
	assert_int_equal(find(&b, b.len, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "cpio: header at byte 0: filesize is not hex (eight digits 0-9a-f)");
	memcpy(b.data + 6 + 6 * 8, "-0000001", 8);
	assert_int_equal(find(&b, b.len, err, sizeof(err)), -EINVAL);
	memcpy(b.data + 6 + 6 * 8, "00000000", 8);
	memcpy(b.data + 6 + 11 * 8, "-0000001", 8);
	assert_int_equal(find(&b, b.len, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "cpio: header at byte 0: namesize is not hex (eight digits 0-9a-f)");
	/* blanks and 0x, which strtoul() also took */
	memcpy(b.data + 6 + 11 * 8, " 0000004", 8);
	assert_int_equal(find(&b, b.len, err, sizeof(err)), -EINVAL);
	memcpy(b.data + 6 + 11 * 8, "0x000004", 8);
	assert_int_equal(find(&b, b.len, err, sizeof(err)), -EINVAL);
	buf_free(&b);
}

static void test_huge_namesize(void **state)
{
	struct buf b = BUF_INIT;
	char err[256];

	overlay(&b, 1);
	memcpy(b.data + 6 + 11 * 8, "FFFFFFFF", 8);
	assert_int_equal(find(&b, b.len, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "namesize 4294967295 out of range"));
	buf_free(&b);
}

/* node.conf whole but the archive cut after it, or without a trailer: refused. */
static void test_truncated_and_no_trailer(void **state)
{
	struct buf b = BUF_INIT;
	char err[256];
	size_t cut;

	overlay(&b, 1);
	for (cut = 0; cut < b.len; cut++) {
		int rc = find(&b, cut, err, sizeof(err));
		if (rc != -EINVAL) {
			print_error("cut at %zu of %zu: rc %d (%s), want -EINVAL\n", cut, b.len, rc,
				    err);
			fail();
		}
	}
	buf_free(&b);
	overlay(&b, 0);
	assert_int_equal(find(&b, b.len, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "without its TRAILER!!! entry"));
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good, arm, disarm),
		cmocka_unit_test_setup_teardown(test_signed_fields, arm, disarm),
		cmocka_unit_test_setup_teardown(test_huge_namesize, arm, disarm),
		cmocka_unit_test_setup_teardown(test_truncated_and_no_trailer, arm, disarm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
