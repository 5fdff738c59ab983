#include "overlay.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fsafe.h"
#include "tmpl.h"

void overlay_free(struct overlay_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		free(set->files[i].path);
		free(set->files[i].text);
	}
	free(set->files);
	set->files = NULL;
	set->n = 0;
}

/* One template: read, checked against the known names, added.  @ret 0 or -errno with err. */
static int overlay_add(const char *dir, const char *rel, struct overlay_set *set, char *err,
		       size_t errlen)
{
	static const char *const names[] = OVERLAY_VARS;
	struct tmpl_var vars[OVERLAY_NVARS];
	struct buf text = BUF_INIT, out = BUF_INIT;
	struct overlay_file *f;
	char path[8400], why[300], chunk[4096];
	struct stat st;
	ssize_t r;
	size_t i;
	int fd, rc = 0;

	if (set->n == OVERLAY_MAX_FILES) {
		snprintf(err, errlen, "overlay-dir: more than %d templates in %s", OVERLAY_MAX_FILES, dir);
		return -E2BIG;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, rel) >= sizeof(path)) {
		snprintf(err, errlen, "overlay-dir: %s: path too long", rel);
		return -ENAMETOOLONG;
	}
	fd = fsafe_open(dir, path, "overlay-dir", why, sizeof(why));
	if (fd < 0) {
		snprintf(err, errlen, "%s", why);
		return fd;
	}
	if (fstat(fd, &st) || st.st_size > OVERLAY_MAX_BYTES) {
		close(fd);
		snprintf(err, errlen, "overlay-dir: %s: larger than %d bytes", path, OVERLAY_MAX_BYTES);
		return -EFBIG;
	}
	while ((r = read(fd, chunk, sizeof(chunk))) > 0 && !rc)
		if (text.len + (size_t)r > OVERLAY_MAX_BYTES || buf_append(&text, chunk, (size_t)r))
			rc = -EFBIG;
	if (r < 0)
		rc = -errno;
	close(fd);
	if (!rc && memchr(text.data ? text.data : "", '\0', text.len))
		rc = -EINVAL;
	if (rc) {
		snprintf(err, errlen, "overlay-dir: %s: %s", path,
			 rc == -EINVAL ? "a NUL byte: templates are text" : strerror(-rc));
		goto out;
	}
	/* Every placeholder must have a value: rendered once with all of them. */
	for (i = 0; i < OVERLAY_NVARS; i++)
		vars[i] = (struct tmpl_var){ names[i], "x" };
	rc = tmpl_render(text.data ? text.data : "", vars, OVERLAY_NVARS, &out, why, sizeof(why));
	if (rc) {
		snprintf(err, errlen, "overlay-dir: %s: %s (a template knows name, mac, ip, image, "
				      "profile, host_url)", path, why);
		goto out;
	}
	f = realloc(set->files, (set->n + 1) * sizeof(*f));
	if (!f) {
		rc = -ENOMEM;
		goto out;
	}
	set->files = f;
	f = &set->files[set->n];
	f->path = strdup(rel);
	f->text = strndup(text.data ? text.data : "", text.len);
	f->mode = (st.st_mode & 0111) ? 0755 : 0644;
	if (!f->path || !f->text) {
		free(f->path);
		free(f->text);
		rc = -ENOMEM;
		goto out;
	}
	set->n++;
out:
	buf_free(&text);
	buf_free(&out);
	return rc;
}

/* Walk dir/rel (rel "" at the top), depth folders down.  @ret 0 or -errno with err. */
static int overlay_walk(const char *dir, const char *rel, int depth, struct overlay_set *set,
			char *err, size_t errlen)
{
	char path[8400], sub[4200];
	struct dirent **list;
	struct stat st;
	int n, i, rc = 0;

	snprintf(path, sizeof(path), "%s%s%s", dir, *rel ? "/" : "", rel);
	n = scandir(path, &list, NULL, alphasort);
	if (n < 0) {
		if (!*rel && errno == ENOENT)
			return 0;
		snprintf(err, errlen, "overlay-dir: %s: %s", path, strerror(errno));
		return -errno;
	}
	for (i = 0; i < n; i++) {
		const char *name = list[i]->d_name;
		if (rc || name[0] == '.')
			continue; /* ., .., and hidden files (editors' swap files, .git) */
		if ((size_t)snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", name) >=
			    sizeof(sub) / 2 ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, sub) >= sizeof(path)) {
			rc = -ENAMETOOLONG;
			snprintf(err, errlen, "overlay-dir: %s/%s: path too long", dir, name);
		} else if (lstat(path, &st)) {
			rc = -errno;
			snprintf(err, errlen, "overlay-dir: %s: %s", path, strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			if (depth + 1 >= OVERLAY_MAX_DEPTH) {
				rc = -ELOOP;
				snprintf(err, errlen, "overlay-dir: %s: more than %d folders deep", path,
					 OVERLAY_MAX_DEPTH);
			} else {
				rc = overlay_walk(dir, sub, depth + 1, set, err, errlen);
			}
		} else {
			/* Files, and symlinks fsafe_open() resolves: only to files below dir. */
			rc = overlay_add(dir, sub, set, err, errlen);
		}
	}
	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return rc;
}

int overlay_load(const char *dir, struct overlay_set *set, char *err, size_t errlen)
{
	int rc;

	overlay_free(set);
	if (!dir || !*dir)
		return 0;
	rc = overlay_walk(dir, "", 0, set, err, errlen);
	if (rc)
		overlay_free(set);
	return rc;
}
