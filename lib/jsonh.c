#include "jsonh.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

json_t *jsonh_parse_object(const char *data, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *v;

	if (!data || !len) {
		snprintf(err, errlen, "body: empty, expected a JSON object");
		return NULL;
	}
	v = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (!v) {
		snprintf(err, errlen, "body: invalid JSON at line %d column %d: %s", je.line,
			 je.column, je.text);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		snprintf(err, errlen, "body: expected a JSON object");
		return NULL;
	}
	return v;
}

int jsonh_get_str(json_t *obj, const char *key, int required, size_t maxlen, const char **out,
		  char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, key);
	const char *s;

	*out = NULL;
	if (!v || json_is_null(v)) {
		if (!required)
			return 0;
		snprintf(err, errlen, "%s: missing", key);
		return -EINVAL;
	}
	if (!json_is_string(v)) {
		snprintf(err, errlen, "%s: must be a string", key);
		return -EINVAL;
	}
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v)) {
		snprintf(err, errlen, "%s: must not contain NUL", key);
		return -EINVAL;
	}
	if (!*s && required) {
		snprintf(err, errlen, "%s: must not be empty", key);
		return -EINVAL;
	}
	if (json_string_length(v) > maxlen) {
		snprintf(err, errlen, "%s: longer than %zu characters", key, maxlen);
		return -EINVAL;
	}
	*out = s;
	return 0;
}

int jsonh_get_int(json_t *obj, const char *key, int required, json_int_t min, json_int_t max,
		  json_int_t *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v)) {
		if (!required)
			return 0;
		snprintf(err, errlen, "%s: missing", key);
		return -EINVAL;
	}
	if (!json_is_integer(v)) {
		snprintf(err, errlen, "%s: must be an integer", key);
		return -EINVAL;
	}
	if (json_integer_value(v) < min || json_integer_value(v) > max) {
		snprintf(err, errlen, "%s: %lld is out of range %lld..%lld", key,
			 (long long)json_integer_value(v), (long long)min, (long long)max);
		return -EINVAL;
	}
	*out = json_integer_value(v);
	return 0;
}

int jsonh_get_num(json_t *obj, const char *key, int required, double *out, char *err,
		  size_t errlen)
{
	json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v)) {
		if (!required)
			return 0;
		snprintf(err, errlen, "%s: missing", key);
		return -EINVAL;
	}
	if (!json_is_number(v)) {
		snprintf(err, errlen, "%s: must be a number", key);
		return -EINVAL;
	}
	*out = json_number_value(v);
	return 0;
}

int jsonh_only_keys(json_t *obj, const char *const *allowed, char *err, size_t errlen)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		const char *const *a;
		for (a = allowed; *a && strcmp(*a, key); a++)
			;
		if (!*a) {
			snprintf(err, errlen, "%.64s: unknown field", key);
			return -EINVAL;
		}
	}
	return 0;
}

char *jsonh_dump(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT);
}

char *jsonh_dump_wire(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(15));
}
