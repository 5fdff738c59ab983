#include "instr.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonh.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Look s up in a NULL-free name table.  @ret index or -EINVAL. */
static int instr_lookup(const char *const *names, size_t n, const char *s)
{
	size_t i;

	for (i = 0; s && i < n; i++)
		if (names[i] && !strcmp(names[i], s))
			return (int)i;
	return -EINVAL;
}

/* ---- values ---------------------------------------------------------------- */

static const char *const instr_kind_names[] = {
	[INSTR_ATTRIBUTE] = "attribute",
	[INSTR_COUNTER] = "counter",
	[INSTR_GAUGE] = "gauge",
};

const char *instr_kind_name(enum instr_kind k)
{
	return (unsigned)k < ARRAY_LEN(instr_kind_names) ? instr_kind_names[k] : "?";
}

int instr_kind_parse(const char *s, enum instr_kind *k)
{
	int i = instr_lookup(instr_kind_names, ARRAY_LEN(instr_kind_names), s);

	if (i < 0)
		return i;
	*k = (enum instr_kind)i;
	return 0;
}

/* Dot-separated segments of [a-z0-9_-] (and [A-Z] with upper), none empty? */
static int instr_dotted(const char *s, size_t len, int upper)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char c = s[i];
		if (c == '.') {
			if (i == 0 || i == len - 1 || s[i - 1] == '.')
				return 0;
		} else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
			     c == '-' || (upper && c >= 'A' && c <= 'Z'))) {
			return 0;
		}
	}
	return len > 0;
}

int instr_name_check(const char *name, char *err, size_t errlen)
{
	size_t len = name ? strlen(name) : 0;

	if (!len || len > INSTR_NAME_MAX) {
		snprintf(err, errlen, "name: '%.80s' must be 1..%d characters", name ? name : "",
			 INSTR_NAME_MAX);
		return -EINVAL;
	}
	if (!instr_dotted(name, len, 0)) {
		snprintf(err, errlen,
			 "name: '%s' must be dot-separated segments of [a-z0-9_-], none empty",
			 name);
		return -EINVAL;
	}
	return 0;
}

void instr_wm_update(struct instr_wm *w, double v)
{
	if (!w->set) {
		instr_wm_reset(w, v);
		return;
	}
	if (v < w->low)
		w->low = v;
	if (v > w->high)
		w->high = v;
}

void instr_wm_reset(struct instr_wm *w, double v)
{
	w->low = w->high = v;
	w->set = 1;
}

void instr_tree_free(struct instr_tree *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

void instr_tree_begin(struct instr_tree *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		t->v[i].valid = 0;
}

struct instr_value *instr_tree_find(const struct instr_tree *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].def.name, name))
			return &t->v[i];
	return NULL;
}

int instr_tree_set(struct instr_tree *t, const struct instr_def *def, double v)
{
	struct instr_value *x = instr_tree_find(t, def->name);
	char err[128];

	if (!isfinite(v))
		return -EINVAL;
	if (!x) {
		if (instr_name_check(def->name, err, sizeof(err)))
			return -EINVAL;
		if (t->n == t->cap) {
			size_t cap = t->cap ? t->cap * 2 : 64;
			struct instr_value *nv = realloc(t->v, cap * sizeof(*nv));
			if (!nv)
				return -ENOMEM;
			t->v = nv;
			t->cap = cap;
		}
		x = &t->v[t->n++];
		memset(x, 0, sizeof(*x));
		x->def = *def;
		t->gen++;
	} else if (x->def.kind != def->kind) {
		return -EINVAL;
	}
	if (x->def.kind == INSTR_COUNTER) {
		x->raw = v;
		if (v < x->base)
			x->base = 0; /* the source started again: so do we */
		v -= x->base;
	}
	x->v = v;
	x->valid = 1;
	if (x->def.kind == INSTR_GAUGE) {
		if (!x->wm.set || v < x->wm.low || v > x->wm.high)
			t->wm_gen++;
		instr_wm_update(&x->wm, v);
	}
	return 0;
}

int instr_tree_wm_reset(struct instr_tree *t, const char *name, char *err, size_t errlen)
{
	struct instr_value *x;
	size_t i;
	int n = 0;

	if (name) {
		x = instr_tree_find(t, name);
		if (!x) {
			snprintf(err, errlen, "value: '%s' is not a value of this node", name);
			return -ENOENT;
		}
		if (x->def.kind != INSTR_GAUGE) {
			snprintf(err, errlen, "value: '%s' is a %s; only gauges have watermarks",
				 name, instr_kind_name(x->def.kind));
			return -EINVAL;
		}
		t->wm_gen++;
		/* Without a current reading the next one starts the new range. */
		if (x->valid)
			instr_wm_reset(&x->wm, x->v);
		else
			x->wm.set = 0;
		return 1;
	}
	for (i = 0; i < t->n; i++) {
		x = &t->v[i];
		if (x->def.kind != INSTR_GAUGE)
			continue;
		t->wm_gen++;
		if (x->valid)
			instr_wm_reset(&x->wm, x->v);
		else
			x->wm.set = 0;
		n++;
	}
	return n;
}

/* Restart counter x from 0 at its current raw reading (none yet: at the next). */
static void instr_counter_restart(struct instr_tree *t, struct instr_value *x)
{
	t->wm_gen++;
	x->base = x->raw;
	x->v = 0;
}

int instr_tree_counter_reset(struct instr_tree *t, const char *name, char *err, size_t errlen)
{
	struct instr_value *x;
	size_t i;
	int n = 0;

	if (name) {
		x = instr_tree_find(t, name);
		if (!x) {
			snprintf(err, errlen, "value: '%s' is not a value of this node", name);
			return -ENOENT;
		}
		if (x->def.kind != INSTR_COUNTER) {
			snprintf(err, errlen, "value: '%s' is a %s; only counters are reset", name,
				 instr_kind_name(x->def.kind));
			return -EINVAL;
		}
		if (!x->def.resettable) {
			snprintf(err, errlen, "value: '%s' is a counter that cannot be reset", name);
			return -EPERM;
		}
		instr_counter_restart(t, x);
		return 1;
	}
	for (i = 0; i < t->n; i++) {
		x = &t->v[i];
		if (x->def.kind != INSTR_COUNTER || !x->def.resettable)
			continue;
		instr_counter_restart(t, x);
		n++;
	}
	return n;
}

