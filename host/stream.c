#include "stream.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "snowd.h"

#define STREAM_MAX_BACKLOG (4u << 20) /* a client this far behind is cut off */
#define STREAM_KEEPALIVE_MS 15000

struct stream_client {
	struct stream_client *next;
	struct snowd *sd;
	struct MHD_Connection *conn;
	struct buf out;      /* queued bytes; off of them already sent */
	size_t off;
	int suspended;
	int dead;
	int64_t last_write_ms;
};

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

	if (c->dead)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (c->off == c->out.len) {
		if (c->sd->stream.closing)
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
	return (ssize_t)n;
}

static void stream_free_client(void *cls)
{
	struct stream_client *c = cls;

	stream_unlink(&c->sd->stream, c);
	buf_free(&c->out);
	free(c);
}

enum MHD_Result stream_open(struct snowd *sd, struct MHD_Connection *conn)
{
	struct stream_client *c = calloc(1, sizeof(*c));
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!c)
		return MHD_NO;
	c->sd = sd;
	c->conn = conn;
	c->last_write_ms = snowd_now_ms();
	/* Tell the client how long to wait before reconnecting. */
	buf_puts(&c->out, "retry: 2000\n\n");
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_reader, c,
					      stream_free_client);
	if (!r) {
		buf_free(&c->out);
		free(c);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	c->next = sd->stream.clients;
	sd->stream.clients = c;
	sd->stream.nclients++;
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static void stream_queue_text(struct snowd *sd, const char *text, size_t len)
{
	struct stream_client *c;
	int64_t now = snowd_now_ms();

	for (c = sd->stream.clients; c; c = c->next) {
		if (c->dead)
			continue;
		if (c->out.len - c->off + len > STREAM_MAX_BACKLOG || buf_append(&c->out, text, len)) {
			log_warnx("stream: a client fell %u bytes behind; cut off", STREAM_MAX_BACKLOG);
			c->dead = 1;
		}
		c->last_write_ms = now;
		if (c->suspended) {
			c->suspended = 0;
			MHD_resume_connection(c->conn);
		}
	}
}

void stream_publish(struct snowd *sd, const char *event, json_t *data)
{
	struct buf msg = BUF_INIT;
	char *text;

	if (!data)
		return;
	if (!sd->stream.clients) {
		json_decref(data);
		return;
	}
	text = json_dumps(data, JSON_COMPACT);
	json_decref(data);
	if (!text)
		return;
	/* JSON_COMPACT output has no newline, so one data: line carries it. */
	if (!buf_printf(&msg, "event: %s\ndata: %s\n\n", event, text))
		stream_queue_text(sd, msg.data, msg.len);
	sd->stream.sent_messages++;
	free(text);
	buf_free(&msg);
}

void stream_values(struct snowd *sd, const char *node, json_t *update)
{
	if (!sd->stream.clients) {
		json_decref(update);
		return;
	}
	if (!sd->stream.pending_values)
		sd->stream.pending_values = json_object();
	json_object_set_new(sd->stream.pending_values, node, update);
}

void stream_flush(struct snowd *sd)
{
	struct stream_client *c;
	int64_t now = snowd_now_ms();

	if (sd->stream.pending_values && json_object_size(sd->stream.pending_values)) {
		stream_publish(sd, "values", sd->stream.pending_values);
		sd->stream.pending_values = NULL;
	}
	/* Comments keep proxies and idle clients from timing the stream out. */
	for (c = sd->stream.clients; c; c = c->next) {
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

void stream_close_all(struct snowd *sd)
{
	struct stream_client *c;

	sd->stream.closing = 1;
	json_decref(sd->stream.pending_values);
	sd->stream.pending_values = NULL;
	/* MHD must not stop with suspended connections. */
	for (c = sd->stream.clients; c; c = c->next) {
		if (c->suspended) {
			c->suspended = 0;
			MHD_resume_connection(c->conn);
		}
	}
}
