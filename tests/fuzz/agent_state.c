/*
 * Fuzz target: the agent's state file (STATE_DIR/agent.json) as a restarted
 * agent reads it back (node-os/agent/persist.c persist_parse()).  Checks
 * what it takes: within its limits, thresholds well formed (clear on the
 * right side, hits below samples while clear), no device path or result id
 * twice; and that writing it the way the agent does (persist_json()) and
 * reading that again gives the same state, and the same text once more.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "persist.h"

#define FZ_BOOT "b"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_check(const struct persist_state *p)
{
	char err[256];
	size_t i, k;

	if (p->nthr > PERSIST_THR_MAX || p->nresults > PERSIST_RESULTS_MAX)
		abort();
	for (i = 0; i < p->nthr; i++) {
		const struct instr_threshold *t = &p->thr[i];
		if (!t->enabled || threshold_check(t->rise, t->clear, t->kind, err, sizeof(err)) ||
		    t->samples < 1 || t->samples > INSTR_SAMPLES_MAX ||
		    (t->state == INSTR_THR_CLEAR ? t->hits >= t->samples : t->hits != 0))
			abort();
	}
	for (i = 0; i < p->nmarks; i++)
		for (k = 0; k < i; k++)
			if (!strcmp(p->marks[i].path, p->marks[k].path))
				abort();
	for (i = 0; i < p->nresults; i++) {
		if (!json_is_object(p->results[i].res))
			abort();
		for (k = 0; k < i; k++)
			if (p->results[i].id == p->results[k].id)
				abort();
	}
}

static int fz_same(const struct persist_state *a, const struct persist_state *b)
{
	size_t i;

	if (a->nthr != b->nthr || a->nmarks != b->nmarks || a->nresults != b->nresults)
		return 0;
	for (i = 0; i < a->nthr; i++) {
		const struct instr_threshold *x = &a->thr[i], *y = &b->thr[i];
		if (strcmp(x->value, y->value) || x->kind != y->kind || x->rise != y->rise ||
		    x->clear != y->clear || x->samples != y->samples || x->state != y->state ||
		    x->hits != y->hits || a->thr_conf[i] != b->thr_conf[i])
			return 0;
	}
	for (i = 0; i < a->nmarks; i++)
		if (memcmp(&a->marks[i], &b->marks[i], sizeof(a->marks[i])))
			return 0;
	for (i = 0; i < a->nresults; i++)
		if (a->results[i].id != b->results[i].id ||
		    a->results[i].pending != b->results[i].pending ||
		    !json_equal(a->results[i].res, b->results[i].res))
			return 0;
	return (!a->wm || !b->wm || json_equal(a->wm, b->wm)) &&
	       (!a->counters || !b->counters || json_equal(a->counters, b->counters));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct persist_state *p, *q;
	char err[512];
	json_t *j, *out, *again;
	char *t1, *t2;
	int rc;

	if (size > 1 << 16)
		return 0;
	j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (!j)
		return 0;
	p = calloc(1, sizeof(*p));
	q = calloc(1, sizeof(*q));
	if (!p || !q)
		abort();
	rc = persist_parse(j, FZ_BOOT, p, err, sizeof(err));
	json_decref(j);
	if (rc && rc != -EINVAL && rc != -ESTALE && rc != -ENOMEM)
		abort();
	if (rc) {
		if (!err[0])
			abort(); /* a refusal always says why */
		goto out;
	}
	fz_check(p);
	out = persist_json(p, FZ_BOOT);
	if (!out)
		goto out;
	rc = persist_parse(out, FZ_BOOT, q, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "what the agent writes does not read back: %s\n", err);
		abort();
	}
	if (!fz_same(p, q))
		abort();
	again = persist_json(q, FZ_BOOT);
	t1 = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
	t2 = again ? json_dumps(again, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (t1 && t2 && strcmp(t1, t2))
		abort();
	free(t1);
	free(t2);
	json_decref(again);
	json_decref(out);
out:
	persist_free(p);
	persist_free(q);
	free(p);
	free(q);
	return 0;
}
