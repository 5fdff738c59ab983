/* Password checks off the loop, and the login throttle (authq.h). */
#include "authq.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "log.h"

struct authq {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct authq_job *todo, *todo_tail; /* waiting for a thread */
	struct authq_job *done;             /* checked, for the loop */
	unsigned jobs;                      /* queued or under way */
	int stop;
	int pipe[2];                        /* a byte per finished job wakes the loop */
	pthread_t thread[AUTHQ_THREADS];
	unsigned nthreads;
};

/*
 * A password check costs ~70 ms of CPU; on a small host the event loop
 * (health, nodes' reports, the API) must not wait behind it.  Linux keeps
 * a nice value per thread, so this thread alone is lowered: the loop's
 * thread wins the CPU whenever it has work, and checks still progress
 * (not SCHED_IDLE, which a busy host could starve for good).
 */
#define AUTHQ_NICE 10

static void *authq_worker(void *arg)
{
	struct authq *q = arg;
	struct authq_job *j;

	if (setpriority(PRIO_PROCESS, (id_t)gettid(), AUTHQ_NICE))
		log_warn("authq: cannot lower the password thread's priority");
	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (!q->todo && !q->stop)
			pthread_cond_wait(&q->cond, &q->lock);
		if (!q->todo)
			break;
		j = q->todo;
		q->todo = j->next;
		if (!q->todo)
			q->todo_tail = NULL;
		pthread_mutex_unlock(&q->lock);
		j->ok = auth_check_password(&j->check, j->password);
		explicit_bzero(j->password, sizeof(j->password));
		pthread_mutex_lock(&q->lock);
		j->next = q->done;
		q->done = j;
		if (write(q->pipe[1], "", 1) < 0) {
			/* The pipe is full: the loop has a byte to wake it already. */
		}
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

struct authq *authq_new(void)
{
	struct authq *q = calloc(1, sizeof(*q));
	unsigned i;

	if (!q)
		return NULL;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	if (pipe2(q->pipe, O_CLOEXEC | O_NONBLOCK)) {
		free(q);
		return NULL;
	}
	for (i = 0; i < AUTHQ_THREADS; i++) {
		if (pthread_create(&q->thread[i], NULL, authq_worker, q))
			break;
		q->nthreads++;
	}
	if (!q->nthreads) {
		authq_free(q);
		errno = EAGAIN;
		return NULL;
	}
	return q;
}

int authq_fd(const struct authq *q)
{
	return q->pipe[0];
}

void authq_poll(struct authq *q)
{
	struct authq_job *list, *j;
	char drain[64];

	while (read(q->pipe[0], drain, sizeof(drain)) > 0)
		;
	pthread_mutex_lock(&q->lock);
	list = q->done;
	q->done = NULL;
	pthread_mutex_unlock(&q->lock);
	while ((j = list)) {
		list = j->next;
		pthread_mutex_lock(&q->lock);
		q->jobs--;
		pthread_mutex_unlock(&q->lock);
		j->done(j);
	}
}

int authq_submit(struct authq *q, struct authq_job *j)
{
	pthread_mutex_lock(&q->lock);
	if (q->jobs >= AUTHQ_MAX_JOBS || q->stop) {
		pthread_mutex_unlock(&q->lock);
		return -EBUSY;
	}
	q->jobs++;
	j->next = NULL;
	if (q->todo_tail)
		q->todo_tail->next = j;
	else
		q->todo = j;
	q->todo_tail = j;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

void authq_free(struct authq *q)
{
	unsigned i;

	if (!q)
		return;
	/* The threads finish the queue first: every job's callback still runs. */
	pthread_mutex_lock(&q->lock);
	q->stop = 1;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	for (i = 0; i < q->nthreads; i++)
		pthread_join(q->thread[i], NULL);
	authq_poll(q);
	close(q->pipe[0]);
	close(q->pipe[1]);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

/* --- throttle ------------------------------------------------------------ */

/* FNV-1a of "KIND:KEY", never 0 (0 marks a free slot). */
static uint64_t throttle_hash(const char *kind, const char *key)
{
	uint64_t h = 1469598103934665603ull;
	const char *p;

	for (p = kind; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	h = (h ^ ':') * 1099511628211ull;
	for (p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return h ? h : 1;
}

/* The slot of a key: its own, or (to add) a free or the stalest of its neighbourhood. */
static struct throttle_slot *throttle_slot(struct throttle *t, uint64_t key, int add)
{
	struct throttle_slot *best = NULL;
	unsigned i;

	for (i = 0; i < 8; i++) {
		struct throttle_slot *s = &t->slot[(key + i) % THROTTLE_SLOTS];
		if (s->key == key)
			return s;
		if (!best || !s->key || (best->key && s->last_ms < best->last_ms))
			best = s;
	}
	if (!add)
		return NULL;
	memset(best, 0, sizeof(*best));
	best->key = key;
	return best;
}

int throttle_wait(struct throttle *t, const char *kind, const char *key, int64_t now_ms)
{
	struct throttle_slot *s = throttle_slot(t, throttle_hash(kind, key), 0);

	if (!s || s->until_ms <= now_ms)
		return 0;
	return (int)((s->until_ms - now_ms + 999) / 1000);
}

void throttle_note(struct throttle *t, const char *kind, const char *key, int ok, int64_t now_ms)
{
	struct throttle_slot *s = throttle_slot(t, throttle_hash(kind, key), !ok);
	int64_t wait_s;

	if (!s)
		return;
	if (ok) {
		memset(s, 0, sizeof(*s));
		return;
	}
	/* A failure long after the last one starts the count again. */
	if (now_ms - s->last_ms > THROTTLE_MAX_WAIT_S * 2000)
		s->fails = 0;
	s->fails++;
	s->last_ms = now_ms;
	if (s->fails <= THROTTLE_FREE_FAILS)
		return;
	wait_s = (int64_t)1 << (s->fails - THROTTLE_FREE_FAILS - 1 > 16 ? 16 : s->fails - THROTTLE_FREE_FAILS - 1);
	if (wait_s > THROTTLE_MAX_WAIT_S)
		wait_s = THROTTLE_MAX_WAIT_S;
	s->until_ms = now_ms + wait_s * 1000;
}
