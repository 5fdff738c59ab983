/* The figures of snow-nodesim: see stats.h. */
#include "stats.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

void ns_lat_add(struct ns_lat *l, int64_t us)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4096;
		uint32_t *p = realloc(l->us, cap * sizeof(*p));
		if (!p)
			return; /* a lost sample only blurs the figures */
		l->us = p;
		l->cap = cap;
	}
	l->us[l->n++] = us < 0 ? 0 : us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static int ns_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The p-th percentile in ms (sorts l), or -1 without samples. */
static double ns_lat_pct(struct ns_lat *l, double p)
{
	size_t i;

	if (!l->n)
		return -1;
	qsort(l->us, l->n, sizeof(*l->us), ns_cmp_u32);
	i = (size_t)ceil(p / 100.0 * (double)l->n);
	i = i ? i - 1 : 0;
	return l->us[i >= l->n ? l->n - 1 : i] / 1000.0;
}

void ns_count_error(struct nodesim *ns, int rc, int status)
{
	if (rc == -ETIMEDOUT)
		ns->st.err_timeout++;
	else if (rc == -EPROTO || rc == -EFBIG)
		ns->st.err_proto++;
	else if (rc)
		ns->st.err_transport++;
	else if (status >= 500)
		ns->st.err_5xx++;
	else
		ns->st.err_4xx++;
	ns->st.sec_errors++;
}

size_t ns_count_state(const struct nodesim *ns, enum ns_state s)
{
	size_t i, c = 0;

	for (i = 0; i < ns->nnodes; i++)
		c += ns->nodes[i].state == s;
	return c;
}

void ns_lat_append(struct ns_lat *l, const uint32_t *us, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		ns_lat_add(l, us[i]);
}

static size_t ns_count_online(const struct nodesim *ns)
{
	size_t i, c = 0;

	for (i = 0; i < ns->nnodes; i++)
		c += ns->nodes[i].online;
	return c;
}

static size_t ns_count_registered(const struct nodesim *ns)
{
	size_t i, c = 0;

	for (i = 0; i < ns->nnodes; i++)
		c += ns->nodes[i].registered_once;
	return c;
}

static uint64_t ns_errors(const struct ns_stats *s)
{
	return s->err_transport + s->err_timeout + s->err_4xx + s->err_5xx + s->err_proto;
}

void ns_counts_of(const struct nodesim *ns, int64_t now, struct ns_counts *c)
{
	const struct ns_stats *s = &ns->st;
	double steady = s->t_steady_ms ? (double)(now - s->t_steady_ms) / 1000.0 : 0;
	size_t i;

	memset(c, 0, sizeof(*c));
	c->nodes = ns->nnodes;
	c->registered = ns_count_registered(ns);
	c->online = ns_count_online(ns);
	c->failed = ns_count_state(ns, NS_FAILED);
	c->done = ns_count_state(ns, NS_DONE);
	c->inflight = ns->inflight;
	c->waiting = ns->fifo_len;
	c->rate = steady > 0 ? (double)s->steady_reports / steady : 0;
	for (i = 0; i < ns->nnodes; i++) {
		const struct sim_node *x = &ns->nodes[i].sim;
		c->events += x->events_made;
		/* Acknowledged: made, no longer held, not dropped (snowd said it stored them). */
		if (x->events_made >= x->ring.len + x->ring.lost_total)
			c->acked += x->events_made - x->ring.len - x->ring.lost_total;
	}
}

void ns_stats_print(double t, const struct ns_counts *c, double rate, struct ns_lat *lat,
		    uint64_t errors)
{
	double p50 = ns_lat_pct(lat, 50), p99 = ns_lat_pct(lat, 99);

	fprintf(stderr, "nodesim: t=%.0fs nodes %" PRIu64 " registered %" PRIu64 " online %" PRIu64
			" | reports %.0f/s p50 %.2f ms p99 %.2f ms | errors %" PRIu64
			" | in flight %" PRIu64 " waiting %" PRIu64 "\n",
		t, c->nodes, c->registered, c->online, rate, p50 < 0 ? 0 : p50, p99 < 0 ? 0 : p99,
		errors, c->inflight, c->waiting);
}

void ns_stats_line(struct nodesim *ns, int64_t now, double secs)
{
	struct ns_counts c = { .nodes = ns->nnodes, .registered = ns_count_registered(ns),
			       .online = ns_count_online(ns), .inflight = ns->inflight,
			       .waiting = ns->fifo_len };

	ns_stats_print((double)(now - ns->st.t_start_ms) / 1000.0, &c,
		       (double)ns->st.sec_reports / secs, &ns->st.sec_lat, ns->st.sec_errors);
	ns->st.sec_lat.n = 0;
	ns->st.sec_reports = ns->st.sec_errors = 0;
}

