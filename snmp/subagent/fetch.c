/* The poller thread and the command sender.  See fetch.h. */
#include "fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jsonh.h"
#include "log.h"

#define FETCH_EVENT_PAGE 200
#define FETCH_EVENT_PAGES 10 /* at most this many pages per poll; the rest waits */
#define FETCH_BACKOFF_MAX_MS 5000

int64_t fetch_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
	r->at_ms = fetch_now_ms();
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
	r->at_ms = fetch_now_ms();
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

static void *fetch_main(void *arg)
{
	struct fetch *f = arg;
	int64_t next = fetch_now_ms(), backoff = f->conf.interval_ms;
	int was_up = -1;

	for (;;) {
		struct pollfd p = { .fd = f->stop_fd[0], .events = POLLIN };
		int64_t wait = next - fetch_now_ms();
		struct fetch_result *r;

		if (poll(&p, 1, wait > 0 ? (int)wait : 0) > 0)
			break;
		r = fetch_poll(f);
		f->polls++;
		if (!r) {
			next = fetch_now_ms() + f->conf.interval_ms;
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
		if (next < fetch_now_ms())
			next = fetch_now_ms(); /* a slow poll: start the next one now, do not pile up */
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
	return http_url_parse(conf->url, &f->url, err, errlen);
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
