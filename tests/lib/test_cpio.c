/*
 * lib/cpio.c's reader, the one the agent (config.reload) and snow-nodesim
 * read snowd's overlay with: archives the writer made are read back, and
 * crafted bad ones (a signed or blank field, a huge or zero name size, a
 * size past the end, a cut anywhere, no trailer) are refused with an error
 * naming the field and the byte, never read out of bounds.  The strtoul()
 * reader this replaced looped for ever on a '-' field: every test runs
 * under alarm(), so a loop fails the run instead of hanging it.
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

#define OFF_FILESIZE (6 + 6 * 8)
#define OFF_NAMESIZE (6 + 11 * 8)

static int arm(void **state)
{
	alarm(10); /* SIGALRM kills the test: a reader that loops fails */
	return 0;
}

static int disarm(void **state)
{
	alarm(0);
	return 0;
}

/* "etc/a" = "hello" first (header at 0, data at 116), then the trailer at 124. */
static void archive(struct buf *b, int trailer)
{
	assert_int_equal(cpio_add_file(b, "etc/a", 0644, "hello", 5), 0);
	if (trailer)
		assert_int_equal(cpio_finish(b), 0);
}

/* find "etc/a" in a copy of b with patch at off; @ret rc, err filled. */
static int find_patched(const struct buf *b, size_t off, const char *patch, size_t len,
			char *err, size_t errlen)
{
	char *copy = malloc(b->len); /* exactly b->len: ASan sees any read past it */
	const void *p = NULL;
	size_t n = 0;
	int rc;

	assert_non_null(copy);
	memcpy(copy, b->data, b->len);
	memcpy(copy + off, patch, strlen(patch));
	err[0] = '\0';
	rc = cpio_find(copy, len, "etc/a", &p, &n, err, errlen);
	if (!rc)
		assert_true((const char *)p >= copy && (const char *)p + n <= copy + len);
	free(copy);
	return rc;
}

static void expect_refused(const struct buf *b, size_t off, const char *patch, const char *want)
{
	char err[256];
	int rc = find_patched(b, off, patch, b->len, err, sizeof(err));

	if (rc != -EINVAL || !strstr(err, want)) {
		print_error("patch '%s' at %zu: rc %d, err '%s', want -EINVAL and '%s'\n", patch,
			    off, rc, err, want);
		fail();
	}
}

