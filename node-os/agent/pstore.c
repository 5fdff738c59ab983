#include "pstore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "b64.h"
#include "log.h"

/* A name the host takes (host/pstorep.c): [A-Za-z0-9._-], not starting with '.'. */
static int pstore_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 64 && s[0] != '.' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/*
 * Read the file's last PSTORE_RECORD_MAX bytes into a new buffer (*len).
 * pstore files report their size (st_size); a read error keeps what came.
 * @ret it (the caller frees), or NULL.
 */
static unsigned char *pstore_read(const char *path, const struct stat *st, size_t *len)
{
	size_t want = (size_t)st->st_size, got = 0;
	unsigned char *b;
	ssize_t r;
	int fd;

	if (want > PSTORE_RECORD_MAX)
		want = PSTORE_RECORD_MAX;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	if ((size_t)st->st_size > want)
		lseek(fd, st->st_size - (off_t)want, SEEK_SET);
	b = malloc(want + 1);
	while (b && got < want && (r = read(fd, b + got, want - got)) > 0)
		got += (size_t)r;
	close(fd);
	*len = got;
	return b;
}

json_t *pstore_collect(const char *root, const char *boot_id, int *rc)
{
	char dir[4200], path[4500];
	json_t *body = NULL, *recs;
	size_t total = 0;
	struct dirent *de;
	DIR *d;

	*rc = 0;
	snprintf(dir, sizeof(dir), "%s%s", root, PSTORE_DIR);
	d = opendir(dir);
	if (!d)
		return NULL;
	recs = json_array();
	while (recs && (de = readdir(d)) && json_array_size(recs) < PSTORE_RECORDS_MAX) {
		struct stat st;
		unsigned char *data;
		char *b64;
		size_t len = 0;
		if (!pstore_name_ok(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		if (json_array_size(recs) && total + (size_t)st.st_size > PSTORE_BODY_MAX)
			continue; /* the next request takes it */
		data = pstore_read(path, &st, &len);
		if (!data) {
			log_warnx("pstore: %s: %s (left there)", path, strerror(errno));
			continue;
		}
		b64 = malloc(B64_LEN(len) + 1);
		if (b64) {
			b64_encode(data, len, b64);
			json_array_append_new(recs, json_pack("{s:s, s:I, s:s}", "name", de->d_name,
							      "time", (json_int_t)st.st_mtime, "data",
							      b64));
			total += len;
		}
		free(b64);
		free(data);
	}
	closedir(d);
	if (!recs) {
		*rc = -ENOMEM;
		return NULL;
	}
	if (!json_array_size(recs)) {
		json_decref(recs);
		return NULL;
	}
	body = json_pack("{s:s, s:o}", "boot_id", boot_id, "records", recs);
	if (!body)
		*rc = -ENOMEM;
	return body;
}

void pstore_clear(const char *root, json_t *body)
{
	char path[4500];
	json_t *r;
	size_t i;

	json_array_foreach(json_object_get(body, "records"), i, r) {
		const char *name = json_string_value(json_object_get(r, "name"));
		if (!name || !pstore_name_ok(name))
			continue;
		snprintf(path, sizeof(path), "%s%s/%s", root, PSTORE_DIR, name);
		if (unlink(path) && errno != ENOENT)
			log_warnx("pstore: cannot clear %s: %s", path, strerror(errno));
	}
}

int pstore_send(struct wire_client *w, const char *root, const char *boot_id)
{
	json_t *body, *reply = NULL;
	char err[256];
	int rc, status = 0;
	size_t n;

	body = pstore_collect(root, boot_id, &rc);
	if (!body)
		return rc ? -EAGAIN : 0;
	n = json_array_size(json_object_get(body, "records"));
	rc = wire_post(w, WIRE_PATH_PSTORE, body, &reply, &status, err, sizeof(err));
	if (!rc && status / 100 == 2) {
		log_info("pstore: %zu record(s) from before the reset sent to snowd (boot %s there)", n,
			 json_string_value(json_object_get(reply, "boot_id")) ?
				 json_string_value(json_object_get(reply, "boot_id")) : "?");
		pstore_clear(root, body);
		json_decref(reply);
		json_decref(body);
		/* More than one request's worth: the rest goes next. */
		body = pstore_collect(root, boot_id, &rc);
		n = body != NULL;
		json_decref(body);
		return n ? 1 : 0;
	}
	json_decref(reply);
	json_decref(body);
	if (status == 400 || status == 404 || status == 413) {
		log_warnx("pstore: snowd refused the records (%d: %s); they stay in %s%s", status,
			  err[0] ? err : "-", root, PSTORE_DIR);
		return -EPERM;
	}
	log_warnx("pstore: not sent (%s); trying again later", err[0] ? err : "no answer");
	return -EAGAIN;
}
