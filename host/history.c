#include "history.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

struct history {
	size_t nvals;
	char **names;
	float *slots;            /* HISTORY_SLOTS rows of nvals averages (NaN: no reading) */
	int64_t slot_t[HISTORY_SLOTS];
	size_t head;             /* next slot to fill */
	size_t filled;
	int64_t bucket;          /* the bucket under way: time / HISTORY_STEP_S */
	double *sum;
	unsigned *cnt;
	/*
	 * Where each value was in the last report's values: a node sends the same
	 * names in the same order report after report, so one comparison finds
	 * it again instead of a search by name.
	 */
	size_t *hint;
};

struct history *history_new(const struct report_schema *schema)
{
	struct history *h = calloc(1, sizeof(*h));
	size_t i;

	if (!h)
		return NULL;
	for (i = 0; schema && i < schema->n; i++) {
		const struct instr_def *d = &schema->def[i];
		char **grown;
		if (d->kind != INSTR_GAUGE)
			continue;
		grown = realloc(h->names, (h->nvals + 1) * sizeof(*grown));
		if (!grown || !(grown[h->nvals] = strdup(d->name))) {
			h->names = grown ? grown : h->names;
			history_free(h);
			return NULL;
		}
		h->names = grown;
		h->nvals++;
	}
	h->slots = malloc(HISTORY_SLOTS * (h->nvals ? h->nvals : 1) * sizeof(float));
	h->sum = calloc(h->nvals ? h->nvals : 1, sizeof(double));
	h->cnt = calloc(h->nvals ? h->nvals : 1, sizeof(unsigned));
	h->hint = calloc(h->nvals ? h->nvals : 1, sizeof(size_t));
	if (!h->slots || !h->sum || !h->cnt || !h->hint) {
		history_free(h);
		return NULL;
	}
	return h;
}

struct history *history_rebase(const struct history *old, const struct report_schema *schema)
{
	struct history *h = history_new(schema);
	size_t i, j, r;

	if (!h || !old)
		return h;
	memcpy(h->slot_t, old->slot_t, sizeof(h->slot_t));
	h->head = old->head;
	h->filled = old->filled;
	h->bucket = old->bucket;
	for (j = 0; j < h->nvals; j++) {
		for (i = 0; i < old->nvals && strcmp(old->names[i], h->names[j]); i++)
			;
		/* Rows below filled were written (the ring fills from row 0). */
		for (r = 0; r < HISTORY_SLOTS; r++)
			h->slots[r * h->nvals + j] = i < old->nvals && r < old->filled ?
							     old->slots[r * old->nvals + i] :
							     __builtin_nanf("");
		if (i < old->nvals) {
			h->sum[j] = old->sum[i];
			h->cnt[j] = old->cnt[i];
		}
	}
	return h;
}

void history_free(struct history *h)
{
	size_t i;

	if (!h)
		return;
	for (i = 0; i < h->nvals; i++)
		free(h->names[i]);
	free(h->names);
	free(h->slots);
	free(h->sum);
	free(h->cnt);
	free(h->hint);
	free(h);
}

/* Close the bucket under way into the ring. */
static void history_close(struct history *h)
{
	float *row = h->slots + h->head * h->nvals;
	size_t i;

	for (i = 0; i < h->nvals; i++) {
		row[i] = h->cnt[i] ? (float)(h->sum[i] / h->cnt[i]) : __builtin_nanf("");
		h->sum[i] = 0;
		h->cnt[i] = 0;
	}
	h->slot_t[h->head] = h->bucket * HISTORY_STEP_S;
	h->head = (h->head + 1) % HISTORY_SLOTS;
	if (h->filled < HISTORY_SLOTS)
		h->filled++;
}

void history_add(struct history *h, const struct report_state *r, int64_t now)
{
	int64_t b = now / HISTORY_STEP_S;
	size_t i;

	if (!h || !(r->has & REPORT_VALUES))
		return;
	if (h->bucket && b != h->bucket)
		history_close(h);
	h->bucket = b;
	for (i = 0; i < h->nvals; i++) {
		size_t at = h->hint[i];
		const struct report_num *v;
		double x;

		if (at < r->nvalues && !strcmp(r->values[at].name, h->names[i]))
			v = &r->values[at];
		else if ((v = report_value(r, h->names[i])))
			h->hint[i] = (size_t)(v - r->values);
		x = v ? v->v[0] : 0;
		/*
		 * Slots are float: a reading beyond float's range would become inf,
		 * which JSON cannot carry (found by tests/fuzz/history.c).  No reading.
		 */
		if (v && x <= FLT_MAX && x >= -FLT_MAX) {
			h->sum[i] += x;
			h->cnt[i]++;
		}
	}
}

json_t *history_json(const struct history *h)
{
	json_t *o = json_pack("{s:i, s:[], s:{}}", "step_s", HISTORY_STEP_S, "t", "values");
	json_t *t = json_object_get(o, "t"), *vals = json_object_get(o, "values");
	size_t i, k, start;

	if (!o || !h)
		return o;
	start = (h->head + HISTORY_SLOTS - h->filled) % HISTORY_SLOTS;
	for (k = 0; k < h->filled; k++)
		json_array_append_new(t, json_integer(h->slot_t[(start + k) % HISTORY_SLOTS]));
	if (h->bucket)
		json_array_append_new(t, json_integer(h->bucket * HISTORY_STEP_S));
	for (i = 0; i < h->nvals; i++) {
		json_t *col = json_array();
		for (k = 0; k < h->filled; k++) {
			float f = h->slots[((start + k) % HISTORY_SLOTS) * h->nvals + i];
			json_t *r = f == f ? json_real(f) : NULL;
			/* One entry per time, whatever: json_real() refuses inf. */
			json_array_append_new(col, r ? r : json_null());
		}
		if (h->bucket) {
			json_t *r = h->cnt[i] ? json_real(h->sum[i] / h->cnt[i]) : NULL;
			json_array_append_new(col, r ? r : json_null());
		}
		json_object_set_new(vals, h->names[i], col);
	}
	return o;
}
