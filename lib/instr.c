/* Values and their tree, thresholds (instr.h); events, devices and commands are in instr_event.c, instr_dev.c, instr_cmd.c. */
#include "instr.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "instr_priv.h"
#include "jsonh.h"

/* Look s up in a NULL-free name table.  @ret index or -EINVAL. */
int instr_lookup(const char *const *names, size_t n, const char *s)
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
int instr_dotted(const char *s, size_t len, int upper)
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
int instr_get_strbuf(json_t *j, const char *key, int required, char *out, size_t cap,
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
