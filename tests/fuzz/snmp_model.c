/*
 * Fuzz target: the SNMP subagent's model built from snowd's node list
 * (snmp/subagent/model.c, model_snap_build() on the JSON of
 * GET /api/v1/nodes).  Checks what the agent relies on: every table walked
 * as GETNEXT does is sorted by index without repeats and has the rows
 * counted, every row found again by its key, indexes
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

/*
 * Walk table as GETNEXT does: strictly ascending, each row found again by
 * its own index, count rows in all.  @ret the rows walked.
 */
static size_t fz_walk(const struct model_snap *s, int table, size_t size, size_t count,
		      const char *what)
{
	const netsnmp_index *x = model_row(s, table, NULL, 0, 1), *p = NULL;
	size_t i = 0;

	for (; x; p = x, x = model_row(s, table, x->oids, x->len, 1), i++) {
		FZ_CHECK(i < count, "%s: more than %zu rows", what, count);
		FZ_CHECK(x->len >= 1 && x->len <= MODEL_IDX_MAX, "%s %zu: index of %zu", what, i,
			 (size_t)x->len);
		FZ_CHECK(x->oids[0] >= 1 && x->oids[0] <= UINT32_MAX && model_find_node(s, (uint32_t)x->oids[0]),
			 "%s %zu: index of no node", what, i);
		FZ_CHECK(model_row(s, table, x->oids, x->len, 0) == x, "%s %zu: not found again",
			 what, i);
		if (p)
			FZ_CHECK(snmp_oid_compare(p->oids, p->len, x->oids, x->len) < 0,
				 "%s %zu: not after the row before", what, i);
	}
	FZ_CHECK(i == count, "%s: %zu rows walked, %zu counted", what, i, count);
	return i;
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
	size_t i, b;

	if (!body)
		return 0;
	s = model_snap_build(body, warn, sizeof(warn));
	if (!s) {
		json_decref(body);
		return 0;
	}
	fz_walk(s, MODEL_T_NODES, sizeof(struct model_node), s->nnodes, "node");
	fz_walk(s, MODEL_T_VALUES, sizeof(struct model_value), s->nvalues, "value");
	fz_walk(s, MODEL_T_THRS, sizeof(struct model_thr), s->nthrs, "threshold");
	fz_walk(s, MODEL_T_DEVS, sizeof(struct model_dev), s->ndevs, "device");
	for (b = 0; b < s->nblocks; b++) {
		const struct model_block *blk = s->blocks[b];
		const struct model_node *n = &blk->node, *by_name = model_find_node_name(s, n->name);
		FZ_CHECK(model_find_node(s, n->id) == n, "node %u not found", n->id);
		FZ_CHECK(by_name && !strcmp(by_name->name, n->name), "node '%s' not found", n->name);
		fz_date(n->last_seen);
		fz_date(n->online_since);
		for (i = 0; i < blk->nvalues; i++) {
			const struct model_value *v = &blk->values[i];
			FZ_CHECK(v->node_id == n->id, "value %s in node %u's block", v->name, n->id);
			FZ_CHECK(model_find_value(s, v->node_id, v->name) == v, "value %u/%s not found",
				 v->node_id, v->name);
			fz_number(v->v, v->decimals);
			fz_number(v->low, v->decimals);
			fz_number(v->high, v->decimals);
		}
		for (i = 0; i < blk->nthrs; i++) {
			const struct model_thr *t = &blk->thrs[i];
			FZ_CHECK(model_find_thr(s, t->node_id, t->value, t->kind) == t,
				 "threshold %u/%s not found", t->node_id, t->value);
			FZ_CHECK(model_find_value(s, t->node_id, t->value), "threshold %s of no value",
				 t->value);
			FZ_CHECK(t->samples >= 1 && t->samples <= 1000, "samples %u", t->samples);
			fz_number(t->rise, t->decimals);
			fz_number(t->clear, t->decimals);
		}
		for (i = 0; i < blk->ndevs; i++) {
			const struct model_dev *d = &blk->devs[i];
			FZ_CHECK(model_find_dev(s, d->node_id, d->path) == d, "device %u/%s not found",
				 d->node_id, d->path);
			fz_date(d->diag.time);
			fz_date(d->audit.time);
		}
	}
	model_snap_free(s);
	json_decref(body);
	return 0;
}
