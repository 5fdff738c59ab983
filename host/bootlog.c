/* Logs kept per boot, the newest N of a folder (bootlog.h). */
#include "bootlog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BOOTLOG_NAME_MAX 255 /* a file name, BOOT.log or a companion's */

struct bootlog_boot {
	char name[BOOTLOG_NAME_MAX + 1]; /* BOOT, without ".log" */
	time_t mtime;                    /* BOOTLOG_BY_MTIME: BOOT.log's */
};

/* The boot a directory entry's name is, into boot (BOOTLOG_NAME_MAX + 1).  @ret 1 when a boot's log. */
static int bootlog_is_log(const char *name, char *boot)
{
	size_t l = strlen(name);

	if (l <= 4 || l > BOOTLOG_NAME_MAX || name[0] == '.' || strcmp(name + l - 4, ".log"))
		return 0;
	memcpy(boot, name, l - 4);
	boot[l - 4] = '\0';
	return 1;
}

/* Older first; boots of one mtime by name, so the order never depends on readdir's. */
static int bootlog_cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct bootlog_boot *)a)->name, ((const struct bootlog_boot *)b)->name);
}

static int bootlog_cmp_mtime(const void *a, const void *b)
{
	const struct bootlog_boot *x = a, *y = b;

	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	return bootlog_cmp_name(a, b);
}

/*
 * The boots in d, into *out (malloc'd, the caller frees it; NULL when none).
 * @ret how many, or -ENOMEM.
 */
static long bootlog_list(DIR *d, enum bootlog_age age, struct bootlog_boot **out)
{
	struct bootlog_boot *v = NULL, *grown;
	size_t n = 0, cap = 0;
	struct dirent *de;
	struct stat st;

	while ((de = readdir(d))) {
		if (n == cap) {
			cap = cap ? 2 * cap : 32;
			grown = realloc(v, cap * sizeof(*v));
			if (!grown) {
				free(v);
				return -ENOMEM;
			}
			v = grown;
		}
		if (!bootlog_is_log(de->d_name, v[n].name))
			continue;
		v[n].mtime = 0;
		/* A log gone since readdir is no boot to count. */
		if (age == BOOTLOG_BY_MTIME) {
			if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW))
				continue;
			v[n].mtime = st.st_mtime;
		}
		n++;
	}
	*out = v;
	return (long)n;
}

/* Remove BOOT.log and its companions from the folder dfd.  @ret 1 when BOOT.log went. */
static int bootlog_remove(int dfd, const char *boot, const char *const *companions)
{
	char p[BOOTLOG_NAME_MAX + 64];
	size_t i;
	int gone;

	snprintf(p, sizeof(p), "%s.log", boot);
	gone = !unlinkat(dfd, p, 0) || errno == ENOENT;
	for (i = 0; companions && companions[i]; i++)
		if (snprintf(p, sizeof(p), "%s%s", boot, companions[i]) < (int)sizeof(p))
			unlinkat(dfd, p, 0);
	return gone;
}

int bootlog_prune(const char *dir, const char *current, long keep, enum bootlog_age age,
		  const char *const *companions)
{
	struct bootlog_boot *v;
	long n, i, over, tried = 0, removed = 0;
	DIR *d = opendir(dir);

	if (!d)
		return -errno;
	n = bootlog_list(d, age, &v);
	if (n < 0) {
		closedir(d);
		return (int)n;
	}
	if (n > 1)
		qsort(v, (size_t)n, sizeof(*v),
		      age == BOOTLOG_BY_MTIME ? bootlog_cmp_mtime : bootlog_cmp_name);
	/*
	 * The current boot counts, but is never the one to go.  A log that cannot
	 * be removed stays, and no newer one goes in its place.
	 */
	over = n - (keep > 0 ? keep : 0);
	for (i = 0; i < n && tried < over; i++) {
		if (current && !strcmp(v[i].name, current))
			continue;
		tried++;
		removed += bootlog_remove(dirfd(d), v[i].name, companions);
	}
	free(v);
	closedir(d);
	return (int)removed;
}

int bootlog_newest(const char *dir, char *boot, size_t cap)
{
	char name[BOOTLOG_NAME_MAX + 1];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (cap)
		boot[0] = '\0';
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (bootlog_is_log(de->d_name, name) && strlen(name) < cap && strcmp(name, boot) > 0)
			memcpy(boot, name, strlen(name) + 1);
	closedir(d);
	return cap && boot[0] ? 0 : -ENOENT;
}
