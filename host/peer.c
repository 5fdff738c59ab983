/* Live node state shared among the snowd of one PostgreSQL (peer.h). */
#include "peer.h"
#include "peerp.h"
#include "peernet.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "inv.h"
#include "jsonh.h"
#include "log.h"
#include "nodes.h"
#include "report.h"
#include "stream.h"

/* What this snowd wrote of a node, and what another wrote. */
struct peer_entry {
	int64_t id;          /* 0: a free slot */
	uint64_t pub_seq;    /* the node's report seq when this snowd last wrote its row */
	int pub_state;       /* its state then (enum node_state + 1; 0: never written) */
	int64_t pub_ms;      /* monotonic: when */
	json_t *doc;         /* owned: another snowd's row, or NULL */
	json_t *schema;      /* a reference: the schema of that row (peer_schema_intern), or NULL */
	const struct node_schema *pub_schema; /* the schema this snowd last wrote of the node */
	char via[64];        /* that snowd's name */
	int64_t stale_ms;    /* monotonic: that row is stale from then on */
};

struct peer {
	char name[64];             /* this snowd's name in the rows: its base URL */
	struct peer_entry *tab;    /* open addressing by id */
	size_t cap, n;
	int64_t cursor;            /* the highest row seq read */
	int wanted;                /* another snowd wrote rows: read them */
	int lost;                  /* the connection broke: said once */
	char id[PEERNET_ID_LEN + 1];  /* this snowd's in snowd_nets (peernet.h) */
	int64_t beat_ms;           /* monotonic: its claim's last renewal */
	int claim_lost;            /* another snowd took the boot network over: said once */
	char host_urls[2048];      /* node.conf's host_url: this snowd, then the others */
	size_t next;               /* peer_tick: the node to look at first for new reports */
	/* The other snowd and until when their heartbeat says they live (monotonic ms). */
	struct {
		char url[64];
		int64_t alive_until_ms;
	} alive[PEERNET_URLS_MAX * 2];
	size_t nalive;
	/* The schemas other snowd wrote, each parsed once (a few: one per image and agent). */
	struct {
		char *text;
		json_t *json;
	} schemas[16];
	size_t nschemas;
};

static const char peer_schema[] =
	"SELECT pg_advisory_xact_lock(7670);"
	"CREATE UNLOGGED TABLE IF NOT EXISTS live (node_id BIGINT PRIMARY KEY, snowd text NOT NULL,"
	" state text NOT NULL, doc text NOT NULL, at DOUBLE PRECISION NOT NULL, seq BIGINT NOT NULL);"
	"CREATE SEQUENCE IF NOT EXISTS live_seq;"
	"CREATE INDEX IF NOT EXISTS live_by_seq ON live (seq);"
	/* A node's schema is written when it changes, and read when newer than the reader's cursor. */
	"ALTER TABLE live ADD COLUMN IF NOT EXISTS schema text,"
	" ADD COLUMN IF NOT EXISTS schema_seq BIGINT NOT NULL DEFAULT 0";

/*
 * One statement writes a tick's rows (one round trip): a row another snowd
 * holds online is not taken over by an offline one from here, unless it is
 * stale (that snowd stopped writing it).  The NOTIFY goes out when it commits.
 */
static const char peer_upsert[] =
	"WITH up AS (INSERT INTO live (node_id, snowd, state, doc, at, seq, schema, schema_seq) "
	"SELECT (e->>'id')::bigint, ?1, e->>'state', e->>'doc', extract(epoch FROM now()), s, "
	"e->>'schema', CASE WHEN e->>'schema' IS NULL THEN 0 ELSE s END "
	"FROM (SELECT e, nextval('live_seq') AS s FROM json_array_elements(?2::json) e) x "
	"ON CONFLICT (node_id) DO UPDATE SET snowd = excluded.snowd, state = excluded.state, "
	"doc = excluded.doc, at = excluded.at, seq = excluded.seq, "
	"schema = coalesce(excluded.schema, live.schema), "
	"schema_seq = greatest(excluded.schema_seq, live.schema_seq) "
	"WHERE live.snowd = excluded.snowd OR excluded.state = 'online' OR NOT EXISTS (SELECT 1 FROM "
	"snowd_nets n WHERE n.url = live.snowd AND n.at > excluded.at - 15) "
	"RETURNING 1) SELECT count(*), pg_notify('snow_live', '') FROM up";

static const char peer_read[] =
	"SELECT node_id, snowd, doc, extract(epoch FROM now()) - at, seq, "
	"CASE WHEN schema_seq > ?1 THEN schema END FROM live "
	"WHERE seq > ?1 AND snowd <> ?2 ORDER BY seq";

