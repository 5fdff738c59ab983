#include "conf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct conf_option *conf_find(const struct conf_option *opts, const char *key)
{
	for (; opts->name; opts++)
		if (!strcmp(opts->name, key))
			return opts;
	return NULL;
}

static int conf_apply(const struct conf_option *o, void *target, const char *value, char *err,
		      size_t errlen)
{
	char *field = (char *)target + o->offset;

	switch (o->type) {
	case CONF_STR: {
		char *copy = strdup(value);
		if (!copy)
			return -ENOMEM;
		free(*(char **)field);
		*(char **)field = copy;
		return 0;
	}
	case CONF_INT: {
		char *end;
		long v;
		errno = 0;
		v = strtol(value, &end, 10);
		if (!*value || *end || errno) {
			snprintf(err, errlen, "%s: '%s' is not a number", o->name, value);
			return -EINVAL;
		}
		if (v < o->min || v > o->max) {
			snprintf(err, errlen, "%s: %ld is out of range %ld..%ld", o->name, v, o->min,
				 o->max);
			return -EINVAL;
		}
		*(long *)field = v;
		return 0;
	}
	case CONF_BOOL:
		if (!strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "1")) {
			*(int *)field = 1;
			return 0;
		}
		if (!strcmp(value, "no") || !strcmp(value, "false") || !strcmp(value, "0")) {
			*(int *)field = 0;
			return 0;
		}
		snprintf(err, errlen, "%s: '%s' is not yes or no", o->name, value);
		return -EINVAL;
	}
	return -EINVAL;
}

int conf_set(const struct conf_option *opts, void *target, const char *key, const char *value,
	     char *err, size_t errlen)
{
	const struct conf_option *o = conf_find(opts, key);

	if (!o)
		return -ENOENT;
	return conf_apply(o, target, value, err, errlen);
}

static char *conf_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int conf_read_stream(FILE *f, const char *name,
		     int (*fn)(void *ctx, const char *key, const char *value, char *err, size_t errlen),
		     void *ctx, char *err, size_t errlen)
{
	char *line = NULL, *key, *value, *eq, msg[256];
	size_t cap = 0;
	unsigned lineno = 0;
	int rc = 0;

	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		key = conf_trim(line);
		if (!*key || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%u: expected 'key = value'", name, lineno);
			rc = -EINVAL;
			break;
		}
		*eq = '\0';
		value = conf_trim(eq + 1);
		key = conf_trim(key);
		msg[0] = '\0';
		rc = fn(ctx, key, value, msg, sizeof(msg));
		if (rc) {
			snprintf(err, errlen, "%s:%u: %s", name, lineno, msg[0] ? msg : strerror(-rc));
			break;
		}
	}
	free(line);
	return rc;
}

int conf_read_file(const char *path,
		   int (*fn)(void *ctx, const char *key, const char *value, char *err, size_t errlen),
		   void *ctx, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	int rc;

	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	rc = conf_read_stream(f, path, fn, ctx, err, errlen);
	fclose(f);
	return rc;
}

struct conf_file_ctx {
	const struct conf_option *opts;
	void *target;
	conf_unknown_fn unknown;
	void *uctx;
};

static int conf_file_pair(void *vctx, const char *key, const char *value, char *err, size_t errlen)
{
	struct conf_file_ctx *c = vctx;
	int rc = conf_set(c->opts, c->target, key, value, err, errlen);

	if (rc != -ENOENT)
		return rc;
	if (c->unknown)
		return c->unknown(c->uctx, key, value, err, errlen);
	snprintf(err, errlen, "unknown key '%s'", key);
	return -EINVAL;
}

int conf_parse_file(const struct conf_option *opts, void *target, const char *path,
		    conf_unknown_fn unknown, void *uctx, char *err, size_t errlen)
{
	struct conf_file_ctx c = { opts, target, unknown, uctx };

	return conf_read_file(path, conf_file_pair, &c, err, errlen);
}

