#include "report.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "instr.h"
#include "jsonh.h"

/* The names of n entries of stride bytes from base (the name is each one's first member). */
struct report_names {
	const char *base;
	size_t stride;
};

static int report_name_cmp(const void *a, const void *b, void *vctx)
{
	const struct report_names *c = vctx;

	return strcmp(c->base + *(const uint32_t *)a * c->stride,
		      c->base + *(const uint32_t *)b * c->stride);
}

uint32_t *report_index_names(const void *base, size_t n, size_t stride)
{
	struct report_names c = { base, stride };
	uint32_t *idx = n ? malloc(n * sizeof(*idx)) : NULL;
	size_t i;

	if (!idx)
		return NULL;
	for (i = 0; i < n; i++)
		idx[i] = (uint32_t)i;
	qsort_r(idx, n, sizeof(*idx), report_name_cmp, &c);
	return idx;
}

/* @ret the entry named name through idx (report_index_names()), or NULL. */
static const void *report_lookup(const void *base, size_t n, size_t stride, const uint32_t *idx,
				 const char *name)
{
	size_t lo = 0, hi = idx ? n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *at = (const char *)base + idx[mid] * stride;
		int c = strcmp(name, at);
		if (!c)
			return at;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int report_schema_parse(json_t *schema, struct report_schema *out, char *err, size_t errlen)
{
	struct report_schema n = { .n = 0 };
	json_t *v;
	size_t i;

	if (out)
		memset(out, 0, sizeof(*out));
	if (schema && (!json_is_array(schema) || json_array_size(schema) > REPORT_MAX_VALUES)) {
		snprintf(err, errlen, "schema: must be an array of at most %d values", REPORT_MAX_VALUES);
		return -EINVAL;
	}
	if (json_array_size(schema) &&
	    !(n.def = calloc(json_array_size(schema), sizeof(*n.def)))) {
		snprintf(err, errlen, "schema: out of memory");
		return -ENOMEM;
	}
	json_array_foreach(schema, i, v) {
		struct instr_def d;
		char msg[200];
		if (instr_def_from_json(v, &d, msg, sizeof(msg))) {
			snprintf(err, errlen, "schema[%zu]: %s", i, msg);
			free(n.def);
			return -EINVAL;
		}
		n.def[n.n++] = d;
	}
	if (n.n && !(n.by_name = report_index_names(n.def, n.n, sizeof(*n.def)))) {
		snprintf(err, errlen, "schema: out of memory");
		free(n.def);
		return -ENOMEM;
	}
	for (i = 1; i < n.n; i++) {
		const struct instr_def *a = &n.def[n.by_name[i - 1]], *b = &n.def[n.by_name[i]];
		if (!strcmp(a->name, b->name)) {
			snprintf(err, errlen, "schema[%u]: name '%s' is given twice",
				 (unsigned)n.by_name[i], b->name);
			report_schema_free(&n);
			return -EINVAL;
		}
	}
	if (out)
		*out = n;
	else
		report_schema_free(&n);
	return 0;
}

void report_schema_free(struct report_schema *s)
{
	free(s->def);
	free(s->by_name);
	memset(s, 0, sizeof(*s));
}

const struct instr_def *report_schema_find(const struct report_schema *s, const char *name)
{
	return report_lookup(s->def, s->n, sizeof(*s->def), s->by_name, name);
}

int report_schema_same(const struct report_schema *a, const struct report_schema *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++) {
		const struct instr_def *x = &a->def[i], *y = &b->def[i];
		if (x->kind != y->kind || !x->resettable != !y->resettable || strcmp(x->name, y->name) ||
		    strcmp(x->oid, y->oid) || strcmp(x->unit, y->unit) || strcmp(x->desc, y->desc))
			return 0;
	}
	return 1;
}

