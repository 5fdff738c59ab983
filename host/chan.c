/*
 * The node channel (docs/protocol.md): an agent registers each boot and
 * reports its values, events and command results; the answer acknowledges
 * the events stored and carries the node's pending commands.  Every request
 * is signed with the node's secret (sign.h) and carries a nonce above the
 * last one, so a replay fails even after a restart; every answer to an
 * authenticated request is signed with the same secret over the request's
 * nonce, so the node can tell it came from snowd.
 *
 * Group commit: the writes of every node request in one pass of the loop
 * go into one transaction (inv_batch_begin), and their 2xx answers are held
 * (the connection suspended) until chan_commit() has committed it.  So an
 * answer never acknowledges what a crash could still lose, and replay
 * protection holds across kill -9: a request whose answer went out had its
 * nonce committed first, so it is refused if played again; a request whose
 * answer did not go out lost its nonce and its writes together, so playing
 * it again does what the first one would have, once.
 */
#include "chan.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bmc.h"
#include "clock.h"
#include "history.h"
#include "jsonh.h"
#include "klog.h"
#include "log.h"
#include "nodes.h"
#include "pstore.h"
#include "report.h"
#include "snowd.h"
#include "stream.h"
#include "valid.h"
#include "wake.h"
#include "wire.h"


/*
 * Authenticate a node request: name header, signature (with the node's
 * secret, or after a rekey the old one its agent still holds), time window,
 * a nonce within that window (sign_nonce_check) and above the last one (stored, so a replay fails after a restart too).
 * On failure the answer has been queued into *ret.  @ret 0 when good; then
 * n->secret is wiped, unless the request was signed with the old secret:
 * it then holds the new one, for the answer's "rekey" (chan_rekey_field).
 */