int conf_parse_args(const struct conf_option *opts, void *target, int argc, char **argv,
		    int *next, char *err, size_t errlen)
{
	int i = 1, rc = 0;

	while (i < argc) {
		const char *a = argv[i], *value = NULL;
		const struct conf_option *o = NULL;
		char name[64];

		if (a[0] != '-' || !a[1])
			break;
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			rc = -ECANCELED;
			break;
		}
		if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
			if (n >= sizeof(name))
				n = sizeof(name) - 1;
			memcpy(name, a + 2, n);
			name[n] = '\0';
			o = conf_find(opts, name);
			if (eq)
				value = eq + 1;
		} else if (!a[2]) {
			for (o = opts; o->name && o->short_opt != a[1]; o++)
				;
			if (!o->name)
				o = NULL;
		}
		if (!o) {
			snprintf(err, errlen, "unknown option '%s' (try --help)", a);
			rc = -EINVAL;
			break;
		}
		if (o->type == CONF_BOOL && !value) {
			value = "yes";
		} else if (!value) {
			if (i + 1 >= argc) {
				snprintf(err, errlen, "option '%s' needs a value", a);
				rc = -EINVAL;
				break;
			}
			value = argv[++i];
		}
		rc = conf_apply(o, target, value, err, errlen);
		if (rc)
			break;
		i++;
	}
	if (next)
		*next = i;
	return rc;
}

void conf_usage(FILE *f, const struct conf_option *opts)
{
	for (; opts->name; opts++) {
		char left[64];
		if (opts->short_opt)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", opts->short_opt, opts->name,
				 opts->arg ? " " : "", opts->arg ? opts->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", opts->name,
				 opts->arg ? " " : "", opts->arg ? opts->arg : "");
		fprintf(f, "  %-30s %s\n", left, opts->help);
	}
}

void conf_free(const struct conf_option *opts, void *target)
{
	for (; opts->name; opts++) {
		if (opts->type == CONF_STR) {
			char **p = (char **)((char *)target + opts->offset);
			free(*p);
			*p = NULL;
		}
	}
}

/* roff text: a leading '.' or '\'' would be a request, a backslash an escape. */
static void conf_roff(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else
			fputc(*s, f);
	}
}

/* A blank line, then text as "# " lines of at most about 78 columns. */
static void conf_comment(FILE *f, const char *s)
{
	size_t col = 0, n;

	fputc('\n', f);
	while (*s) {
		s += strspn(s, " ");
		n = strcspn(s, " ");
		if (!n)
			break;
		if (col && col + 1 + n > 76) {
			fputc('\n', f);
			col = 0;
		}
		fprintf(f, col ? " %.*s" : "# %.*s", (int)n, s);
		col += n + (col ? 1 : 2);
		s += n;
	}
	fputc('\n', f);
}

static int conf_listed(const char *const *names, const char *name)
{
	for (; names && *names; names++)
		if (!strcmp(*names, name))
			return 1;
	return 0;
}

void conf_doc(FILE *f, const struct conf_option *opts, enum conf_doc kind,
	      const char *const *cmdline_only)
{
	const struct conf_option *o;

	if (kind == CONF_DOC_MDOC)
		fputs(".Bl -tag -width Ds\n", f);
	for (o = opts; o->name; o++) {
		if (kind == CONF_DOC_FILE) {
			if (conf_listed(cmdline_only, o->name))
				continue;
			conf_comment(f, o->help);
			fprintf(f, "#%s = %s\n", o->name, o->arg ? o->arg : "no");
			continue;
		}
		fputs(".It ", f);
		if (o->short_opt)
			fprintf(f, "Fl %c , ", o->short_opt);
		fprintf(f, "Fl \\-%s", o->name);
		if (o->arg)
			fprintf(f, " Ar %s", o->arg);
		fputc('\n', f);
		conf_roff(f, o->help);
		fputc('\n', f);
		if (o->type == CONF_INT)
			fprintf(f, "Range %ld to %ld.\n", o->min, o->max);
	}
	if (kind == CONF_DOC_MDOC)
		fputs(".El\n", f);
}

#ifndef SNOW_VERSION
#define SNOW_VERSION "unknown"
#endif

int conf_early(const struct conf_option *opts, const char *const *cmdline_only, const char *prog,
	       int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--version")) {
			printf("%s %s\n", prog, SNOW_VERSION);
			return 1;
		}
		if (!strncmp(argv[i], "--conf-doc=", 11)) {
			if (!strcmp(argv[i] + 11, "file"))
				conf_doc(stdout, opts, CONF_DOC_FILE, cmdline_only);
			else if (!strcmp(argv[i] + 11, "mdoc"))
				conf_doc(stdout, opts, CONF_DOC_MDOC, cmdline_only);
			else
				return -EINVAL;
			return 1;
		}
	}
	return 0;
}