json_t *report_schema_json(const struct report_schema *s)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < s->n; i++) {
		const struct instr_def *d = &s->def[i];
		json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", d->name, "oid", d->oid,
				      "kind", instr_kind_name(d->kind), "unit", d->unit, "desc",
				      d->desc);
		/* Which counters counters.reset may restart: consoles offer it only there. */
		if (e && d->resettable)
			json_object_set_new(e, "resettable", json_true());
		if (json_array_append_new(a, e)) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* Number k of x as it came: integers stay the same integers. */
static json_t *report_num_json(const struct report_num *x, int k)
{
	return x->integer[k] ? json_integer(x->i[k]) : json_real(x->v[k]);
}

/* Read j (a JSON number) into number k of x. */
static void report_num_read(json_t *j, struct report_num *x, int k)
{
	x->v[k] = json_number_value(j);
	x->integer[k] = json_is_integer(j);
	x->i[k] = x->integer[k] ? json_integer_value(j) : 0;
}

/*
 * {name: number} (pair 0) or {name: [low, high]} (pair 1) into a new array.
 * @ret 0, -ENOMEM, or -EINVAL with err filled.
 */
static int report_nums(json_t *o, const char *what, int pair, struct report_num **out, size_t *n,
		       char *err, size_t errlen)
{
	struct report_num *a = NULL;
	const char *key;
	json_t *v;

	*out = NULL;
	*n = 0;
	if (json_object_size(o) > REPORT_MAX_VALUES) {
		snprintf(err, errlen, "%s: at most %d values", what, REPORT_MAX_VALUES);
		return -EINVAL;
	}
	if (json_object_size(o) && !(a = calloc(json_object_size(o), sizeof(*a)))) {
		snprintf(err, errlen, "%s: out of memory", what);
		return -ENOMEM;
	}
	json_object_foreach(o, key, v) {
		struct report_num *x = &a[*n];
		char msg[200];
		if (instr_name_check(key, msg, sizeof(msg)))
			goto bad;
		if (!pair && !json_is_number(v)) {
			snprintf(msg, sizeof(msg), "must be a number");
			goto bad;
		}
		if (pair && (!json_is_array(v) || json_array_size(v) != 2 ||
			     !json_is_number(json_array_get(v, 0)) ||
			     !json_is_number(json_array_get(v, 1)))) {
			snprintf(msg, sizeof(msg), "must be [low, high]");
			goto bad;
		}
		snprintf(x->name, sizeof(x->name), "%s", key);
		if (pair) {
			report_num_read(json_array_get(v, 0), x, 0);
			report_num_read(json_array_get(v, 1), x, 1);
		} else {
			report_num_read(v, x, 0);
		}
		(*n)++;
		continue;
bad:
		snprintf(err, errlen, "%s.%.64s: %s", what, key, msg);
		free(a);
		*n = 0;
		return -EINVAL;
	}
	*out = a;
	return 0;
}

/* The thresholds and devices of a report into s.  @ret as report_check(). */
static int report_thr_dev(json_t *body, struct report_state *s, char *err, size_t errlen)
{
	json_t *thr = json_object_get(body, "thresholds"), *dev = json_object_get(body, "devices"), *t;
	char msg[200];
	size_t i;

	if (json_array_size(thr) > REPORT_MAX_VALUES || json_array_size(dev) > REPORT_MAX_VALUES) {
		snprintf(err, errlen, "thresholds/devices: at most %d each", REPORT_MAX_VALUES);
		return -EINVAL;
	}
	if ((json_array_size(thr) && !(s->thr = calloc(json_array_size(thr), sizeof(*s->thr)))) ||
	    (json_array_size(dev) && !(s->dev = calloc(json_array_size(dev), sizeof(*s->dev))))) {
		snprintf(err, errlen, "thresholds/devices: out of memory");
		return -ENOMEM;
	}
	json_array_foreach(thr, i, t) {
		if (threshold_from_json(t, &s->thr[i], msg, sizeof(msg))) {
			snprintf(err, errlen, "thresholds[%zu]: %s", i, msg);
			return -EINVAL;
		}
		s->nthr++;
	}
	json_array_foreach(dev, i, t) {
		if (instr_dev_from_json(t, &s->dev[i], msg, sizeof(msg))) {
			snprintf(err, errlen, "devices[%zu]: %s", i, msg);
			return -EINVAL;
		}
		s->ndev++;
	}
	return 0;
}

