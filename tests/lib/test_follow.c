/*
 * lib/follow against a fake snowd on loopback (a thread answering the
 * stream, the node list and the events log): the list is read once the
 * stream is up; events are handed over each once, oldest first (a stream
 * event the catch-up already brought is dropped); a node the list lacks
 * makes it read again; a removed node is dropped without a read; after a
 * cut, the events missed are caught up by id and the list read again.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "follow.h"

struct fake {
	int lfd, port;
	pthread_t thread;
	pthread_mutex_t mu;
	int stream_fd;        /* the open stream's socket, -1 when none */
	json_t *nodes;        /* [{name}] the list answers */
	json_t *events;       /* the log, oldest first */
	int stop;
};

/* What the client was told. */
struct seen {
	int lists, nodes, values;
	json_t *ids;          /* event ids, in the order handed over */
	char removed[64];
};

static void fake_answer(struct fake *fk, int fd, const char *path)
{
	json_t *body = NULL;
	char *text, head[200];
	size_t i;

	pthread_mutex_lock(&fk->mu);
	if (!strncmp(path, "/api/v1/nodes", 13)) {
		body = json_pack("{s:O}", "nodes", fk->nodes);
	} else if (!strncmp(path, "/api/v1/events", 14)) {
		const char *a = strstr(path, "after="), *l = strstr(path, "limit=");
		long long after = a ? atoll(a + 6) : -1, limit = l ? atoll(l + 6) : 100;
		json_t *arr = json_array(), *e;
		if (a) { /* oldest first above the id */
			json_array_foreach(fk->events, i, e)
				if (json_integer_value(json_object_get(e, "id")) > after &&
				    (long long)json_array_size(arr) < limit)
					json_array_append(arr, e);
		} else { /* newest first */
			for (i = json_array_size(fk->events); i-- > 0 && (long long)json_array_size(arr) < limit;)
				json_array_append(arr, json_array_get(fk->events, i));
		}
		body = json_pack("{s:o}", "events", arr);
	}
	pthread_mutex_unlock(&fk->mu);
	text = body ? json_dumps(body, JSON_COMPACT) : strdup("{}");
	snprintf(head, sizeof(head), "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
		 "Content-Length: %zu\r\nConnection: close\r\n\r\n", body ? "200 OK" : "404 Not Found",
		 strlen(text));
	if (write(fd, head, strlen(head)) < 0 || write(fd, text, strlen(text)) < 0) {
		/* the test sees what is missing */
	}
	free(text);
	json_decref(body);
	close(fd);
}

