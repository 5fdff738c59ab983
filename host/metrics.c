/* /metrics in Prometheus' text format: node states, every gauge per node, snowd's counters. */
#include <string.h>

#include "klog.h"
#include "metrics.h"
#include "nodes.h"
#include "peer.h"

/* Prometheus label values escape backslash, quote and newline. */
static void metrics_label(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			buf_printf(b, "\\%c", *s);
		else if (*s == '\n')
			buf_puts(b, "\\n");
		else
			buf_append(b, s, 1);
	}
}

/* Whether the node's schema calls this value a gauge (no schema: treat all as gauges). */
static int metrics_is_gauge(const struct node_schema *schema, const char *name)
{
	const struct instr_def *d;

	if (!schema)
		return 1;
	d = report_schema_find(&schema->typed, name);
	return d && d->kind == INSTR_GAUGE;
}

struct metrics_ctx {
	struct snowd *sd;
	struct buf *b;
	unsigned count[4];
};

static int metrics_node_state(void *vctx, const struct inv_node *n)
{
	struct metrics_ctx *c = vctx;
	struct node_rt *rt = nodes_rt(c->sd, n->id, NULL);
	enum node_state s = rt ? rt->state : NODE_UNKNOWN;
	const char *ps;

	if (peer_node_doc(c->sd, n->id, rt, &ps)) /* it reports to another snowd */
		s = !strcmp(ps, "online") ? NODE_ONLINE :
		    !strcmp(ps, "booting") ? NODE_BOOTING : NODE_OFFLINE;
	c->count[s == NODE_UNKNOWN ? NODE_OFFLINE : s]++;
	buf_puts(c->b, "snow_node_up{node=\"");
	metrics_label(c->b, n->name);
	buf_printf(c->b, "\"} %d\n", s == NODE_ONLINE);
	return 0;
}

/* A gauge line: snow_node_gauge{node="NODE",name="NAME"} V */
static void metrics_gauge(struct buf *b, const char *node, const char *name, double v)
{
	buf_puts(b, "snow_node_gauge{node=\"");
	metrics_label(b, node);
	buf_puts(b, "\",name=\"");
	metrics_label(b, name);
	buf_printf(b, "\"} %.17g\n", v);
}

/* The gauges of a node that reports to another snowd, from its row (peer.h). */
static int metrics_peer_values(struct metrics_ctx *c, const char *node, const json_t *doc)
{
	const json_t *skip = json_object_get(doc, PEER_NOT_GAUGES);
	const char *k;
	json_t *v, *x;
	size_t i;

	json_object_foreach((json_t *)json_object_get(doc, "values"), k, v) {
		int gauge = json_is_number(v);
		json_array_foreach(skip, i, x)
			if (gauge && json_is_string(x) && !strcmp(json_string_value(x), k))
				gauge = 0;
		if (gauge)
			metrics_gauge(c->b, node, k, json_number_value(v));
	}
	return 0;
}

static int metrics_node_values(void *vctx, const struct inv_node *n)
{
	struct metrics_ctx *c = vctx;
	struct node_rt *rt = nodes_rt(c->sd, n->id, NULL);
	const char *ps;
	const json_t *doc = peer_node_doc(c->sd, n->id, rt, &ps);
	size_t i;

	if (doc) /* the last values another snowd wrote of it */
		return metrics_peer_values(c, n->name, doc);
	for (i = 0; rt && i < rt->rep.nvalues; i++) {
		const struct report_num *v = &rt->rep.values[i];
		if (!metrics_is_gauge(rt->schema, v->name))
			continue;
		metrics_gauge(c->b, n->name, v->name, v->v[0]);
	}
	return 0;
}

