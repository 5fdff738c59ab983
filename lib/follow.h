/*
 * Following the cluster: a client's copy of snowd's nodes kept current from
 * GET /api/v1/nodes and the stream, with the events caught up by id.  The
 * protocol is docs/api.md's "Following the cluster"; this is its one C copy
 * (snowtop and snow-subagent; the web console's store.js does the same in
 * JavaScript).  In short:
 *
 *   1. Open the stream first; once it is up, read the events missed (by id)
 *      and then the list.  Messages that come meanwhile are applied after the
 *      list, so no change falls between the two.
 *   2. After a cut, the same again: the stream does not replay.
 *   3. A node message or values for a node not in the list: read the list
 *      again (a node was added).  {state: "removed"}: drop the node.
 *   4. Each event once, oldest first: ids at or below the newest handed over
 *      are dropped.
 *
 * Like lib/sse, it runs in the caller's poll loop: follow_pollfd(),
 * follow_timeout_ms(), follow_step().  The list and events reads are short
 * blocking requests (lib/httpc) made from follow_step().  The client keeps
 * its own copy, in its own shape, from the ops below; the follower keeps
 * only the names it was told of.
 */
#ifndef SNOW_FOLLOW_H
#define SNOW_FOLLOW_H

#include <jansson.h>
#include <stdint.h>

#include "httpc.h"
#include "sse.h"

#define FOLLOW_RETRY_MS 2000    /* a failed list or events read is tried again after this */
#define FOLLOW_EVENT_PAGE 200   /* events per catch-up request */
#define FOLLOW_EVENT_PAGES 50   /* at most this many pages after a cut; older ones are skipped */
#define FOLLOW_HELD_MAX 10000   /* stream events kept while a catch-up is due */

/*
 * What the client does with what the follower learns.  Every json_t is
 * borrowed: incref what is kept.  Only on_list, on_values and on_event are
 * required; the others may be NULL.
 */
struct follow_ops {
	/* The list was read: answer is {"nodes": [...]}; replace the copy with it. */
	void (*on_list)(void *ctx, json_t *answer);
	/* A node message ({name, state, ...}) for a node of the list. */
	void (*on_node)(void *ctx, json_t *msg);
	/* A node left the inventory: drop it from the copy. */
	void (*on_removed)(void *ctx, const char *name);
	/* A values message {NAME: {...}, ...}; names not in the copy are to be skipped. */
	void (*on_values)(void *ctx, json_t *msg);
	/* An event {id, node, time, type, attrs, ...}: each id once, oldest first. */
	void (*on_event)(void *ctx, json_t *ev);
	/* A command message (queued, or its result). */
	void (*on_command)(void *ctx, json_t *msg);
	/* The stream is up (up = 1) or lost (0; why says what happened). */
	void (*on_state)(void *ctx, int up, const char *why);
	/* Reading the list or the events failed (why); tried again in FOLLOW_RETRY_MS. */
	void (*on_error)(void *ctx, const char *why);
};

struct follow_conf {
	const char *stream_query; /* appended to /api/v1/stream, e.g. "?values=a,b"; NULL: none */
	const char *list_query;   /* appended to /api/v1/nodes; NULL: none */
	int backlog;              /* at the first sync, hand over the newest N events (0: none) */
	int timeout_ms;           /* per list or events request */
	int relist_ms;            /* read the list again this often anyway; 0: only when needed */
};

struct follow {
	struct follow_conf conf;
	struct http_url url;
	char auth[300];           /* "Bearer TOKEN" */
	char list_path[600];
	const struct follow_ops *ops;
	void *ctx;
	struct sse_client sse;
	json_t *known;            /* name -> true: the nodes the client was given */
	json_t *held;             /* stream events that came while a catch-up is due */
	int up;                   /* the stream is connected */
	int need_sync;            /* events and list to read once the stream is up */
	int64_t sync_at_ms;       /* not before this (a failed read waits) */
	int64_t relist_at_ms;     /* conf.relist_ms: the next read anyway */
	int64_t last_event;       /* newest event id handed over; -1 before the first sync */
	uint64_t lists, events, skipped;
};

/*
 * Set up (nothing is connected until follow_step()).  token may be NULL.
 * @ret 0, -EINVAL (path, query or token too long), or -ENOMEM.
 * follow_free() releases f also after an error.
 */
int follow_init(struct follow *f, const struct http_url *url, const char *token,
		const struct follow_conf *conf, const struct follow_ops *ops, void *ctx);
/* The descriptor to poll and the events wanted; fd -1 when there is none. */
int follow_pollfd(const struct follow *f, short *events);
/* Milliseconds until follow_step() has something to do without I/O (-1: none). */
int follow_timeout_ms(const struct follow *f, int64_t now_ms);
/*
 * Drive the stream with what poll said (revents), then, when due, catch the
 * events up and read the list (blocking, up to conf.timeout_ms each).
 */
void follow_step(struct follow *f, short revents, int64_t now_ms);
/* Read the list again at at_ms at the latest (e.g. a node read alone was not found). */
void follow_relist(struct follow *f, int64_t at_ms);
/* Cut the stream and connect again now (a user's key). */
void follow_reconnect(struct follow *f, int64_t now_ms);
void follow_free(struct follow *f);

#endif