static int chan_auth(struct http_ctx *h, struct inv_node *n, enum MHD_Result *ret)
{
	struct snowd *sd = h->sd;
	const char *name = http_header(h, SNOW_HDR_NODE);
	const char *tstr = http_header(h, SNOW_HDR_TIME);
	const char *nstr = http_header(h, SNOW_HDR_NONCE);
	const char *sig = http_header(h, SNOW_HDR_SIG);
	uint64_t t, nonce;
	char err[256];
	int rc, old = 0, had_old;

	if (!name || !tstr || !nstr || !sig) {
		*ret = http_error(h, MHD_HTTP_UNAUTHORIZED, "node request without %s",
				  !name ? SNOW_HDR_NODE : !tstr ? SNOW_HDR_TIME :
				  !nstr ? SNOW_HDR_NONCE : SNOW_HDR_SIG);
		return -EACCES;
	}
	if (valid_name(name, err, sizeof(err)) || (rc = inv_node_auth(&sd->inv, name, n)) == -ENOENT) {
		*ret = http_error(h, MHD_HTTP_FORBIDDEN, "%s: not a node", SNOW_HDR_NODE);
		return -EACCES;
	}
	if (rc) {
		/* The store cannot be read (a database server away): not the node's fault. */
		*ret = http_error(h, MHD_HTTP_SERVICE_UNAVAILABLE, "inventory error: try again");
		return -EIO;
	}
	if (valid_u64(tstr, &t) || valid_u64(nstr, &nonce)) {
		*ret = http_error(h, MHD_HTTP_UNAUTHORIZED, "%s/%s: not numbers", SNOW_HDR_TIME,
				  SNOW_HDR_NONCE);
		return -EACCES;
	}
	rc = sign_verify(n->secret, h->method, h->url, (int64_t)t, nonce, h->body.data,
			 h->body.len, sig, (int64_t)time(NULL));
	if (rc == -EBADMSG && n->old_secret[0]) {
		/* Rekeyed: the agent may not have the new secret yet (chan_rekey_field). */
		rc = sign_verify(n->old_secret, h->method, h->url, (int64_t)t, nonce, h->body.data,
				 h->body.len, sig, (int64_t)time(NULL));
		old = !rc;
	}
	if (rc) {
		explicit_bzero(n->secret, sizeof(n->secret));
		explicit_bzero(n->old_secret, sizeof(n->old_secret));
	}
	if (rc == -ETIME) {
		log_warnx("node %s: request time %" PRIu64 " is off by more than %d s", n->name, t,
			  SIGN_MAX_SKEW);
		*ret = http_error(h, MHD_HTTP_UNAUTHORIZED, "%s: stale or future time", SNOW_HDR_TIME);
		return -EACCES;
	}
	if (rc) {
		log_warnx("node %s: bad signature from %s", n->name, h->client_ip);
		*ret = http_error(h, MHD_HTTP_UNAUTHORIZED, "%s: bad signature", SNOW_HDR_SIG);
		return -EACCES;
	}
	if (sign_nonce_check((int64_t)t, nonce))
		rc = -ERANGE;
	else if (inv_batch_begin(&sd->inv))
		rc = -EIO;
	else
		rc = inv_node_take_nonce(&sd->inv, n->id, nonce);
	if (!rc)
		/* From here every answer is signed (sign.h): a forged one cannot command the node. */
		http_sign_answers(h, old ? n->old_secret : n->secret, nonce);
	had_old = n->old_secret[0] != '\0';
	explicit_bzero(n->old_secret, sizeof(n->old_secret));
	if (!old)
		explicit_bzero(n->secret, sizeof(n->secret));
	if (!rc && !old && had_old) {
		/* The agent signs with its new secret: the old one is no longer accepted. */
		if (inv_node_key_taken(&sd->inv, n->id))
			log_warnx("node %s: cannot forget its old secret (retried next request)", n->name);
		else
			log_info("node %s: its agent uses the new secret (rekey done)", n->name);
	}
	if (rc == -ERANGE) {
		/* Never stored: a nonce far ahead would refuse every later request. */
		log_warnx("node %s: nonce %" PRIu64 " from %s is not within %d s of its time %" PRIu64,
			  n->name, nonce, h->client_ip, SIGN_MAX_SKEW, t);
		*ret = http_error(h, MHD_HTTP_UNAUTHORIZED, "%s: not within %d s of %s (microseconds)",
				  SNOW_HDR_NONCE, SIGN_MAX_SKEW, SNOW_HDR_TIME);
		return -EACCES;
	}
	if (rc == -EALREADY) {
		log_warnx("node %s: replayed request (nonce %" PRIu64 ") from %s refused", n->name,
			  nonce, h->client_ip);
		*ret = http_error(h, MHD_HTTP_UNAUTHORIZED, "%s: replayed request", SNOW_HDR_NONCE);
		return -EACCES;
	}
	if (rc) {
		*ret = http_error(h, MHD_HTTP_SERVICE_UNAVAILABLE, "inventory error: try again later");
		return -EIO;
	}
	return 0;
}

/* A 2xx answer waiting for the group commit (chan_commit). */
struct chan_held {
	struct chan_held *next, **pprev; /* in sd->held until resumed */
	struct http_ctx *h;
	json_t *answer;                  /* owned */
	int64_t node_id;
	int committed;                   /* its group's commit was tried ... */
	int failed;                      /* ... and failed: answer 503 */
};

/* h->pending_free: also when the request ends while held. */
static void chan_held_free(void *p)
{
	struct chan_held *c = p;

	if (c->pprev) {
		*c->pprev = c->next;
		if (c->next)
			c->next->pprev = c->pprev;
	}
	json_decref(c->answer);
	free(c);
}

/* Commit the open group; every answer held until now learns how it went. */
static int chan_commit_group(struct snowd *sd)
{
	struct chan_held *c;
	unsigned n = 0;
	int rc;

	if (!sd->inv.batch && !sd->inv.batch_lost)
		return 0;
	rc = inv_batch_commit(&sd->inv);
	for (c = sd->held; c; c = c->next) {
		if (c->committed)
			continue;
		c->committed = 1;
		c->failed = rc != 0;
		n++;
		if (rc) {
			/* What the answer would have acknowledged is not stored: count again. */
			struct node_rt *rt = nodes_rt(sd, c->node_id, NULL);
			if (rt)
				rt->events_acked = 0;
		}
	}
	if (rc)
		log_warnx("node channel: group commit failed: %u held answers say 503", n);
	return rc;
}

