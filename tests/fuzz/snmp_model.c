/*
 * Fuzz target: the SNMP subagent's model built from snowd's node list
 * (snmp/subagent/model.c, model_snap_build() on the JSON of
 * GET /api/v1/nodes).  Checks what the agent relies on: every table sorted
 * by index without repeats, every row found again by its key, indexes
 * within MODEL_IDX_MAX, and the values' renderings (fixed point, text,
 * dates) within their sizes and reading back.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

#define FZ_CHECK(cond, ...)                                                                        \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "snmp_model: " __VA_ARGS__);                               \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Rows of size bytes at base, each starting with its netsnmp_index: strictly ascending. */
static void fz_sorted(const void *base, size_t n, size_t size, const char *what)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const netsnmp_index *x = (const netsnmp_index *)(const void *)((const char *)base + i * size);
		FZ_CHECK(x->len >= 1 && x->len <= MODEL_IDX_MAX, "%s %zu: index of %zu", what, i,
			 (size_t)x->len);
		FZ_CHECK((const char *)x->oids > (const char *)x &&
				 (const char *)x->oids < (const char *)x + size,
			 "%s %zu: index outside its row", what, i);
		if (i) {
			const netsnmp_index *p = (const netsnmp_index *)(const void *)((const char *)x - size);
			FZ_CHECK(snmp_oid_compare(p->oids, p->len, x->oids, x->len) < 0,
				 "%s %zu: not after the row before", what, i);
		}
	}
}

static void fz_number(double v, unsigned decimals)
{
	char text[MODEL_TEXT_MAX + 1];
	int32_t x = model_fixed(v, decimals);

	(void)model_unfixed(x, decimals);
	model_text(v, text, sizeof(text));
	FZ_CHECK(strlen(text) <= MODEL_TEXT_MAX, "text '%s'", text);
	FZ_CHECK(!isfinite(v) || strtod(text, NULL) == v, "%.17g as text '%s'", v, text);
}

static void fz_date(int64_t t)
{
	unsigned char d[11];
	size_t len = model_date(t, d);

	FZ_CHECK(len == 8 || len == 11, "date of %zu octets", len);
	if (len == 11)
		FZ_CHECK(d[2] >= 1 && d[2] <= 12 && d[3] >= 1 && d[3] <= 31 && d[4] <= 23 &&
				 d[5] <= 59 && d[6] <= 60,
			 "date of %lld", (long long)t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *body = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	struct model_snap *s;
	char warn[200];
	size_t i;

	if (!body)
		return 0;
	s = model_snap_build(body, warn, sizeof(warn));
	if (!s) {
		json_decref(body);
		return 0;
	}
	fz_sorted(s->nodes, s->nnodes, sizeof(*s->nodes), "node");
	fz_sorted(s->values, s->nvalues, sizeof(*s->values), "value");
	fz_sorted(s->thrs, s->nthrs, sizeof(*s->thrs), "threshold");
	fz_sorted(s->devs, s->ndevs, sizeof(*s->devs), "device");
	for (i = 0; i < s->nnodes; i++) {
		const struct model_node *n = &s->nodes[i], *by_name = model_find_node_name(s, n->name);
		FZ_CHECK(model_find_node(s, n->id) == n, "node %u not found", n->id);
		FZ_CHECK(by_name && !strcmp(by_name->name, n->name), "node '%s' not found", n->name);
		fz_date(n->last_seen);
		fz_date(n->online_since);
	}
	for (i = 0; i < s->nvalues; i++) {
		const struct model_value *v = &s->values[i];
		FZ_CHECK(model_find_value(s, v->node_id, v->name) == v, "value %u/%s not found",
			 v->node_id, v->name);
		FZ_CHECK(model_find_node(s, v->node_id), "value %s of no node", v->name);
		fz_number(v->v, v->decimals);
		fz_number(v->low, v->decimals);
		fz_number(v->high, v->decimals);
	}
	for (i = 0; i < s->nthrs; i++) {
		const struct model_thr *t = &s->thrs[i];
		FZ_CHECK(model_find_thr(s, t->node_id, t->value, t->kind) == t, "threshold %u/%s not found",
			 t->node_id, t->value);
		FZ_CHECK(model_find_value(s, t->node_id, t->value), "threshold %s of no value", t->value);
		FZ_CHECK(t->samples >= 1 && t->samples <= 1000, "samples %u", t->samples);
		fz_number(t->rise, t->decimals);
		fz_number(t->clear, t->decimals);
	}
	for (i = 0; i < s->ndevs; i++) {
		const struct model_dev *d = &s->devs[i];
		FZ_CHECK(model_find_dev(s, d->node_id, d->path) == d, "device %u/%s not found",
			 d->node_id, d->path);
		fz_date(d->diag.time);
		fz_date(d->audit.time);
	}
	model_snap_free(s);
	json_decref(body);
	return 0;
}
