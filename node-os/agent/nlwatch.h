/*
 * Device changes as they happen: the kernel's uevents (NETLINK_KOBJECT_UEVENT:
 * a CPU, memory block, disk or interface added, removed, onlined) and
 * rtnetlink's link messages (RTMGRP_LINK: an interface up, down, its
 * carrier), both in the agent's poll loop.  A message only says "look now":
 * the agent rescans its device tree at once (ddm_scan, cause "uevent" or
 * "rtnetlink"), so a change is an event within milliseconds instead of at
 * the next sample.  Only the kernel's messages count (sender port 0).
 * Both sockets are of the agent's network namespace: a node's.
 */
#ifndef SNOW_NODE_NLWATCH_H
#define SNOW_NODE_NLWATCH_H

#include <stddef.h>

#define NLW_UEVENT 1
#define NLW_LINK 2

struct nlwatch {
	int uev_fd, rt_fd;          /* -1: not open */
	unsigned long uevents, links; /* kernel messages seen */
};

/*
 * Open both sockets (non-blocking).  @ret 0 when at least one opened, or
 * -errno with err saying why neither could; w's fds are -1 for those not open.
 */
int nlwatch_open(struct nlwatch *w, char *err, size_t errlen);
void nlwatch_close(struct nlwatch *w);

/*
 * Read every message waiting on fd (one of w's).  @ret NLW_UEVENT and/or
 * NLW_LINK for the kernel messages read (0: none; an overrun counts as one).
 */
int nlwatch_drain(struct nlwatch *w, int fd);

#endif
