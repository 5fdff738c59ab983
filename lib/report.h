/*
 * A node's report and schema as snowd takes them (docs/protocol.md): the
 * envelope, the events and results, and every value, watermark, threshold
 * and device parsed through lib/instr, the same parsers the agent's own
 * state goes through.  What passes is kept typed (struct report_state,
 * struct report_schema): snowd stores those, and the stream, /metrics, the
 * node list and the history serialize from them, so a field is checked once,
 * where it came in.  An unknown kind or state is refused.
 */
#ifndef SNOW_REPORT_H
#define SNOW_REPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "instr.h"
#include "valid.h"

#define REPORT_MAX_EVENTS 256  /* events or results in one report */
#define REPORT_MAX_VALUES 4096 /* values in a schema; thresholds or devices in a report */

/* A node's schema, typed: the values it reports, in the order it gave them. */
struct report_schema {
	struct instr_def *def;
	size_t n;
	uint32_t *by_name; /* def's indexes sorted by name, for report_schema_find() */
};

/*
 * A schema (NULL: none given): [{name, kind, oid?, unit?, desc?}], each
 * name once, into out (may be NULL: check only; release with
 * report_schema_free(); empty on error).  @ret 0, -ENOMEM, or -EINVAL with err naming the entry and
 * field.
 */
int report_schema_parse(json_t *schema, struct report_schema *out, char *err, size_t errlen);
void report_schema_free(struct report_schema *s);
/* @ret the definition of value name, borrowed from s, or NULL. */
const struct instr_def *report_schema_find(const struct report_schema *s, const char *name);
/* [{name, oid, kind, unit, desc}], as agents send it: a new reference or NULL. */
json_t *report_schema_json(const struct report_schema *s);

/* A reading (v[0]) or a pair of watermarks (v[0] low, v[1] high) of one value. */
struct report_num {
	char name[INSTR_NAME_MAX + 1];
	double v[2];
	json_int_t i[2];          /* the exact number when it came as a JSON integer */
	unsigned char integer[2]; /* came as a JSON integer: goes out as the same one */
};

/* The parts a report may carry; a part it leaves out is unchanged on the host. */
enum {
	REPORT_VALUES = 1u << 0,
	REPORT_WATERMARKS = 1u << 1,
	REPORT_THRESHOLDS = 1u << 2,
	REPORT_DEVICES = 1u << 3,
	REPORT_SCHEMA = 1u << 4,
};

/* What a report says of its node, typed.  Zeroed: nothing said yet. */
struct report_state {
	unsigned has; /* REPORT_* parts present */
	struct report_num *values, *wm;
	size_t nvalues, nwm;
	uint32_t *values_by_name; /* values' indexes sorted by name, for report_value() */
	struct instr_threshold *thr;
	size_t nthr;
	struct instr_dev *dev;
	size_t ndev;
	struct report_schema schema;
};

/*
 * A report's body before anything of it is stored.  Events without attrs
 * get an empty object (body changed in place).  With out (zeroed by the
 * caller, or NULL: check only), the parts the body carries are filled in;
 * on error nothing is left in it.  @ret 0, -ENOMEM, or -EINVAL with err
 * naming the field.
 */
int report_check(json_t *body, struct report_state *out, char *err, size_t errlen);
/*
 * report_check()'s parts for "events" and "results" (NULL: absent); events
 * without attrs get an empty object.  @ret 0 or -EINVAL with err.
 */
int report_check_events(json_t *events, char *err, size_t errlen);
int report_check_results(json_t *results, char *err, size_t errlen);
/* A report's envelope: whose, which boot, which report of it. */
struct report_head {
	char name[SNOW_NAME_MAX + 1];
	char boot_id[40];
	int64_t seq;
	/*
	 * report_fast(): the "events" and "results" arrays as they stand in the
	 * body (borrowed) when not empty, not read: the caller reads them with
	 * jansson and report_check_events() / report_check_results(), or the
	 * whole body if that fails.  NULL: none.
	 */
	const char *events, *results;
	size_t events_len, results_len;
};

/*
 * The steady report (envelope, values, watermarks; events and results only
 * as spans in head, unread) read without a JSON tree, into head and out
 * (zeroed by the caller), as jsonh_parse_object() and report_check() would
 * read it (report_fast.c).
 * @ret 1 when read; 0 when the body is anything else (nothing filled: read
 * it through jansson and report_check(), which give the errors); -ENOMEM.
 */
int report_fast(const char *data, size_t len, struct report_head *head, struct report_state *out);
/* @ret the indexes 0..n-1 of entries that start with a name, sorted by it (NULL: n 0 or no memory). */
uint32_t *report_index_names(const void *base, size_t n, size_t stride);

/* Release s's parts and zero it. */
void report_state_free(struct report_state *s);
/*
 * Move the parts upd has into keep, replacing keep's (freed); keep's other
 * parts stay.  upd is left zeroed.
 */
void report_state_take(struct report_state *keep, struct report_state *upd);
/* @ret the reading of value name (borrowed) or NULL. */
const struct report_num *report_value(const struct report_state *s, const char *name);

/*
 * The parts as the agent sent them: {name: number}, {name: [low, high]},
 * [threshold], [device].  @ret a new reference, or NULL when s lacks the
 * part (or out of memory).
 */
/* Whether a and b describe the same values, as report_schema_json() would write them. */
int report_schema_same(const struct report_schema *a, const struct report_schema *b);
json_t *report_values_json(const struct report_state *s);
json_t *report_watermarks_json(const struct report_state *s);
/* The same two with only the names want(ctx, name) says yes to (want NULL: all). */
typedef int report_want_fn(void *ctx, const char *name);
json_t *report_values_json_if(const struct report_state *s, report_want_fn *want, void *ctx);
json_t *report_watermarks_json_if(const struct report_state *s, report_want_fn *want, void *ctx);
json_t *report_thresholds_json(const struct report_state *s);
json_t *report_devices_json(const struct report_state *s);

#endif
