/* The poller thread and the command sender.  See fetch.h. */
#include "fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "jsonh.h"
#include "follow.h"
#include "log.h"

#define FETCH_EVENT_PAGE 200
#define FETCH_EVENT_PAGES 10 /* at most this many pages per poll; the rest waits */
#define FETCH_BACKOFF_MAX_MS 5000

void fetch_result_free(struct fetch_result *r)
{
	if (!r)
		return;
	model_snap_free(r->snap);
	json_decref(r->events);
	free(r);
}

/*
 * GET path as JSON.  @ret a new reference (caller json_decref()s it) or
 * NULL with err filled.
 */
static json_t *fetch_get(struct fetch *f, const char *path, char *err, size_t errlen)
{
	char auth[512];
	struct http_header h[] = { { "Authorization", auth }, { "Accept", "application/json" } };
	struct http_response resp = { 0 };
	json_t *j = NULL;
	int rc;

	snprintf(auth, sizeof(auth), "Bearer %s", f->conf.token);
	rc = http_request(&f->url, "GET", path, h, 2, NULL, 0, f->conf.timeout_ms, &resp, err,
			  errlen);
	if (rc)
		goto out;
	if (resp.status != 200) {
		snprintf(err, errlen, "GET %s: HTTP %d%s", path, resp.status,
			 resp.status == 401 ? " (token refused)" : "");
		goto out;
	}
	j = jsonh_parse_object(resp.body.data, resp.body.len, err, errlen);
out:
	http_response_free(&resp);
	return j;
}

/*
 * New events since f->last_event, oldest first.  The first poll only
 * learns where the log ends: events from before the subagent started are
 * not notified again.  @ret a new array or NULL with err filled.
 */
static json_t *fetch_events(struct fetch *f, char *err, size_t errlen)
{
	json_t *out = json_array(), *page, *arr, *e;
	int64_t before = 0, newest = f->last_event;
	char path[128];
	int pages;
	size_t i;

	if (!out)
		return NULL;
	for (pages = 0; pages < FETCH_EVENT_PAGES; pages++) {
		int more = 1;
		if (before)
			snprintf(path, sizeof(path), "/api/v1/events?limit=%d&before=%lld",
				 FETCH_EVENT_PAGE, (long long)before);
		else
			snprintf(path, sizeof(path), "/api/v1/events?limit=%d",
				 f->last_event < 0 ? 1 : FETCH_EVENT_PAGE);
		page = fetch_get(f, path, err, errlen);
		if (!page) {
			json_decref(out);
			return NULL;
		}
		arr = json_object_get(page, "events");
		json_array_foreach(arr, i, e) {
			json_int_t id = json_integer_value(json_object_get(e, "id"));
			if (id > newest)
				newest = id;
			if (f->last_event < 0 || id <= f->last_event) {
				more = 0;
				break;
			}
			/* Pages come newest first: insert at the front to end oldest first. */
			json_array_insert(out, 0, e);
			before = id;
		}
		if (f->last_event < 0 || json_array_size(arr) < FETCH_EVENT_PAGE)
			more = 0;
		json_decref(page);
		if (!more)
			break;
	}
	f->last_event = newest < 0 ? 0 : newest;
	return out;
}

static struct fetch_result *fetch_poll(struct fetch *f)
{
	struct fetch_result *r = calloc(1, sizeof(*r));
	char warn[200] = "";
	json_t *body;

	if (!r)
		return NULL;
	r->at_ms = clock_mono_ms();
	/* Events first: a node that crosses a threshold is then in the snapshot too. */
	r->events = fetch_events(f, r->error, sizeof(r->error));
	if (!r->events)
		return r;
	body = fetch_get(f, "/api/v1/nodes", r->error, sizeof(r->error));
	if (!body)
		return r;
	r->snap = model_snap_build(body, warn, sizeof(warn));
	json_decref(body);
	if (!r->snap) {
		snprintf(r->error, sizeof(r->error), "nodes: %s", warn);
		return r;
	}
	if (r->snap->skipped && (f->polls % 60) == 0)
		log_warnx("snowd: %zu nodes or rows left out: %s", r->snap->skipped, warn);
	r->reachable = 1;
	r->at_ms = clock_mono_ms();
	return r;
}