static void *fake_main(void *arg)
{
	struct fake *fk = arg;

	while (!fk->stop) {
		struct pollfd p = { .fd = fk->lfd, .events = POLLIN };
		char req[2048], path[1024];
		size_t len = 0;
		int fd;

		if (poll(&p, 1, 50) <= 0)
			continue;
		fd = accept(fk->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		while (len < sizeof(req) - 1) {
			ssize_t n = read(fd, req + len, sizeof(req) - 1 - len);
			if (n <= 0)
				break;
			len += (size_t)n;
			req[len] = 0;
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		req[len] = 0;
		if (sscanf(req, "GET %1023s", path) != 1) {
			close(fd);
			continue;
		}
		if (!strncmp(path, "/api/v1/stream", 14)) {
			const char *h = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n";
			if (write(fd, h, strlen(h)) < 0) {
				close(fd);
				continue;
			}
			pthread_mutex_lock(&fk->mu);
			if (fk->stream_fd >= 0)
				close(fk->stream_fd);
			fk->stream_fd = fd;
			pthread_mutex_unlock(&fk->mu);
			continue;
		}
		fake_answer(fk, fd, path);
	}
	return NULL;
}

static int fake_stream_fd(struct fake *fk)
{
	int fd;

	pthread_mutex_lock(&fk->mu);
	fd = fk->stream_fd;
	pthread_mutex_unlock(&fk->mu);
	return fd;
}

/* One SSE message on the open stream. */
static void fake_send(struct fake *fk, const char *event, const char *data)
{
	char msg[1024];
	int n = snprintf(msg, sizeof(msg), "event: %s\ndata: %s\n\n", event, data);

	assert_int_equal(write(fake_stream_fd(fk), msg, (size_t)n), n);
}

static void fake_event(struct fake *fk, int id)
{
	pthread_mutex_lock(&fk->mu);
	json_array_append_new(fk->events, json_pack("{s:i, s:s, s:s}", "id", id, "node", "a",
						    "type", "test"));
	pthread_mutex_unlock(&fk->mu);
}

static void on_list(void *ctx, json_t *answer)
{
	struct seen *s = ctx;

	assert_true(json_is_array(json_object_get(answer, "nodes")));
	s->lists++;
}
static void on_node(void *ctx, json_t *msg) { ((struct seen *)ctx)->nodes++; }
static void on_values(void *ctx, json_t *msg) { ((struct seen *)ctx)->values++; }
static void on_event(void *ctx, json_t *ev)
{
	struct seen *s = ctx;

	json_array_append_new(s->ids, json_integer(json_integer_value(json_object_get(ev, "id"))));
}
static void on_removed(void *ctx, const char *name)
{
	struct seen *s = ctx;
	size_t l = strlen(s->removed);

	snprintf(s->removed + l, sizeof(s->removed) - l, "%s%s", l ? "," : "", name);
}

static const struct follow_ops ops = { .on_list = on_list, .on_node = on_node,
				       .on_removed = on_removed, .on_values = on_values,
				       .on_event = on_event };

/* Drive f until cond() holds or 5 s pass. */
#define DRIVE(f, cond)                                                                             \
	do {                                                                                       \
		int64_t end_ = clock_mono_ms() + 5000;                                             \
		while (!(cond) && clock_mono_ms() < end_) {                                        \
			short ev_ = 0;                                                             \
			struct pollfd p_ = { .fd = follow_pollfd(f, &ev_) };                       \
			int t_ = follow_timeout_ms(f, clock_mono_ms());                            \
			p_.events = ev_;                                                           \
			poll(&p_, p_.fd >= 0 ? 1 : 0, t_ < 0 || t_ > 50 ? 50 : t_);               \
			follow_step(f, p_.revents, clock_mono_ms());                               \
		}                                                                                  \
		if (!(cond))                                                                       \
			fail_msg("timed out waiting for %s", #cond);                               \
	} while (0)

static char *ids_text(const struct seen *s)
{
	return json_dumps(s->ids, JSON_COMPACT);
}

static void test_follow(void **state)
{
	struct fake fk = { .stream_fd = -1 };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sin);
	struct seen s = { .ids = json_array() };
	struct follow_conf conf = { .timeout_ms = 2000 };
	struct http_url url;
	struct follow f;
	char u[64], err[128], *t;

	signal(SIGPIPE, SIG_IGN);
	pthread_mutex_init(&fk.mu, NULL);
	fk.nodes = json_pack("[{s:s}, {s:s}]", "name", "a", "name", "b");
	fk.events = json_array();
	fake_event(&fk, 1);
	fake_event(&fk, 2);
	fake_event(&fk, 3);
	fk.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(fk.lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fk.lfd, 16), 0);
	assert_int_equal(getsockname(fk.lfd, (struct sockaddr *)&sin, &sl), 0);
	fk.port = ntohs(sin.sin_port);
	assert_int_equal(pthread_create(&fk.thread, NULL, fake_main, &fk), 0);
	snprintf(u, sizeof(u), "http://127.0.0.1:%d", fk.port);
	assert_int_equal(http_url_parse(u, &url, err, sizeof(err)), 0);
	assert_int_equal(follow_init(&f, &url, "tok", &conf, &ops, &s), 0);

	/* The stream first, then the list; no backlog: the log's 1..3 are not handed over. */
	DRIVE(&f, fake_stream_fd(&fk) >= 0 && s.lists == 1);
	assert_int_equal(json_array_size(s.ids), 0);
	assert_int_equal(f.last_event, 3);

	/* A repeat of an id handed over (or skipped) is dropped; a new one comes once. */
	fake_send(&fk, "event", "{\"id\":3,\"node\":\"a\",\"type\":\"test\"}");
	fake_send(&fk, "event", "{\"id\":4,\"node\":\"a\",\"type\":\"test\"}");
	fake_send(&fk, "values", "{\"a\":{\"values\":{\"x\":1}}}");
	fake_send(&fk, "node", "{\"name\":\"a\",\"state\":\"online\"}");
	DRIVE(&f, json_array_size(s.ids) == 1 && s.values == 1 && s.nodes == 1);
	assert_int_equal(json_integer_value(json_array_get(s.ids, 0)), 4);
	assert_int_equal(s.lists, 1);

	/* A node the list lacks: the list is read again (and the message not handed on). */
	pthread_mutex_lock(&fk.mu);
	json_array_append_new(fk.nodes, json_pack("{s:s}", "name", "c"));
	pthread_mutex_unlock(&fk.mu);
	fake_send(&fk, "node", "{\"name\":\"c\",\"state\":\"online\"}");
	DRIVE(&f, s.lists == 2);
	assert_int_equal(s.nodes, 1);
	fake_send(&fk, "node", "{\"name\":\"c\",\"state\":\"booting\"}");
	DRIVE(&f, s.nodes == 2);

	/* Removed: dropped at once, no read; a second removal of it is nothing. */
	fake_send(&fk, "node", "{\"name\":\"b\",\"state\":\"removed\"}");
	fake_send(&fk, "node", "{\"name\":\"b\",\"state\":\"removed\"}");
	fake_send(&fk, "values", "{\"a\":{\"values\":{\"x\":2}}}");
	DRIVE(&f, s.values == 2);
	assert_string_equal(s.removed, "b");
	assert_int_equal(s.lists, 2);

	/* A cut: 5 and 6 happen meanwhile; back up, they are caught up by id, then the list. */
	pthread_mutex_lock(&fk.mu);
	shutdown(fk.stream_fd, SHUT_RDWR);
	close(fk.stream_fd);
	fk.stream_fd = -1;
	pthread_mutex_unlock(&fk.mu);
	DRIVE(&f, !f.up);
	fake_event(&fk, 5);
	fake_event(&fk, 6);
	DRIVE(&f, fake_stream_fd(&fk) >= 0 && s.lists == 3);
	fake_send(&fk, "event", "{\"id\":6,\"node\":\"a\",\"type\":\"test\"}");
	fake_send(&fk, "event", "{\"id\":7,\"node\":\"a\",\"type\":\"test\"}");
	DRIVE(&f, json_array_size(s.ids) == 4);
	t = ids_text(&s);
	assert_string_equal(t, "[4,5,6,7]");
	free(t);

	follow_free(&f);
	fk.stop = 1;
	pthread_join(fk.thread, NULL);
	if (fk.stream_fd >= 0)
		close(fk.stream_fd);
	close(fk.lfd);
	json_decref(fk.nodes);
	json_decref(fk.events);
	json_decref(s.ids);
	pthread_mutex_destroy(&fk.mu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_follow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
