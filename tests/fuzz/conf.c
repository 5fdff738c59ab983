/*
 * Fuzz target: a config file's text through conf_read_stream() and an option
 * table of every type (lib/conf.c).  Checks what the reader hands on: keys
 * and values trimmed, keys without '='; and that an accepted number is in
 * its range.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

struct fz_conf {
	char *name;
	long port;
	int tls;
	unsigned unknown;
};

static const struct conf_option fz_opts[] = {
	{ "name", 'n', CONF_STR, offsetof(struct fz_conf, name), 0, 0, "NAME", "a string" },
	{ "port", 'p', CONF_INT, offsetof(struct fz_conf, port), 1, 65535, "PORT", "a number" },
	{ "tls", 0, CONF_BOOL, offsetof(struct fz_conf, tls), 0, 0, NULL, "a flag" },
	{ 0 },
};

static int fz_trimmed(const char *s)
{
	size_t n = strlen(s);

	return !n || (s[0] != ' ' && s[0] != '\t' && !strchr(" \t\r\n", s[n - 1]));
}

static int fz_pair(void *ctx, const char *key, const char *value, char *err, size_t errlen)
{
	struct fz_conf *c = ctx;
	int rc;

	if (!fz_trimmed(key) || !fz_trimmed(value) || strchr(key, '=') || strchr(key, '\n')) {
		fprintf(stderr, "conf: untrimmed pair '%s' = '%s'\n", key, value);
		abort();
	}
	rc = conf_set(fz_opts, c, key, value, err, errlen);
	if (rc != -ENOENT)
		return rc;
	/* Unknown keys with a prefix are taken, as snowd's settings are. */
	if (!strncmp(key, "x.", 2)) {
		c->unknown++;
		return 0;
	}
	snprintf(err, errlen, "unknown key '%s'", key);
	return -EINVAL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_conf c = { .port = 80 };
	char err[300];
	FILE *f;

	/* fmemopen() wants a buffer of at least one byte. */
	f = fmemopen(size ? (void *)data : (void *)"", size ? size : 1, "r");
	if (!f)
		return 0;
	conf_read_stream(f, "fuzz.conf", fz_pair, &c, err, sizeof(err));
	fclose(f);
	if (c.port < 1 || c.port > 65535) {
		fprintf(stderr, "conf: port %ld accepted out of range\n", c.port);
		abort();
	}
	conf_free(fz_opts, &c);
	return 0;
}
