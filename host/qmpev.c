/* QMP event connections of virtual nodes (qmpev.h). */
#include "qmpev.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "inv.h"
#include "klog_crash.h"
#include "log.h"
#include "nodes.h"
#include "snowd.h"

#define QMPEV_LINE 16384 /* a QMP message longer than this ends the connection */

struct qmpev_conn {
	int64_t node_id;
	char name[SNOW_NAME_MAX + 1];
	char path[108];
	int fd;                 /* -1 while not connected */
	int seen;               /* still named by the node's settings at the last scan */
	int64_t next_try;       /* monotonic ms */
	char buf[QMPEV_LINE];
	size_t len;
};

struct qmpev {
	int epfd;
	struct qmpev_conn **c;  /* owned, each */
	size_t n, cap;
	uint64_t gen;           /* settings_gen at the last scan */
	int64_t next_scan;
};

struct qmpev *qmpev_new(void)
{
	struct qmpev *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (q->epfd < 0) {
		free(q);
		return NULL;
	}
	q->gen = UINT64_MAX;
	return q;
}

static void qmpev_close(struct qmpev *q, struct qmpev_conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(q->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->len = 0;
	c->next_try = clock_mono_ms() + QMPEV_RETRY_MS;
}

void qmpev_free(struct qmpev *q)
{
	size_t i;

	if (!q)
		return;
	for (i = 0; i < q->n; i++) {
		qmpev_close(q, q->c[i]);
		free(q->c[i]);
	}
	free(q->c);
	close(q->epfd);
	free(q);
}

int qmpev_fd(const struct qmpev *q)
{
	return q ? q->epfd : -1;
}

/* One QMP message (a line of JSON) from c. */
static void qmpev_message(struct snowd *sd, struct qmpev_conn *c, const char *line, size_t len)
{
	json_t *v = json_loadb(line, len, 0, NULL);
	const char *ev = json_string_value(json_object_get(v, "event"));
	static const char caps[] = "{\"execute\": \"qmp_capabilities\"}\n";

	if (json_object_get(v, "QMP")) {
		/* The greeting: events flow once capabilities are negotiated. */
		if (write(c->fd, caps, sizeof(caps) - 1) != (ssize_t)sizeof(caps) - 1)
			qmpev_close(sd->qmpev, c);
	} else if (ev && !strcmp(ev, "GUEST_PANICKED")) {
		log_warnx("node %s: QEMU says the guest panicked", c->name);
		klog_crash_signal(sd, c->node_id, c->name, KLOG_SRC_PVPANIC);
	} else if (ev && !strcmp(ev, "WATCHDOG")) {
		log_warnx("node %s: QEMU says its watchdog fired (%s)", c->name,
			  json_string_value(json_object_get(json_object_get(v, "data"), "action")) ?: "?");
		klog_crash_signal(sd, c->node_id, c->name, KLOG_SRC_WATCHDOG);
	}
	json_decref(v);
}

void qmpev_input(struct snowd *sd)
{
	struct qmpev *q = sd->qmpev;
	struct epoll_event ev[16];
	int n, i;

	n = epoll_wait(q->epfd, ev, 16, 0);
	for (i = 0; i < n; i++) {
		struct qmpev_conn *c = ev[i].data.ptr;
		ssize_t r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		char *nl;

		if (r <= 0) {
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			log_debug("qmp events: %s: %s closed", c->name, c->path);
			qmpev_close(q, c);
			continue;
		}
		c->len += (size_t)r;
		while (c->fd >= 0 && (nl = memchr(c->buf, '\n', c->len))) {
			size_t l = (size_t)(nl - c->buf);
			qmpev_message(sd, c, c->buf, l);
			if (c->fd < 0)
				break;
			memmove(c->buf, nl + 1, c->len - l - 1);
			c->len -= l + 1;
		}
		if (c->fd >= 0 && c->len == sizeof(c->buf)) {
			log_warnx("qmp events: %s: a message over %d bytes; reconnecting", c->name,
				  QMPEV_LINE);
			qmpev_close(q, c);
		}
	}
}

static void qmpev_connect(struct qmpev *q, struct qmpev_conn *c, int64_t now)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN };

	c->next_try = now + QMPEV_RETRY_MS;
	strcpy(sa.sun_path, c->path); /* shorter than sun_path: checked by settings */
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		return;
	ev.data.ptr = c;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    epoll_ctl(q->epfd, EPOLL_CTL_ADD, c->fd, &ev)) {
		close(c->fd);
		c->fd = -1;
		return;
	}
	log_debug("qmp events: %s: connected to %s", c->name, c->path);
}

struct qmpev_scan {
	struct snowd *sd;
	int err;
};

static int qmpev_scan_node(void *ctx, const struct inv_node *n)
{
	struct qmpev_scan *s = ctx;
	struct qmpev *q = s->sd->qmpev;
	json_t *eff = nodes_effective(s->sd, n, NULL), *power = json_object_get(eff, "power");
	const char *path = json_string_value(json_object_get(power, "events"));
	const char *driver = json_string_value(json_object_get(power, "driver"));
	struct qmpev_conn *c = NULL, **grown;
	size_t i;

	/* A VM powered through an emulated BMC (redfish, ipmi) may name its event socket too. */
	if (!path || !driver || !strcmp(driver, "agent") || strlen(path) >= sizeof(c->path))
		goto out;
	for (i = 0; i < q->n; i++)
		if (q->c[i]->node_id == n->id)
			c = q->c[i];
	if (c && strcmp(c->path, path)) {
		qmpev_close(q, c);
		c->next_try = 0;
		strcpy(c->path, path);
	}
	if (!c) {
		if (q->n == q->cap) {
			size_t cap = q->cap ? 2 * q->cap : 8;
			grown = realloc(q->c, cap * sizeof(*grown));
			if (!grown)
				goto out;
			q->c = grown;
			q->cap = cap;
		}
		c = calloc(1, sizeof(*c));
		if (!c)
			goto out;
		c->fd = -1;
		c->node_id = n->id;
		snprintf(c->name, sizeof(c->name), "%s", n->name);
		strcpy(c->path, path);
		q->c[q->n++] = c;
	}
	c->seen = 1;
out:
	json_decref(eff);
	return 0;
}

void qmpev_tick(struct snowd *sd)
{
	struct qmpev *q = sd->qmpev;
	int64_t now = clock_mono_ms();
	size_t i;

	if (!q)
		return;
	if (q->gen != sd->settings_gen || now >= q->next_scan) {
		struct qmpev_scan s = { sd, 0 };
		for (i = 0; i < q->n; i++)
			q->c[i]->seen = 0;
		if (!inv_node_foreach(&sd->inv, qmpev_scan_node, &s)) {
			for (i = 0; i < q->n;) {
				if (q->c[i]->seen) {
					i++;
					continue;
				}
				qmpev_close(q, q->c[i]);
				free(q->c[i]);
				q->c[i] = q->c[--q->n];
			}
		}
		q->gen = sd->settings_gen;
		q->next_scan = now + QMPEV_SCAN_MS;
	}
	for (i = 0; i < q->n; i++)
		if (q->c[i]->fd < 0 && now >= q->c[i]->next_try)
			qmpev_connect(q, q->c[i], now);
}
