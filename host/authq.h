/*
 * Password checks off snowd's loop.  yescrypt costs ~70 ms on purpose; on
 * the loop, a flood of logins would stall every node report and API call.
 * A small pool of threads hashes; results come back to the loop through a
 * pipe (authq_fd) and their callbacks run there, so the inventory and MHD
 * are still touched by the loop thread only.  The queue is bounded: when
 * it is full a login is refused (503), not queued without end.
 *
 * Beside it, a throttle keyed by client address and by user name: after a
 * few failures each further attempt waits longer (429 with Retry-After),
 * without being hashed at all.
 */
#ifndef SNOW_AUTHQ_H
#define SNOW_AUTHQ_H

#include <stdint.h>

#include "auth.h"

#define AUTHQ_THREADS 1
#define AUTHQ_MAX_JOBS 16

struct authq;

/* One check: the stored hash and the password (owned by the job, wiped). */
struct authq_job {
	struct auth_check check;
	char password[513];
	int ok;                                  /* the verdict, when done */
	void (*done)(struct authq_job *j);       /* runs on the loop */
	void *ctx;                               /* the caller's */
	struct authq_job *next;
};

/* @ret a new queue with its threads started, or NULL (errno set). */
struct authq *authq_new(void);
/* Finish what is queued (callbacks run), stop the threads, free q. */
void authq_free(struct authq *q);
/* What the loop polls: readable when results wait. */
int authq_fd(const struct authq *q);
/* Run the callbacks of finished checks (on the loop). */
void authq_poll(struct authq *q);
/* Queue j (taken until its callback ran).  @ret 0, or -EBUSY when the queue is full. */
int authq_submit(struct authq *q, struct authq_job *j);

/* --- throttle ------------------------------------------------------------ */

#define THROTTLE_SLOTS 1024
#define THROTTLE_FREE_FAILS 5      /* failures allowed before any wait */
#define THROTTLE_MAX_WAIT_S 300

struct throttle_slot {
	uint64_t key;         /* hash of "ip:ADDR" or "user:NAME"; 0 empty */
	unsigned fails;
	int64_t until_ms;     /* monotonic: no attempt before */
	int64_t last_ms;
};

struct throttle {
	struct throttle_slot slot[THROTTLE_SLOTS];
};

/* @ret 0 when an attempt for key may go on, else the seconds to wait. */
int throttle_wait(struct throttle *t, const char *kind, const char *key, int64_t now_ms);
/* Count a failure (ok == 0) or clear the key (ok). */
void throttle_note(struct throttle *t, const char *kind, const char *key, int ok, int64_t now_ms);

#endif
