/*
 * jansson helpers for input from outside: parse an object, fetch typed
 * members with range and length checks, and say which field was wrong.
 * Borrowed references stay owned by the object they came from.
 */
#ifndef SNOW_JSONH_H
#define SNOW_JSONH_H

#include <jansson.h>
#include <stddef.h>

/*
 * Parse len bytes as a JSON object.  @ret a new reference (caller
 * json_decref()s it) or NULL with err filled ("body: ...").
 */
json_t *jsonh_parse_object(const char *data, size_t len, char *err, size_t errlen);

/*
 * Fetch a string member.  Missing and !required: *out = NULL and @ret 0.
 * @ret 0 or -EINVAL ("KEY: ..." in err) when missing and required, not a
 * string, empty, or longer than maxlen.  *out is borrowed from obj.
 */
int jsonh_get_str(json_t *obj, const char *key, int required, size_t maxlen, const char **out,
		  char *err, size_t errlen);

/* Fetch an integer member within [min, max]; same rules as jsonh_get_str. */
int jsonh_get_int(json_t *obj, const char *key, int required, json_int_t min, json_int_t max,
		  json_int_t *out, char *err, size_t errlen);

/* Fetch a number (integer or real) member; same rules. */
int jsonh_get_num(json_t *obj, const char *key, int required, double *out, char *err,
		  size_t errlen);

/* Reject members of obj whose names are not in the NULL-terminated list. */
int jsonh_only_keys(json_t *obj, const char *const *allowed, char *err, size_t errlen);

/* Compact serialisation.  @ret a malloc()ed string the caller frees, or NULL. */
char *jsonh_dump(const json_t *v);
/*
 * What a node sends (snow-agent and snow-nodesim alike): as jsonh_dump, but
 * a real with 15 significant digits, so 0.52 goes out as 0.52 and not as
 * jansson's 0.52000000000000002.  A decimal of up to 15 digits comes back
 * as the same double; no reading a node has is finer than that.
 */
char *jsonh_dump_wire(const json_t *v);

#endif
