#include "sample.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Largest value a reader takes: 2^53, so every value is exact as a double and
 * converts to a JSON integer without overflow.
 */
#define SAMPLE_NUM_MAX 9007199254740992.0

const struct sample_def sample_defs[SAMPLE_COUNT] = {
	[SAMPLE_UPTIME_S] = { "sys.uptime_s", SAMPLE_COUNTER, "s", "seconds since boot", 1 },
	[SAMPLE_LOAD1] = { "vm.load.avg1", SAMPLE_GAUGE, "", "run queue, 1 minute average", 0 },
	[SAMPLE_LOAD5] = { "vm.load.avg5", SAMPLE_GAUGE, "", "run queue, 5 minute average", 0 },
	[SAMPLE_LOAD15] = { "vm.load.avg15", SAMPLE_GAUGE, "", "run queue, 15 minute average", 0 },
	[SAMPLE_MEM_TOTAL_KB] = { "kern.mem.total_kb", SAMPLE_ATTRIBUTE, "KiB",
				  "memory the kernel manages", 1 },
	[SAMPLE_MEM_FREE_KB] = { "kern.mem.free_kb", SAMPLE_GAUGE, "KiB", "memory unused", 1 },
	[SAMPLE_MEM_AVAIL_KB] = { "kern.mem.avail_kb", SAMPLE_GAUGE, "KiB",
				  "memory available without swapping", 1 },
	[SAMPLE_PROCS] = { "kern.procs.count", SAMPLE_GAUGE, "", "processes", 1 },
};

static const char *const sample_kind_names[] = {
	[SAMPLE_ATTRIBUTE] = "attribute",
	[SAMPLE_COUNTER] = "counter",
	[SAMPLE_GAUGE] = "gauge",
};

static void sample_set_value(struct sample_set *s, enum sample_id id, double v)
{
	s->v[id] = v;
	s->valid |= 1u << id;
}

long sample_read_file(const char *root, const char *rel, char *buf, size_t cap, char *err,
		      size_t errlen)
{
	char path[4096];
	size_t len = 0;
	int fd, rc;

	if (snprintf(path, sizeof(path), "%s/%s", root, rel) >= (int)sizeof(path)) {
		snprintf(err, errlen, "%s: root path too long", rel);
		return -ENAMETOOLONG;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	/* /proc files report size 0: read until EOF, and refuse what overflows. */
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto err_close;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap - 1) {
			char extra;
			if (read(fd, &extra, 1) > 0) {
				snprintf(err, errlen, "%s: larger than %zu bytes", path, cap - 1);
				rc = -EFBIG;
				goto err_close;
			}
			break;
		}
	}
	close(fd);
	buf[len] = '\0';
	if (memchr(buf, '\0', len)) {
		snprintf(err, errlen, "%s: contains a NUL byte", path);
		return -EINVAL;
	}
	return (long)len;

err_close:
	close(fd);
	return rc;
}

/*
 * Parse a number in [0, SAMPLE_NUM_MAX] at *p, followed by a blank, newline
 * or the end; advance *p past it.  @ret 0 or -EINVAL.
 */
static int sample_parse_num(const char **p, double *out)
{
	char *end;
	double v;

	size_t span;

	while (**p == ' ' || **p == '\t')
		(*p)++;
	/* Plain decimals only: strtod would also take signs, "nan", hex, exponents. */
	span = strspn(*p, "0123456789.");
	if (!span || !isdigit((unsigned char)**p))
		return -EINVAL;
	errno = 0;
	v = strtod(*p, &end);
	if (errno || end != *p + span || !isfinite(v) || v > SAMPLE_NUM_MAX)
		return -EINVAL;
	if (*end && *end != ' ' && *end != '\t' && *end != '\n')
		return -EINVAL;
	*p = end;
	*out = v;
	return 0;
}