int chan_commit_early(struct snowd *sd)
{
	return chan_commit_group(sd);
}

int chan_commit(struct snowd *sd)
{
	struct chan_held *c;
	int rc = chan_commit_group(sd);

	/* Never from inside an MHD pass: a connection resumed there can stay suspended. */
	while ((c = sd->held)) {
		sd->held = c->next;
		if (c->next)
			c->next->pprev = &sd->held;
		c->next = NULL;
		c->pprev = NULL;
		MHD_resume_connection(c->h->conn);
	}
	return rc;
}

/*
 * The 2xx answer to a node request (answer taken): at once when nothing it
 * acknowledges waits for a commit, else held until chan_commit().
 */
static enum MHD_Result chan_ok(struct http_ctx *h, int64_t node_id, json_t *answer)
{
	struct snowd *sd = h->sd;
	struct chan_held *c;

	if (!sd->inv.batch || !answer)
		return http_json(h, MHD_HTTP_OK, answer);
	c = calloc(1, sizeof(*c));
	if (!c) {
		/* Nowhere to hold it: commit now rather than answer early. */
		if (chan_commit_early(sd)) {
			json_decref(answer);
			return http_error(h, MHD_HTTP_SERVICE_UNAVAILABLE,
					  "inventory error: try again later");
		}
		return http_json(h, MHD_HTTP_OK, answer);
	}
	c->h = h;
	c->answer = answer;
	c->node_id = node_id;
	c->next = sd->held;
	if (c->next)
		c->next->pprev = &c->next;
	c->pprev = &sd->held;
	sd->held = c;
	h->pending = c;
	h->pending_free = chan_held_free;
	MHD_suspend_connection(h->conn);
	return MHD_YES;
}

/*
 * An agent that signed with its old secret gets the new one in the answer
 * (signed with the old one: only that agent can trust it) and uses it from
 * then on.  @ret a, with "rekey" added when due.
 */
static json_t *chan_rekey_field(const struct inv_node *n, json_t *a)
{
	if (a && n->secret[0]) {
		json_object_set_new(a, "rekey", json_string(n->secret));
		log_info("node %s: new secret sent to its agent", n->name);
	}
	return a;
}

static enum MHD_Result chan_do_register(struct http_ctx *h, struct inv_node *n, json_t *body)
{
	const char *name, *boot_id, *hostname, *kernel, *version, *mac;
	struct report_schema schema = { .n = 0 };
	json_t *schema_j;
	struct node_rt *rt;
	struct wake_dest wake;
	char err[256];