/* snowd's own health (health.h says more): the inventory's writes, dnsmasq. */
static int metrics_health(struct snowd *sd, struct buf *b)
{
	const struct inv_health *ih = &sd->inv.health;
	int rc = buf_printf(b,
			    "# HELP snowd_inventory_writable Whether the inventory takes writes "
			    "(0: degraded, see /api/v1/health).\n"
			    "# TYPE snowd_inventory_writable gauge\nsnowd_inventory_writable %d\n"
			    "# HELP snowd_inventory_write_failures_total Inventory writes that "
			    "failed for the host's storage.\n"
			    "# TYPE snowd_inventory_write_failures_total counter\n"
			    "snowd_inventory_write_failures_total %llu\n"
			    "# HELP snowd_discovery_dropped_total New unknown MACs not recorded "
			    "(over --discovery-rate).\n"
			    "# TYPE snowd_discovery_dropped_total counter\n"
			    "snowd_discovery_dropped_total %llu\n",
			    !ih->failing, (unsigned long long)ih->failures,
			    (unsigned long long)sd->inv.disc_dropped);

	if (rc || !strcmp(sd->cfg.dnsmasq, "none"))
		return rc;
	return buf_printf(b,
			  "# HELP snowd_dnsmasq_up Whether snowd's dnsmasq (DHCP, TFTP) runs.\n"
			  "# TYPE snowd_dnsmasq_up gauge\nsnowd_dnsmasq_up %d\n"
			  "# HELP snowd_dnsmasq_restarts_total Times dnsmasq ended and was started "
			  "again.\n"
			  "# TYPE snowd_dnsmasq_restarts_total counter\nsnowd_dnsmasq_restarts_total %d\n",
			  sd->dnsmasq.pid != 0, sd->dnsmasq.restarts);
}

int metrics_render(struct snowd *sd, struct buf *b)
{
	struct metrics_ctx c = { sd, b, { 0 } };
	int rc;

	buf_puts(b, "# HELP snow_node_up Whether the node's agent is reporting (1) or not (0).\n"
		    "# TYPE snow_node_up gauge\n");
	rc = inv_node_foreach(&sd->inv, metrics_node_state, &c);
	if (rc)
		return rc;
	buf_printf(b, "# HELP snow_nodes Nodes by state.\n# TYPE snow_nodes gauge\n"
		      "snow_nodes{state=\"online\"} %u\nsnow_nodes{state=\"booting\"} %u\n"
		      "snow_nodes{state=\"offline\"} %u\n",
		   c.count[NODE_ONLINE], c.count[NODE_BOOTING], c.count[NODE_OFFLINE]);
	buf_puts(b, "# HELP snow_node_gauge The last reading of each gauge a node reports.\n"
		    "# TYPE snow_node_gauge gauge\n");
	rc = inv_node_foreach(&sd->inv, metrics_node_values, &c);
	if (rc)
		return rc;
	rc = buf_printf(b,
			  "# HELP snowd_http_requests_total HTTP requests answered.\n"
			  "# TYPE snowd_http_requests_total counter\nsnowd_http_requests_total %llu\n"
			  "# HELP snowd_reports_total Node reports ingested.\n"
			  "# TYPE snowd_reports_total counter\nsnowd_reports_total %llu\n"
			  "# HELP snowd_events_total Node events received.\n"
			  "# TYPE snowd_events_total counter\nsnowd_events_total %llu\n"
			  "# HELP snowd_stream_clients Clients on the event stream.\n"
			  "# TYPE snowd_stream_clients gauge\nsnowd_stream_clients %u\n"
			  "# HELP snowd_stream_messages_total Messages sent on the event stream.\n"
			  "# TYPE snowd_stream_messages_total counter\nsnowd_stream_messages_total %llu\n"
			  "# HELP snowd_stream_cut_total Stream clients cut off for falling too far behind.\n"
			  "# TYPE snowd_stream_cut_total counter\nsnowd_stream_cut_total %llu\n"
			  "# HELP snowd_http_connections_cut_total Connections closed for trickling past a deadline.\n"
			  "# TYPE snowd_http_connections_cut_total counter\nsnowd_http_connections_cut_total %llu\n",
			  (unsigned long long)sd->requests, (unsigned long long)sd->reports,
			  (unsigned long long)sd->events, sd->stream.nclients,
			  (unsigned long long)sd->stream.sent_messages, (unsigned long long)sd->stream.cut,
			  (unsigned long long)sd->conns_cut);
	if (!rc)
		rc = buf_printf(b, "# HELP snowd_wakeups_total Wake-up datagrams to agents, by outcome.\n"
				   "# TYPE snowd_wakeups_total counter\n"
				   "snowd_wakeups_total{result=\"sent\"} %llu\n"
				   "snowd_wakeups_total{result=\"failed\"} %llu\n",
				(unsigned long long)sd->wake.sent, (unsigned long long)sd->wake.failed);
	if (!rc)
		rc = klog_metrics(sd->klog, b);
	return rc ? rc : metrics_health(sd, b);
}