int sample_uptime(const char *root, struct sample_set *s, char *err, size_t errlen)
{
	char buf[256];
	const char *p = buf;
	double up, idle;
	long n;

	n = sample_read_file(root, "proc/uptime", buf, sizeof(buf), err, errlen);
	if (n < 0)
		return (int)n;
	/* "UPTIME IDLE\n": both are checked so a truncated file is refused. */
	if (sample_parse_num(&p, &up) || sample_parse_num(&p, &idle)) {
		snprintf(err, errlen, "proc/uptime: expected two non-negative numbers, got '%.40s'",
			 buf);
		return -EINVAL;
	}
	sample_set_value(s, SAMPLE_UPTIME_S, up);
	return 0;
}

int sample_loadavg(const char *root, struct sample_set *s, char *err, size_t errlen)
{
	char buf[256];
	const char *p = buf;
	double l1, l5, l15;
	long n;

	n = sample_read_file(root, "proc/loadavg", buf, sizeof(buf), err, errlen);
	if (n < 0)
		return (int)n;
	/* "0.00 0.01 0.05 1/123 4567\n": the three averages come first. */
	if (sample_parse_num(&p, &l1) || sample_parse_num(&p, &l5) || sample_parse_num(&p, &l15)) {
		snprintf(err, errlen,
			 "proc/loadavg: expected three non-negative load averages, got '%.40s'",
			 buf);
		return -EINVAL;
	}
	sample_set_value(s, SAMPLE_LOAD1, l1);
	sample_set_value(s, SAMPLE_LOAD5, l5);
	sample_set_value(s, SAMPLE_LOAD15, l15);
	return 0;
}

/*
 * One "Key:   12345 kB" line of meminfo: the number in KiB.
 * @ret 0 or -EINVAL.
 */
static int sample_meminfo_kb(const char *p, unsigned long long *out)
{
	unsigned long long v;
	char *end;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	errno = 0;
	v = strtoull(p, &end, 10);
	if (errno || v > SAMPLE_NUM_MAX)
		return -EINVAL;
	if (strncmp(end, " kB", 3) || (end[3] && end[3] != '\n'))
		return -EINVAL;
	*out = v;
	return 0;
}

int sample_meminfo(const char *root, struct sample_set *s, char *err, size_t errlen)
{
	static const struct {
		const char *key;
		enum sample_id id;
	} keys[] = {
		{ "MemTotal:", SAMPLE_MEM_TOTAL_KB },
		{ "MemFree:", SAMPLE_MEM_FREE_KB },
		{ "MemAvailable:", SAMPLE_MEM_AVAIL_KB },
	};
	unsigned long long kb[3] = { 0, 0, 0 };
	unsigned found = 0;
	char *buf, *line, *next;
	long n;
	int rc = 0;
	size_t i;

	buf = malloc(SAMPLE_MAX_FILE); /* owned here, freed below */
	if (!buf) {
		snprintf(err, errlen, "proc/meminfo: out of memory");
		return -ENOMEM;
	}
	n = sample_read_file(root, "proc/meminfo", buf, SAMPLE_MAX_FILE, err, errlen);
	if (n < 0) {
		rc = (int)n;
		goto out;
	}
	for (line = buf; *line; line = next) {
		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		for (i = 0; i < 3; i++) {
			size_t kl = strlen(keys[i].key);
			if (strncmp(line, keys[i].key, kl))
				continue;
			if (found & (1u << i)) {
				snprintf(err, errlen, "proc/meminfo: %s appears twice", keys[i].key);
				rc = -EINVAL;
				goto out;
			}
			if (sample_meminfo_kb(line + kl, &kb[i])) {
				snprintf(err, errlen, "proc/meminfo: %s: expected 'N kB', got '%.*s'",
					 keys[i].key, (int)(next - line > 40 ? 40 : next - line - 1),
					 line + kl);
				rc = -EINVAL;
				goto out;
			}
			found |= 1u << i;
		}
	}
	/* MemAvailable is missing on kernels before 3.14: optional. */
	if ((found & 3) != 3) {
		snprintf(err, errlen, "proc/meminfo: %s missing",
			 (found & 1) ? "MemFree" : "MemTotal");
		rc = -EINVAL;
		goto out;
	}
	if (kb[0] == 0 || kb[1] > kb[0] || ((found & 4) && kb[2] > kb[0])) {
		snprintf(err, errlen, "proc/meminfo: free or available memory above MemTotal");
		rc = -EINVAL;
		goto out;
	}
	for (i = 0; i < 3; i++)
		if (found & (1u << i))
			sample_set_value(s, keys[i].id, (double)kb[i]);
out:
	free(buf);
	return rc;
}