/* A reading as JSON: integers stay integers (exact up to 2^53). */
static json_t *instr_num_json(double v, int integer)
{
	if (integer && fabs(v) <= 9007199254740992.0)
		return json_integer((json_int_t)v);
	return json_real(v);
}

json_t *instr_tree_schema_json(const struct instr_tree *t)
{
	json_t *a = json_array();
	size_t i;

	if (!a)
		return NULL;
	for (i = 0; i < t->n; i++) {
		const struct instr_def *d = &t->v[i].def;
		json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", d->name, "oid", d->oid,
				      "kind", instr_kind_name(d->kind), "unit", d->unit, "desc",
				      d->desc);
		if (e && d->kind == INSTR_COUNTER && d->resettable &&
		    json_object_set_new(e, "resettable", json_true())) {
			json_decref(e);
			goto err_a;
		}
		if (json_array_append_new(a, e))
			goto err_a;
	}
	return a;

err_a:
	json_decref(a);
	return NULL;
}

json_t *instr_tree_values_json(const struct instr_tree *t)
{
	json_t *o = json_object();
	size_t i;

	if (!o)
		return NULL;
	for (i = 0; i < t->n; i++) {
		const struct instr_value *x = &t->v[i];
		if (!x->valid)
			continue;
		if (json_object_set_new(o, x->def.name, instr_num_json(x->v, x->def.integer)))
			goto err_o;
	}
	return o;

err_o:
	json_decref(o);
	return NULL;
}

json_t *instr_tree_watermarks_json(const struct instr_tree *t)
{
	json_t *o = json_object();
	size_t i;

	if (!o)
		return NULL;
	for (i = 0; i < t->n; i++) {
		const struct instr_value *x = &t->v[i];
		json_t *pair;
		if (x->def.kind != INSTR_GAUGE || !x->wm.set)
			continue;
		pair = json_pack("[o, o]", instr_num_json(x->wm.low, x->def.integer),
				 instr_num_json(x->wm.high, x->def.integer));
		if (json_object_set_new(o, x->def.name, pair))
			goto err_o;
	}
	return o;

err_o:
	json_decref(o);
	return NULL;
}

/* Copy an optional string member into out (cap includes the NUL). */
static int instr_get_strbuf(json_t *j, const char *key, int required, char *out, size_t cap,
			    char *err, size_t errlen)
{
	const char *s;
	int rc = jsonh_get_str(j, key, required, cap - 1, &s, err, errlen);

	if (rc)
		return rc;
	snprintf(out, cap, "%s", s ? s : "");
	return 0;
}

int instr_def_from_json(json_t *j, struct instr_def *d, char *err, size_t errlen)
{
	static const char *const keys[] = { "name", "oid", "kind", "unit", "desc", "resettable",
					    NULL };
	struct instr_def n = { .integer = 0 };
	const char *kind;
	json_t *res;
	int rc;

	if (!json_is_object(j)) {
		snprintf(err, errlen, "schema: each entry must be an object");
		return -EINVAL;
	}
	if ((rc = jsonh_only_keys(j, keys, err, errlen)) ||
	    (rc = instr_get_strbuf(j, "name", 1, n.name, sizeof(n.name), err, errlen)) ||
	    (rc = instr_name_check(n.name, err, errlen)) ||
	    (rc = instr_get_strbuf(j, "oid", 0, n.oid, sizeof(n.oid), err, errlen)) ||
	    (rc = instr_get_strbuf(j, "unit", 0, n.unit, sizeof(n.unit), err, errlen)) ||
	    (rc = instr_get_strbuf(j, "desc", 0, n.desc, sizeof(n.desc), err, errlen)) ||
	    (rc = jsonh_get_str(j, "kind", 1, 16, &kind, err, errlen)))
		return rc;
	if (n.oid[0] && strspn(n.oid, "0123456789.") != strlen(n.oid)) {
		snprintf(err, errlen, "oid: '%s' must be dotted decimal", n.oid);
		return -EINVAL;
	}
	if (instr_kind_parse(kind, &n.kind)) {
		snprintf(err, errlen, "kind: '%s' must be attribute, counter or gauge", kind);
		return -EINVAL;
	}
	res = json_object_get(j, "resettable");
	if (res && !json_is_null(res)) {
		if (!json_is_boolean(res)) {
			snprintf(err, errlen, "resettable: must be true or false");
			return -EINVAL;
		}
		if (json_is_true(res) && n.kind != INSTR_COUNTER) {
			snprintf(err, errlen, "resettable: only a counter can be resettable, not a %s",
				 kind);
			return -EINVAL;
		}
		n.resettable = json_is_true(res);
	}
	*d = n;
	return 0;
}

/* ---- thresholds ------------------------------------------------------------ */

static const char *const instr_thr_kind_names[] = {
	[INSTR_THR_HIGH] = "high",
	[INSTR_THR_LOW] = "low",
};
static const char *const instr_thr_state_names[] = {
	[INSTR_THR_CLEAR] = "clear",
	[INSTR_THR_RAISED] = "raised",
};

const char *instr_thr_kind_name(enum instr_thr_kind k)
{
	return (unsigned)k < ARRAY_LEN(instr_thr_kind_names) ? instr_thr_kind_names[k] : "?";
}

int instr_thr_kind_parse(const char *s, enum instr_thr_kind *k)
{
	int i = instr_lookup(instr_thr_kind_names, ARRAY_LEN(instr_thr_kind_names), s);

	if (i < 0)
		return i;
	*k = (enum instr_thr_kind)i;
	return 0;
}

const char *instr_thr_state_name(enum instr_thr_state s)
{
	return (unsigned)s < ARRAY_LEN(instr_thr_state_names) ? instr_thr_state_names[s] : "?";
}

