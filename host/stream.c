#include "stream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "clock.h"
#include "valid.h"

#define STREAM_MAX_BACKLOG (4u << 20) /* a client this far behind is cut off */
#define STREAM_MAX_CLIENTS 256        /* more get 503: each may hold a backlog */
/* The last words to a client cut off: it reconnects and catches up (events by id). */
#define STREAM_CUT_MSG "event: cut\ndata: {\"reason\":\"too far behind: read the node list again, " \
		       "events since the last id\"}\n\n"
#define STREAM_KEEPALIVE_MS 15000

struct stream_client {
	struct stream_client *next;
	struct stream *st;  /* the stream this client belongs to */
	struct MHD_Connection *conn;
	struct buf out;      /* queued bytes; off of them already sent */
	size_t off;
	int suspended;
	int dead;            /* cut off: send what is left (the cut message), then end */
	int64_t last_write_ms;
	struct stream_filter filter;
	int served;          /* this flush's values message queued already */
};

/* --- filters ------------------------------------------------------------------ */

void stream_filter_free(struct stream_filter *f)
{
	unsigned i;

	for (i = 0; i < f->nvalues; i++)
		free(f->values[i]);
	for (i = 0; i < f->nfull; i++)
		free(f->full[i]);
	free(f->key);
	memset(f, 0, sizeof(*f));
}

/* A value name as agents make them (instr: dotted, at most 63), or such a prefix and '*'. */
static int filter_value_ok(const char *s, size_t len)
{
	size_t i, n = len && s[len - 1] == '*' ? len - 1 : len;

	if (!n || n > 63)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* Split a comma list into out[] (at most max), each checked.  @ret count, or -EINVAL/-ENOMEM (out[] freed). */
static int filter_list(const char *what, const char *list, char **out, unsigned max, int is_node,
		       char *err, size_t errlen)
{
	const char *p = list, *e;
	unsigned n = 0;
	int rc;

	while (*p) {
		size_t len;
		e = strchr(p, ',');
		len = e ? (size_t)(e - p) : strlen(p);
		if (len) {
			char item[80], verr[160];
			if (n == max) {
				snprintf(err, errlen, "%s: at most %u names", what, max);
				rc = -EINVAL;
				goto bad;
			}
			if (len >= sizeof(item) ||
			    !(is_node ? (memcpy(item, p, len), item[len] = 0, !valid_name(item, verr, sizeof(verr)))
				      : filter_value_ok(p, len))) {
				snprintf(err, errlen, "%s: '%.*s' is not a %s", what, (int)(len > 64 ? 64 : len), p,
					 is_node ? "node name" : "value name (letters, digits, '.', '_', '-'; '*' only at the end)");
				rc = -EINVAL;
				goto bad;
			}
			out[n] = strndup(p, len);
			if (!out[n]) {
				snprintf(err, errlen, "out of memory");
				rc = -ENOMEM;
				goto bad;
			}
			n++;
		}
		if (!e)
			break;
		p = e + 1;
	}
	return (int)n;
bad:
	while (n)
		free(out[--n]);
	return rc;
}

int stream_filter_parse(struct stream_filter *f, const char *values, const char *full, char *err,
			size_t errlen)
{
	int n;

	memset(f, 0, sizeof(*f));
	if (!values && !full)
		return 0;
	f->on = 1;
	if (values && (n = filter_list("values", values, f->values, STREAM_FILTER_MAX_VALUES, 0, err,
				       errlen)) < 0)
		goto bad;
	f->nvalues = values ? (unsigned)n : 0;
	if (full && (n = filter_list("full", full, f->full, STREAM_FILTER_MAX_FULL, 1, err, errlen)) < 0)
		goto bad;
	f->nfull = full ? (unsigned)n : 0;
	/* Only full= given: the other nodes' values are all wanted. */
	if (!values && !(f->values[f->nvalues++] = strdup("*"))) {
		f->nvalues--;
		n = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto bad;
	}
	if (asprintf(&f->key, "%s\n%s", values ? values : "*", full ? full : "") < 0) {
		f->key = NULL;
		n = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto bad;
	}
	return 0;
bad:
	stream_filter_free(f);
	return n;
}

static int filter_wants(const struct stream_filter *f, const char *name)
{
	unsigned i;

	for (i = 0; i < f->nvalues; i++) {
		const char *w = f->values[i];
		size_t n = strlen(w);
		if (n && w[n - 1] == '*' ? !strncmp(name, w, n - 1) : !strcmp(name, w))
			return 1;
	}
	return 0;
}

static json_t *filter_object(const struct stream_filter *f, json_t *obj)
{
	json_t *out = json_object(), *v;
	const char *k;

	json_object_foreach(obj, k, v) {
		if (filter_wants(f, k))
			json_object_set(out, k, v);
	}
	return out;
}

static int filter_full(const struct stream_filter *f, const char *node)
{
	unsigned i;

	for (i = 0; i < f->nfull; i++) {
		if (!strcmp(f->full[i], node))
			return 1;
	}
	return 0;
}

void stream_filter_node(const struct stream_filter *f, json_t *o)
{
	const char *node = json_string_value(json_object_get(o, "name"));
	json_t *schema, *cut, *v;
	size_t i;

	if (!f->on || !node || filter_full(f, node))
		return;
	if (json_is_object(json_object_get(o, "values")))
		json_object_set_new(o, "values", filter_object(f, json_object_get(o, "values")));
	if (json_is_object(json_object_get(o, "watermarks")))
		json_object_set_new(o, "watermarks", filter_object(f, json_object_get(o, "watermarks")));
	schema = json_object_get(o, "schema");
	if (json_is_array(schema)) {
		/* The schema is shared among nodes (nodes_set_schema): build a new array. */
		cut = json_array();
		json_array_foreach(schema, i, v) {
			const char *name = json_string_value(json_object_get(v, "name"));
			if (name && filter_wants(f, name))
				json_array_append(cut, v);
		}
		json_object_set_new(o, "schema", cut);
	}
	json_object_del(o, "devices");
}

json_t *stream_filter_update(const struct stream_filter *f, const char *node, json_t *upd)
{
	json_t *out, *v;
	const char *k;

	if (!f->on || filter_full(f, node))
		return json_incref(upd);
	out = json_object();
	json_object_foreach(upd, k, v) {
		if (json_is_object(v) && (!strcmp(k, "values") || !strcmp(k, "watermarks")))
			json_object_set_new(out, k, filter_object(f, v));
		else
			json_object_set(out, k, v);
	}
	return out;
}

int stream_node_whole(const struct stream *st, const char *node)
{
	const struct stream_client *c;

	for (c = st->clients; c; c = c->next)
		if (!c->dead && (!c->filter.on || filter_full(&c->filter, node)))
			return 1;
	return 0;
}

int stream_value_wanted(void *ctx, const char *name)
{
	const struct stream *st = ctx;
	const struct stream_client *c;

	for (c = st->clients; c; c = c->next)
		if (!c->dead && (!c->filter.on || filter_wants(&c->filter, name)))
			return 1;
	return 0;
}

static void stream_unlink(struct stream *st, struct stream_client *c)
{
	struct stream_client **pp;

	for (pp = &st->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			st->nclients--;
			return;
		}
	}
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream_client *c = cls;
	size_t n;

	if (c->off == c->out.len) {
		if (c->st->closing || c->dead)
			return MHD_CONTENT_READER_END_OF_STREAM;
		/* Nothing to say: take the connection out of the loop until a publish. */
		buf_reset(&c->out);
		c->off = 0;
		c->suspended = 1;
		MHD_suspend_connection(c->conn);
		return 0;
	}
	n = c->out.len - c->off;
	if (n > max)
		n = max;
	memcpy(buf, c->out.data + c->off, n);
	c->off += n;
	/* A client that never quite catches up must not grow the buffer by what it read. */
	if (c->off > (1u << 16) && c->off > c->out.len / 2) {
		memmove(c->out.data, c->out.data + c->off, c->out.len - c->off);
		c->out.len -= c->off;
		c->off = 0;
	}
	return (ssize_t)n;
}

