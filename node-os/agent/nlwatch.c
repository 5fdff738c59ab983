#include "nlwatch.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

static int nlwatch_socket(int proto, unsigned groups)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = groups };
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	int rc;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

int nlwatch_open(struct nlwatch *w, char *err, size_t errlen)
{
	memset(w, 0, sizeof(*w));
	w->uev_fd = nlwatch_socket(NETLINK_KOBJECT_UEVENT, 1);
	w->rt_fd = nlwatch_socket(NETLINK_ROUTE, RTMGRP_LINK);
	if (w->uev_fd < 0 && w->rt_fd < 0) {
		snprintf(err, errlen, "netlink: uevent: %s; rtnetlink: %s", strerror(-w->uev_fd),
			 strerror(-w->rt_fd));
		return w->uev_fd;
	}
	if (w->uev_fd < 0)
		log_warnx("netlink: no uevent socket (%s): rtnetlink only", strerror(-w->uev_fd));
	if (w->rt_fd < 0)
		log_warnx("netlink: no rtnetlink socket (%s): uevents only", strerror(-w->rt_fd));
	return 0;
}

void nlwatch_close(struct nlwatch *w)
{
	if (w->uev_fd >= 0)
		close(w->uev_fd);
	if (w->rt_fd >= 0)
		close(w->rt_fd);
	w->uev_fd = w->rt_fd = -1;
}

int nlwatch_drain(struct nlwatch *w, int fd)
{
	char buf[8192];
	int seen = 0, kind = fd == w->uev_fd ? NLW_UEVENT : NLW_LINK;
	unsigned n = 0;

	/* Bounded: a flood of messages does not keep the loop here. */
	while (n++ < 256) {
		struct sockaddr_nl from;
		struct iovec iov = { buf, sizeof(buf) - 1 };
		struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from),
				     .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t len = recvmsg(fd, &mh, MSG_DONTWAIT);

		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				/* Messages were lost: a rescan catches up all the same. */
				seen |= kind;
				continue;
			}
			break;
		}
		if (mh.msg_namelen != sizeof(from) || from.nl_pid != 0)
			continue; /* not the kernel's */
		if (kind == NLW_UEVENT) {
			buf[len] = '\0';
			w->uevents++;
			log_debug("uevent: %.120s", buf); /* "ACTION@DEVPATH" first */
		} else {
			w->links++;
		}
		seen |= kind;
	}
	return seen;
}