	if (jsonh_get_str(body, "name", 1, SNOW_NAME_MAX, &name, err, sizeof(err)) ||
	    jsonh_get_str(body, "boot_id", 1, 39, &boot_id, err, sizeof(err)) ||
	    wake_dest_parse(body, h->client_ip, h->answer_key.secret, &wake, err, sizeof(err)) ||
	    jsonh_get_str(body, "hostname", 0, SNOW_NAME_MAX, &hostname, err, sizeof(err)) ||
	    jsonh_get_str(body, "kernel", 0, 63, &kernel, err, sizeof(err)) ||
	    jsonh_get_str(body, "version", 0, 31, &version, err, sizeof(err)) ||
	    jsonh_get_str(body, "mac", 0, SNOW_MAC_STRLEN, &mac, err, sizeof(err)))
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	if (strcmp(name, n->name))
		return http_error(h, MHD_HTTP_BAD_REQUEST, "name: '%s' does not match %s", name,
				  SNOW_HDR_NODE);
	schema_j = json_object_get(body, "schema");
	switch (report_schema_parse(schema_j, &schema, err, sizeof(err))) {
	case 0:
		break;
	case -EINVAL:
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	default:
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	rt = nodes_rt(h->sd, n->id, n->name);
	if (!rt) {
		report_schema_free(&schema);
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	if (strcmp(rt->boot_id, boot_id)) {
		/* A new boot: what the last one reported no longer holds. */
		nodes_rt_clear(h->sd, rt);
		rt->events_acked = 0;
	}
	rt->cmd_open = 1; /* whatever waits for this node goes in the answer to its first report */
	if (schema_j) {
		struct history *hist;
		int bmc = bmc_schema_extend(h->sd, n->id, &schema);
		if (nodes_set_schema(h->sd, rt, &schema))
			return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		/*
		 * A new schema may name other gauges: their history starts over,
		 * but for a node with a BMC, whose gauges were read through the boot.
		 */
		hist = bmc && rt->hist ? history_rebase(rt->hist, &rt->schema->typed) :
					 history_new(&rt->schema->typed);
		history_free(rt->hist);
		rt->hist = hist;
	}
	/* The BMC's readings stay through the agent's boots (bmc.h). */
	bmc_merge(h->sd, rt);
	snprintf(rt->boot_id, sizeof(rt->boot_id), "%s", boot_id);
	rt->wake = wake;
	klog_registered(h->sd, n->id, n->name, boot_id);
	snprintf(rt->hostname, sizeof(rt->hostname), "%s", hostname ? hostname : "");
	snprintf(rt->kernel, sizeof(rt->kernel), "%s", kernel ? kernel : "");
	snprintf(rt->version, sizeof(rt->version), "%s", version ? version : "");
	rt->seq = 0;
	rt->last_seen = (int64_t)time(NULL);
	rt->last_seen_ms = clock_mono_ms();
	nodes_stage(h->sd, n, "online");
	if (rt->state != NODE_ONLINE)
		rt->online_since = rt->last_seen;
	rt->state = NODE_ONLINE;
	log_info("node %s: online (agent %s, kernel %s, boot %s, from %s)", n->name,
		 rt->version, rt->kernel, rt->boot_id, h->client_ip);
	nodes_publish_state(h->sd, rt);
	return chan_ok(h, n->id, chan_rekey_field(n, json_pack("{s:I}", "interval_ms",
							       (json_int_t)h->sd->cfg.interval_ms)));
}

/* Tell stream clients what a report brought: values, new events, finished commands. */
static void chan_publish_report(struct snowd *sd, const struct inv_node *n, struct node_rt *rt,
				json_t *body, unsigned parts, int64_t ack)
{
	json_t *upd, *e, *r;
	size_t i;

	if (!sd->stream.clients)
		return;
	/* Values and watermarks always; the rest only in the report that brought them. */
	upd = json_object();
	if (upd && stream_node_whole(&sd->stream, n->name)) {
		nodes_report_json(upd, rt, REPORT_VALUES | REPORT_WATERMARKS);
	} else if (upd) {
		/* Only what some client's filter takes (an overview: a few gauges a node). */
		json_object_set_new(upd, "values", report_values_json_if(&rt->rep, stream_value_wanted,
									 &sd->stream));
		json_object_set_new(upd, "watermarks",
				    report_watermarks_json_if(&rt->rep, stream_value_wanted,
							      &sd->stream));
	}
	if (upd) {
		json_object_set_new(upd, "last_seen", json_integer(rt->last_seen));
		json_object_set_new(upd, "seq", json_integer((json_int_t)rt->seq));
		nodes_report_json(upd, rt, parts & (REPORT_THRESHOLDS | REPORT_DEVICES));
		nodes_report_json(upd, rt, parts & REPORT_SCHEMA);
	}
	stream_values(&sd->stream, n->name, upd);
	json_array_foreach(json_object_get(body, "events"), i, e) {
		if (json_integer_value(json_object_get(e, "seq")) > ack)
			continue;
		/* The id lets a follower (SNMP informs) skip what it already saw. */
		json_t *ev = json_pack("{s:I, s:s, s:s, s:O, s:O, s:O, s:O}", "id",
				       (json_int_t)inv_event_id(&sd->inv, n->id, rt->boot_id,
								json_integer_value(json_object_get(e, "seq"))),
				       "node", n->name, "boot_id", rt->boot_id, "seq",
				       json_object_get(e, "seq"), "time", json_object_get(e, "time"),
				       "type", json_object_get(e, "type"), "attrs",
				       json_object_get(e, "attrs"));
		/* Older agents send neither: left out, as the events API does. */
		if (ev && json_object_get(e, "severity"))
			json_object_set(ev, "severity", json_object_get(e, "severity"));
		if (ev && json_object_get(e, "publisher"))
			json_object_set(ev, "publisher", json_object_get(e, "publisher"));
		stream_publish(&sd->stream, "event", ev);
	}
	json_array_foreach(json_object_get(body, "results"), i, r) {
		json_t *c = inv_cmd_get(&sd->inv, json_integer_value(json_object_get(r, "id")));
		if (c)
			stream_publish(&sd->stream, "command", c);
	}
}

/* The node's live state for a report from it, or NULL with the refusal in *ret. */
static struct node_rt *chan_report_node(struct http_ctx *h, const struct inv_node *n,
					const struct report_head *head, enum MHD_Result *ret)
{
	struct node_rt *rt;

	if (strcmp(head->name, n->name)) {
		*ret = http_error(h, MHD_HTTP_BAD_REQUEST, "name: '%s' does not match %s",
				  head->name, SNOW_HDR_NODE);
		return NULL;
	}
	rt = nodes_rt(h->sd, n->id, NULL);
	if (!rt || strcmp(rt->boot_id, head->boot_id)) {
		*ret = http_error(h, MHD_HTTP_NOT_FOUND, "boot_id: not registered, register first");
		return NULL;
	}
	return rt;
}

/*
 * A report, checked into rep (taken) with its envelope: stored, kept and
 * answered.  body is the JSON tree when the report came through jansson
 * (thresholds, devices, a schema), only its events and results for a
 * report that report_fast() read (chan_report_tail), NULL for the steady
 * report.
 */
static enum MHD_Result chan_take_report(struct http_ctx *h, struct inv_node *n,
					const struct report_head *head, struct report_state *rep,
					json_t *body)
{
	struct snowd *sd = h->sd;
	json_t *events, *commands;
	int64_t ack = 0, now = (int64_t)time(NULL);
	enum MHD_Result ret;
	struct node_rt *rt;
	unsigned parts;

	if (!(rt = chan_report_node(h, n, head, &ret))) {
		report_state_free(rep);
		return ret;
	}
	/* Events and results go to SQLite before the answer acknowledges them. */
	events = json_object_get(body, "events");
	if (json_array_size(events)) {
		if (inv_events_store(&sd->inv, n->id, head->boot_id, events, now, &ack)) {
			report_state_free(rep);
			return http_error(h, MHD_HTTP_SERVICE_UNAVAILABLE, "events: not stored, send again");
		}
		sd->events += json_array_size(events);
		rt->events_acked = ack;
	}
	if (inv_cmd_results(&sd->inv, n->id, json_object_get(body, "results"), now)) {
		report_state_free(rep);
		return http_error(h, MHD_HTTP_SERVICE_UNAVAILABLE, "results: not stored, send again");
	}
	parts = rep->has;
	if (parts & REPORT_SCHEMA) {
		/* New values (a hot-plugged device, a new mount): the gauges kept go on. */
		rep->has &= ~REPORT_SCHEMA;
		bmc_schema_extend(sd, n->id, &rep->schema);
		if (!nodes_set_schema(sd, rt, &rep->schema)) {
			struct history *hist = history_rebase(rt->hist, &rt->schema->typed);
			if (hist) {
				history_free(rt->hist);
				rt->hist = hist;
			}
		}
	}
	report_state_take(&rt->rep, rep);
	history_add(rt->hist, &rt->rep, now);
	/* The agent's parts replaced: the BMC's readings back beside them (bmc.h). */
	bmc_merge(sd, rt);
	rt->seq = (uint64_t)head->seq;
	rt->last_seen = now;
	rt->last_seen_ms = clock_mono_ms();
	if (rt->state != NODE_ONLINE) {
		log_info("node %s: online again", n->name);
		rt->online_since = rt->last_seen;
		rt->state = NODE_ONLINE;
		nodes_publish_state(sd, rt);
	}
	sd->reports++;
	chan_publish_report(sd, n, rt, body, parts, ack);
	/* Queued or sent and not done; none open (most reports): no query. */
	commands = rt->cmd_open ? inv_cmd_take_pending(&sd->inv, n->id, now) : json_array();
	if (!commands)
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "commands: inventory error");
	rt->cmd_open = json_array_size(commands) > 0;
	return chan_ok(h, n->id,
		       chan_rekey_field(n, json_pack("{s:I, s:o}", "ack_events",
						     (json_int_t)rt->events_acked, "commands",
						     commands)));
}

/* A report that report_fast() did not take: through jansson and report_check(). */
static enum MHD_Result chan_do_report(struct http_ctx *h, struct inv_node *n, json_t *body)
{
	struct report_head head;
	const char *name, *boot_id;
	struct report_state rep;
	enum MHD_Result ret;
	json_int_t seq = 0;
	char err[256];
	int rc;