/* Hand r over, replacing a result the agent thread did not take yet. */
static void fetch_hand_over(struct fetch *f, struct fetch_result *r)
{
	struct fetch_result *old;
	char c = 1;

	pthread_mutex_lock(&f->lock);
	old = f->ready;
	if (old) {
		/* Keep the events of the result dropped: each is notified once. */
		json_t *ev = json_array();
		if (ev) {
			json_array_extend(ev, old->events);
			json_array_extend(ev, r->events);
			json_decref(r->events);
			r->events = ev;
		}
		if (!r->snap) {
			r->snap = old->snap;
			old->snap = NULL;
		}
	}
	f->ready = r;
	pthread_mutex_unlock(&f->lock);
	fetch_result_free(old);
	if (write(f->notify_fd, &c, 1) < 0) {
		/* The pipe is full: the agent thread has a wake-up pending anyway. */
	}
}

/* ---- stream mode ------------------------------------------------------------- */
/*
 * lib/follow keeps to the protocol (docs/api.md "Following the cluster");
 * these callbacks keep the copy in the shape GET /api/v1/nodes answers,
 * which model_snap_build() reads.
 */

static struct fetch_slot *st_slot(struct fetch_stream *st, const char *name)
{
	json_t *i = name ? json_object_get(st->index, name) : NULL;

	return i ? &st->slots[json_integer_value(i)] : NULL;
}

static void st_slots_free(struct fetch_stream *st)
{
	size_t i;

	for (i = 0; i < st->nslots; i++)
		model_block_unref(st->slots[i].b);
	st->nslots = 0;
	json_object_clear(st->index);
}

static void st_on_list(void *ctx, json_t *answer)
{
	struct fetch *f = ctx;
	struct fetch_stream *st = &f->st;
	json_t *arr = json_object_get(answer, "nodes"), *n;
	size_t i;

	st_slots_free(st);
	if (json_array_size(arr) > st->slots_cap) {
		struct fetch_slot *p = realloc(st->slots, json_array_size(arr) * sizeof(*p));
		if (!p) {
			log_warnx("snowd: out of memory for %zu nodes", json_array_size(arr));
			return;
		}
		st->slots = p;
		st->slots_cap = json_array_size(arr);
	}
	json_decref(st->body);
	st->body = json_incref(answer);
	json_array_foreach(arr, i, n) {
		const char *name = json_string_value(json_object_get(n, "name"));
		if (!name || json_object_get(st->index, name))
			continue;
		json_object_set_new(st->index, name, json_integer((json_int_t)st->nslots));
		st->slots[st->nslots++] = (struct fetch_slot){ .n = n, .dirty = 1 };
	}
	json_object_clear(st->refresh);
	st->dirty = 1;
	st->reloads++;
}

/* Node slot changed: its rows are built again at the next snapshot. */
static void st_changed(struct fetch_stream *st, struct fetch_slot *slot)
{
	slot->dirty = 1;
	st->dirty = 1;
}

static void st_on_node(void *ctx, json_t *msg)
{
	struct fetch *f = ctx;
	struct fetch_stream *st = &f->st;
	const char *name = json_string_value(json_object_get(msg, "name"));
	const char *state = json_string_value(json_object_get(msg, "state"));
	struct fetch_slot *slot = st_slot(st, name);
	const char *was;

	if (!slot)
		return;
	was = json_string_value(json_object_get(slot->n, "state"));
	/* A new boot registered: its schema, boot id, online_since are read anew. */
	if (!strcmp(state, "online") && (!was || strcmp(was, "online")))
		json_object_set_new(st->refresh, name, json_true());
	json_object_update(slot->n, msg);
	st_changed(st, slot);
}

static void st_on_removed(void *ctx, const char *name)
{
	struct fetch *f = ctx;
	struct fetch_stream *st = &f->st;
	json_t *arr = json_object_get(st->body, "nodes");
	struct fetch_slot *slot = st_slot(st, name), *last;
	size_t i;

	if (!slot)
		return;
	for (i = 0; i < json_array_size(arr); i++) {
		if (json_array_get(arr, i) == slot->n) {
			json_array_remove(arr, i);
			break;
		}
	}
	/* The last slot takes the place of the one that goes. */
	model_block_unref(slot->b);
	last = &st->slots[--st->nslots];
	if (slot != last) {
		*slot = *last;
		json_object_set_new(st->index, json_string_value(json_object_get(slot->n, "name")),
				    json_integer(slot - st->slots));
	}
	json_object_del(st->index, name);
	json_object_del(st->refresh, name);
	st->dirty = 1;
}

