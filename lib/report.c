#include "report.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include "instr.h"
#include "jsonh.h"

/* A node's schema (NULL: none given): [{name, kind, ...}].  @ret 0 or -EINVAL with err filled. */
int report_check_schema(json_t *schema, char *err, size_t errlen)
{
	json_t *v;
	size_t i;

	if (schema && (!json_is_array(schema) || json_array_size(schema) > REPORT_MAX_VALUES)) {
		snprintf(err, errlen, "schema: must be an array of at most %d values", REPORT_MAX_VALUES);
		return -EINVAL;
	}
	json_array_foreach(schema, i, v) {
		struct instr_def d;
		char msg[200];
		if (instr_def_from_json(v, &d, msg, sizeof(msg))) {
			snprintf(err, errlen, "schema[%zu]: %s", i, msg);
			return -EINVAL;
		}
	}
	return 0;
}

/* Check a report's events and results before anything is stored. */
int report_check(json_t *body, char *err, size_t errlen)
{
	json_t *events = json_object_get(body, "events"), *results = json_object_get(body, "results");
	json_t *e;
	size_t i;

	if (events && (!json_is_array(events) || json_array_size(events) > REPORT_MAX_EVENTS)) {
		snprintf(err, errlen, "events: must be an array of at most %d events", REPORT_MAX_EVENTS);
		return -EINVAL;
	}
	json_array_foreach(events, i, e) {
		json_int_t seq, t;
		const char *type;
		json_t *attrs;
		char msg[200];
		if (!json_is_object(e) ||
		    jsonh_get_int(e, "seq", 1, 1, INT64_MAX, &seq, msg, sizeof(msg)) ||
		    jsonh_get_int(e, "time", 1, 0, INT64_MAX, &t, msg, sizeof(msg)) ||
		    jsonh_get_str(e, "type", 1, 63, &type, msg, sizeof(msg))) {
			snprintf(err, errlen, "events[%zu]: %s", i,
				 json_is_object(e) ? msg : "must be an object");
			return -EINVAL;
		}
		attrs = json_object_get(e, "attrs");
		if (attrs && !json_is_object(attrs)) {
			snprintf(err, errlen, "events[%zu].attrs: must be an object", i);
			return -EINVAL;
		}
		if (!attrs)
			json_object_set_new(e, "attrs", json_object());
	}
	if (results && (!json_is_array(results) || json_array_size(results) > REPORT_MAX_EVENTS)) {
		snprintf(err, errlen, "results: must be an array of at most %d results", REPORT_MAX_EVENTS);
		return -EINVAL;
	}
	json_array_foreach(results, i, e) {
		json_int_t id;
		const char *msg_s;
		char msg[200];
		if (!json_is_object(e) || jsonh_get_int(e, "id", 1, 1, INT64_MAX, &id, msg, sizeof(msg)) ||
		    !json_is_boolean(json_object_get(e, "ok")) ||
		    jsonh_get_str(e, "error", 0, 1024, &msg_s, msg, sizeof(msg))) {
			snprintf(err, errlen, "results[%zu]: %s", i,
				 !json_is_object(e) ? "must be an object" :
				 !json_is_boolean(json_object_get(e, "ok")) ? "ok: must be true or false" : msg);
			return -EINVAL;
		}
	}
#define CHECK_TYPE(key, test, what)                                                                \
	do {                                                                                       \
		json_t *x_ = json_object_get(body, key);                                           \
		if (x_ && !test(x_)) {                                                             \
			snprintf(err, errlen, "%s: must be %s", key, what);                        \
			return -EINVAL;                                                            \
		}                                                                                  \
	} while (0)
	CHECK_TYPE("values", json_is_object, "an object");
	CHECK_TYPE("watermarks", json_is_object, "an object");
	CHECK_TYPE("thresholds", json_is_array, "an array");
	CHECK_TYPE("devices", json_is_array, "an array");
#undef CHECK_TYPE
	/* Each field parsed through lib/instr, as the agent made it: an unknown state is refused. */
	{
		const char *key;
		json_t *v, *t;
		char msg[200];
		json_object_foreach(json_object_get(body, "values"), key, v) {
			if (instr_name_check(key, msg, sizeof(msg)) || !json_is_number(v)) {
				snprintf(err, errlen, "values.%.64s: %s", key,
					 json_is_number(v) ? msg : "must be a number");
				return -EINVAL;
			}
		}
		json_object_foreach(json_object_get(body, "watermarks"), key, v) {
			if (!json_is_array(v) || json_array_size(v) != 2 ||
			    !json_is_number(json_array_get(v, 0)) || !json_is_number(json_array_get(v, 1))) {
				snprintf(err, errlen, "watermarks.%.64s: must be [low, high]", key);
				return -EINVAL;
			}
		}
		if (json_array_size(json_object_get(body, "thresholds")) > REPORT_MAX_VALUES ||
		    json_array_size(json_object_get(body, "devices")) > REPORT_MAX_VALUES) {
			snprintf(err, errlen, "thresholds/devices: at most %d each", REPORT_MAX_VALUES);
			return -EINVAL;
		}
		json_array_foreach(json_object_get(body, "thresholds"), i, t) {
			struct instr_threshold th;
			if (threshold_from_json(t, &th, msg, sizeof(msg))) {
				snprintf(err, errlen, "thresholds[%zu]: %s", i, msg);
				return -EINVAL;
			}
		}
		json_array_foreach(json_object_get(body, "devices"), i, t) {
			struct instr_dev d;
			if (instr_dev_from_json(t, &d, msg, sizeof(msg))) {
				snprintf(err, errlen, "devices[%zu]: %s", i, msg);
				return -EINVAL;
			}
			instr_dev_clear(&d);
		}
	}
	/* A schema rides in a report when values appeared since the registration. */
	return report_check_schema(json_object_get(body, "schema"), err, errlen);
}