	memset(&rep, 0, sizeof(rep));
	memset(&head, 0, sizeof(head));
	if (jsonh_get_str(body, "name", 1, SNOW_NAME_MAX, &name, err, sizeof(err)) ||
	    jsonh_get_str(body, "boot_id", 1, 39, &boot_id, err, sizeof(err)) ||
	    jsonh_get_int(body, "seq", 1, 0, INT64_MAX, &seq, err, sizeof(err)))
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	snprintf(head.name, sizeof(head.name), "%s", name);
	snprintf(head.boot_id, sizeof(head.boot_id), "%s", boot_id);
	head.seq = seq;
	if (!chan_report_node(h, n, &head, &ret))
		return ret;
	/* Parsed once, here; what is kept and shown is the typed result. */
	rc = report_check(body, &rep, err, sizeof(err));
	if (rc)
		return http_error(h, rc == -EINVAL ? MHD_HTTP_BAD_REQUEST :
				  MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err);
	return chan_take_report(h, n, &head, &rep, body);
}

/*
 * The node's overlay again, for its agent's config.reload: the boot route
 * serves it once per boot only; this one is signed both ways.
 */
static enum MHD_Result chan_do_overlay(struct http_ctx *h, struct inv_node *n, json_t *body)
{
	struct buf out = BUF_INIT;
	struct inv_node full;
	const char *name, *data;
	char err[256];
	size_t len;
	int rc;