static void st_on_values(void *ctx, json_t *msg)
{
	struct fetch *f = ctx;
	struct fetch_stream *st = &f->st;
	struct fetch_slot *slot;
	const char *name;
	json_t *upd;

	st->messages++;
	/* {NAME: {values, watermarks, last_seen, seq, thresholds?, devices?}}: as the list has them. */
	json_object_foreach(msg, name, upd) {
		slot = st_slot(st, name);
		if (slot && json_is_object(upd)) {
			json_object_update(slot->n, upd);
			st_changed(st, slot);
		}
	}
}

static void st_on_event(void *ctx, json_t *ev)
{
	struct fetch *f = ctx;
	const char *type = json_string_value(json_object_get(ev, "type"));
	struct fetch_slot *slot;

	json_array_append(f->st.events, ev);
	/* A crash: the node's last_crash, as the list would say it after a reload. */
	if (type && !strcmp(type, "crash") &&
	    (slot = st_slot(&f->st, json_string_value(json_object_get(ev, "node"))))) {
		json_object_set_new(
			slot->n, "last_crash",
			json_pack("{s:O?, s:O?, s:O?}", "time", json_object_get(ev, "time"), "boot_id",
				  json_object_get(ev, "boot_id"), "panic",
				  json_object_get(json_object_get(ev, "attrs"), "panic")));
		st_changed(&f->st, slot);
	}
}

static void fetch_hand_over(struct fetch *f, struct fetch_result *r);

static void st_on_state(void *ctx, int up, const char *why)
{
	struct fetch *f = ctx;
	struct fetch_stream *st = &f->st;
	struct fetch_result *r;

	if (up) {
		st->up = 1;
		log_info("snowd: following the stream at %s:%s", f->url.host, f->url.port);
		return;
	}
	if (st->up || !st->why[0])
		log_warnx("snowd: stream: %s (retrying)", why);
	st->up = 0;
	snprintf(st->why, sizeof(st->why), "%s", why);
	r = calloc(1, sizeof(*r));
	if (!r)
		return;
	r->events = json_array();
	r->at_ms = clock_mono_ms();
	snprintf(r->error, sizeof(r->error), "stream: %s", why);
	fetch_hand_over(f, r);
}

static void st_on_error(void *ctx, const char *why)
{
	log_warnx("snowd: %s (trying again)", why);
}

static const struct follow_ops st_ops = {
	.on_list = st_on_list,
	.on_node = st_on_node,
	.on_removed = st_on_removed,
	.on_values = st_on_values,
	.on_event = st_on_event,
	.on_state = st_on_state,
	.on_error = st_on_error,
};

/*
 * The copy's snapshot: the rows of the nodes that changed built again, the
 * others' blocks shared.  @ret NULL out of memory (warn says so).
 */
static struct model_snap *st_build(struct fetch_stream *st, char *warn, size_t warnlen)
{
	struct model_block **b = malloc((st->nslots + 1) * sizeof(*b));
	struct model_snap *s;
	size_t i, nb = 0, skipped = 0;

	if (!b) {
		snprintf(warn, warnlen, "out of memory");
		return NULL;
	}
	for (i = 0; i < st->nslots; i++) {
		struct fetch_slot *slot = &st->slots[i];
		if (slot->dirty) {
			struct model_block *nb_ = NULL;
			int rc = model_block_build(slot->n, &nb_, warn[0] ? NULL : warn, warnlen);
			if (rc == -ENOMEM) {
				free(b);
				snprintf(warn, warnlen, "out of memory");
				return NULL;
			}
			model_block_unref(slot->b);
			slot->b = nb_;
			slot->dirty = 0;
			st->rebuilt++;
		}
		if (slot->b)
			b[nb++] = slot->b;
		else
			skipped++;
	}
	s = model_snap_from(b, nb, skipped);
	free(b);
	if (!s)
		snprintf(warn, warnlen, "out of memory");
	return s;
}

