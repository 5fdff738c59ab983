#include "wake.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "jsonh.h"
#include "log.h"
#include "snowd.h"
#include "wakeup.h"

int wake_open(struct wake_tx *w)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	w->fd = fd;
	if (fd < 0)
		return -errno;
	return 0;
}

void wake_close(struct wake_tx *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

int wake_dest_parse(json_t *body, const char *client_ip, const char *secret,
		    struct wake_dest *d, char *err, size_t errlen)
{
	json_int_t port = 0;
	struct in_addr a;
	const char *ip = client_ip;

	memset(d, 0, sizeof(*d));
	if (jsonh_get_int(body, "wake_port", 0, 1, 65535, &port, err, errlen))
		return -EINVAL;
	if (!port)
		return 0;
	/* A dual-stack listener shows IPv4 clients as ::ffff:a.b.c.d. */
	if (!strncmp(ip, "::ffff:", 7))
		ip += 7;
	if (inet_pton(AF_INET, ip, &a) != 1)
		return 0; /* IPv6 nodes: no wake-ups yet, commands come with reports */
	d->ip = ntohl(a.s_addr);
	d->port = (uint16_t)port;
	wakeup_key(secret, d->key);
	return 0;
}

void wake_node(struct snowd *sd, const struct node_rt *rt)
{
	struct wake_tx *w = &sd->wake;
	struct sockaddr_in to = { .sin_family = AF_INET };
	char msg[WAKEUP_MAX + 1];
	uint64_t nonce = (uint64_t)clock_real_us();
	int len;

	/*
	 * Offline nodes too: one that missed its reports may be cut off from us
	 * only one way, and a datagram to a node that is down costs nothing.
	 */
	if (w->fd < 0 || !rt->wake.port) {
		log_debug("node %s: no wake-up (%s)", rt->name,
			  w->fd < 0 ? "no socket" : "its agent does not listen");
		return;
	}
	/* Strictly increasing for every node, also across restarts: the realtime clock. */
	if (nonce <= w->last_nonce)
		nonce = w->last_nonce + 1;
	w->last_nonce = nonce;
	len = wakeup_build(rt->wake.key, rt->name, (int64_t)time(NULL), nonce, msg);
	if (len < 0)
		return;
	to.sin_addr.s_addr = htonl(rt->wake.ip);
	to.sin_port = htons(rt->wake.port);
	if (sendto(w->fd, msg, (size_t)len, 0, (struct sockaddr *)&to, sizeof(to)) == len) {
		w->sent++;
		return;
	}
	/* The next report brings the command anyway: count it, log the first of a run. */
	if (w->failed++ % 1000 == 0)
		log_warnx("node %s: wake-up not sent: %s (the command waits for its next report)",
			  rt->name, strerror(errno));
}