	if (jsonh_get_str(body, "name", 1, SNOW_NAME_MAX, &name, err, sizeof(err)))
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	if (strcmp(name, n->name))
		return http_error(h, MHD_HTTP_BAD_REQUEST, "name: '%s' does not match %s", name,
				  SNOW_HDR_NODE);
	/* chan_auth wiped the secret it checked; the overlay carries it (the new one after a rekey). */
	if (inv_node_get(&h->sd->inv, n->name, &full))
		return http_error(h, MHD_HTTP_SERVICE_UNAVAILABLE, "inventory error: try again later");
	rc = nodes_overlay(h->sd, &full, &data, &len);
	explicit_bzero(full.secret, sizeof(full.secret));
	explicit_bzero(full.old_secret, sizeof(full.old_secret));
	if (rc || buf_append(&out, data, len)) {
		buf_free(&out);
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "overlay: cannot build");
	}
	/* Rare: its nonce is committed now rather than the answer held. */
	if (chan_commit_early(h->sd)) {
		buf_free(&out);
		return http_error(h, MHD_HTTP_SERVICE_UNAVAILABLE, "inventory error: try again later");
	}
	log_info("node %s: overlay sent again (signed, from %s)", n->name, h->client_ip);
	return http_text(h, "application/octet-stream", &out);
}

/*
 * What every node request does first: a request held for the group commit
 * gets its answer, any other is authenticated (n filled).  @ret 1 with *ret
 * the answer already given, or 0 to go on.
 */
