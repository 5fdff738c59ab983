/*
 * What lib/instr*.c share and nothing else includes: instr.c (values,
 * thresholds), instr_event.c, instr_dev.c and instr_cmd.c.
 */
#ifndef SNOW_INSTR_PRIV_H
#define SNOW_INSTR_PRIV_H

#include <stddef.h>

#include <jansson.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Look s up in a NULL-free name table.  @ret index or -EINVAL. */
int instr_lookup(const char *const *names, size_t n, const char *s);
/* Dot-separated segments of [a-z0-9_-] (and [A-Z] with upper), none empty? */
int instr_dotted(const char *s, size_t len, int upper);
/* Copy an optional string member into out (cap includes the NUL). */
int instr_get_strbuf(json_t *j, const char *key, int required, char *out, size_t cap,
		     char *err, size_t errlen);

#endif
