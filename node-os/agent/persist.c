#include "persist.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jsonh.h"

/* Prefix err (which says what was wrong inside) with where: "thresholds[3]: ...". */
static int persist_where(char *err, size_t errlen, const char *fmt, size_t i, int rc)
{
	char inner[256], where[64];

	snprintf(inner, sizeof(inner), "%s", err);
	snprintf(where, sizeof(where), fmt, i);
	snprintf(err, errlen, "%s: %s", where, inner);
	return rc;
}

static int persist_thresholds(json_t *a, struct persist_state *p, char *err, size_t errlen)
{
	static const char *const keys[] = { "t", "hits", "conf", NULL };
	json_t *e, *conf;
	size_t i, k;
	int rc;

	if (!a)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > PERSIST_THR_MAX) {
		snprintf(err, errlen, "thresholds: must be an array of at most %d",
			 PERSIST_THR_MAX);
		return -EINVAL;
	}
	json_array_foreach(a, i, e) {
		struct instr_threshold *t = &p->thr[i];
		json_int_t hits = 0;
		if (!json_is_object(e)) {
			snprintf(err, errlen, "thresholds[%zu]: must be an object", i);
			return -EINVAL;
		}
		if ((rc = jsonh_only_keys(e, keys, err, errlen)) ||
		    (rc = threshold_from_json(json_object_get(e, "t"), t, err, errlen)) ||
		    (rc = jsonh_get_int(e, "hits", 0, 0, INSTR_SAMPLES_MAX, &hits, err, errlen)))
			return persist_where(err, errlen, "thresholds[%zu]", i, rc);
		conf = json_object_get(e, "conf");
		if (conf && !json_is_boolean(conf)) {
			snprintf(err, errlen, "thresholds[%zu]: conf: must be true or false", i);
			return -EINVAL;
		}
		for (k = 0; k < i; k++)
			if (p->thr[k].kind == t->kind && !strcmp(p->thr[k].value, t->value)) {
				snprintf(err, errlen, "thresholds[%zu]: a second %s threshold on %s",
					 i, instr_thr_kind_name(t->kind), t->value);
				return -EINVAL;
			}
		/* hits count readings beyond rise while clear, short of samples. */
		t->hits = t->state == INSTR_THR_CLEAR && (unsigned)hits < t->samples ?
				  (unsigned)hits : 0;
		p->thr_conf[i] = json_is_true(conf);
		p->nthr = i + 1;
	}
	return 0;
}

/* A finite number, or -EINVAL. */
static int persist_num(json_t *v, double *out)
{
	if (!json_is_number(v) || !isfinite(json_number_value(v)))
		return -EINVAL;
	*out = json_number_value(v);
	return 0;
}

/* {name: [low, high]} or {name: base}: names checked, numbers finite. */
static int persist_named(json_t *o, const char *field, int pair, json_t **out, char *err,
			 size_t errlen)
{
	const char *name;
	json_t *v;
	double lo, hi;

	if (!o)
		return 0;
	if (!json_is_object(o)) {
		snprintf(err, errlen, "%s: must be an object", field);
		return -EINVAL;
	}
	json_object_foreach(o, name, v) {
		char inner[128];
		if (instr_name_check(name, inner, sizeof(inner))) {
			snprintf(err, errlen, "%s: %s", field, inner);
			return -EINVAL;
		}
		if (pair ? !json_is_array(v) || json_array_size(v) != 2 ||
				   persist_num(json_array_get(v, 0), &lo) ||
				   persist_num(json_array_get(v, 1), &hi) || lo > hi :
			   persist_num(v, &lo) || lo < 0) {
			snprintf(err, errlen, "%s.%s: must be %s", field, name,
				 pair ? "[low, high], finite, low <= high" :
					"a finite number >= 0");
			return -EINVAL;
		}
	}
	*out = json_incref(o);
	return 0;
}