int threshold_check(double rise, double clear, enum instr_thr_kind kind, char *err,
		    size_t errlen)
{
	if (!isfinite(rise)) {
		snprintf(err, errlen, "rise: must be a finite number");
		return -EINVAL;
	}
	if (!isfinite(clear)) {
		snprintf(err, errlen, "clear: must be a finite number");
		return -EINVAL;
	}
	if (kind == INSTR_THR_HIGH && clear > rise) {
		snprintf(err, errlen,
			 "clear: %.15g is above rise %.15g; a high threshold raises above rise and "
			 "clears below clear, so clear must be <= rise",
			 clear, rise);
		return -EINVAL;
	}
	if (kind == INSTR_THR_LOW && clear < rise) {
		snprintf(err, errlen,
			 "clear: %.15g is below rise %.15g; a low threshold raises below rise and "
			 "clears above clear, so clear must be >= rise",
			 clear, rise);
		return -EINVAL;
	}
	if (kind != INSTR_THR_HIGH && kind != INSTR_THR_LOW) {
		snprintf(err, errlen, "kind: must be high or low");
		return -EINVAL;
	}
	return 0;
}

int threshold_set(struct instr_threshold *t, const char *value, enum instr_thr_kind kind,
		  double rise, double clear, unsigned samples, char *err, size_t errlen)
{
	int rc = instr_name_check(value, err, errlen);
	int keep;

	if (rc) {
		/* The field is "value" here, not "name". */
		snprintf(err, errlen, "value: '%.64s' is not a value name", value ? value : "");
		return rc;
	}
	rc = threshold_check(rise, clear, kind, err, errlen);
	if (rc)
		return rc;
	if (samples < 1 || samples > INSTR_SAMPLES_MAX) {
		snprintf(err, errlen, "samples: %u is out of range 1..%d", samples,
			 INSTR_SAMPLES_MAX);
		return -EINVAL;
	}
	keep = t->enabled && t->kind == kind && !strcmp(t->value, value);
	snprintf(t->value, sizeof(t->value), "%s", value);
	t->kind = kind;
	t->rise = rise;
	t->clear = clear;
	t->samples = samples;
	t->enabled = 1;
	t->hits = 0;
	if (!keep)
		t->state = INSTR_THR_CLEAR;
	return 0;
}

enum instr_transition threshold_update(struct instr_threshold *t, double v)
{
	int beyond_rise, beyond_clear;

	if (!t->enabled || !isfinite(v))
		return INSTR_TR_NONE;
	if (t->kind == INSTR_THR_HIGH) {
		beyond_rise = v > t->rise;
		beyond_clear = v < t->clear;
	} else {
		beyond_rise = v < t->rise;
		beyond_clear = v > t->clear;
	}
	if (t->state == INSTR_THR_CLEAR) {
		if (!beyond_rise) {
			t->hits = 0;
			return INSTR_TR_NONE;
		}
		if (++t->hits < t->samples)
			return INSTR_TR_NONE;
		t->hits = 0;
		t->state = INSTR_THR_RAISED;
		return INSTR_TR_RAISE;
	}
	if (!beyond_clear)
		return INSTR_TR_NONE;
	t->state = INSTR_THR_CLEAR;
	t->hits = 0;
	return INSTR_TR_CLEAR;
}

json_t *threshold_to_json(const struct instr_threshold *t)
{
	return json_pack("{s:s, s:s, s:f, s:f, s:i, s:s}", "value", t->value, "kind",
			 instr_thr_kind_name(t->kind), "rise", t->rise, "clear", t->clear,
			 "samples", (int)t->samples, "state", instr_thr_state_name(t->state));
}

int threshold_from_json(json_t *j, struct instr_threshold *t, char *err, size_t errlen)
{
	static const char *const keys[] = { "value", "kind", "rise", "clear", "samples", "state",
					    NULL };
	struct instr_threshold n = { .samples = 1 };
	const char *value, *kind, *state;
	json_int_t samples = 1;
	int rc;

	if (!json_is_object(j)) {
		snprintf(err, errlen, "threshold: must be an object");
		return -EINVAL;
	}
	if ((rc = jsonh_only_keys(j, keys, err, errlen)) ||
	    (rc = jsonh_get_str(j, "value", 1, INSTR_NAME_MAX, &value, err, errlen)) ||
	    (rc = jsonh_get_str(j, "kind", 1, 8, &kind, err, errlen)) ||
	    (rc = jsonh_get_num(j, "rise", 1, &n.rise, err, errlen)) ||
	    (rc = jsonh_get_num(j, "clear", 1, &n.clear, err, errlen)) ||
	    (rc = jsonh_get_int(j, "samples", 0, 1, INSTR_SAMPLES_MAX, &samples, err, errlen)) ||
	    (rc = jsonh_get_str(j, "state", 0, 8, &state, err, errlen)))
		return rc;
	if (instr_thr_kind_parse(kind, &n.kind)) {
		snprintf(err, errlen, "kind: '%s' must be high or low", kind);
		return -EINVAL;
	}
	rc = threshold_set(&n, value, n.kind, n.rise, n.clear, (unsigned)samples, err, errlen);
	if (rc)
		return rc;
	if (state) {
		int i = instr_lookup(instr_thr_state_names, ARRAY_LEN(instr_thr_state_names), state);
		if (i < 0) {
			snprintf(err, errlen, "state: '%s' must be clear or raised", state);
			return -EINVAL;
		}
		n.state = (enum instr_thr_state)i;
	}
	*t = n;
	return 0;
}

/* ---- events ---------------------------------------------------------------- */

static const char *const instr_severity_names[] = {
	[INSTR_SEV_NONE] = "",		 [INSTR_SEV_DEBUG] = "debug",
	[INSTR_SEV_INFO] = "info",	 [INSTR_SEV_NOTICE] = "notice",
	[INSTR_SEV_WARNING] = "warning", [INSTR_SEV_ERROR] = "error",
	[INSTR_SEV_CRITICAL] = "critical",
};

const char *instr_severity_name(enum instr_severity s)
{
	return (unsigned)s < ARRAY_LEN(instr_severity_names) ? instr_severity_names[s] : "";
}

int instr_severity_parse(const char *s, enum instr_severity *sev)
{
	int i;

	if (!s || !*s)
		return -EINVAL;
	i = instr_lookup(instr_severity_names, ARRAY_LEN(instr_severity_names), s);
	if (i < 0)
		return i;
	*sev = (enum instr_severity)i;
	return 0;
}

enum instr_severity instr_severity_of(const char *type)
{
	if (!strcmp(type, INSTR_EV_THR_RAISE) || !strcmp(type, INSTR_EV_EVENTS_LOST))
		return INSTR_SEV_WARNING;
	if (!strcmp(type, INSTR_EV_STATE))
		return INSTR_SEV_ERROR;
	return INSTR_SEV_INFO;
}

