/*
 * Logs kept per boot (host/bootlog.c): fewer, exactly and more boots than
 * kept, oldest by mtime or by name, the current boot spared, a boot's
 * companions removed with it and other files left alone, a folder that
 * cannot be read, the newest boot by name.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "bootlog.h"

static const char *const companions[] = { ".log.1", ".pstore.json", NULL };

struct dir {
	char path[256];
};

/* A file dir/name, changed at t (Unix s). */
static void touch(const struct dir *d, const char *name, time_t t)
{
	struct timespec ts[2] = { { .tv_sec = t }, { .tv_sec = t } };
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", d->path, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x\n", 2), 2);
	assert_int_equal(futimens(fd, ts), 0);
	close(fd);
}

static int not_dots(const struct dirent *de)
{
	return strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
}

/* The folder holds these files: names in byte order, one space between. */
static void expect_left(const struct dir *d, const char *want)
{
	struct dirent **list;
	char got[1024] = "";
	int i, n = scandir(d->path, &list, not_dots, alphasort);

	assert_true(n >= 0);
	for (i = 0; i < n; i++) {
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? " " : "",
			 list[i]->d_name);
		free(list[i]);
	}
	free(list);
	assert_string_equal(got, want);
}

/* Boots b0 .. b(n-1), b0 changed first. */
static void boots(const struct dir *d, int n)
{
	char name[32];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "b%d.log", i);
		touch(d, name, 1000000 + i);
	}
}

static int setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));
	const char *tmp = getenv("TMPDIR");

	if (!d)
		return -1;
	snprintf(d->path, sizeof(d->path), "%s/test_bootlog.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (!mkdtemp(d->path)) {
		free(d);
		return -1;
	}
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	struct dir *d = *state;
	char cmd[300];

	chmod(d->path, 0700);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->path);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", d->path);
	free(d);
	return 0;
}

static void test_fewer_than_kept(void **state)
{
	struct dir *d = *state;

	boots(d, 3);
	assert_int_equal(bootlog_prune(d->path, "b2", 5, BOOTLOG_BY_MTIME, companions), 0);
	expect_left(d, "b0.log b1.log b2.log");
}

static void test_exactly_kept(void **state)
{
	struct dir *d = *state;

	boots(d, 5);
	assert_int_equal(bootlog_prune(d->path, "b4", 5, BOOTLOG_BY_MTIME, companions), 0);
	expect_left(d, "b0.log b1.log b2.log b3.log b4.log");
}

/* More than kept: the oldest by mtime go, though their names sort last. */
static void test_more_by_mtime(void **state)
{
	struct dir *d = *state;

	touch(d, "z-old.log", 1000);
	touch(d, "y-older.log", 900);
	touch(d, "a-new.log", 3000);
	touch(d, "b-newer.log", 4000);
	touch(d, "c-now.log", 5000);
	assert_int_equal(bootlog_prune(d->path, "c-now", 3, BOOTLOG_BY_MTIME, companions), 2);
	expect_left(d, "a-new.log b-newer.log c-now.log");
}

/* More than kept, by name: UTC times sort as they happened, whatever the mtime. */
static void test_more_by_name(void **state)
{
	struct dir *d = *state;

	touch(d, "20261201T000000Z.log", 5000);
	touch(d, "20261202T000000Z.log", 4000);
	touch(d, "20261203T000000Z.log", 3000);
	touch(d, "20261204T000000Z.log", 2000);
	assert_int_equal(bootlog_prune(d->path, "20261204T000000Z", 2, BOOTLOG_BY_NAME, companions), 2);
	expect_left(d, "20261203T000000Z.log 20261204T000000Z.log");
}