int report_check_results(json_t *results, char *err, size_t errlen)
{
	json_t *e;
	size_t i;

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
	return 0;
}

int report_check_events(json_t *events, char *err, size_t errlen)
{
	json_t *e;
	size_t i;

	if (events && (!json_is_array(events) || json_array_size(events) > REPORT_MAX_EVENTS)) {
		snprintf(err, errlen, "events: must be an array of at most %d events", REPORT_MAX_EVENTS);
		return -EINVAL;
	}
	json_array_foreach(events, i, e) {
		json_int_t seq, t;
		const char *type, *sev, *publisher;
		enum instr_severity sv;
		json_t *attrs;
		char msg[200];
		if (!json_is_object(e) ||
		    jsonh_get_int(e, "seq", 1, 1, INT64_MAX, &seq, msg, sizeof(msg)) ||
		    jsonh_get_int(e, "time", 1, 0, INT64_MAX, &t, msg, sizeof(msg)) ||
		    jsonh_get_str(e, "type", 1, 63, &type, msg, sizeof(msg)) ||
		    jsonh_get_str(e, "severity", 0, 16, &sev, msg, sizeof(msg)) ||
		    jsonh_get_str(e, "publisher", 0, INSTR_PUBLISHER_MAX, &publisher, msg,
				  sizeof(msg)) ||
		    (publisher && instr_publisher_check(publisher, msg, sizeof(msg)))) {
			snprintf(err, errlen, "events[%zu]: %s", i,
				 json_is_object(e) ? msg : "must be an object");
			return -EINVAL;
		}
		/* Older agents send neither severity nor publisher: both stay optional. */
		if (sev && instr_severity_parse(sev, &sv)) {
			snprintf(err, errlen, "events[%zu].severity: '%.16s' must be debug, info, "
				 "notice, warning, error or critical", i, sev);
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
	return 0;
}

/* Check a report's events and results before anything is stored. */
int report_check(json_t *body, struct report_state *out, char *err, size_t errlen)
{
	if (report_check_events(json_object_get(body, "events"), err, errlen))
		return -EINVAL;
	if (report_check_results(json_object_get(body, "results"), err, errlen))
		return -EINVAL;
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
	/* Each part parsed through lib/instr, as the agent made it: an unknown state is refused. */
	{
		struct report_state n;
		int rc;

		memset(&n, 0, sizeof(n));
		if ((rc = report_nums(json_object_get(body, "values"), "values", 0, &n.values,
				      &n.nvalues, err, errlen)) ||
		    (rc = report_nums(json_object_get(body, "watermarks"), "watermarks", 1, &n.wm,
				      &n.nwm, err, errlen)) ||
		    (rc = report_thr_dev(body, &n, err, errlen)) ||
		    /* A schema rides in a report when values appeared since the registration. */
		    (rc = report_schema_parse(json_object_get(body, "schema"), out ? &n.schema : NULL,
					      err, errlen))) {
			report_state_free(&n);
			return rc;
		}
		if (n.nvalues &&
		    !(n.values_by_name = report_index_names(n.values, n.nvalues, sizeof(*n.values)))) {
			snprintf(err, errlen, "values: out of memory");
			report_state_free(&n);
			return -ENOMEM;
		}
		n.has = (json_object_get(body, "values") ? REPORT_VALUES : 0) |
			(json_object_get(body, "watermarks") ? REPORT_WATERMARKS : 0) |
			(json_object_get(body, "thresholds") ? REPORT_THRESHOLDS : 0) |
			(json_object_get(body, "devices") ? REPORT_DEVICES : 0) |
			(json_object_get(body, "schema") ? REPORT_SCHEMA : 0);
		if (out)
			*out = n;
		else
			report_state_free(&n);
	}
	return 0;
}

void report_state_free(struct report_state *s)
{
	size_t i;

	for (i = 0; i < s->ndev; i++)
		instr_dev_clear(&s->dev[i]);
	free(s->values);
	free(s->values_by_name);
	free(s->wm);
	free(s->thr);
	free(s->dev);
	report_schema_free(&s->schema);
	memset(s, 0, sizeof(*s));
}

#define REPORT_SWAP(a, b)                                                                          \
	do {                                                                                       \
		__typeof__(a) t_ = (a);                                                            \
		(a) = (b);                                                                         \
		(b) = t_;                                                                          \
	} while (0)

void report_state_take(struct report_state *keep, struct report_state *upd)
{
	/* Each part upd has changes places with keep's; upd then holds only what goes. */
	if (upd->has & REPORT_VALUES) {
		REPORT_SWAP(keep->values, upd->values);
		REPORT_SWAP(keep->nvalues, upd->nvalues);
		REPORT_SWAP(keep->values_by_name, upd->values_by_name);
	}
	if (upd->has & REPORT_WATERMARKS) {
		REPORT_SWAP(keep->wm, upd->wm);
		REPORT_SWAP(keep->nwm, upd->nwm);
	}
	if (upd->has & REPORT_THRESHOLDS) {
		REPORT_SWAP(keep->thr, upd->thr);
		REPORT_SWAP(keep->nthr, upd->nthr);
	}
	if (upd->has & REPORT_DEVICES) {
		REPORT_SWAP(keep->dev, upd->dev);
		REPORT_SWAP(keep->ndev, upd->ndev);
	}
	if (upd->has & REPORT_SCHEMA)
		REPORT_SWAP(keep->schema, upd->schema);
	keep->has |= upd->has;
	report_state_free(upd);
}

const struct report_num *report_value(const struct report_state *s, const char *name)
{
	return report_lookup(s->values, s->nvalues, sizeof(*s->values), s->values_by_name, name);
}

json_t *report_values_json(const struct report_state *s)
{
	return report_values_json_if(s, NULL, NULL);
}

json_t *report_values_json_if(const struct report_state *s, report_want_fn *want, void *ctx)
{
	json_t *o;
	size_t i;

	if (!(s->has & REPORT_VALUES) || !(o = json_object()))
		return NULL;
	for (i = 0; i < s->nvalues; i++)
		if ((!want || want(ctx, s->values[i].name)) &&
		    json_object_set_new(o, s->values[i].name, report_num_json(&s->values[i], 0)))
			goto err;
	return o;
err:
	json_decref(o);
	return NULL;
}

json_t *report_watermarks_json(const struct report_state *s)
{
	return report_watermarks_json_if(s, NULL, NULL);
}

json_t *report_watermarks_json_if(const struct report_state *s, report_want_fn *want, void *ctx)
{
	json_t *o;
	size_t i;

	if (!(s->has & REPORT_WATERMARKS) || !(o = json_object()))
		return NULL;
	for (i = 0; i < s->nwm; i++) {
		const struct report_num *x = &s->wm[i];
		if (want && !want(ctx, x->name))
			continue;
		if (json_object_set_new(o, x->name,
					json_pack("[o, o]", report_num_json(x, 0),
						  report_num_json(x, 1))))
			goto err;
	}
	return o;
err:
	json_decref(o);
	return NULL;
}

json_t *report_thresholds_json(const struct report_state *s)
{
	json_t *a;
	size_t i;

	if (!(s->has & REPORT_THRESHOLDS) || !(a = json_array()))
		return NULL;
	for (i = 0; i < s->nthr; i++)
		if (json_array_append_new(a, threshold_to_json(&s->thr[i])))
			goto err;
	return a;
err:
	json_decref(a);
	return NULL;
}

json_t *report_devices_json(const struct report_state *s)
{
	json_t *a;
	size_t i;

	if (!(s->has & REPORT_DEVICES) || !(a = json_array()))
		return NULL;
	for (i = 0; i < s->ndev; i++)
		if (json_array_append_new(a, instr_dev_to_json(&s->dev[i])))
			goto err;
	return a;
err:
	json_decref(a);
	return NULL;
}
