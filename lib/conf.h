/*
 * Configuration: one option table serves the command line and the config
 * file (as in dnsmasq).  A file is "key = value" lines; '#' starts a comment;
 * blank lines are skipped.  On the command line the same key is --key VALUE
 * (or --key=VALUE); a CONF_BOOL is --key alone, or key = yes|no in a file.
 *
 * Strings are strdup()ed into the target struct, which then owns them:
 * conf_free() releases every CONF_STR field of the table.
 */
#ifndef SNOW_CONF_H
#define SNOW_CONF_H

#include <stddef.h>
#include <stdio.h>

enum conf_type { CONF_STR, CONF_INT, CONF_BOOL };

struct conf_option {
	const char *name;  /* long option and file key */
	char short_opt;    /* 0 for none */
	enum conf_type type;
	size_t offset;     /* of a char *, long or int (bool) in the target */
	long min, max;     /* CONF_INT range, inclusive */
	const char *arg;   /* name of the argument in usage, NULL for bools */
	const char *help;
};

/*
 * Called for a file key the table does not have.  @ret 0 when the callback
 * took it, or -EINVAL with err filled to reject it.
 */
typedef int (*conf_unknown_fn)(void *ctx, const char *key, const char *value, char *err,
			       size_t errlen);

/*
 * Apply one key/value to target.  @ret 0, -ENOENT when the table has no
 * such key, or -EINVAL with err naming the key and what was wrong.
 */
int conf_set(const struct conf_option *opts, void *target, const char *key, const char *value,
	     char *err, size_t errlen);

/*
 * Walk a "key = value" file, calling fn for each pair; line numbers go into
 * error messages.  @ret 0, -errno when the file cannot be read, or the first
 * error fn returns (err then says "FILE:LINE: ...").
 */
int conf_read_file(const char *path,
		   int (*fn)(void *ctx, const char *key, const char *value, char *err, size_t errlen),
		   void *ctx, char *err, size_t errlen);

/*
 * conf_read_file() on an open stream (tests/fuzz/conf.c reads text from
 * memory); name stands for the file in error messages.
 */
int conf_read_stream(FILE *f, const char *name,
		     int (*fn)(void *ctx, const char *key, const char *value, char *err, size_t errlen),
		     void *ctx, char *err, size_t errlen);

/*
 * Read a config file into target through the table; keys not in the table go
 * to unknown (or are errors when unknown is NULL).
 */
int conf_parse_file(const struct conf_option *opts, void *target, const char *path,
		    conf_unknown_fn unknown, void *uctx, char *err, size_t errlen);

/*
 * Parse argv options into target, stopping at the first non-option argument
 * or "--".  *next receives the index of the first argument not consumed.
 * -h/--help is reported as -ECANCELED so the caller prints usage.
 * @ret 0, -ECANCELED, or -EINVAL with err filled.
 */
int conf_parse_args(const struct conf_option *opts, void *target, int argc, char **argv,
		    int *next, char *err, size_t errlen);

void conf_usage(FILE *f, const struct conf_option *opts);
void conf_free(const struct conf_option *opts, void *target);

/*
 * What the installed files are made of, from the same table (so they cannot
 * drift from --help):
 *   CONF_DOC_FILE  a config file with every setting commented out, its help above it;
 *   CONF_DOC_MDOC  the options as an mdoc list (.Bl ... .El) for a man page.
 */
enum conf_doc { CONF_DOC_FILE, CONF_DOC_MDOC };
void conf_doc(FILE *f, const struct conf_option *opts, enum conf_doc kind,
	      const char *const *cmdline_only);

/*
 * Answer --version ("PROG VERSION") and --conf-doc=file|mdoc before any other
 * parsing, wherever they stand before "--".  cmdline_only (NULL-terminated, or
 * NULL) names the options that are actions rather than settings (--config,
 * --check-config...): a config file leaves them out.  @ret 1 when one was answered (the
 * caller exits 0), 0 when there was none, -EINVAL for an unknown --conf-doc format.
 */
int conf_early(const struct conf_option *opts, const char *const *cmdline_only, const char *prog,
	       int argc, char **argv);

#endif