static int chan_begin(struct http_ctx *h, struct inv_node *n, enum MHD_Result *ret)
{
	struct chan_held *held = h->pending;

	if (held) {
		/* Back after the group commit (chan_commit resumed the connection). */
		h->pending = NULL;
		if (held->failed) {
			*ret = http_error(h, MHD_HTTP_SERVICE_UNAVAILABLE,
					  "inventory error: not stored, send again");
		} else {
			*ret = http_json(h, MHD_HTTP_OK, held->answer);
			held->answer = NULL; /* http_json took it */
		}
		chan_held_free(held);
		return 1;
	}
	if (chan_auth(h, n, ret)) {
		explicit_bzero(n->secret, sizeof(n->secret));
		return 1;
	}
	return 0;
}

/* Parse the body, then run fn (after chan_begin). */
static enum MHD_Result chan_parsed(struct http_ctx *h, struct inv_node *n,
				   enum MHD_Result (*fn)(struct http_ctx *, struct inv_node *, json_t *))
{
	enum MHD_Result ret;
	json_t *body;
	char err[256];

	body = jsonh_parse_object(h->body.data, h->body.len, err, sizeof(err));
	if (!body)
		ret = http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	else
		ret = fn(h, n, body);
	json_decref(body);
	explicit_bzero(n->secret, sizeof(n->secret));
	return ret;
}

/* Authenticate, parse, then run one of the handlers. */
static enum MHD_Result chan_request(struct http_ctx *h,
				    enum MHD_Result (*fn)(struct http_ctx *, struct inv_node *, json_t *))
{
	enum MHD_Result ret;
	struct inv_node n;

	if (chan_begin(h, &n, &ret))
		return ret;
	return chan_parsed(h, &n, fn);
}

enum MHD_Result chan_register(struct http_ctx *h)
{
	return chan_request(h, chan_do_register);
}

/*
 * The events and results report_fast() left in the body (head), read on
 * their own as the tree path would read them: {"events": [...], "results":
 * [...]}, the body chan_take_report() needs for them.  @ret a new
 * reference, or NULL when they are not that (the caller reads the whole
 * body then, and says what is wrong).
 */
static json_t *chan_report_tail(const struct report_head *head)
{
	json_t *b = json_object(), *ev = NULL, *res = NULL;
	char err[256];

	if (head->events)
		ev = json_loadb(head->events, head->events_len, JSON_REJECT_DUPLICATES, NULL);
	if (head->results)
		res = json_loadb(head->results, head->results_len, JSON_REJECT_DUPLICATES, NULL);
	if (!b || (head->events && (!ev || report_check_events(ev, err, sizeof(err)))) ||
	    (head->results && (!res || report_check_results(res, err, sizeof(err)))) ||
	    (ev && json_object_set(b, "events", ev)) || (res && json_object_set(b, "results", res))) {
		json_decref(b);
		b = NULL;
	}
	json_decref(ev);
	json_decref(res);
	return b;
}

/*
 * A report: most (values, watermarks, events, results) are read by
 * report_fast() without a JSON tree of the whole body; the others
 * (thresholds, devices, a schema, anything unusual) go through jansson and
 * report_check().
 */
enum MHD_Result chan_report(struct http_ctx *h)
{
	struct report_head head;
	struct report_state rep;
	json_t *tail = NULL;
	enum MHD_Result ret;
	struct inv_node n;
	int rc;

	if (chan_begin(h, &n, &ret))
		return ret;
	memset(&rep, 0, sizeof(rep));
	rc = report_fast(h->body.data, h->body.len, &head, &rep);
	if (rc > 0 && (head.events || head.results) && !(tail = chan_report_tail(&head))) {
		/* Not as expected: the whole body through jansson, which says what is wrong. */
		report_state_free(&rep);
		rc = 0;
	}
	if (!rc)
		return chan_parsed(h, &n, chan_do_report);
	ret = rc < 0 ? http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory")
		     : chan_take_report(h, &n, &head, &rep, tail);
	json_decref(tail);
	explicit_bzero(n.secret, sizeof(n.secret));
	return ret;
}

enum MHD_Result chan_overlay(struct http_ctx *h)
{
	return chan_request(h, chan_do_overlay);
}

/* The handler is pstore.c's: a dump's parsing and keeping are its own. */
enum MHD_Result chan_pstore(struct http_ctx *h)
{
	return chan_request(h, pstore_chan_post);
}
