/* Following the cluster: see follow.h and docs/api.md "Following the cluster". */
#include "follow.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonh.h"

static void fl_on_message(void *ctx, const char *event, const char *data, size_t len);
static void fl_on_state(void *ctx, int up, const char *why);

static const struct sse_ops fl_sse_ops = { .on_message = fl_on_message, .on_state = fl_on_state };

int follow_init(struct follow *f, const struct http_url *url, const char *token,
		const struct follow_conf *conf, const struct follow_ops *ops, void *ctx)
{
	char path[600];

	memset(f, 0, sizeof(*f));
	f->sse.fd = -1;
	f->conf = *conf;
	f->url = *url;
	f->ops = ops;
	f->ctx = ctx;
	f->last_event = -1;
	f->need_sync = 1;
	f->known = json_object();
	f->held = json_array();
	if (!f->known || !f->held)
		return -ENOMEM;
	if (token && *token &&
	    (size_t)snprintf(f->auth, sizeof(f->auth), "Bearer %s", token) >= sizeof(f->auth))
		return -EINVAL;
	if ((size_t)snprintf(f->list_path, sizeof(f->list_path), "/api/v1/nodes%s",
			     conf->list_query ? conf->list_query : "") >= sizeof(f->list_path))
		return -EINVAL;
	if ((size_t)snprintf(path, sizeof(path), "/api/v1/stream%s",
			     conf->stream_query ? conf->stream_query : "") >= sizeof(path))
		return -EINVAL;
	return sse_init(&f->sse, url, path, token, &fl_sse_ops, f);
}

/* GET path as a JSON object.  @ret a new reference, or NULL with err filled. */
static json_t *fl_get(struct follow *f, const char *path, char *err, size_t errlen)
{
	const struct http_header h[] = { { "Authorization", f->auth },
					 { "Accept", "application/json" } };
	struct http_response resp = { 0 };
	json_t *j = NULL;

	if (http_request(&f->url, "GET", path, f->auth[0] ? h : h + 1, f->auth[0] ? 2 : 1, NULL, 0,
			 f->conf.timeout_ms, &resp, err, errlen))
		goto out;
	if (resp.status != 200) {
		snprintf(err, errlen, "GET %.80s: snowd answered %d%s", path, resp.status,
			 resp.status == 401 ? " (token refused)" : "");
		goto out;
	}
	j = jsonh_parse_object(resp.body.data, resp.body.len, err, errlen);
out:
	http_response_free(&resp);
	return j;
}

/* Hand ev over when it is newer than what was handed over.  @ret 1 when it was. */
static int fl_event(struct follow *f, json_t *ev)
{
	json_int_t id = json_integer_value(json_object_get(ev, "id"));

	if (!json_is_integer(json_object_get(ev, "id")) || id <= f->last_event)
		return 0;
	f->last_event = id;
	f->events++;
	f->ops->on_event(f->ctx, ev);
	return 1;
}

/*
 * Catch the events up.  The first time, only the newest conf.backlog (and
 * where the log ends); after that, every id above the last handed over,
 * oldest first, page by page.  @ret 0, or -1 with err filled.
 */
static int fl_catch_up(struct follow *f, char *err, size_t errlen)
{
	char path[128];
	json_t *page, *arr, *e;
	size_t i;
	int pages;

	if (f->last_event < 0) {
		snprintf(path, sizeof(path), "/api/v1/events?limit=%d",
			 f->conf.backlog > 0 ? f->conf.backlog : 1);
		page = fl_get(f, path, err, errlen);
		if (!page)
			return -1;
		arr = json_object_get(page, "events");
		/* Newest first: the first one says where the log ends. */
		if (!f->conf.backlog) {
			f->last_event = json_integer_value(json_object_get(json_array_get(arr, 0), "id"));
		} else {
			f->last_event = 0;
			for (i = json_array_size(arr); i-- > 0;)
				fl_event(f, json_array_get(arr, i));
		}
		json_decref(page);
		return 0;
	}
	for (pages = 0; pages < FOLLOW_EVENT_PAGES; pages++) {
		size_t n;
		snprintf(path, sizeof(path), "/api/v1/events?after=%lld&limit=%d",
			 (long long)f->last_event, FOLLOW_EVENT_PAGE);
		page = fl_get(f, path, err, errlen);
		if (!page)
			return -1;
		arr = json_object_get(page, "events");
		n = json_array_size(arr);
		json_array_foreach(arr, i, e)
			fl_event(f, e);
		json_decref(page);
		if (n < FOLLOW_EVENT_PAGE)
			return 0;
	}
	/* Still more: a long cut.  Skip to the log's end rather than stall. */
	page = fl_get(f, "/api/v1/events?limit=1", err, errlen);
	if (!page)
		return -1;
	e = json_array_get(json_object_get(page, "events"), 0);
	if (json_integer_value(json_object_get(e, "id")) > f->last_event) {
		f->skipped += (uint64_t)(json_integer_value(json_object_get(e, "id")) - f->last_event);
		f->last_event = json_integer_value(json_object_get(e, "id"));
	}
	json_decref(page);
	return 0;
}

