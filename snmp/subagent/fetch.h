/*
 * snow-subagent's link to snowd.  A thread polls the REST API (the node
 * list and new events) and hands each result to the agent thread, which
 * serves SNMP and must never wait on HTTP: a poll of a thousand nodes is
 * megabytes of JSON.  The agent thread takes results with fetch_take()
 * when the notify pipe becomes readable.
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

struct fetch_conf {
	const char *url;   /* snowd's base URL, http://HOST:PORT */
	const char *token; /* API bearer token (operator or admin) */
	int interval_ms;   /* poll period */
	int timeout_ms;    /* per request */
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

/* Monotonic milliseconds. */
int64_t fetch_now_ms(void);

#endif