static void test_read_back(void **state)
{
	struct buf b = BUF_INIT;
	struct cpio_entry e;
	const void *p;
	size_t off = 0, len;
	char err[256], names[256] = "";
	int rc;

	assert_int_equal(cpio_add_dir(&b, "etc", 0755), 0);
	assert_int_equal(cpio_add_file(&b, "./etc/a", 0644, "abc", 3), 0);
	assert_int_equal(cpio_add_file(&b, "/etc/empty", 0600, "", 0), 0);
	assert_int_equal(cpio_add_symlink(&b, "etc/link", "a"), 0);
	assert_int_equal(cpio_finish(&b), 0);
	while ((rc = cpio_next(b.data, b.len, &off, &e, err, sizeof(err))) > 0)
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s:%o:%zu ",
			 e.name, (unsigned)e.mode, e.size);
	assert_int_equal(rc, 0);
	assert_string_equal(names, "etc:40755:0 ./etc/a:100644:3 /etc/empty:100600:0 "
				   "etc/link:120777:1 ");
	assert_int_equal(cpio_find(b.data, b.len, "etc/a", &p, &len, err, sizeof(err)), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(p, "abc", 3);
	assert_int_equal(cpio_find(b.data, b.len, "etc/empty", &p, &len, err, sizeof(err)), 0);
	assert_int_equal(len, 0);
	/* a directory or a symlink of that name is not the file */
	assert_int_equal(cpio_find(b.data, b.len, "etc", &p, &len, err, sizeof(err)), -ENOENT);
	assert_int_equal(cpio_find(b.data, b.len, "etc/link", &p, &len, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "cpio: no file etc/link");
	buf_free(&b);
}

/* What follows the trailer (GNU cpio pads to 512 bytes) is not read; 070702 is newc too. */
static void test_after_trailer_and_crc_magic(void **state)
{
	struct buf b = BUF_INIT;
	const void *p;
	size_t len;
	char err[256];

	archive(&b, 1);
	assert_int_equal(buf_append(&b, "garbage, not a header", 21), 0);
	assert_int_equal(cpio_find(b.data, b.len, "etc/a", &p, &len, err, sizeof(err)), 0);
	assert_memory_equal(p, "hello", 5);
	memcpy(b.data, "070702", 6);
	assert_int_equal(cpio_find(b.data, b.len, "etc/a", &p, &len, err, sizeof(err)), 0);
	buf_free(&b);
}

/* strtoul() took a sign, blanks and 0x: a '-' size wrapped round and the old reader looped. */
static void test_fields_exactly_hex(void **state)
{
	static const char *const names[] = { "ino",      "mode",      "uid",       "gid",
					     "nlink",    "mtime",     "filesize",  "devmajor",
					     "devminor", "rdevmajor", "rdevminor", "namesize",
					     "check" };
	static const char *const bad[] = { "-0000001", "-0000074", "-FFFFFFF", "+0000005", " 0000005",
					   "0x000005", "0000005 ", "0000005\n", "0000000g" };
	struct buf b = BUF_INIT;
	char want[64];
	size_t f, i;

	archive(&b, 1);
	for (f = 0; f < 13; f++) {
		snprintf(want, sizeof(want), "byte 0: %s is not hex", names[f]);
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			expect_refused(&b, 6 + 8 * f, bad[i], want);
	}
	/* the trailer's header is checked as well */
	expect_refused(&b, 124 + OFF_FILESIZE, "-0000001", "byte 124: filesize is not hex");
	buf_free(&b);
}

static void test_sizes_bounded(void **state)
{
	struct buf b = BUF_INIT;
	char err[256];

	archive(&b, 1);
	expect_refused(&b, OFF_NAMESIZE, "FFFFFFFF", "namesize 4294967295 out of range");
	expect_refused(&b, OFF_NAMESIZE, "00001001", "namesize 4097 out of range");
	expect_refused(&b, OFF_NAMESIZE, "00000000", "namesize 0 out of range");
	expect_refused(&b, OFF_NAMESIZE, "00000001", "namesize 1 out of range");
	/* longer than what is left */
	expect_refused(&b, 124 + OFF_NAMESIZE, "00000100", "namesize 256 out of range");
	expect_refused(&b, OFF_FILESIZE, "FFFFFFFF", "filesize 4294967295 runs past the end");
	expect_refused(&b, OFF_FILESIZE, "7FFFFFFF", "runs past the end");
	/* one byte more data moves the next header off its place */
	expect_refused(&b, OFF_FILESIZE, "00000009", "bad magic at 128");
	/* the name's NUL must be its last byte, and the only one */
	expect_refused(&b, 110 + 5, "x", "name at byte 110 not NUL-terminated");
	expect_refused(&b, 0, "070707", "bad magic at 0");
	b.data[110 + 2] = '\0'; /* "et\0/a\0" */
	assert_int_equal(find_patched(&b, 0, "", b.len, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "cpio: name at byte 110 not NUL-terminated");
	buf_free(&b);
}

/* Cut anywhere before the trailer's end: refused, found or not. */
static void test_truncated(void **state)
{
	struct buf b = BUF_INIT;
	char err[256];
	size_t cut;

	archive(&b, 1);
	assert_int_equal(b.len, 248);
	for (cut = 0; cut < b.len; cut++) {
		int rc = find_patched(&b, 0, "", cut, err, sizeof(err));
		if (rc != -EINVAL) {
			print_error("cut at %zu: rc %d (%s), want -EINVAL\n", cut, rc, err);
			fail();
		}
	}
	assert_int_equal(find_patched(&b, 0, "", 240, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "cpio: header at byte 124: namesize 11 out of range (2..4096, "
				 "and 6 bytes left)");
	assert_int_equal(find_patched(&b, 0, "", 246, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "cpio: entry at byte 124: name padding past the end");
	assert_int_equal(find_patched(&b, 0, "", 122, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "cpio: entry at byte 0: data padding past the end");
	assert_int_equal(find_patched(&b, 0, "", 124, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "cpio: ends at byte 124 without its TRAILER!!! entry");
	assert_int_equal(find_patched(&b, 0, "", 150, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "cpio: header at byte 124 cut short");
	buf_free(&b);
}

/* No trailer: the file is there, but the archive is not whole. */
static void test_no_trailer(void **state)
{
	struct buf b = BUF_INIT;
	const void *p;
	size_t len;
	char err[256];

	archive(&b, 0);
	assert_int_equal(cpio_find(b.data, b.len, "etc/a", &p, &len, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "cpio: ends at byte 124 without its TRAILER!!! entry");
	assert_int_equal(cpio_find(b.data, 0, "etc/a", &p, &len, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "cpio: ends at byte 0 without its TRAILER!!! entry");
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_back, arm, disarm),
		cmocka_unit_test_setup_teardown(test_after_trailer_and_crc_magic, arm, disarm),
		cmocka_unit_test_setup_teardown(test_fields_exactly_hex, arm, disarm),
		cmocka_unit_test_setup_teardown(test_sizes_bounded, arm, disarm),
		cmocka_unit_test_setup_teardown(test_truncated, arm, disarm),
		cmocka_unit_test_setup_teardown(test_no_trailer, arm, disarm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
