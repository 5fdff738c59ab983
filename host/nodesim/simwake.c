/* snow-nodesim's wake-ups: see simwake.h. */
#include "simwake.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sched.h"
#include "wakeup.h"

struct simwake {
	int fd;
	uint16_t port;
	struct ns_node **by_name;     /* every node, sorted by name */
	uint64_t datagrams, accepted, refused, unknown;
};

static int ns_wake_cmp(const void *a, const void *b)
{
	return strcmp((*(struct ns_node *const *)a)->sim.name, (*(struct ns_node *const *)b)->sim.name);
}

static struct ns_node *ns_wake_find(struct simwake *w, size_t n, const char *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, w->by_name[mid]->sim.name);
		if (!c)
			return w->by_name[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int ns_wake_open(struct nodesim *ns, char *err, size_t errlen)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	struct epoll_event ev = { .events = EPOLLIN };
	socklen_t alen = sizeof(a);
	struct simwake *w = calloc(1, sizeof(*w));
	int size = 16 << 20, rc;
	size_t i;

	if (!w || !(w->by_name = calloc(ns->nnodes ? ns->nnodes : 1, sizeof(*w->by_name)))) {
		free(w);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < ns->nnodes; i++)
		w->by_name[i] = &ns->nodes[i];
	qsort(w->by_name, ns->nnodes, sizeof(*w->by_name), ns_wake_cmp);
	w->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (w->fd < 0)
		goto fail;
	/* A command to every node at once: one datagram each, all in the queue together. */
	if (setsockopt(w->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(w->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (bind(w->fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(w->fd, (struct sockaddr *)&a, &alen))
		goto fail;
	w->port = ntohs(a.sin_port);
	ev.data.ptr = w;
	if (epoll_ctl(ns->epfd, EPOLL_CTL_ADD, w->fd, &ev))
		goto fail;
	ns->wake = w;
	log_info("wake-ups on udp port %u", w->port);
	return 0;
fail:
	rc = -errno;
	snprintf(err, errlen, "wake-ups: %s", strerror(errno));
	if (w->fd >= 0)
		close(w->fd);
	free(w->by_name);
	free(w);
	return rc;
}

/* Wake n: its next report now, or (a request in flight) once that one ends. */
static void ns_wake_node(struct nodesim *ns, struct ns_node *n, int64_t now)
{
	int64_t due = n->last_step_ms + WAKEUP_GAP_MS;

	if (n->state != NS_REPORT)
		return; /* registering or down: its first report comes at once anyway */
	if (n->busy) {
		n->woken = 1;
		return;
	}
	if (due < now)
		due = now;
	if (due < n->due_ms) {
		n->urgent = 1;
		ns_schedule(ns, n, due);
	}
}

void ns_wake_input(struct nodesim *ns, int64_t now)
{
	struct simwake *w = ns->wake;
	char buf[WAKEUP_MAX + 2], err[128];
	struct wakeup_msg m;
	int i;

	for (i = 0; w && i < 4096; i++) {
		ssize_t len = recv(w->fd, buf, sizeof(buf), MSG_TRUNC);
		struct ns_node *n;
		int rc;
		if (len < 0)
			break;
		w->datagrams++;
		if ((size_t)len > WAKEUP_MAX + 1 || wakeup_parse(buf, (size_t)len, &m, err, sizeof(err)) ||
		    !(n = ns_wake_find(w, ns->nnodes, m.name)) || !n->wake_key[0]) {
			w->unknown++;
			continue;
		}
		rc = wakeup_accept(&n->wake_guard, &m, n->sim.name, n->wake_key, (int64_t)time(NULL),
				   now);
		if (rc) {
			if (!w->refused++)
				log_warnx("%s: wake-up refused: %s", n->sim.name, strerror(-rc));
			continue;
		}
		w->accepted++;
		ns_wake_node(ns, n, now);
	}
}

void ns_wake_close(struct nodesim *ns)
{
	struct simwake *w = ns->wake;

	if (!w)
		return;
	log_info("wake-ups: %llu datagrams, %llu accepted, %llu refused, %llu malformed or unknown",
		 (unsigned long long)w->datagrams, (unsigned long long)w->accepted,
		 (unsigned long long)w->refused, (unsigned long long)w->unknown);
	close(w->fd);
	free(w->by_name);
	free(w);
	ns->wake = NULL;
}

int ns_wake_register(struct nodesim *ns, struct ns_node *n, json_t *body)
{
	if (!ns->wake || !body)
		return 0;
	/* As the agent: keyed with the secret this registration is signed with. */
	wakeup_key(n->sim.conf.secret, n->wake_key);
	return json_object_set_new(body, "wake_port", json_integer(ns->wake->port)) ? -ENOMEM : 0;
}

void ns_wake_after_report(struct nodesim *ns, struct ns_node *n, int64_t now)
{
	if (!n->woken)
		return;
	n->woken = 0;
	ns_wake_node(ns, n, now);
}