int sample_procs(const char *root, struct sample_set *s, char *err, size_t errlen)
{
	char path[4096];
	struct dirent *de;
	unsigned long count = 0;
	DIR *d;
	int rc;

	if (snprintf(path, sizeof(path), "%s/proc", root) >= (int)sizeof(path)) {
		snprintf(err, errlen, "proc: root path too long");
		return -ENAMETOOLONG;
	}
	d = opendir(path);
	if (!d) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	/* A process is a directory named by digits only ("self" is a link). */
	while ((de = readdir(d))) {
		const char *c = de->d_name;
		struct stat st;

		if (!*c || strspn(c, "0123456789") != strlen(c))
			continue;
		if (de->d_type == DT_DIR) {
			count++;
		} else if (de->d_type == DT_UNKNOWN) {
			if (!fstatat(dirfd(d), c, &st, AT_SYMLINK_NOFOLLOW) && S_ISDIR(st.st_mode))
				count++;
		}
	}
	closedir(d);
	if (count == 0) {
		/* Even a fixture has the reader itself: zero means a wrong root. */
		snprintf(err, errlen, "%s: no process directories", path);
		return -EINVAL;
	}
	sample_set_value(s, SAMPLE_PROCS, (double)count);
	return 0;
}

int sample_read_all(const char *root, struct sample_set *s, char *err, size_t errlen)
{
	static int (*const readers[])(const char *, struct sample_set *, char *, size_t) = {
		sample_uptime, sample_loadavg, sample_meminfo, sample_procs,
	};
	char msg[256];
	int rc, first = 0;
	size_t i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < sizeof(readers) / sizeof(readers[0]); i++) {
		rc = readers[i](root, s, msg, sizeof(msg));
		if (rc && !first) {
			first = rc;
			snprintf(err, errlen, "%s", msg);
		}
	}
	return first;
}

int sample_boot_id(const char *root, char out[SAMPLE_BOOT_ID_LEN + 1], char *err, size_t errlen)
{
	char buf[128];
	long n;
	int i;

	n = sample_read_file(root, "proc/sys/kernel/random/boot_id", buf, sizeof(buf), err,
			     errlen);
	if (n < 0)
		return (int)n;
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (n != SAMPLE_BOOT_ID_LEN)
		goto err_form;
	for (i = 0; i < SAMPLE_BOOT_ID_LEN; i++) {
		int dash = (i == 8 || i == 13 || i == 18 || i == 23);
		if (dash ? buf[i] != '-' : !strchr("0123456789abcdef", buf[i]) || !buf[i])
			goto err_form;
	}
	memcpy(out, buf, SAMPLE_BOOT_ID_LEN + 1);
	return 0;

err_form:
	snprintf(err, errlen, "boot_id: '%.40s' is not a lowercase UUID", buf);
	return -EINVAL;
}

json_t *sample_to_json(const struct sample_set *s)
{
	json_t *o = json_object();
	int i;

	if (!o)
		return NULL;
	for (i = 0; i < SAMPLE_COUNT; i++) {
		json_t *v;
		if (!(s->valid & (1u << i)))
			continue;
		v = sample_defs[i].integer ? json_integer((json_int_t)s->v[i]) : json_real(s->v[i]);
		if (json_object_set_new(o, sample_defs[i].name, v)) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

json_t *sample_schema_json(void)
{
	json_t *a = json_array();
	int i;

	if (!a)
		return NULL;
	for (i = 0; i < SAMPLE_COUNT; i++) {
		const struct sample_def *d = &sample_defs[i];
		json_t *e = json_pack("{s:s, s:s, s:s, s:s}", "name", d->name, "kind",
				      sample_kind_names[d->kind], "unit", d->unit, "desc", d->desc);
		if (json_array_append_new(a, e)) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}
