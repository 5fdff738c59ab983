/*
 * snow-subagent's link to snowd.  A thread keeps a copy of the cluster and
 * hands snapshots of it to the agent thread, which serves SNMP and must
 * never wait on HTTP.  The agent thread takes results with fetch_take()
 * when the notify pipe becomes readable.
 *
 * Two ways to keep the copy:
 *   stream (the default): lib/follow keeps to docs/api.md's "Following the
 *     cluster" (the stream, then the list; read again after a cut, when a
 *     node the stream names is not known, and every FETCH_RELOAD_MS as a
 *     safety net; events caught up by id); a node that comes online is read
 *     again alone (its schema may have changed).  A snapshot is built at
 *     most every interval_ms, and only when something changed; only the
 *     nodes that changed have their rows built again (model_block).
 *   poll (poll = 1): GET /api/v1/events and /api/v1/nodes every interval_ms.
 * https:// URLs work either way (GnuTLS; SNOW_CA or the system's CAs).
 *
 * Everything the thread builds is complete before it is handed over and
 * is owned by the taker afterwards, so the two threads share only the
 * mutex-protected hand-over slot.
 *
 * Commands (the effect of SNMP SETs) are sent by the agent thread itself
 * with fetch_command(): a SET must know whether snowd took the command.
 */
#ifndef SNOW_SNMP_FETCH_H
#define SNOW_SNMP_FETCH_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>

#include "httpc.h"
#include "model.h"
#include "follow.h"

#define FETCH_RELOAD_MS 60000 /* stream mode: read the whole list this often anyway */
#define FETCH_REFRESH_MAX 32  /* stream mode: nodes read again alone per pass, at most */

struct fetch_conf {
	const char *url;   /* snowd's base URL, http://HOST:PORT */
	const char *token; /* API bearer token (operator or admin) */
	int interval_ms;   /* poll period; in stream mode the least time between snapshots */
	int timeout_ms;    /* per request */
	int poll;          /* poll even when the stream could be used */
};

/* One node of the stream mode's copy: its object and its rows as last built. */
struct fetch_slot {
	json_t *n;               /* the node's object in body (borrowed) */
	struct model_block *b;   /* its rows (one reference), NULL before the first build */
	int dirty;               /* n changed since b was built */
};

/* The stream mode's copy of the cluster (fetcher thread only). */
struct fetch_stream {
	struct follow fl;  /* the list, the stream, the events caught up (lib/follow) */
	json_t *body;      /* {"nodes": [...]} as GET /api/v1/nodes answers, kept current */
	json_t *index;     /* name -> slot number (integer) */
	struct fetch_slot *slots; /* one per node of body, in no order */
	size_t nslots, slots_cap;
	int64_t rebuilt;   /* blocks built (a node's rows made again) */
	json_t *events;    /* events from the stream not handed over yet */
	json_t *refresh;   /* names of nodes to read again alone (a set: name -> true) */
	int up;            /* the stream is connected */
	int dirty;         /* some slot is dirty, or a node went: a snapshot is due */
	int64_t reloads, messages;
	char why[160];     /* why the stream is down */
};

/* What one poll brought. */
struct fetch_result {
	struct model_snap *snap; /* NULL when snowd could not be reached */
	json_t *events;          /* new events, oldest first: [{id,node,time,type,attrs}] */
	int reachable;
	char error[256];         /* why not, when !reachable */
	int64_t at_ms;           /* monotonic time of the poll */
};

struct fetch {
	struct fetch_conf conf;
	struct http_url url;
	pthread_t thread;
	pthread_mutex_t lock;
	int notify_fd;           /* written once per hand-over */
	int stop_fd[2];          /* the thread sleeps on stop_fd[0] */
	int running;
	struct fetch_result *ready; /* under lock */
	int64_t last_event;      /* thread only: newest event id seen, -1 before the first poll */
	int polls;               /* thread only */
	int use_stream;          /* set by fetch_init() */
	struct fetch_stream st;  /* thread only */
};

/*
 * Check conf (URL form) into f.  @ret 0 or -EINVAL with err filled.  f is
 * then usable for fetch_command(), and fetch_start() runs the poller.
 */
int fetch_init(struct fetch *f, const struct fetch_conf *conf, char *err, size_t errlen);
/* Start polling; each result is announced by a byte on notify_fd.  @ret 0 or -errno. */
int fetch_start(struct fetch *f, int notify_fd);
/* Stop and join the thread, free what was not taken. */
void fetch_stop(struct fetch *f);
/* The newest result not taken yet (caller frees with fetch_result_free()), or NULL. */
struct fetch_result *fetch_take(struct fetch *f);
void fetch_result_free(struct fetch_result *r);

/*
 * POST a command {op, args} (borrowed) for node to snowd, blocking up to
 * the timeout.  @ret 0 with *id set (snowd answered 202), or -ECONNREFUSED,
 * -ETIMEDOUT, -EPROTO (another answer) ... with err filled.
 */
int fetch_command(struct fetch *f, const char *node, json_t *cmd, int64_t *id, char *err,
		  size_t errlen);

#endif