static int persist_devices(json_t *a, struct persist_state *p, char *err, size_t errlen)
{
	static const char *const keys[] = { "path", "disabled", "offline", "diag", "audit", NULL };
	json_t *e, *b;
	size_t i, k, len;
	const char *path;
	int rc;

	if (!a)
		return 0;
	/* A node has a few hundred devices; more is not a state file of ours. */
	if (!json_is_array(a) || json_array_size(a) > 4096) {
		snprintf(err, errlen, "devices: must be an array of at most 4096");
		return -EINVAL;
	}
	p->marks = calloc(json_array_size(a) ? json_array_size(a) : 1, sizeof(*p->marks));
	if (!p->marks) {
		snprintf(err, errlen, "devices: out of memory");
		return -ENOMEM;
	}
	json_array_foreach(a, i, e) {
		struct ddm_mark *m = &p->marks[i];
		if (!json_is_object(e)) {
			snprintf(err, errlen, "devices[%zu]: must be an object", i);
			return -EINVAL;
		}
		if ((rc = jsonh_only_keys(e, keys, err, errlen)) ||
		    (rc = jsonh_get_str(e, "path", 1, INSTR_PATH_MAX, &path, err, errlen)) ||
		    (rc = instr_check_from_json(json_object_get(e, "diag"), "diag", &m->diag, err,
						errlen)) ||
		    (rc = instr_check_from_json(json_object_get(e, "audit"), "audit", &m->audit,
						err, errlen)))
			return persist_where(err, errlen, "devices[%zu]", i, rc);
		len = strlen(path);
		for (k = 0; k < len; k++)
			if ((unsigned char)path[k] <= ' ' || (unsigned char)path[k] >= 0x7f) {
				snprintf(err, errlen, "devices[%zu]: path: printable ASCII only", i);
				return -EINVAL;
			}
		for (k = 0; k < i; k++)
			if (!strcmp(p->marks[k].path, path)) {
				snprintf(err, errlen, "devices[%zu]: path: %s twice", i, path);
				return -EINVAL;
			}
		snprintf(m->path, sizeof(m->path), "%s", path);
		b = json_object_get(e, "disabled");
		if (b && !json_is_boolean(b)) {
			snprintf(err, errlen, "devices[%zu]: disabled: must be true or false", i);
			return -EINVAL;
		}
		m->disabled = json_is_true(b);
		b = json_object_get(e, "offline");
		if (b && !json_is_boolean(b)) {
			snprintf(err, errlen, "devices[%zu]: offline: must be true or false", i);
			return -EINVAL;
		}
		m->offline = json_is_true(b);
		p->nmarks = i + 1;
	}
	return 0;
}

static int persist_results(json_t *a, struct persist_state *p, char *err, size_t errlen)
{
	static const char *const keys[] = { "id", "pending", "result", NULL };
	json_t *e, *res, *pending;
	json_int_t id, rid;
	size_t i, k;
	int rc;

	if (!a)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > PERSIST_RESULTS_MAX) {
		snprintf(err, errlen, "results: must be an array of at most %d",
			 PERSIST_RESULTS_MAX);
		return -EINVAL;
	}
	json_array_foreach(a, i, e) {
		if (!json_is_object(e)) {
			snprintf(err, errlen, "results[%zu]: must be an object", i);
			return -EINVAL;
		}
		if ((rc = jsonh_only_keys(e, keys, err, errlen)) ||
		    (rc = jsonh_get_int(e, "id", 1, 0, INT64_MAX, &id, err, errlen)))
			return persist_where(err, errlen, "results[%zu]", i, rc);
		res = json_object_get(e, "result");
		pending = json_object_get(e, "pending");
		/* The result as it is sent: {id (the same), ok, result | error}. */
		if (!json_is_object(res) ||
		    jsonh_get_int(res, "id", 1, 0, INT64_MAX, &rid, err, errlen) || rid != id ||
		    !json_is_boolean(json_object_get(res, "ok"))) {
			snprintf(err, errlen,
				 "results[%zu]: result: must be {id (the same), ok, ...}", i);
			return -EINVAL;
		}
		if (pending && !json_is_boolean(pending)) {
			snprintf(err, errlen, "results[%zu]: pending: must be true or false", i);
			return -EINVAL;
		}
		for (k = 0; k < i; k++)
			if (p->results[k].id == id) {
				snprintf(err, errlen, "results[%zu]: id %lld twice", i, (long long)id);
				return -EINVAL;
			}
		p->results[i].id = id;
		p->results[i].res = json_deep_copy(res);
		if (!p->results[i].res) {
			snprintf(err, errlen, "results: out of memory");
			return -ENOMEM;
		}
		p->results[i].pending = json_is_true(pending);
		p->nresults = i + 1;
	}
	return 0;
}

static int persist_xcvr(json_t *a, struct persist_state *p, char *err, size_t errlen)
{
	json_t *e;
	size_t i;

	if (!a)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > 4096 || !(p->xcvr = json_object())) {
		snprintf(err, errlen, "xcvr: must be an array of at most 4096 value names");
		return -EINVAL;
	}
	json_array_foreach(a, i, e) {
		char inner[128];
		if (!json_is_string(e) || instr_name_check(json_string_value(e), inner,
							   sizeof(inner))) {
			snprintf(err, errlen, "xcvr[%zu]: must be a value name", i);
			return -EINVAL;
		}
		json_object_set_new(p->xcvr, json_string_value(e), json_true());
	}
	return 0;
}