/* Read the list and hand it over.  @ret 0, or -1 with err filled. */
static int fl_list(struct follow *f, char *err, size_t errlen)
{
	json_t *ans = fl_get(f, f->list_path, err, errlen), *arr, *n;
	size_t i;

	if (!ans)
		return -1;
	arr = json_object_get(ans, "nodes");
	if (!json_is_array(arr)) {
		snprintf(err, errlen, "GET /api/v1/nodes: no nodes array in the answer");
		json_decref(ans);
		return -1;
	}
	json_object_clear(f->known);
	json_array_foreach(arr, i, n) {
		const char *name = json_string_value(json_object_get(n, "name"));
		if (name)
			json_object_set_new(f->known, name, json_true());
	}
	f->lists++;
	f->ops->on_list(f->ctx, ans);
	json_decref(ans);
	return 0;
}

/* Events (first: a node that crossed a threshold is then in the list too), then the list. */
static void fl_sync(struct follow *f, int64_t now_ms)
{
	char err[256];
	json_t *e;
	size_t i;

	if (fl_catch_up(f, err, sizeof(err)) || fl_list(f, err, sizeof(err))) {
		f->sync_at_ms = now_ms + FOLLOW_RETRY_MS;
		if (f->ops->on_error)
			f->ops->on_error(f->ctx, err);
		return;
	}
	f->need_sync = 0;
	if (f->conf.relist_ms)
		f->relist_at_ms = now_ms + f->conf.relist_ms;
	/* What the stream brought meanwhile, each id once. */
	json_array_foreach(f->held, i, e)
		fl_event(f, e);
	json_array_clear(f->held);
}

static void fl_values(struct follow *f, json_t *msg)
{
	const char *name;
	json_t *upd;

	json_object_foreach(msg, name, upd) {
		/* A node the list did not have: one was added since. */
		if (!json_object_get(f->known, name) && !f->need_sync) {
			f->need_sync = 1;
			f->sync_at_ms = 0;
		}
	}
	f->ops->on_values(f->ctx, msg);
}

static void fl_node(struct follow *f, json_t *msg)
{
	const char *name = json_string_value(json_object_get(msg, "name"));
	const char *state = json_string_value(json_object_get(msg, "state"));

	if (!name || !state)
		return;
	if (!strcmp(state, "removed")) {
		if (json_object_get(f->known, name)) {
			json_object_del(f->known, name);
			if (f->ops->on_removed)
				f->ops->on_removed(f->ctx, name);
		}
		return;
	}
	if (!json_object_get(f->known, name)) {
		if (!f->need_sync) {
			f->need_sync = 1;
			f->sync_at_ms = 0;
		}
		return;
	}
	if (f->ops->on_node)
		f->ops->on_node(f->ctx, msg);
}

static void fl_on_message(void *ctx, const char *event, const char *data, size_t len)
{
	struct follow *f = ctx;
	json_t *msg;

	/* Only the messages used are parsed: values are most of the bytes. */
	if (strcmp(event, "values") && strcmp(event, "node") && strcmp(event, "event") &&
	    strcmp(event, "command"))
		return;
	msg = json_loadb(data, len, 0, NULL);
	if (!json_is_object(msg)) {
		json_decref(msg);
		return;
	}
	if (!strcmp(event, "values")) {
		fl_values(f, msg);
	} else if (!strcmp(event, "node")) {
		fl_node(f, msg);
	} else if (!strcmp(event, "event")) {
		/* Before the catch-up, an event is kept until it is known what came before it. */
		if (f->need_sync) {
			if (json_array_size(f->held) < FOLLOW_HELD_MAX)
				json_array_append(f->held, msg);
		} else {
			fl_event(f, msg);
		}
	} else if (f->ops->on_command) {
		f->ops->on_command(f->ctx, msg);
	}
	json_decref(msg);
}

static void fl_on_state(void *ctx, int up, const char *why)
{
	struct follow *f = ctx;

	f->up = up;
	/* Up: what changed while it was down is not replayed; read it (again). */
	if (up) {
		f->need_sync = 1;
		f->sync_at_ms = 0;
	}
	if (f->ops->on_state)
		f->ops->on_state(f->ctx, up, why);
}

int follow_pollfd(const struct follow *f, short *events)
{
	return sse_pollfd(&f->sse, events);
}

int follow_timeout_ms(const struct follow *f, int64_t now_ms)
{
	int t = sse_timeout_ms(&f->sse, now_ms);
	int64_t due = -1;

	if (f->up && f->need_sync)
		due = f->sync_at_ms;
	else if (f->up && f->conf.relist_ms)
		due = f->relist_at_ms;
	if (due >= 0) {
		int64_t w = due <= now_ms ? 0 : due - now_ms;
		if (t < 0 || w < t)
			t = (int)w;
	}
	return t;
}

void follow_step(struct follow *f, short revents, int64_t now_ms)
{
	sse_step(&f->sse, revents, now_ms);
	if (f->up && !f->need_sync && f->conf.relist_ms && now_ms >= f->relist_at_ms)
		f->need_sync = 1;
	if (f->up && f->need_sync && now_ms >= f->sync_at_ms)
		fl_sync(f, now_ms);
}

void follow_relist(struct follow *f, int64_t at_ms)
{
	if (!f->need_sync || f->sync_at_ms > at_ms)
		f->sync_at_ms = at_ms;
	f->need_sync = 1;
}

void follow_reconnect(struct follow *f, int64_t now_ms)
{
	sse_reconnect(&f->sse, now_ms);
}

void follow_free(struct follow *f)
{
	sse_free(&f->sse);
	json_decref(f->known);
	json_decref(f->held);
	f->known = f->held = NULL;
	explicit_bzero(f->auth, sizeof(f->auth));
}