void ns_summary(struct nodesim *ns)
{
	int64_t now = clock_mono_ms();
	struct ns_counts c;

	ns_counts_of(ns, now, &c);
	ns_summary_print(&ns->conf, &ns->st, &c, now);
}

void ns_summary_print(const struct ns_conf *conf, struct ns_stats *s, const struct ns_counts *c,
		      int64_t now)
{
	double run = (double)(now - s->t_start_ms) / 1000.0;
	double steady = s->t_steady_ms ? (double)(now - s->t_steady_ms) / 1000.0 : 0;
	double rate = c->rate;
	double p50 = ns_lat_pct(&s->rep_lat, 50), p99 = ns_lat_pct(&s->rep_lat, 99);
	double pmax = ns_lat_pct(&s->rep_lat, 100);
	double o50 = ns_lat_pct(&s->ovl_lat, 50), o99 = ns_lat_pct(&s->ovl_lat, 99);
	double r50 = ns_lat_pct(&s->reg_lat, 50);
	uint64_t events = c->events, acked = c->acked;

	fprintf(stderr,
		"nodesim: %" PRIu64 " nodes, %" PRIu64 " registered, %" PRIu64 " online, %" PRIu64
		" failed, %.1f s "
		"(steady %.1f s)\n"
		"nodesim: reports %" PRIu64 " (%.0f/s steady), latency p50 %.2f ms p99 %.2f ms "
		"max %.2f ms\n"
		"nodesim: overlays %" PRIu64 " (p50 %.2f ms p99 %.2f ms), registers %" PRIu64
		" (p50 %.2f ms), adds %" PRIu64 "\n"
		"nodesim: commands %" PRIu64 ", reboots %" PRIu64 ", poweroffs %" PRIu64
		", reloads %" PRIu64 ", events made %" PRIu64 ", snowd switches %" PRIu64 "\n"
		"nodesim: errors %" PRIu64 " (transport %" PRIu64 ", timeout %" PRIu64
		", 4xx %" PRIu64 ", 5xx %" PRIu64 ", protocol %" PRIu64 ")\n",
		c->nodes, c->registered, c->online, c->failed, run, steady, s->reports, rate, p50, p99, pmax,
		s->overlays, o50, o99, s->registers, r50, s->adds, s->commands, s->reboots,
		s->poweroffs, s->reloads, events, s->host_switches, ns_errors(s), s->err_transport, s->err_timeout,
		s->err_4xx, s->err_5xx, s->err_proto);
	if (conf->json) {
		json_t *j = json_pack(
			"{s:f, s:I, s:I, s:I, s:I, s:f, s:f, s:I, s:I, s:f, s:f, s:f, s:f, s:I, s:f, s:f,"
			" s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
			" s:{s:I, s:I, s:I, s:I, s:I}}",
			"registered_after_s",
			s->t_steady_ms ? (double)(s->t_steady_ms - s->t_start_ms) / 1000.0 : -1.0,
			"nodes", (json_int_t)c->nodes, "registered",
			(json_int_t)c->registered, "online", (json_int_t)c->online, "failed",
			(json_int_t)c->failed, "run_s", run, "steady_s", steady,
			"reports", (json_int_t)s->reports, "steady_reports",
			(json_int_t)s->steady_reports, "reports_per_s", rate, "report_p50_ms", p50,
			"report_p99_ms", p99, "report_max_ms", pmax, "overlays",
			(json_int_t)s->overlays, "overlay_p50_ms", o50, "overlay_p99_ms", o99,
			"registers", (json_int_t)s->registers, "register_p50_ms", r50, "adds",
			(json_int_t)s->adds, "commands", (json_int_t)s->commands, "reboots",
			(json_int_t)s->reboots, "poweroffs", (json_int_t)s->poweroffs, "reloads",
			(json_int_t)s->reloads, "events_made", (json_int_t)events, "events_acked", (json_int_t)acked, "host_switches",
			(json_int_t)s->host_switches, "errors",
			(json_int_t)ns_errors(s), "error_kinds", "transport",
			(json_int_t)s->err_transport, "timeout", (json_int_t)s->err_timeout, "http_4xx",
			(json_int_t)s->err_4xx, "http_5xx", (json_int_t)s->err_5xx, "protocol",
			(json_int_t)s->err_proto);
		char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
		if (t)
			printf("%s\n", t);
		free(t);
		json_decref(j);
	}
}