int persist_parse(json_t *j, const char *boot_id, struct persist_state *p, char *err,
		  size_t errlen)
{
	static const char *const keys[] = { "version", "boot_id",  "thresholds", "watermarks",
					    "counters", "devices", "results", "xcvr", NULL };
	const char *boot;
	json_int_t version;
	int rc;

	memset(p, 0, sizeof(*p));
	if (!json_is_object(j)) {
		snprintf(err, errlen, "must be a JSON object");
		return -EINVAL;
	}
	if ((rc = jsonh_get_int(j, "version", 1, 1, INT32_MAX, &version, err, errlen)) ||
	    (rc = jsonh_get_str(j, "boot_id", 1, 64, &boot, err, errlen)))
		return rc;
	if (version != PERSIST_VERSION) {
		snprintf(err, errlen, "version: %lld is not %d (another agent's)", (long long)version,
			 PERSIST_VERSION);
		return -EINVAL;
	}
	if (strcmp(boot, boot_id)) {
		snprintf(err, errlen, "boot_id: another boot's (%.64s)", boot);
		return -ESTALE;
	}
	if ((rc = jsonh_only_keys(j, keys, err, errlen)) ||
	    (rc = persist_thresholds(json_object_get(j, "thresholds"), p, err, errlen)) ||
	    (rc = persist_named(json_object_get(j, "watermarks"), "watermarks", 1, &p->wm, err,
				errlen)) ||
	    (rc = persist_named(json_object_get(j, "counters"), "counters", 0, &p->counters, err,
				errlen)) ||
	    (rc = persist_devices(json_object_get(j, "devices"), p, err, errlen)) ||
	    (rc = persist_results(json_object_get(j, "results"), p, err, errlen)) ||
	    (rc = persist_xcvr(json_object_get(j, "xcvr"), p, err, errlen)))
		return rc;
	return 0;
}

void persist_free(struct persist_state *p)
{
	size_t i;

	json_decref(p->wm);
	json_decref(p->counters);
	json_decref(p->xcvr);
	free(p->marks);
	for (i = 0; i < p->nresults; i++)
		json_decref(p->results[i].res);
	memset(p, 0, sizeof(*p));
}

json_t *persist_json(const struct persist_state *p, const char *boot_id)
{
	json_t *thr = json_array(), *devs = json_array(), *res = json_array(), *x = json_array();
	json_t *j = NULL, *e;
	const char *name;
	size_t i;

	if (!thr || !devs || !res || !x)
		goto err;
	for (i = 0; i < p->nthr; i++)
		if (json_array_append_new(thr, json_pack("{s:o, s:i, s:b}", "t",
							 threshold_to_json(&p->thr[i]), "hits",
							 (int)p->thr[i].hits, "conf",
							 p->thr_conf[i])))
			goto err;
	for (i = 0; i < p->nmarks; i++) {
		const struct ddm_mark *m = &p->marks[i];
		e = json_pack("{s:s, s:b, s:b}", "path", m->path, "disabled", m->disabled,
			      "offline", m->offline);
		if (e && m->diag.done)
			json_object_set_new(e, "diag", instr_check_to_json(&m->diag));
		if (e && m->audit.done)
			json_object_set_new(e, "audit", instr_check_to_json(&m->audit));
		if (json_array_append_new(devs, e))
			goto err;
	}
	for (i = 0; i < p->nresults; i++)
		if (json_array_append_new(res, json_pack("{s:I, s:b, s:O}", "id", p->results[i].id,
							 "pending", p->results[i].pending,
							 "result", p->results[i].res)))
			goto err;
	json_object_foreach(p->xcvr, name, e)
		if (json_array_append_new(x, json_string(name)))
			goto err;
	/* "o" steals each, also when json_pack fails; wm and counters are p's (a new ref). */
	j = json_pack("{s:i, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "version", PERSIST_VERSION,
		      "boot_id", boot_id, "thresholds", thr, "watermarks",
		      p->wm ? json_incref(p->wm) : json_object(), "counters",
		      p->counters ? json_incref(p->counters) : json_object(), "devices", devs,
		      "results", res, "xcvr", x);
	return j;

err:
	json_decref(thr);
	json_decref(devs);
	json_decref(res);
	json_decref(x);
	return NULL;
}

int persist_write(const char *dir, const char *name, json_t *j, char *err, size_t errlen)
{
	char path[4096], tmp[4200];
	char *text = NULL;
	size_t len, off = 0;
	int fd = -1, dfd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (mkdir(dir, 0700) && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return rc;
	}
	text = json_dumps(j, JSON_COMPACT);
	if (!text) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	len = strlen(text);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd)) {
		rc = -errno;
		goto out;
	}
	if (close(fd)) {
		fd = -1;
		rc = -errno;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path)) {
		rc = -errno;
		goto out;
	}
	/* The rename itself must reach the disk on a real one. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
out:
	if (rc) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
	}
	free(text);
	return rc;
}

int persist_read(const char *dir, const char *name, json_t **out, char *err, size_t errlen)
{
	char path[4096];
	json_error_t je;
	struct stat sb;
	char *buf;
	size_t off = 0;
	int fd, rc = 0;

	*out = NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode) || sb.st_size > PERSIST_FILE_MAX) {
		rc = S_ISREG(sb.st_mode) ? -EFBIG : -EINVAL;
		snprintf(err, errlen, "%s: %s", path,
			 rc == -EFBIG ? "larger than 8 MiB" : "not a regular file");
		close(fd);
		return rc;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	while (off < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + off, (size_t)sb.st_size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	*out = json_loadb(buf, off, JSON_REJECT_DUPLICATES, &je);
	free(buf);
	if (!*out) {
		snprintf(err, errlen, "%s: not JSON (truncated or damaged): line %d column %d: %s",
			 path, je.line, je.column, je.text);
		return -EINVAL;
	}
	return 0;
}
