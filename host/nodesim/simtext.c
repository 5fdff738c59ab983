/*
 * A simulated node's report as the text it sends (sim.h, sim_report_text).
 *
 * The steady report (values and watermarks; no events, results, thresholds
 * or devices to send) is written straight from the node's readings, without
 * building a jansson tree and dumping it: that was half of nodesim's time,
 * and nodesim shares the benchmark machine with the snowd it loads.  The
 * bytes are exactly what jsonh_dump_wire() makes of sim_report_body(): keys
 * in the same order, integers as %lld, reals as jansson writes them with 15
 * significant digits ("%.15g", ".0" added when that looks like an integer,
 * no "+" or leading zeros in the exponent).  tests/nodesim/test_sim.c checks
 * the two against each other.  Any other report goes through the tree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsonh.h"
#include "sim.h"

/* A real as jansson writes it with JSON_REAL_PRECISION(15). */
static int simtext_real(struct buf *b, double v)
{
	char s[64], *e, *from;
	int n = snprintf(s, sizeof(s), "%.15g", v);

	if (n < 0 || (size_t)n >= sizeof(s) - 3)
		return -1;
	if (!strchr(s, '.') && !strchr(s, 'e')) {
		memcpy(s + n, ".0", 3);
		n += 2;
	}
	if ((e = strchr(s, 'e'))) {
		e++;
		from = e;
		if (*from == '+')
			from++;
		else if (*from == '-')
			e = ++from;
		while (*from == '0' && from[1])
			from++;
		memmove(e, from, strlen(from) + 1);
	}
	return buf_puts(b, s);
}

static int simtext_num(struct buf *b, double v, int integer)
{
	return integer ? buf_printf(b, "%lld", (long long)v) : simtext_real(b, v);
}

/* The steady report's text, or -1 (out of memory). */
static int simtext_steady(const struct sim_node *n, struct buf *b)
{
	size_t i;
	int rc, first = 1;

	rc = buf_printf(b, "{\"name\":\"%s\",\"boot_id\":\"%s\",\"seq\":%lld,\"uptime_s\":%lld,"
			   "\"values\":{", n->name, n->boot_id, (long long)(n->seq + 1),
			(long long)n->uptime_s);
	for (i = 0; !rc && i < sim_ndefs; i++) {
		rc = buf_printf(b, "%s\"%s\":", i ? "," : "", sim_defs[i].def.name);
		if (!rc)
			rc = simtext_num(b, n->v[i], sim_defs[i].def.integer);
	}
	if (!rc)
		rc = buf_puts(b, "},\"watermarks\":{");
	for (i = 0; !rc && i < sim_ndefs; i++) {
		const struct sim_def *d = &sim_defs[i];
		if (d->def.kind != INSTR_GAUGE || !n->wm[i].set)
			continue;
		rc = buf_printf(b, "%s\"%s\":[", first ? "" : ",", d->def.name);
		first = 0;
		if (!rc)
			rc = simtext_num(b, n->wm[i].low, d->def.integer);
		if (!rc)
			rc = buf_puts(b, ",");
		if (!rc)
			rc = simtext_num(b, n->wm[i].high, d->def.integer);
		if (!rc)
			rc = buf_puts(b, "]");
	}
	if (!rc)
		rc = buf_puts(b, "},\"events\":[],\"results\":[]}");
	return rc ? -1 : 0;
}

/* Whether n's next report is the steady one (simtext_steady can write it). */
static int simtext_is_steady(const struct sim_node *n, int full)
{
	return !full && !n->thr_dirty && !n->dev_dirty && !n->ring.len &&
	       !json_array_size(n->results);
}

char *sim_report_text(struct sim_node *n, int full, size_t *len)
{
	struct buf b = { 0 };
	json_t *body;
	char *text;

	if (!simtext_is_steady(n, full)) {
		body = sim_report_body(n, full);
		text = body ? jsonh_dump_wire(body) : NULL;
		json_decref(body);
		if (text)
			*len = strlen(text);
		return text;
	}
	if (simtext_steady(n, &b)) {
		buf_free(&b);
		return NULL;
	}
	/* What sim_report_body does for a report with nothing else in it. */
	n->thr_sent = n->dev_sent = 0;
	n->seq++;
	n->results_sent = 0;
	return buf_steal(&b, len);
}