/* The entry of node id; a new one when create.  @ret it, or NULL. */
static struct peer_entry *peer_entry(struct peer *p, int64_t id, int create)
{
	size_t h, i;

	if (id <= 0)
		return NULL;
	if (create && (p->n + 1) * 2 > p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;
		struct peer_entry *t = calloc(cap, sizeof(*t));
		if (!t)
			return NULL;
		for (i = 0; i < p->cap; i++) {
			if (!p->tab[i].id)
				continue;
			h = (size_t)p->tab[i].id * 0x9e3779b97f4a7c15ull & (cap - 1);
			while (t[h].id)
				h = (h + 1) & (cap - 1);
			t[h] = p->tab[i];
		}
		free(p->tab);
		p->tab = t;
		p->cap = cap;
	}
	if (!p->cap)
		return NULL;
	h = (size_t)id * 0x9e3779b97f4a7c15ull & (p->cap - 1);
	for (; p->tab[h].id; h = (h + 1) & (p->cap - 1))
		if (p->tab[h].id == id)
			return &p->tab[h];
	if (!create)
		return NULL;
	p->tab[h].id = id;
	p->n++;
	return &p->tab[h];
}

/* Renew this snowd's boot network claim; the others' URLs into host_urls. */
static void peer_beat(struct snowd *sd, struct peer *p)
{
	char urls[sizeof(p->host_urls)];
	struct peernet_peer peers[sizeof(p->alive) / sizeof(p->alive[0])];
	size_t n = sizeof(peers) / sizeof(peers[0]), i;
	int rc = peernet_beat(sd->inv.db, p->id, sd->base_url, urls, sizeof(urls), peers, &n);

	p->beat_ms = clock_mono_ms();
	if (!rc) {
		for (i = 0; i < n; i++) {
			memcpy(p->alive[i].url, peers[i].url, sizeof(p->alive[i].url));
			p->alive[i].alive_until_ms =
				p->beat_ms + (int64_t)((PEERNET_STALE_S - peers[i].age) * 1000);
		}
		p->nalive = n;
	}
	if (rc == -ENOENT && !p->claim_lost) {
		log_warnx("peers: the claim of boot network %s is gone (another snowd took it over"
			  " while this one could not renew it): stop one of them",
			  sd->cfg.boot_addr);
		p->claim_lost = 1;
	}
	if (rc || !strcmp(urls, p->host_urls))
		return;
	log_info("peers: nodes' host_url is now %s", urls);
	snprintf(p->host_urls, sizeof(p->host_urls), "%s", urls);
	sd->settings_gen++; /* overlays are rendered again with it */
}

int peer_start(struct snowd *sd, char *err, size_t errlen)
{
	struct peer *p;

	sd->peer = NULL;
	if (db_engine(sd->inv.db) != DB_PG)
		return 0;
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "peer: out of memory");
		return -EIO;
	}
	snprintf(p->name, sizeof(p->name), "%s", sd->base_url);
	if (db_exec(sd->inv.db, peer_schema) != DB_OK ||
	    db_listen(sd->inv.db, "snow_live") != DB_OK || db_listen(sd->inv.db, "snow_cmd") != DB_OK) {
		snprintf(err, errlen, "database: live state: %s", db_errmsg(sd->inv.db));
		free(p);
		return -EIO;
	}
	if (peernet_id(sd->cfg.state_dir, 1, p->id)) {
		snprintf(err, errlen, "%s/snowd.id: cannot write this snowd's id", sd->cfg.state_dir);
		free(p);
		return -EIO;
	}
	/* One boot network, one snowd: refused when another live one serves it. */
	if (peernet_claim(sd->inv.db, p->id, sd->base_url, sd->cfg.boot_addr, sd->boot_ip,
			  sd->boot_prefix, err, errlen)) {
		free(p);
		return -EEXIST;
	}
	snprintf(p->host_urls, sizeof(p->host_urls), "%s", sd->base_url);
	peer_beat(sd, p);
	p->wanted = 1; /* what the others hold already */
	sd->peer = p;
	sd->boot.host_urls = p->host_urls;
	log_info("peers: sharing live node state in PostgreSQL as %s", p->name);
	return 0;
}