/* Hand over a snapshot of the copy and the events gathered.  @ret 0 or -1 (nothing handed). */
static int st_snapshot(struct fetch *f, int64_t now)
{
	struct fetch_stream *st = &f->st;
	struct fetch_result *r = calloc(1, sizeof(*r));
	char warn[200] = "";

	if (!r)
		return -1;
	r->at_ms = now;
	r->events = st->events;
	st->events = json_array();
	if (st->dirty) {
		r->snap = st_build(st, warn, sizeof(warn));
		if (!r->snap)
			snprintf(r->error, sizeof(r->error), "nodes: %s", warn);
		else if (r->snap->skipped && (f->polls % 600) == 0)
			log_warnx("snowd: %zu nodes or rows left out: %s", r->snap->skipped, warn);
		st->dirty = 0;
	}
	r->reachable = r->snap || !warn[0];
	f->polls++;
	fetch_hand_over(f, r);
	return 0;
}

/* Read the nodes that came online again, one GET each (a few per pass). */
static void st_refresh(struct fetch *f, int64_t now)
{
	struct fetch_stream *st = &f->st;
	const char *name;
	json_t *v, *tmp, *done = json_array();
	size_t count = 0;

	json_object_foreach_safe(st->refresh, tmp, name, v) {
		char path[160], err[256];
		struct fetch_slot *slot = st_slot(st, name);
		json_t *fresh;

		if (count++ == FETCH_REFRESH_MAX)
			break;
		json_array_append_new(done, json_string(name));
		if (!slot)
			continue;
		snprintf(path, sizeof(path), "/api/v1/nodes/%s", name);
		fresh = fetch_get(f, path, err, sizeof(err));
		if (!fresh) {
			/* Gone, or snowd is busy: the whole list says which, soon. */
			follow_relist(&st->fl, now + 2000);
			continue;
		}
		/* What the list does not carry is not kept. */
		json_object_del(fresh, "settings");
		json_object_del(fresh, "effective");
		json_object_del(fresh, "origins");
		json_object_update(slot->n, fresh);
		json_decref(fresh);
		st_changed(st, slot);
	}
	json_array_foreach(done, count, v)
		json_object_del(st->refresh, json_string_value(v));
	json_decref(done);
}

