/*
 * Events posted by programs on the node (ChorusOS sysevent_post_event):
 * a unix datagram socket (event_socket, STATE_DIR/event.sock by default)
 * takes one JSON object per datagram,
 *
 *   {"type": "backup.done", "severity": "notice", "publisher": "backup",
 *    "attrs": {"files": 1200}}
 *
 * and the agent records it in its black box as type "app.TYPE" with that
 * severity (default info) and publisher, its attrs plus the sender's "pid"
 * and "uid" as the kernel gave them (SCM_CREDENTIALS: not what the sender
 * says).  Only root, the agent's own user and the event_group may post: the
 * socket file is 0660 (group event_group) and each datagram's credentials
 * are checked again.  At most POST_RATE a second (bursts of POST_BURST) are
 * taken, so a runaway program cannot push the node's own events out of the
 * black box; the rest are refused and counted.  A sender bound to an
 * address gets one datagram back: "ok SEQ" or "refused: REASON".
 * `snow-event` (node-os/agent/snow-event.c) is the command that posts.
 */
#ifndef SNOW_NODE_POST_H
#define SNOW_NODE_POST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "instr.h"

#define POST_MSG_MAX 4096
#define POST_PREFIX "app."
#define POST_TYPE_MAX (INSTR_TYPE_MAX - 4) /* the poster's part of "app.TYPE" */
#define POST_RATE 20   /* events a second, sustained */
#define POST_BURST 100
#define POST_ATTRS_MAX 32

/* A posted event, parsed and checked. */
struct post_event {
	char type[INSTR_TYPE_MAX + 1]; /* "app.TYPE" */
	enum instr_severity severity;
	char publisher[INSTR_PUBLISHER_MAX + 1];
	json_t *attrs; /* an object, owned (the caller json_decref()s or hands it on) */
};

/*
 * Parse one datagram's bytes (any bytes: it comes from outside the agent).
 * type: 1..POST_TYPE_MAX, dot-separated [a-z0-9_-]; severity: a name of
 * instr_severity_name() (absent: info); publisher: instr_publisher_check(),
 * not the agent's own ("snow-agent..."); attrs: an object of at most
 * POST_ATTRS_MAX members (absent: {}).  @ret 0 with e filled, or -EINVAL
 * with err naming the field (e->attrs NULL).
 */
int post_parse(const char *buf, size_t len, struct post_event *e, char *err, size_t errlen);

/* The listening socket and its limits. */
struct post_sock {
	int fd;             /* -1: none */
	char path[108];
	long gid;           /* event_group, -1 for none */
	double tokens;      /* rate limit bucket */
	long long last_ms;
	unsigned long taken, refused; /* since start */
	int refused_logged; /* refusals logged in this burst */
};

/*
 * Listen on path (a socket left there is removed first; mode 0660, group
 * gid when >= 0).  @ret 0 or -errno with err filled (ps->fd stays -1).
 */
int post_open(struct post_sock *ps, const char *path, long gid, char *err, size_t errlen);
void post_close(struct post_sock *ps);

/*
 * Read every datagram waiting (the socket is non-blocking; at most 256 a
 * call) and hand each accepted event to emit (e->attrs stolen; @ret its
 * seq, 0 if not kept).  @ret the number of events taken.
 */
int post_drain(struct post_sock *ps, long long now_ms,
	       uint64_t (*emit)(void *ctx, struct post_event *e), void *ctx);

#endif
