#include "wake.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

int wake_listen(struct agent_wake *w, long port, char *err, size_t errlen)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	socklen_t alen = sizeof(a);
	int rc;

	w->fd = -1;
	if (port == WAKE_PORT_OFF)
		return 0;
	w->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (w->fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "wake-ups: socket: %s", strerror(errno));
		return rc;
	}
	a.sin_port = htons((uint16_t)port);
	if (bind(w->fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(w->fd, (struct sockaddr *)&a, &alen)) {
		rc = -errno;
		snprintf(err, errlen, "wake-ups: udp port %ld: %s", port, strerror(errno));
		close(w->fd);
		w->fd = -1;
		return rc;
	}
	w->port = ntohs(a.sin_port);
	return 0;
}

void wake_stop(struct agent_wake *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	explicit_bzero(w->key, sizeof(w->key));
}

void wake_keyed(struct agent_wake *w, const char *secret)
{
	if (w->fd >= 0)
		wakeup_key(secret, w->key);
}

int wake_register_field(const struct agent_wake *w, json_t *body)
{
	if (w->fd < 0 || !body)
		return 0;
	return json_object_set_new(body, "wake_port", json_integer(w->port)) ? -ENOMEM : 0;
}

int wake_drain(struct agent_wake *w, const char *name)
{
	char buf[WAKEUP_MAX + 2], err[128];
	struct wakeup_msg m;
	int woken = 0, i;

	/* A bounded number a turn: a flood cannot hold the loop. */
	for (i = 0; i < 256 && w->fd >= 0; i++) {
		ssize_t n = recv(w->fd, buf, sizeof(buf), MSG_TRUNC);
		int rc;
		if (n < 0)
			break;
		if ((size_t)n > WAKEUP_MAX + 1) {
			rc = -EMSGSIZE;
			snprintf(err, sizeof(err), "%zd bytes", n);
		} else if (!w->key[0]) {
			continue; /* not registered yet: there is nothing to wake */
		} else if (!(rc = wakeup_parse(buf, (size_t)n, &m, err, sizeof(err)))) {
			rc = wakeup_accept(&w->guard, &m, name, w->key, (int64_t)time(NULL),
					   clock_mono_ms());
			snprintf(err, sizeof(err), "%s", rc == -ENOENT ? "another node's" :
					  rc == -EBUSY ? "over the budget" : rc == -EBADMSG ? "bad MAC" :
					  rc == -ETIME ? "stale time or nonce" : "replayed");
		}
		if (!rc) {
			woken = 1;
			w->bad_logged = 0;
			continue;
		}
		if (w->bad_logged != rc) {
			log_warnx("wake-up refused: %s (commands still come with reports)", err);
			w->bad_logged = rc;
		} else {
			log_debug("wake-up refused: %s", err);
		}
	}
	if (woken)
		log_debug("woken up by the host: reporting now");
	return woken;
}