static void fetch_stream_main(struct fetch *f)
{
	struct fetch_stream *st = &f->st;
	/* Events from before the subagent started are not notified again: no backlog. */
	const struct follow_conf fc = { .timeout_ms = f->conf.timeout_ms,
					.relist_ms = FETCH_RELOAD_MS };
	int64_t next_snap = 0;

	st->events = json_array();
	st->refresh = json_object();
	st->index = json_object();
	if (follow_init(&st->fl, &f->url, f->conf.token, &fc, &st_ops, f)) {
		log_warnx("snowd: the URL's path or the token is too long for the stream");
		goto out;
	}
	for (;;) {
		int64_t now = clock_mono_ms();
		struct pollfd p[2] = { { .fd = f->stop_fd[0], .events = POLLIN }, { .fd = -1 } };
		int timeout;
		short ev = 0;

		if (st->up && st->body && json_object_size(st->refresh))
			st_refresh(f, now);
		now = clock_mono_ms();
		if (st->body && (st->dirty || json_array_size(st->events)) && now >= next_snap &&
		    !st_snapshot(f, now))
			next_snap = now + f->conf.interval_ms;
		timeout = follow_timeout_ms(&st->fl, now);
		if (st->body && (st->dirty || json_array_size(st->events))) {
			int64_t w = next_snap - now;
			if (w < 0)
				w = 0;
			if (timeout < 0 || w < timeout)
				timeout = (int)w;
		}
		p[1].fd = follow_pollfd(&st->fl, &ev);
		p[1].events = ev;
		if (poll(p, 2, timeout) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		follow_step(&st->fl, p[1].revents, clock_mono_ms());
	}
out:
	follow_free(&st->fl);
	st_slots_free(st);
	free(st->slots);
	st->slots = NULL;
	st->slots_cap = 0;
	json_decref(st->body);
	json_decref(st->index);
	json_decref(st->events);
	json_decref(st->refresh);
	st->body = st->index = st->events = st->refresh = NULL;
}

/* ---- poll mode ----------------------------------------------------------------- */

static void *fetch_main(void *arg)
{
	struct fetch *f = arg;
	int64_t next = clock_mono_ms(), backoff = f->conf.interval_ms;
	int was_up = -1;

	if (f->use_stream) {
		fetch_stream_main(f);
		return NULL;
	}

	for (;;) {
		struct pollfd p = { .fd = f->stop_fd[0], .events = POLLIN };
		int64_t wait = next - clock_mono_ms();
		struct fetch_result *r;

		if (poll(&p, 1, wait > 0 ? (int)wait : 0) > 0)
			break;
		r = fetch_poll(f);
		f->polls++;
		if (!r) {
			next = clock_mono_ms() + f->conf.interval_ms;
			continue;
		}
		if (r->reachable != was_up) {
			if (r->reachable)
				log_info("snowd: reached %s:%s (%zu nodes)", f->url.host, f->url.port,
					 r->snap->nnodes);
			else
				log_warnx("snowd: %s (retrying)", r->error);
			was_up = r->reachable;
		}
		/* Back off while snowd is away, up to a few seconds; at once when it is back. */
		backoff = r->reachable ? f->conf.interval_ms :
					 (backoff * 2 > FETCH_BACKOFF_MAX_MS ? FETCH_BACKOFF_MAX_MS :
									       backoff * 2);
		fetch_hand_over(f, r);
		next += backoff;
		if (next < clock_mono_ms())
			next = clock_mono_ms(); /* a slow poll: start the next one now, do not pile up */
	}
	return NULL;
}

int fetch_init(struct fetch *f, const struct fetch_conf *conf, char *err, size_t errlen)
{
	memset(f, 0, sizeof(*f));
	f->conf = *conf;
	f->last_event = -1;
	f->stop_fd[0] = f->stop_fd[1] = -1;
	f->notify_fd = -1;
	if (http_url_parse(conf->url, &f->url, err, errlen))
		return -EINVAL;
	if (f->url.tls && httpc_tls_enable()) {
		snprintf(err, errlen, "url: https:// needs GnuTLS, which did not start");
		return -EIO;
	}
	f->use_stream = !conf->poll;
	return 0;
}

int fetch_start(struct fetch *f, int notify_fd)
{
	int rc;

	f->notify_fd = notify_fd;
	if (pipe2(f->stop_fd, O_CLOEXEC))
		return -errno;
	pthread_mutex_init(&f->lock, NULL);
	rc = pthread_create(&f->thread, NULL, fetch_main, f);
	if (rc) {
		close(f->stop_fd[0]);
		close(f->stop_fd[1]);
		pthread_mutex_destroy(&f->lock);
		return -rc;
	}
	f->running = 1;
	return 0;
}

void fetch_stop(struct fetch *f)
{
	char c = 1;

	if (!f->running)
		return;
	if (write(f->stop_fd[1], &c, 1) < 0)
		log_warn("fetch: stop");
	pthread_join(f->thread, NULL);
	close(f->stop_fd[0]);
	close(f->stop_fd[1]);
	fetch_result_free(f->ready);
	f->ready = NULL;
	pthread_mutex_destroy(&f->lock);
	f->running = 0;
}

struct fetch_result *fetch_take(struct fetch *f)
{
	struct fetch_result *r;

	pthread_mutex_lock(&f->lock);
	r = f->ready;
	f->ready = NULL;
	pthread_mutex_unlock(&f->lock);
	return r;
}

int fetch_command(struct fetch *f, const char *node, json_t *cmd, int64_t *id, char *err,
		  size_t errlen)
{
	char auth[512], path[128];
	struct http_header h[] = { { "Authorization", auth },
				   { "Content-Type", "application/json" } };
	struct http_response resp = { 0 };
	char *body = jsonh_dump(cmd);
	json_t *ans = NULL;
	int rc;

	if (!body) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(auth, sizeof(auth), "Bearer %s", f->conf.token);
	snprintf(path, sizeof(path), "/api/v1/nodes/%s/commands", node);
	rc = http_request(&f->url, "POST", path, h, 2, body, strlen(body), f->conf.timeout_ms,
			  &resp, err, errlen);
	free(body);
	if (rc)
		goto out;
	if (resp.status != 202) {
		json_t *e = jsonh_parse_object(resp.body.data, resp.body.len, err, errlen);
		const char *msg = e ? json_string_value(json_object_get(e, "error")) : NULL;
		snprintf(err, errlen, "snowd answered %d: %s", resp.status, msg ? msg : "?");
		json_decref(e);
		rc = -EPROTO;
		goto out;
	}
	ans = jsonh_parse_object(resp.body.data, resp.body.len, err, errlen);
	*id = ans ? (int64_t)json_integer_value(json_object_get(ans, "id")) : 0;
	json_decref(ans);
out:
	http_response_free(&resp);
	return rc;
}