void peer_free(struct snowd *sd)
{
	struct peer *p = sd->peer;
	size_t i;

	if (!p)
		return;
	if (!p->claim_lost)
		peernet_release(sd->inv.db, p->id); /* the boot network is free at once */
	sd->boot.host_urls = NULL;
	for (i = 0; i < p->cap; i++) {
		json_decref(p->tab[i].doc);
		json_decref(p->tab[i].schema);
	}
	for (i = 0; i < p->nschemas; i++) {
		free(p->schemas[i].text);
		json_decref(p->schemas[i].json);
	}
	free(p->tab);
	free(p);
	sd->peer = NULL;
}

int peer_fd(struct snowd *sd)
{
	return sd->peer ? db_socket(sd->inv.db) : -1;
}

/*
 * The values the node's schema does not call gauges (counters, attributes):
 * /metrics on the other snowd shows gauges only, as for its own nodes.
 */
static void peer_doc_kinds(json_t *o, const struct node_rt *rt)
{
	json_t *a;
	size_t i;

	if (!rt->schema || !(rt->rep.has & REPORT_VALUES) || !(a = json_array()))
		return;
	for (i = 0; i < rt->rep.nvalues; i++) {
		const struct instr_def *d = report_schema_find(&rt->schema->typed, rt->rep.values[i].name);
		if (!d || d->kind != INSTR_GAUGE)
			json_array_append_new(a, json_string(rt->rep.values[i].name));
	}
	json_object_set_new(o, PEER_NOT_GAUGES, a);
}

/* What a node's row holds: its run-time state as nodes_json shows it. */
static json_t *peer_doc(const struct node_rt *rt)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:I}", "name",
			      rt->name, "state", node_state_name(rt->state), "hostname", rt->hostname,
			      "boot_id", rt->boot_id, "kernel", rt->kernel, "stage", rt->stage,
			      "stage_time", (json_int_t)rt->stage_time, "last_seen",
			      (json_int_t)rt->last_seen, "online_since", (json_int_t)rt->online_since,
			      "power_state", nodes_power_state(rt), "seq", (json_int_t)rt->seq);

	if (!o)
		return NULL;
	json_object_set_new(o, "agent_version", json_string(rt->version));
	nodes_report_json(o, rt, REPORT_VALUES | REPORT_WATERMARKS | REPORT_THRESHOLDS |
				 REPORT_DEVICES);
	peer_doc_kinds(o, rt);
	return o;
}

/* Add rt's row to rows (its doc, its schema when new).  @ret 0, or -1 out of memory. */
static int peer_row(struct peer_entry *e, const struct node_rt *rt, int64_t now, json_t *rows)
{
	json_t *doc = peer_doc(rt), *row;
	char *text = doc ? jsonh_dump(doc) : NULL;

	json_decref(doc);
	if (!text)
		return -1;
	row = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)rt->id, "state",
			node_state_name(rt->state), "doc", text);
	free(text);
	if (!row)
		return -1;
	if (rt->schema && e->pub_schema != rt->schema) {
		/* Once a schema: the others show the node's values in the MIB with it. */
		char *sch = jsonh_dump(rt->schema->json);
		if (sch)
			json_object_set_new(row, "schema", json_string(sch));
		free(sch);
	}
	e->pub_schema = rt->schema;
	json_array_append_new(rows, row);
	e->pub_state = (int)rt->state + 1;
	e->pub_seq = rt->seq;
	e->pub_ms = now;
	return 0;
}

void peer_tick(struct snowd *sd)
{
	struct peer *p = sd->peer;
	int64_t now = clock_mono_ms();
	json_t *rows;
	char *text;
	struct db_stmt *st;
	size_t i, k, n = 0;
	int pass;

	if (!p || !db_autocommit(sd->inv.db))
		return;
	if (now - p->beat_ms >= PEERNET_BEAT_MS)
		peer_beat(sd, p);
	rows = json_array();
	/*
	 * First the nodes whose state changed, then, from where the last tick
	 * stopped, those with a new report (at most one row a node every
	 * PEER_VALUES_MS); PEER_ROWS_MAX rows at most, as the statement holds
	 * the loop while PostgreSQL takes them.  Unchanged rows are not written
	 * again: their snowd's heartbeat says they are current.
	 */
	for (pass = 0; rows && pass < 2 && sd->nrt; pass++) {
		for (k = 0; k < sd->nrt && n < PEER_ROWS_MAX; k++) {
			const struct node_rt *rt = &sd->rt[(p->next + k) % sd->nrt];
			struct peer_entry *e;
			if (!rt->last_seen || rt->state == NODE_UNKNOWN)
				continue; /* never reported here */
			e = peer_entry(p, rt->id, 1);
			if (!e)
				break;
			if (e->pub_state == (int)rt->state + 1) {
				if (!pass)
					continue;
				if (now - e->pub_ms < PEER_VALUES_MS)
					continue;
				if (e->pub_seq == rt->seq)
					continue;
			}
			if (peer_row(e, rt, now, rows))
				break;
			n++;
		}
		if (pass)
			p->next = (p->next + k) % sd->nrt;
	}
	if (!rows || !json_array_size(rows)) {
		json_decref(rows);
		return;
	}
	text = jsonh_dump(rows);
	json_decref(rows);
	st = text ? inv_prepare(&sd->inv, peer_upsert) : NULL;
	if (!st) {
		free(text);
		return;
	}
	db_bind_text(st, 1, p->name);
	db_bind_text_own(st, 2, text);
	if (db_step(st) != DB_ROW) {
		/* Written again at the next tick: the rows stay as they were. */
		if (!p->lost)
			log_warnx("peers: live state not written: %s", db_errmsg(sd->inv.db));
		p->lost = 1;
		for (i = 0; i < p->cap; i++) {
			p->tab[i].pub_state = 0;
			p->tab[i].pub_schema = NULL; /* live may have been emptied: all again */
		}
	} else if (p->lost) {
		log_info("peers: live state written again");
		p->lost = 0;
		p->wanted = 1;
	}
	inv_done(&sd->inv, st);
}

