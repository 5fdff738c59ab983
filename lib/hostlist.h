/*
 * The snowd a node may talk to: node.conf's host_url, one URL or several
 * separated by commas or blanks (docs/protocol.md, "Several snowd").  The
 * node sticks to the one that answered last and moves to the next one in
 * the list, round, only when the current one stops answering; snow-agent
 * (lib/wire.c) and snow-nodesim (host/nodesim/) follow this one rule.
 */
#ifndef SNOW_HOSTLIST_H
#define SNOW_HOSTLIST_H

#include <stddef.h>

#include "httpc.h"

#define HOSTLIST_MAX 8        /* URLs in one host_url */
#define HOSTLIST_TEXT_MAX 2048 /* the longest host_url value taken */

struct hostlist {
	struct http_url url[HOSTLIST_MAX];
	size_t n;   /* >= 1 once parsed */
	size_t cur; /* the one in use */
};

/*
 * Parse text, URLs separated by commas and/or blanks (each as
 * http_url_parse() takes it; one URL is a list of one), into hl.  All URLs
 * must share one path prefix, as the node signs its paths with it.
 * @ret 0, or -EINVAL with err naming the URL (by position) and the fault:
 * empty, too long, more than HOSTLIST_MAX, a bad URL, the same URL twice.
 */
int hostlist_parse(const char *text, struct hostlist *hl, char *err, size_t errlen);

/* The URL in use. */
const struct http_url *hostlist_cur(const struct hostlist *hl);

/*
 * The one in use stopped answering: move to the next (after the last, the
 * first).  @ret the new index (the same one when the list has one URL).
 */
size_t hostlist_next(struct hostlist *hl);

/*
 * Whether a request's outcome means that snowd stopped answering (the
 * node moves on): no HTTP answer at all (status 0: refused, reset, timed
 * out, unreachable; not an answer dropped for its signature, rc -EBADMSG,
 * nor running out of memory), or a 5xx (a snowd that cannot serve, its
 * database down).  A 4xx is an answer: the node stays.
 */
int hostlist_should_move(int rc, int status);

#endif
