/*
 * A BMC's readings in its node's tree (bmc.h, bmc_int.h): its bmc.* gauges
 * in the node's schema and report state beside the agent's values, merged
 * as typed arrays after each poll and each report of the node.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmc_int.h"
#include "history.h"
#include "log.h"
#include "nodes.h"
#include "report.h"

/* Whether rt's schema has exactly bn's readings as its bmc.* gauges. */
static int bmc_schema_ok(const struct node_rt *rt, const struct bmc_node *bn)
{
	const struct report_schema *s = rt->schema ? &rt->schema->typed : NULL;
	size_t have = 0, i;

	if (!s)
		return !bn->nv;
	for (i = 0; i < s->n; i++)
		have += !strncmp(s->def[i].name, "bmc.", 4);
	if (have != bn->nv)
		return 0;
	for (i = 0; i < bn->nv; i++) {
		const struct instr_def *d = report_schema_find(s, bn->v[i].name);
		if (!d || d->kind != INSTR_GAUGE || strcmp(d->unit, bn->v[i].unit))
			return 0;
	}
	return 1;
}

/*
 * s (the agent's, may be empty) without bmc.* entries, with bn's readings
 * as gauges.  @ret 0, or -errno (s unchanged).
 */
static int bmc_schema_with(const struct bmc_node *bn, const struct report_schema *s,
			   struct report_schema *out)
{
	json_t *arr = s && s->n ? report_schema_json(s) : json_array(), *e;
	char err[200];
	size_t i;
	int rc;

	if (!arr)
		return -ENOMEM;
	for (i = json_array_size(arr); i-- > 0;) {
		const char *name = json_string_value(json_object_get(json_array_get(arr, i), "name"));
		if (name && !strncmp(name, "bmc.", 4))
			json_array_remove(arr, i);
	}
	for (i = 0; i < bn->nv; i++) {
		e = json_pack("{s:s, s:s, s:s, s:s}", "name", bn->v[i].name, "kind", "gauge", "unit",
			      bn->v[i].unit, "desc", "a sensor of the node's BMC");
		if (!e || json_array_append_new(arr, e)) {
			json_decref(arr);
			return -ENOMEM;
		}
	}
	memset(out, 0, sizeof(*out));
	rc = report_schema_parse(arr, out, err, sizeof(err));
	if (rc)
		log_warnx("bmc: schema not extended: %s", err);
	json_decref(arr);
	return rc;
}

/* Give rt a schema with bn's gauges, its history going on.  @ret 1 if it changed. */
int bmc_schema_update(struct snowd *sd, struct node_rt *rt, const struct bmc_node *bn)
{
	struct report_schema s;
	struct history *h;

	if (bmc_schema_ok(rt, bn) || bmc_schema_with(bn, rt->schema ? &rt->schema->typed : NULL, &s))
		return 0;
	if (nodes_set_schema(sd, rt, &s))
		return 0;
	h = rt->hist ? history_rebase(rt->hist, &rt->schema->typed) :
		       history_new(&rt->schema->typed);
	if (h) {
		history_free(rt->hist);
		rt->hist = h;
	}
	return 1;
}

/*
 * Into out (zeroed by the caller): keep's entries (n of them, size bytes
 * each, a name first) but bmc.* ones, then add more (0 when the part is
 * not wanted).  @ret the entries' array (calloc'd, the caller frees; NULL
 * when there are none) and *nout, or NULL and *nout 0 on -ENOMEM
 * (*failed set).
 */
static void *bmc_keep_others(const void *keep, size_t n, size_t size, size_t more, size_t *nout,
			     int *failed)
{
	const char *k = keep;
	char *a;
	size_t i;

	*nout = 0;
	if (!(n + more))
		return NULL;
	if (!(a = calloc(n + more, size))) {
		*failed = 1;
		return NULL;
	}
	for (i = 0; i < n; i++)
		if (strncmp(k + i * size, "bmc.", 4))
			memcpy(a + (*nout)++ * size, k + i * size, size);
	return a;
}

/* @ret the entry named name among a's first n (size bytes each, a name first), or NULL. */
static void *bmc_named(void *a, size_t n, size_t size, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp((char *)a + i * size, name))
			return (char *)a + i * size;
	return NULL;
}

/*
 * rt's values and watermarks with bn's in place of any bmc.* ones (and
 * its thresholds with snowd's on the bmc.* gauges), merged as typed arrays:
 * the agent's entries in their order, then bn's, as the report parser would
 * have them from the JSON of both (readings and watermarks as reals, a
 * threshold enabled with no hits); *only (may be NULL) gets bn's readings
 * alone.
 */