/*
 * Whether e's row is stale: its snowd's heartbeat is (snowd_nets, read with
 * this snowd's own), or, for a snowd not read there yet, the row is old.
 */
static int peer_stale(const struct peer *p, const struct peer_entry *e, int64_t now)
{
	size_t i;

	for (i = 0; i < p->nalive; i++)
		if (!strcmp(p->alive[i].url, e->via))
			return now >= p->alive[i].alive_until_ms;
	return now >= e->stale_ms;
}

/* A row of another snowd: kept for the node's JSON, and told to the stream. */
/* The one parsed copy of a schema's text (borrowed), or NULL. */
static json_t *peer_schema_intern(struct peer *p, const char *text)
{
	json_t *j;
	size_t i;

	for (i = 0; i < p->nschemas; i++)
		if (!strcmp(p->schemas[i].text, text))
			return p->schemas[i].json;
	j = json_loads(text, 0, NULL);
	if (!json_is_array(j)) {
		json_decref(j);
		return NULL;
	}
	if (p->nschemas == sizeof(p->schemas) / sizeof(p->schemas[0])) {
		/* Full: the oldest goes (the nodes that hold it keep their reference). */
		free(p->schemas[0].text);
		json_decref(p->schemas[0].json);
		memmove(&p->schemas[0], &p->schemas[1], sizeof(p->schemas[0]) * --p->nschemas);
	}
	p->schemas[p->nschemas].text = strdup(text);
	if (!p->schemas[p->nschemas].text) {
		json_decref(j);
		return NULL;
	}
	p->schemas[p->nschemas++].json = j;
	return j;
}

static void peer_take_row(struct snowd *sd, int64_t id, const char *via, const char *doc_text,
			  double age, const char *schema_text)
{
	struct peer *p = sd->peer;
	struct peer_entry *e = peer_entry(p, id, 1);
	json_t *doc = doc_text ? json_loads(doc_text, 0, NULL) : NULL;
	const char *name = json_string_value(json_object_get(doc, "name"));
	const struct node_rt *rt = nodes_rt(sd, id, NULL);

	if (!e || !json_is_object(doc) || !name) {
		json_decref(doc);
		return;
	}
	json_decref(e->doc);
	e->doc = doc;
	if (schema_text) {
		json_decref(e->schema);
		e->schema = json_incref(peer_schema_intern(p, schema_text));
	}
	snprintf(e->via, sizeof(e->via), "%s", via ? via : "");
	if (age < 0)
		age = 0;
	e->stale_ms = clock_mono_ms() + (int64_t)((PEER_STALE_S - age) * 1000);
	if (rt && rt->state == NODE_ONLINE)
		return; /* this snowd holds it: its own state is what the stream says */
	stream_publish(&sd->stream, "node",
		       json_pack("{s:s, s:O, s:O, s:O, s:O, s:O, s:O, s:s}", "name", name, "state",
				 json_object_get(doc, "state"), "stage", json_object_get(doc, "stage"),
				 "stage_time", json_object_get(doc, "stage_time"), "last_seen",
				 json_object_get(doc, "last_seen"), "hostname",
				 json_object_get(doc, "hostname"), "power_state",
				 json_object_get(doc, "power_state"), "via", e->via));
	if (json_object_get(doc, "values")) {
		json_t *upd = json_pack("{s:O, s:O, s:O}", "values", json_object_get(doc, "values"),
					"last_seen", json_object_get(doc, "last_seen"), "seq",
					json_object_get(doc, "seq"));
		if (upd && json_object_get(doc, "watermarks"))
			json_object_set(upd, "watermarks", json_object_get(doc, "watermarks"));
		stream_values(&sd->stream, name, upd);
	}
}

