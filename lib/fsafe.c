#include "fsafe.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Whether resolved (a realpath) lies below one of dirs. */
static int fsafe_below(const char *dirs, const char *resolved)
{
	const char *p = dirs;

	while (p && *p) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);
		char dir[PATH_MAX], real[PATH_MAX];
		if (len && len < sizeof(dir)) {
			memcpy(dir, p, len);
			dir[len] = '\0';
			if (realpath(dir, real)) {
				size_t rl = strlen(real);
				if (!strcmp(real, "/") ||
				    (!strncmp(resolved, real, rl) && resolved[rl] == '/'))
					return 1;
			}
		}
		p = colon ? colon + 1 : NULL;
	}
	return 0;
}

int fsafe_open(const char *dirs, const char *path, const char *field, char *err, size_t errlen)
{
	char resolved[PATH_MAX];
	struct stat st;
	int fd, e;

	if (!path || !*path || !realpath(path, resolved)) {
		e = path && *path ? errno : ENOENT;
		snprintf(err, errlen, "%s: %s: %s", field, path ? path : "", strerror(e));
		return -e;
	}
	if (!dirs || !fsafe_below(dirs, resolved)) {
		snprintf(err, errlen, "%s: %s is outside the folders snowd may read (--allow-dir %s)",
			 field, path, dirs ? dirs : "");
		return -EPERM;
	}
	/* Non-blocking: opening a FIFO for reading would wait for a writer. */
	fd = open(resolved, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "%s: %s: %s", field, path, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "%s: %s is not a regular file", field, path);
		return -EINVAL;
	}
	return fd;
}