void bmc_values(struct bmc_node *bn, struct node_rt *rt, struct report_state *only)
{
	const struct report_state *r = &rt->rep;
	int with_thr = bn->nthr || (r->has & REPORT_THRESHOLDS), failed = 0;
	struct report_state rep;
	size_t i, nb = 0;

	memset(&rep, 0, sizeof(rep));
	rep.has = REPORT_VALUES | REPORT_WATERMARKS | (with_thr ? REPORT_THRESHOLDS : 0);
	rep.values = bmc_keep_others(r->has & REPORT_VALUES ? r->values : NULL,
				     r->has & REPORT_VALUES ? r->nvalues : 0, sizeof(*r->values), bn->nv,
				     &rep.nvalues, &failed);
	rep.wm = bmc_keep_others(r->has & REPORT_WATERMARKS ? r->wm : NULL,
				 r->has & REPORT_WATERMARKS ? r->nwm : 0, sizeof(*r->wm), bn->nv,
				 &rep.nwm, &failed);
	if (with_thr)
		rep.thr = bmc_keep_others(r->has & REPORT_THRESHOLDS ? r->thr : NULL,
					  r->has & REPORT_THRESHOLDS ? r->nthr : 0, sizeof(*r->thr),
					  bn->nthr, &rep.nthr, &failed);
	if (failed)
		goto nomem;
	for (i = 0; i < bn->nv; i++) {
		const struct bmc_val *v = &bn->v[i];
		struct report_num *x, *w;
		/* Not finite: JSON has no such number, the parser never saw it. */
		if (isfinite(v->v)) {
			/* A name twice: the later reading replaces the earlier, in its place. */
			if (!(x = bmc_named(rep.values + rep.nvalues - nb, nb, sizeof(*x), v->name))) {
				x = &rep.values[rep.nvalues++];
				nb++;
			}
			memset(x, 0, sizeof(*x));
			snprintf(x->name, sizeof(x->name), "%s", v->name);
			x->v[0] = v->v;
		}
		if (!isfinite(v->wm.low) || !isfinite(v->wm.high))
			continue;
		if (!(w = bmc_named(rep.wm, rep.nwm, sizeof(*w), v->name)))
			w = &rep.wm[rep.nwm++];
		memset(w, 0, sizeof(*w));
		snprintf(w->name, sizeof(w->name), "%s", v->name);
		w->v[0] = v->wm.low;
		w->v[1] = v->wm.high;
	}
	for (i = 0; with_thr && i < bn->nthr; i++)
		rep.thr[rep.nthr++] = bn->thr[i];
	/* As threshold_from_json() leaves them: enabled, no hits counted yet. */
	for (i = 0; i < rep.nthr; i++) {
		rep.thr[i].enabled = 1;
		rep.thr[i].hits = 0;
	}
	if (rep.nvalues > REPORT_MAX_VALUES || rep.nwm > REPORT_MAX_VALUES ||
	    rep.nthr > REPORT_MAX_VALUES) {
		log_warnx("node %s: bmc readings not taken: values: at most %d values", rt->name,
			  REPORT_MAX_VALUES);
		report_state_free(&rep);
		return;
	}
	if (rep.nvalues &&
	    !(rep.values_by_name = report_index_names(rep.values, rep.nvalues, sizeof(*rep.values))))
		goto nomem;
	report_state_take(&rt->rep, &rep);
	if (!only)
		return;
	/* bn's readings are the last nb of the merged values. */
	memset(only, 0, sizeof(*only));
	only->has = REPORT_VALUES;
	if (!nb)
		return;
	if (!(only->values = calloc(nb, sizeof(*only->values))))
		goto only_nomem;
	memcpy(only->values, rt->rep.values + rt->rep.nvalues - nb, nb * sizeof(*only->values));
	only->nvalues = nb;
	if (!(only->values_by_name = report_index_names(only->values, nb, sizeof(*only->values))))
		goto only_nomem;
	return;
only_nomem:
	report_state_free(only);
	return;
nomem:
	log_warnx("node %s: bmc readings not taken: values: out of memory", rt->name);
	report_state_free(&rep);
}

void bmc_merge(struct snowd *sd, struct node_rt *rt)
{
	struct bmc_node *bn = bmc_find(sd->bmc, rt->id);

	if (!bn || (!bn->nv && !bn->nthr))
		return;
	bmc_schema_update(sd, rt, bn);
	bmc_values(bn, rt, NULL);
}

int bmc_schema_extend(struct snowd *sd, int64_t node_id, struct report_schema *s)
{
	struct bmc_node *bn = bmc_find(sd->bmc, node_id);
	struct report_schema out;

	if (!bn || !bn->nv || bmc_schema_with(bn, s, &out))
		return 0;
	report_schema_free(s);
	*s = out;
	return 1;
}