int instr_publisher_check(const char *s, char *err, size_t errlen)
{
	size_t i, len = s ? strlen(s) : 0;

	if (!len || len > INSTR_PUBLISHER_MAX) {
		snprintf(err, errlen, "publisher: must be 1..%d characters", INSTR_PUBLISHER_MAX);
		return -EINVAL;
	}
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-' || s[i] == '.')) {
			snprintf(err, errlen, "publisher: only [a-z0-9_.-] may be used");
			return -EINVAL;
		}
	return 0;
}

int instr_ring_init(struct instr_ring *r, size_t cap)
{
	memset(r, 0, sizeof(*r));
	if (!cap)
		return -EINVAL;
	r->ev = calloc(cap, sizeof(*r->ev));
	if (!r->ev)
		return -ENOMEM;
	r->cap = cap;
	r->next_seq = 1;
	return 0;
}

void instr_ring_free(struct instr_ring *r)
{
	size_t i;

	for (i = 0; r->ev && i < r->cap; i++)
		json_decref(r->ev[i].attrs);
	free(r->ev);
	memset(r, 0, sizeof(*r));
}

static struct instr_event *instr_ring_slot(const struct instr_ring *r, size_t i)
{
	return &r->ev[(r->head + i) % r->cap];
}

/* Drop the oldest event. */
static void instr_ring_pop(struct instr_ring *r)
{
	struct instr_event *e = instr_ring_slot(r, 0);

	json_decref(e->attrs);
	memset(e, 0, sizeof(*e));
	r->head = (r->head + 1) % r->cap;
	r->len--;
}

/* Append to a ring known to have room; attrs stolen. */
static uint64_t instr_ring_put(struct instr_ring *r, int64_t time, const char *type,
			       enum instr_severity sev, const char *publisher, json_t *attrs)
{
	struct instr_event *e;

	if (!attrs)
		attrs = json_object();
	if (!attrs)
		return 0;
	e = instr_ring_slot(r, r->len);
	e->seq = r->next_seq++;
	e->time = time;
	snprintf(e->type, sizeof(e->type), "%s", type);
	e->severity = (unsigned)sev < INSTR_SEV_COUNT ? sev : INSTR_SEV_NONE;
	snprintf(e->publisher, sizeof(e->publisher), "%s", publisher ? publisher : r->publisher);
	e->attrs = attrs;
	r->len++;
	return e->seq;
}

/* Record pending drops as one events.lost event, when there is room. */
static void instr_ring_flush_lost(struct instr_ring *r, int64_t now)
{
	json_t *a;

	if (!r->lost || r->len == r->cap)
		return;
	a = json_pack("{s:I, s:I, s:I}", "count", (json_int_t)r->lost, "first_seq",
		      (json_int_t)r->lost_first, "last_seq", (json_int_t)r->lost_last);
	if (!a)
		return; /* try again at the next push or ack */
	if (instr_ring_put(r, now, INSTR_EV_EVENTS_LOST, instr_severity_of(INSTR_EV_EVENTS_LOST),
			   NULL, a))
		r->lost = 0;
}

uint64_t instr_ring_push(struct instr_ring *r, int64_t time, const char *type, json_t *attrs)
{
	return instr_ring_push_ex(r, time, type, instr_severity_of(type), NULL, attrs);
}

uint64_t instr_ring_push_ex(struct instr_ring *r, int64_t time, const char *type,
			    enum instr_severity sev, const char *publisher, json_t *attrs)
{
	instr_ring_flush_lost(r, time);
	if (r->len == r->cap) {
		uint64_t seq = instr_ring_slot(r, 0)->seq;
		if (!r->lost)
			r->lost_first = seq;
		r->lost_last = seq;
		r->lost++;
		r->lost_total++;
		instr_ring_pop(r);
	}
	return instr_ring_put(r, time, type, sev, publisher, attrs);
}

size_t instr_ring_ack(struct instr_ring *r, uint64_t seq, int64_t now)
{
	size_t n = 0;

	while (r->len && instr_ring_slot(r, 0)->seq <= seq) {
		instr_ring_pop(r);
		n++;
	}
	instr_ring_flush_lost(r, now);
	return n;
}

const struct instr_event *instr_ring_at(const struct instr_ring *r, size_t i)
{
	return i < r->len ? instr_ring_slot(r, i) : NULL;
}

json_t *instr_event_to_json(const struct instr_event *e)
{
	json_t *j = json_pack("{s:I, s:I, s:s, s:O}", "seq", (json_int_t)e->seq, "time",
			      (json_int_t)e->time, "type", e->type, "attrs", e->attrs);

	if (j && e->severity != INSTR_SEV_NONE &&
	    json_object_set_new(j, "severity", json_string(instr_severity_name(e->severity))))
		goto err_j;
	if (j && e->publisher[0] &&
	    json_object_set_new(j, "publisher", json_string(e->publisher)))
		goto err_j;
	return j;

err_j:
	json_decref(j);
	return NULL;
}