static void peer_read_rows(struct snowd *sd)
{
	struct peer *p = sd->peer;
	struct db_stmt *st = inv_prepare(&sd->inv, peer_read);
	int rc;

	if (!st)
		return;
	db_bind_int64(st, 1, p->cursor);
	db_bind_text(st, 2, p->name);
	while ((rc = db_step(st)) == DB_ROW) {
		int64_t seq = db_column_int64(st, 4);
		const unsigned char *age = db_column_text(st, 3);
		peer_take_row(sd, db_column_int64(st, 0), (const char *)db_column_text(st, 1),
			      (const char *)db_column_text(st, 2), age ? strtod((const char *)age, NULL) : 0,
			      (const char *)db_column_text(st, 5));
		if (seq > p->cursor)
			p->cursor = seq;
	}
	inv_done(&sd->inv, st);
	if (rc == DB_DONE)
		p->wanted = 0;
}

struct peer_ctx {
	struct snowd *sd;
};

static void peer_notified(void *ctx, const char *channel, const char *payload, int own)
{
	struct snowd *sd = ((struct peer_ctx *)ctx)->sd;
	const struct node_rt *rt;
	int64_t id;

	if (own)
		return;
	if (!strcmp(channel, "snow_live")) {
		sd->peer->wanted = 1;
	} else if (!strcmp(channel, "snow_cmd")) {
		if (peer_parse_id(payload, &id)) {
			log_warnx("peers: snow_cmd: '%.40s' is not a node id", payload);
			return;
		}
		rt = nodes_rt(sd, id, NULL);
		if (rt && rt->state == NODE_ONLINE)
			nodes_cmd_queued(sd, id); /* it reports here: its next answer takes the command */
	}
}

void peer_poll(struct snowd *sd)
{
	struct peer_ctx ctx = { sd };

	if (!sd->peer)
		return;
	/* Not inside a transaction: the rows read must be committed ones, and it may be failing. */
	if (db_notifies(sd->inv.db, peer_notified, &ctx) < 0)
		return;
	if (sd->peer->wanted && db_autocommit(sd->inv.db))
		peer_read_rows(sd);
}

void peer_node_json(struct snowd *sd, int64_t id, const struct node_rt *rt, json_t *o)
{
	struct peer_entry *e;
	const char *k;
	json_t *v;

	if (!sd->peer || (rt && rt->state == NODE_ONLINE))
		return;
	e = peer_entry(sd->peer, id, 0);
	if (!e || !e->doc)
		return;
	json_object_foreach(e->doc, k, v) {
		/* The inventory's own fields stay; the kinds are /metrics' only. */
		if (strcmp(k, "name") && strcmp(k, PEER_NOT_GAUGES))
			json_object_set(o, k, v);
	}
	if (e->schema)
		json_object_set(o, "schema", e->schema);
	if (peer_stale(sd->peer, e, clock_mono_ms()))
		json_object_set_new(o, "state", json_string("offline"));
	json_object_set_new(o, "via", json_string(e->via));
}

void peer_cmd_queued(struct snowd *sd, int64_t node_id, const struct node_rt *rt)
{
	struct db_stmt *st;
	char id[24];

	if (!sd->peer || (rt && rt->state == NODE_ONLINE))
		return;
	st = inv_prepare(&sd->inv, "SELECT pg_notify('snow_cmd', ?1)");
	if (!st)
		return;
	snprintf(id, sizeof(id), "%lld", (long long)node_id);
	db_bind_text(st, 1, id);
	if (db_step(st) != DB_ROW)
		log_warnx("peers: command for node %lld not announced: %s", (long long)node_id,
			  db_errmsg(sd->inv.db));
	inv_done(&sd->inv, st);
}

const json_t *peer_node_doc(struct snowd *sd, int64_t id, const struct node_rt *rt,
			    const char **state)
{
	struct peer_entry *e;

	if (!sd->peer || (rt && rt->state == NODE_ONLINE))
		return NULL;
	e = peer_entry(sd->peer, id, 0);
	if (!e || !e->doc)
		return NULL;
	*state = peer_stale(sd->peer, e, clock_mono_ms()) ? "offline" :
		 json_string_value(json_object_get(e->doc, "state"));
	if (!*state)
		*state = "offline";
	return e->doc;
}