static void stream_free_client(void *cls)
{
	struct stream_client *c = cls;

	stream_unlink(c->st, c);
	buf_free(&c->out);
	stream_filter_free(&c->filter);
	free(c);
}

enum MHD_Result stream_open(struct stream *st, struct MHD_Connection *conn, struct stream_filter *f)
{
	struct stream_client *c;
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (st->nclients >= STREAM_MAX_CLIENTS) {
		static const char busy[] = "{\"error\":\"stream: too many clients; try again later\"}\n";
		if (f)
			stream_filter_free(f);
		log_warnx("stream: %u clients already: one more refused", st->nclients);
		r = MHD_create_response_from_buffer(sizeof(busy) - 1, (void *)busy, MHD_RESPMEM_PERSISTENT);
		if (!r)
			return MHD_NO;
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "5");
		ret = MHD_queue_response(conn, MHD_HTTP_SERVICE_UNAVAILABLE, r);
		MHD_destroy_response(r);
		return ret;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		if (f)
			stream_filter_free(f);
		return MHD_NO;
	}
	if (f) {
		c->filter = *f;
		memset(f, 0, sizeof(*f));
	}
	c->st = st;
	c->conn = conn;
	c->last_write_ms = clock_mono_ms();
	/* Tell the client how long to wait before reconnecting. */
	buf_puts(&c->out, "retry: 2000\n\n");
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_reader, c,
					      stream_free_client);
	if (!r) {
		buf_free(&c->out);
		stream_filter_free(&c->filter);
		free(c);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	c->next = st->clients;
	st->clients = c;
	st->nclients++;
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static void stream_queue_one(struct stream_client *c, const char *text, size_t len, int64_t now)
{
	if (c->dead)
		return;
	if (c->out.len - c->off + len > STREAM_MAX_BACKLOG || buf_append(&c->out, text, len)) {
		log_warnx("stream: a client fell %u bytes behind; cut off", STREAM_MAX_BACKLOG);
		/* Drop the backlog (what is not yet sent), say why, and end. */
		{
			/* Keep the message being sent whole: SSE framing must survive the cut. */
			char *end = memmem(c->out.data + c->off, c->out.len - c->off, "\n\n", 2);
			c->out.len = end ? (size_t)(end + 2 - c->out.data) : c->off;
		}
		buf_append(&c->out, STREAM_CUT_MSG, strlen(STREAM_CUT_MSG));
		c->dead = 1;
		c->st->cut++;
	}
	c->last_write_ms = now;
	if (c->suspended) {
		c->suspended = 0;
		MHD_resume_connection(c->conn);
	}
}

static void stream_queue_text(struct stream *st, const char *text, size_t len)
{
	struct stream_client *c;
	int64_t now = clock_mono_ms();

	for (c = st->clients; c; c = c->next)
		stream_queue_one(c, text, len, now);
}

/* "event: NAME\ndata: JSON\n\n" (data consumed) into out.  @ret 0 or -ENOMEM. */
static int stream_format(struct buf *out, const char *event, json_t *data)
{
	char *text = json_dumps(data, JSON_COMPACT);
	int rc;

	json_decref(data);
	if (!text)
		return -ENOMEM;
	/* JSON_COMPACT output has no newline, so one data: line carries it. */
	rc = buf_printf(out, "event: %s\ndata: %s\n\n", event, text);
	free(text);
	return rc;
}

/*
 * One "values" message per kind of client: the whole batch for clients
 * without a filter, a cut one for each distinct filter (clients asking the
 * same share it).
 */
static void stream_send_values(struct stream *st, json_t *batch)
{
	struct stream_client *c, *d;
	struct buf whole = BUF_INIT;
	int have_whole = 0;
	int64_t now = clock_mono_ms();

	for (c = st->clients; c; c = c->next)
		c->served = 0;
	for (c = st->clients; c; c = c->next) {
		struct buf cut = BUF_INIT;
		json_t *msg, *upd;
		const char *node;

		if (c->dead)
			continue;
		if (!c->filter.on) {
			if (!have_whole) {
				have_whole = 1;
				if (stream_format(&whole, "values", json_incref(batch)))
					buf_reset(&whole);
			}
			if (whole.len)
				stream_queue_one(c, whole.data, whole.len, now);
			continue;
		}
		/* A client before this one with the same filter sent it to this one too. */
		if (c->served)
			continue;
		msg = json_object();
		json_object_foreach(batch, node, upd)
			json_object_set_new(msg, node, stream_filter_update(&c->filter, node, upd));
		if (!stream_format(&cut, "values", msg)) {
			for (d = c; d; d = d->next) {
				if (d->filter.on && !d->served && !strcmp(d->filter.key, c->filter.key)) {
					d->served = 1;
					stream_queue_one(d, cut.data, cut.len, now);
				}
			}
		}
		buf_free(&cut);
	}
	buf_free(&whole);
	json_decref(batch);
	st->sent_messages++;
}

void stream_publish(struct stream *st, const char *event, json_t *data)
{
	struct buf msg = BUF_INIT;

	if (!data)
		return;
	if (!st->clients) {
		json_decref(data);
		return;
	}
	if (!stream_format(&msg, event, data))
		stream_queue_text(st, msg.data, msg.len);
	st->sent_messages++;
	buf_free(&msg);
}

void stream_values(struct stream *st, const char *node, json_t *update)
{
	if (!st->clients) {
		json_decref(update);
		return;
	}
	if (!st->pending_values)
		st->pending_values = json_object();
	/*
	 * A second report in the same batch replaces the first, but thresholds,
	 * devices and a schema come only in the report where they changed: keep them.
	 */
	if (update) {
		json_t *old = json_object_get(st->pending_values, node), *v;
		static const char *const sticky[] = { "thresholds", "devices", "schema" };
		size_t i;
		for (i = 0; old && i < sizeof(sticky) / sizeof(sticky[0]); i++) {
			if (!json_object_get(update, sticky[i]) && (v = json_object_get(old, sticky[i])))
				json_object_set(update, sticky[i], v);
		}
	}
	json_object_set_new(st->pending_values, node, update);
}

void stream_flush(struct stream *st)
{
	struct stream_client *c;
	int64_t now = clock_mono_ms();

	if (st->pending_values && json_object_size(st->pending_values)) {
		if (st->clients)
			stream_send_values(st, st->pending_values);
		else
			json_decref(st->pending_values);
		st->pending_values = NULL;
	}
	/* Comments keep proxies and idle clients from timing the stream out. */
	for (c = st->clients; c; c = c->next) {
		if (!c->dead && now - c->last_write_ms > STREAM_KEEPALIVE_MS) {
			buf_puts(&c->out, ": keep-alive\n\n");
			c->last_write_ms = now;
			if (c->suspended) {
				c->suspended = 0;
				MHD_resume_connection(c->conn);
			}
		}
	}
}

void stream_close_all(struct stream *st)
{
	struct stream_client *c;

	st->closing = 1;
	json_decref(st->pending_values);
	st->pending_values = NULL;
	/* MHD must not stop with suspended connections. */
	for (c = st->clients; c; c = c->next) {
		if (c->suspended) {
			c->suspended = 0;
			MHD_resume_connection(c->conn);
		}
	}
}