/* The current boot counts but stays, even when it is the oldest (a clock set back). */
static void test_current_spared(void **state)
{
	struct dir *d = *state;

	boots(d, 4);
	assert_int_equal(bootlog_prune(d->path, "b0", 2, BOOTLOG_BY_MTIME, companions), 2);
	expect_left(d, "b0.log b3.log");
	/* keep 1: the other boot goes; the current one stays, alone, at every call after. */
	assert_int_equal(bootlog_prune(d->path, "b0", 1, BOOTLOG_BY_MTIME, companions), 1);
	expect_left(d, "b0.log");
	assert_int_equal(bootlog_prune(d->path, "b0", 1, BOOTLOG_BY_MTIME, companions), 0);
	expect_left(d, "b0.log");
}

/* A boot's companions go with it; other boots' stay; files of no boot are not counted. */
static void test_companions(void **state)
{
	struct dir *d = *state;

	boots(d, 3);
	touch(d, "b0.log.1", 2000000);
	touch(d, "b0.pstore.json", 2000000);
	touch(d, "b1.log.1", 2000000);
	touch(d, "b1.pstore.json", 2000000);
	touch(d, "b0.other", 1);
	touch(d, "lost.pstore.json", 1);
	touch(d, ".hidden.log", 1);
	touch(d, "README", 1);
	assert_int_equal(bootlog_prune(d->path, "b2", 2, BOOTLOG_BY_MTIME, companions), 1);
	expect_left(d, ".hidden.log README b0.other b1.log b1.log.1 b1.pstore.json b2.log "
		       "lost.pstore.json");
	/* Companions the caller does not name stay (bmc_sol.c names only .log.1). */
	touch(d, "b3.log", 3000000);
	assert_int_equal(bootlog_prune(d->path, "b3", 2, BOOTLOG_BY_MTIME,
				       (const char *const[]){ ".log.1", NULL }), 1);
	expect_left(d, ".hidden.log README b0.other b1.pstore.json b2.log b3.log lost.pstore.json");
	/* No companions at all, no current boot. */
	touch(d, "b4.log", 4000000);
	assert_int_equal(bootlog_prune(d->path, NULL, 2, BOOTLOG_BY_MTIME, NULL), 1);
	expect_left(d, ".hidden.log README b0.other b1.pstore.json b3.log b4.log lost.pstore.json");
}

/* A folder that cannot be read: an error, and nothing removed. */
static void test_unreadable(void **state)
{
	struct dir *d = *state;
	char p[512];

	snprintf(p, sizeof(p), "%s/absent", d->path);
	assert_int_equal(bootlog_prune(p, NULL, 1, BOOTLOG_BY_MTIME, companions), -ENOENT);
	boots(d, 3);
	snprintf(p, sizeof(p), "%s/b0.log", d->path);
	assert_int_equal(bootlog_prune(p, NULL, 1, BOOTLOG_BY_MTIME, companions), -ENOTDIR);
	assert_int_equal(bootlog_newest(p, (char[8]){ 0 }, 8), -ENOTDIR);
	/* Without the right to read it (root has it anyway). */
	if (geteuid() != 0) {
		assert_int_equal(chmod(d->path, 0300), 0);
		assert_int_equal(bootlog_prune(d->path, NULL, 1, BOOTLOG_BY_MTIME, companions), -EACCES);
		assert_int_equal(chmod(d->path, 0700), 0);
	}
	expect_left(d, "b0.log b1.log b2.log");
}

static void test_newest(void **state)
{
	struct dir *d = *state;
	char boot[24] = "junk";

	assert_int_equal(bootlog_newest(d->path, boot, sizeof(boot)), -ENOENT);
	assert_string_equal(boot, "");
	touch(d, "20261201T000000.000Z.log", 3000);
	touch(d, "20261203T000000.000Z.log", 1000);
	touch(d, "20261202T000000.000Z.log", 2000);
	touch(d, "20261209T000000.000Z.log.1", 2000);
	touch(d, "20261299T000000.000Z-a-name-too-long.log", 2000);
	assert_int_equal(bootlog_newest(d->path, boot, sizeof(boot)), 0);
	assert_string_equal(boot, "20261203T000000.000Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fewer_than_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exactly_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_more_by_mtime, setup, teardown),
		cmocka_unit_test_setup_teardown(test_more_by_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_current_spared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_companions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newest, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