json_t *instr_ring_json(const struct instr_ring *r, size_t max)
{
	json_t *a = json_array();
	size_t i;

	if (!a)
		return NULL;
	for (i = 0; i < r->len && i < max; i++) {
		if (json_array_append_new(a, instr_event_to_json(instr_ring_slot(r, i)))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

int instr_event_from_json(json_t *j, struct instr_event *e, char *err, size_t errlen)
{
	static const char *const keys[] = { "seq", "time", "type", "severity", "publisher", "attrs",
					    NULL };
	enum instr_severity sev = INSTR_SEV_NONE;
	json_int_t seq, time;
	const char *type, *sevs, *publisher;
	json_t *attrs;
	int rc;

	if (!json_is_object(j)) {
		snprintf(err, errlen, "events: each event must be an object");
		return -EINVAL;
	}
	if ((rc = jsonh_only_keys(j, keys, err, errlen)) ||
	    (rc = jsonh_get_int(j, "seq", 1, 1, INT64_MAX, &seq, err, errlen)) ||
	    (rc = jsonh_get_int(j, "time", 1, 0, INT64_MAX, &time, err, errlen)) ||
	    (rc = jsonh_get_str(j, "type", 1, INSTR_TYPE_MAX, &type, err, errlen)) ||
	    (rc = jsonh_get_str(j, "severity", 0, 16, &sevs, err, errlen)) ||
	    (rc = jsonh_get_str(j, "publisher", 0, INSTR_PUBLISHER_MAX, &publisher, err, errlen)))
		return rc;
	if (sevs && instr_severity_parse(sevs, &sev)) {
		snprintf(err, errlen,
			 "severity: must be debug, info, notice, warning, error or critical");
		return -EINVAL;
	}
	if (publisher && (rc = instr_publisher_check(publisher, err, errlen)))
		return rc;
	attrs = json_object_get(j, "attrs");
	if (attrs && !json_is_object(attrs)) {
		snprintf(err, errlen, "attrs: must be an object");
		return -EINVAL;
	}
	e->seq = (uint64_t)seq;
	e->time = (int64_t)time;
	snprintf(e->type, sizeof(e->type), "%s", type);
	e->severity = sev;
	snprintf(e->publisher, sizeof(e->publisher), "%s", publisher ? publisher : "");
	e->attrs = attrs ? json_incref(attrs) : json_object();
	if (!e->attrs) {
		snprintf(err, errlen, "attrs: out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* ---- devices --------------------------------------------------------------- */

static const char *const instr_avail_names[] = {
	[INSTR_ENABLED] = "enabled",
	[INSTR_DISABLED] = "disabled",
};
static const char *const instr_run_names[] = {
	[INSTR_INACTIVE] = "inactive",
	[INSTR_OFFLINE] = "offline",
	[INSTR_ONLINE] = "online",
};
static const char *const instr_op_names[] = {
	[INSTR_OP_ENABLE] = "enable",     [INSTR_OP_DISABLE] = "disable",
	[INSTR_OP_ONLINE] = "online",     [INSTR_OP_OFFLINE] = "offline",
	[INSTR_OP_SHUTDOWN] = "shutdown", [INSTR_OP_DIAG] = "diag",
	[INSTR_OP_AUDIT] = "audit",
};

const char *instr_avail_name(enum instr_avail a)
{
	return (unsigned)a < ARRAY_LEN(instr_avail_names) ? instr_avail_names[a] : "?";
}

const char *instr_run_name(enum instr_run r)
{
	return (unsigned)r < ARRAY_LEN(instr_run_names) ? instr_run_names[r] : "?";
}

const char *instr_op_name(enum instr_op op)
{
	return (unsigned)op < ARRAY_LEN(instr_op_names) ? instr_op_names[op] : "?";
}

int instr_avail_parse(const char *s, enum instr_avail *a)
{
	int i = instr_lookup(instr_avail_names, ARRAY_LEN(instr_avail_names), s);

	if (i < 0)
		return i;
	*a = (enum instr_avail)i;
	return 0;
}

int instr_run_parse(const char *s, enum instr_run *r)
{
	int i = instr_lookup(instr_run_names, ARRAY_LEN(instr_run_names), s);

	if (i < 0)
		return i;
	*r = (enum instr_run)i;
	return 0;
}

int instr_op_parse(const char *s, enum instr_op *op)
{
	int i = instr_lookup(instr_op_names, ARRAY_LEN(instr_op_names), s);

	if (i < 0)
		return i;
	*op = (enum instr_op)i;
	return 0;
}

#define AV(a) (1u << (a))
#define RUN(r) (1u << (r))
#define RUN_ANY (RUN(INSTR_INACTIVE) | RUN(INSTR_OFFLINE) | RUN(INSTR_ONLINE))
#define AV_ANY (AV(INSTR_ENABLED) | AV(INSTR_DISABLED))

/*
 * The DDM state rules as data: the states an op needs, and what to say
 * when the device is not in them (the avail reason is checked first).
 */
static const struct {
	unsigned avail, run;
	const char *bad_avail, *bad_run;
} instr_op_rules[INSTR_OP_COUNT] = {
	[INSTR_OP_ENABLE] = { AV(INSTR_DISABLED), RUN_ANY, "it is already enabled", NULL },
	[INSTR_OP_DISABLE] = { AV(INSTR_ENABLED), RUN(INSTR_INACTIVE) | RUN(INSTR_OFFLINE),
			       "it is already disabled", "it is online: take it offline first" },
	[INSTR_OP_ONLINE] = { AV(INSTR_ENABLED), RUN(INSTR_INACTIVE) | RUN(INSTR_OFFLINE),
			      "it is disabled: enable it first", "it is already online" },
	[INSTR_OP_OFFLINE] = { AV_ANY, RUN(INSTR_ONLINE), NULL, "it is not online" },
	[INSTR_OP_SHUTDOWN] = { AV_ANY, RUN(INSTR_OFFLINE) | RUN(INSTR_ONLINE), NULL,
				"it is already inactive" },
	[INSTR_OP_DIAG] = { AV_ANY, RUN(INSTR_OFFLINE), NULL,
			    "diag is intrusive and runs only on an offline device" },
	[INSTR_OP_AUDIT] = { AV_ANY, RUN(INSTR_ONLINE), NULL,
			     "audit runs only on an online device" },
};

const char *instr_dev_refusal(const struct instr_dev *d, enum instr_op op, char *buf,
			      size_t len)
{
	if ((unsigned)op >= INSTR_OP_COUNT) {
		snprintf(buf, len, "%s: unknown operation", d->path);
		return buf;
	}
	if (d->cannot[op][0]) {
		snprintf(buf, len, "%s: cannot %s: %s", d->path, instr_op_name(op), d->cannot[op]);
		return buf;
	}
	if (d->offered_set && !(d->offered & (1u << op))) {
		snprintf(buf, len, "%s: cannot %s: its node does not offer it", d->path,
			 instr_op_name(op));
		return buf;
	}
	if (!(instr_op_rules[op].avail & AV(d->avail))) {
		snprintf(buf, len, "%s: cannot %s: %s", d->path, instr_op_name(op),
			 instr_op_rules[op].bad_avail);
		return buf;
	}
	if (!(instr_op_rules[op].run & RUN(d->run))) {
		snprintf(buf, len, "%s: cannot %s: %s (it is %s)", d->path, instr_op_name(op),
			 instr_op_rules[op].bad_run, instr_run_name(d->run));
		return buf;
	}
	return NULL;
}

unsigned instr_dev_ops(const struct instr_dev *d)
{
	char buf[256];
	unsigned ops = 0;
	int op;

	for (op = 0; op < INSTR_OP_COUNT; op++)
		if (!instr_dev_refusal(d, (enum instr_op)op, buf, sizeof(buf)))
			ops |= 1u << op;
	return ops;
}

void instr_dev_clear(struct instr_dev *d)
{
	json_decref(d->stats);
	d->stats = NULL;
}

static json_t *instr_check_json(const struct instr_check *c)
{
	return json_pack("{s:s, s:I, s:s}", "result", c->pass ? "pass" : "fail", "time",
			 (json_int_t)c->time, "detail", c->detail);
}

json_t *instr_dev_to_json(const struct instr_dev *d)
{
	unsigned ops = instr_dev_ops(d);
	json_t *o, *a;
	int op;

	o = json_pack("{s:s, s:s, s:s, s:s}", "path", d->path, "class", d->cls, "avail",
		      instr_avail_name(d->avail), "run", instr_run_name(d->run));
	a = json_array();
	if (!o || !a)
		goto err;
	for (op = 0; op < INSTR_OP_COUNT; op++)
		if ((ops & (1u << op)) && json_array_append_new(a, json_string(instr_op_name(op))))
			goto err;
	if (json_object_set_new(o, "ops", a)) {
		a = NULL;
		goto err;
	}
	a = NULL;
	if (d->stats && json_object_set(o, "stats", d->stats))
		goto err;
	if (d->diag.done && json_object_set_new(o, "diag", instr_check_json(&d->diag)))
		goto err;
	if (d->audit.done && json_object_set_new(o, "audit", instr_check_json(&d->audit)))
		goto err;
	return o;

err:
	json_decref(a);
	json_decref(o);
	return NULL;
}

static int instr_check_from_json(json_t *j, const char *field, struct instr_check *c, char *err,
				 size_t errlen)
{
	static const char *const keys[] = { "result", "time", "detail", NULL };
	const char *result;
	json_int_t time;
	int rc;

	if (!j)
		return 0;
	if (!json_is_object(j)) {
		snprintf(err, errlen, "%s: must be an object", field);
		return -EINVAL;
	}
	if ((rc = jsonh_only_keys(j, keys, err, errlen)) ||
	    (rc = jsonh_get_str(j, "result", 1, 8, &result, err, errlen)) ||
	    (rc = jsonh_get_int(j, "time", 1, 0, INT64_MAX, &time, err, errlen)) ||
	    (rc = instr_get_strbuf(j, "detail", 0, c->detail, sizeof(c->detail), err, errlen)))
		goto err_field;
	if (strcmp(result, "pass") && strcmp(result, "fail")) {
		snprintf(err, errlen, "%s: result: '%s' must be pass or fail", field, result);
		return -EINVAL;
	}
	c->done = 1;
	c->pass = !strcmp(result, "pass");
	c->time = (int64_t)time;
	return 0;

err_field: {
	char inner[256];
	snprintf(inner, sizeof(inner), "%s", err);
	snprintf(err, errlen, "%s: %s", field, inner);
	return rc;
}
}

int instr_dev_from_json(json_t *j, struct instr_dev *d, char *err, size_t errlen)
{
	static const char *const keys[] = { "path",  "class", "avail", "run", "stats",
					    "diag",  "audit", "ops",   NULL };
	struct instr_dev n;
	const char *avail, *run;
	json_t *stats, *ops, *op;
	size_t i;
	int rc;

	memset(&n, 0, sizeof(n));
	if (!json_is_object(j)) {
		snprintf(err, errlen, "devices: each device must be an object");
		return -EINVAL;
	}
	if ((rc = jsonh_only_keys(j, keys, err, errlen)) ||
	    (rc = instr_get_strbuf(j, "path", 1, n.path, sizeof(n.path), err, errlen)) ||
	    (rc = instr_get_strbuf(j, "class", 1, n.cls, sizeof(n.cls), err, errlen)) ||
	    (rc = jsonh_get_str(j, "avail", 1, 16, &avail, err, errlen)) ||
	    (rc = jsonh_get_str(j, "run", 1, 16, &run, err, errlen)) ||
	    (rc = instr_check_from_json(json_object_get(j, "diag"), "diag", &n.diag, err,
					errlen)) ||
	    (rc = instr_check_from_json(json_object_get(j, "audit"), "audit", &n.audit, err,
					errlen)))
		return rc;
	if (instr_avail_parse(avail, &n.avail)) {
		snprintf(err, errlen, "avail: '%s' must be enabled or disabled", avail);
		return -EINVAL;
	}
	if (instr_run_parse(run, &n.run)) {
		snprintf(err, errlen, "run: '%s' must be inactive, offline or online", run);
		return -EINVAL;
	}
	ops = json_object_get(j, "ops");
	if (ops && (!json_is_array(ops) || json_array_size(ops) > INSTR_OP_COUNT)) {
		snprintf(err, errlen, "ops: must be an array of at most %d operations", INSTR_OP_COUNT);
		return -EINVAL;
	}
	json_array_foreach(ops, i, op) {
		enum instr_op o;
		if (!json_is_string(op) || instr_op_parse(json_string_value(op), &o)) {
			snprintf(err, errlen, "ops[%zu]: must be enable, disable, online, offline, "
				 "shutdown, diag or audit", i);
			return -EINVAL;
		}
		n.offered |= 1u << o;
	}
	n.offered_set = ops != NULL;
	stats = json_object_get(j, "stats");
	if (stats && !json_is_object(stats)) {
		snprintf(err, errlen, "stats: must be an object");
		return -EINVAL;
	}
	n.stats = json_incref(stats);
	*d = n;
	return 0;
}

/* ---- commands -------------------------------------------------------------- */

/*
 * Each argument type: the most characters a string of it may have (the
 * length of its field in struct instr_cmd) and what it must be, for
 * refusals.  The command limits of docs/protocol.md are these.
 */
static const struct {
	size_t max;
	const char *form;
} instr_arg_forms[] = {
	[INSTR_ARG_VALUE] = { INSTR_NAME_MAX,
			      "must be a value name: dot-separated segments of [a-z0-9_-], none "
			      "empty" },
	[INSTR_ARG_THR_KIND] = { 8, "must be high or low" },
	[INSTR_ARG_NUMBER] = { 0, "must be a number" },
	[INSTR_ARG_SAMPLES] = { 0, "must be an integer" },
	[INSTR_ARG_PATH] = { INSTR_PATH_MAX,
			     "must be a device path such as cpu/cpu1 (printable ASCII, no space)" },
	[INSTR_ARG_DEV_OP] = { 16, "must be enable, disable, online, offline, shutdown, diag "
				   "or audit" },
	[INSTR_ARG_SYSCTL] = { INSTR_SYSCTL_NAME_MAX,
			       "must be a dotted sysctl name such as vm.swappiness: dot-separated "
			       "segments of [A-Za-z0-9_-], none empty" },
	[INSTR_ARG_LINE] = { INSTR_SYSCTL_VALUE_MAX,
			     "must be one line: no control characters but tab" },
};

static int instr_cmd_thr_check(const struct instr_cmd *c, char *err, size_t errlen)
{
	return threshold_check(c->thr.rise, c->thr.clear, c->thr.kind, err, errlen);
}

#define ARG(n, t, req, field)                                                        \
	{ .name = n, .type = INSTR_ARG_##t, .required = req,                         \
	  .off = offsetof(struct instr_cmd, field) }

/* Every op an agent runs, with its args: docs/protocol.md, "Commands". */
const struct instr_cmd_rule instr_cmd_rules[INSTR_CMD_COUNT] = {
	[INSTR_CMD_REBOOT] = { .op = "reboot" },
	[INSTR_CMD_POWEROFF] = { .op = "poweroff" },
	[INSTR_CMD_THR_SET] = { .op = "threshold.set",
				.args = { ARG("value", VALUE, 1, thr.value),
					  ARG("kind", THR_KIND, 1, thr.kind),
					  ARG("rise", NUMBER, 1, thr.rise),
					  ARG("clear", NUMBER, 1, thr.clear),
					  ARG("samples", SAMPLES, 0, thr.samples) },
				.check = instr_cmd_thr_check },
	[INSTR_CMD_THR_CLEAR] = { .op = "threshold.clear",
				  .args = { ARG("value", VALUE, 1, thr.value),
					    ARG("kind", THR_KIND, 1, thr.kind) } },
	[INSTR_CMD_WM_RESET] = { .op = "watermarks.reset",
				 .args = { ARG("value", VALUE, 0, value) } },
	[INSTR_CMD_DEVICE] = { .op = "device",
			       .args = { ARG("path", PATH, 1, path),
					 ARG("op", DEV_OP, 1, dev_op) } },
	[INSTR_CMD_SYSCTL_SET] = { .op = "sysctl.set",
				   .args = { ARG("name", SYSCTL, 1, sysctl_name),
					     ARG("value", LINE, 1, sysctl_value) } },
	[INSTR_CMD_CONFIG_RELOAD] = { .op = "config.reload" },
	[INSTR_CMD_SYSCTL_GET] = { .op = "sysctl.get",
				   .args = { ARG("name", SYSCTL, 1, sysctl_name) } },
	[INSTR_CMD_CNT_RESET] = { .op = "counters.reset",
				  .args = { ARG("value", VALUE, 0, value) } },
};

#undef ARG

const struct instr_cmd_rule *instr_cmd_rule(const char *op)
{
	size_t i;

	for (i = 0; op && i < ARRAY_LEN(instr_cmd_rules); i++)
		if (!strcmp(instr_cmd_rules[i].op, op))
			return &instr_cmd_rules[i];
	return NULL;
}

const char *instr_cmd_op_name(enum instr_cmd_op op)
{
	return (unsigned)op < ARRAY_LEN(instr_cmd_rules) ? instr_cmd_rules[op].op : "?";
}

/* Is the string of type t, once its length is known good? */
static int instr_arg_form_ok(enum instr_arg_type t, const char *s, size_t len)
{
	size_t i;

	switch (t) {
	case INSTR_ARG_VALUE:
		return instr_dotted(s, len, 0);
	case INSTR_ARG_SYSCTL:
		return instr_dotted(s, len, 1);
	case INSTR_ARG_PATH:
		for (i = 0; i < len; i++)
			if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
				return 0;
		return 1;
	case INSTR_ARG_LINE:
		for (i = 0; i < len; i++)
			if (((unsigned char)s[i] < ' ' && s[i] != '\t') || s[i] == 0x7f)
				return 0;
		return 1;
	default:
		return 1;
	}
}

/*
 * s as a refusal may quote it: at most 48 bytes, control characters as '?'
 * (a refusal is logged and shown: it must not break a line).
 */
static const char *instr_quote(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] && i < 48 && i + 1 < len; i++)
		buf[i] = ((unsigned char)s[i] < ' ' || s[i] == 0x7f) ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

/* Read and check one argument a (v non-NULL, not null) into c. */
static int instr_arg_read(const struct instr_arg *a, json_t *v, const char *pfx,
			  struct instr_cmd *c, char *err, size_t errlen)
{
	char *field = (char *)c + a->off;
	size_t max = instr_arg_forms[a->type].max, len;
	const char *s;
	char q[64];

	switch (a->type) {
	case INSTR_ARG_NUMBER:
		if (!json_is_number(v))
			goto err_form;
		*(double *)field = json_number_value(v);
		return 0;
	case INSTR_ARG_SAMPLES:
		if (!json_is_integer(v))
			goto err_form;
		if (json_integer_value(v) < 1 || json_integer_value(v) > INSTR_SAMPLES_MAX) {
			snprintf(err, errlen, "%s%s: %lld is out of range 1..%d", pfx, a->name,
				 (long long)json_integer_value(v), INSTR_SAMPLES_MAX);
			return -EINVAL;
		}
		*(unsigned *)field = (unsigned)json_integer_value(v);
		return 0;
	case INSTR_ARG_LINE:
		if (json_is_integer(v)) {
			snprintf(field, max + 1, "%lld", (long long)json_integer_value(v));
			return 0;
		}
		if (!json_is_string(v)) {
			snprintf(err, errlen, "%s%s: must be a string or an integer", pfx, a->name);
			return -EINVAL;
		}
		break;
	default:
		if (!json_is_string(v)) {
			snprintf(err, errlen, "%s%s: must be a string", pfx, a->name);
			return -EINVAL;
		}
		break;
	}
	s = json_string_value(v);
	len = json_string_length(v);
	if (strlen(s) != len) {
		snprintf(err, errlen, "%s%s: must not contain NUL", pfx, a->name);
		return -EINVAL;
	}
	if (!len) {
		snprintf(err, errlen, "%s%s: must not be empty", pfx, a->name);
		return -EINVAL;
	}
	if (len > max) {
		snprintf(err, errlen, "%s%s: longer than %zu characters", pfx, a->name, max);
		return -EINVAL;
	}
	if (!instr_arg_form_ok(a->type, s, len))
		goto err_form;
	switch (a->type) {
	case INSTR_ARG_THR_KIND:
		if (instr_thr_kind_parse(s, (enum instr_thr_kind *)field))
			goto err_form;
		return 0;
	case INSTR_ARG_DEV_OP:
		if (instr_op_parse(s, (enum instr_op *)field))
			goto err_form;
		return 0;
	default:
		memcpy(field, s, len + 1);
		return 0;
	}

err_form:
	if (json_is_string(v))
		snprintf(err, errlen, "%s%s: '%s' %s", pfx, a->name,
			 instr_quote(json_string_value(v), q, sizeof(q)),
			 instr_arg_forms[a->type].form);
	else
		snprintf(err, errlen, "%s%s: %s", pfx, a->name, instr_arg_forms[a->type].form);
	return -EINVAL;
}

int instr_cmd_args(const struct instr_cmd_rule *r, json_t *args, const char *pfx,
		   struct instr_cmd *c, char *err, size_t errlen)
{
	const struct instr_arg *a;
	const char *key;
	json_t *v;
	int rc;

	if (args && !json_is_object(args)) {
		snprintf(err, errlen, "args: must be an object");
		return -EINVAL;
	}
	json_object_foreach(args, key, v) {
		for (a = r->args; a->name && strcmp(a->name, key); a++)
			;
		if (!a->name) {
			char q[64];
			snprintf(err, errlen, "%s%s: unknown field", pfx,
				 instr_quote(key, q, sizeof(q)));
			return -EINVAL;
		}
	}
	for (a = r->args; a->name; a++) {
		v = args ? json_object_get(args, a->name) : NULL;
		if (v && !json_is_null(v)) {
			rc = instr_arg_read(a, v, pfx, c, err, errlen);
			if (rc)
				return rc;
			continue;
		}
		if (a->required) {
			snprintf(err, errlen, "%s%s: missing", pfx, a->name);
			return -EINVAL;
		}
		/* Absent: the type's default. */
		switch (a->type) {
		case INSTR_ARG_SAMPLES:
			*(unsigned *)((char *)c + a->off) = 1;
			break;
		case INSTR_ARG_NUMBER:
			*(double *)((char *)c + a->off) = 0;
			break;
		case INSTR_ARG_THR_KIND:
			*(enum instr_thr_kind *)((char *)c + a->off) = INSTR_THR_HIGH;
			break;
		case INSTR_ARG_DEV_OP:
			*(enum instr_op *)((char *)c + a->off) = INSTR_OP_ENABLE;
			break;
		default:
			*((char *)c + a->off) = '\0';
			break;
		}
	}
	if (r->check) {
		char inner[256];
		rc = r->check(c, inner, sizeof(inner));
		if (rc) {
			snprintf(err, errlen, "%s%s", pfx, inner);
			return rc;
		}
	}
	return 0;
}

int instr_cmd_parse(json_t *j, struct instr_cmd *c, json_int_t *id, char *err, size_t errlen)
{
	static const char *const keys[] = { "id", "op", "args", NULL };
	const struct instr_cmd_rule *r;
	json_int_t n;
	const char *op;
	int rc;

	*id = -1;
	memset(c, 0, sizeof(*c));
	if (!json_is_object(j)) {
		snprintf(err, errlen, "commands: each command must be an object");
		return -EINVAL;
	}
	rc = jsonh_get_int(j, "id", 1, 0, INT64_MAX, &n, err, errlen);
	if (rc)
		return rc;
	*id = n;
	c->id = n;
	if ((rc = jsonh_only_keys(j, keys, err, errlen)) ||
	    (rc = jsonh_get_str(j, "op", 1, INSTR_CMD_OP_MAX, &op, err, errlen)))
		return rc;
	r = instr_cmd_rule(op);
	if (!r) {
		char q[64];
		snprintf(err, errlen, "op: '%s' is not a command this agent knows",
			 instr_quote(op, q, sizeof(q)));
		return -EINVAL;
	}
	c->op = (enum instr_cmd_op)(r - instr_cmd_rules);
	return instr_cmd_args(r, json_object_get(j, "args"), "args: ", c, err, errlen);
}

json_t *instr_cmd_to_json(const struct instr_cmd *c)
{
	const struct instr_cmd_rule *r;
	const struct instr_arg *a;
	json_t *args;

	if ((unsigned)c->op >= ARRAY_LEN(instr_cmd_rules))
		return NULL;
	r = &instr_cmd_rules[c->op];
	args = json_object();
	if (!args)
		return NULL;
	for (a = r->args; a->name; a++) {
		const char *field = (const char *)c + a->off;
		json_t *v;
		switch (a->type) {
		case INSTR_ARG_THR_KIND:
			v = json_string(instr_thr_kind_name(*(const enum instr_thr_kind *)field));
			break;
		case INSTR_ARG_DEV_OP:
			v = json_string(instr_op_name(*(const enum instr_op *)field));
			break;
		case INSTR_ARG_NUMBER:
			v = json_real(*(const double *)field);
			break;
		case INSTR_ARG_SAMPLES:
			v = json_integer(*(const unsigned *)field);
			break;
		default:
			if (!*field && !a->required)
				continue;
			v = json_string(field);
			break;
		}
		if (json_object_set_new(args, a->name, v)) {
			json_decref(args);
			return NULL;
		}
	}
	return json_pack("{s:I, s:s, s:o}", "id", c->id, "op", r->op, "args", args);
}

json_t *instr_result_ok(json_int_t id, json_t *result)
{
	return json_pack("{s:I, s:b, s:o}", "id", id, "ok", 1, "result",
			 result ? result : json_null());
}

json_t *instr_result_err(json_int_t id, const char *error)
{
	return json_pack("{s:I, s:b, s:s}", "id", id, "ok", 0, "error", error);
}
