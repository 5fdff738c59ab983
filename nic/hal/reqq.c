/* The emulated NIC's engine request queues (see reqq.h). */
#include "reqq.h"

#include "fw/sync.h"

#include <errno.h>
#include <stdlib.h>

int reqq_init(struct reqq *q)
{
	q->q = calloc(HAL_QUEUE_DEPTH, sizeof(*q->q));
	if (!q->q)
		return -ENOMEM;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	return 0;
}

int reqq_push(struct reqq *q, const struct req *r)
{
	pthread_mutex_lock(&q->mu);
	if (q->tail - q->head >= HAL_QUEUE_DEPTH) {
		pthread_mutex_unlock(&q->mu);
		return -ENOSPC;
	}
	q->q[q->tail++ % HAL_QUEUE_DEPTH] = *r;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return 0;
}

int reqq_pop(struct reqq *q, _Atomic int *stop, uint32_t spin_ns, struct req *r)
{
	uint64_t start = 0;

	pthread_mutex_lock(&q->mu);
	while (q->head == q->tail) {
		if (atomic_load(stop)) {
			pthread_mutex_unlock(&q->mu);
			return -1;
		}
		if (spin_ns) {
			/* Spin a little: a busy pipeline hands us the next job within µs. */
			if (!start)
				start = nic_mono_ns();
			if (nic_mono_ns() - start < spin_ns) {
				pthread_mutex_unlock(&q->mu);
				__builtin_ia32_pause();
				pthread_mutex_lock(&q->mu);
				continue;
			}
		}
		pthread_cond_wait(&q->cv, &q->mu);
	}
	*r = q->q[q->head++ % HAL_QUEUE_DEPTH];
	q->busy = 1;
	pthread_mutex_unlock(&q->mu);
	return 0;
}

void reqq_done(struct reqq *q)
{
	pthread_mutex_lock(&q->mu);
	q->busy = 0;
	pthread_mutex_unlock(&q->mu);
}

int reqq_idle(struct reqq *q)
{
	int idle;

	pthread_mutex_lock(&q->mu);
	idle = q->head == q->tail && !q->busy;
	pthread_mutex_unlock(&q->mu);
	return idle;
}

void reqq_wake(struct reqq *q)
{
	pthread_mutex_lock(&q->mu);
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

void reqq_fini(struct reqq *q)
{
	free(q->q);
	q->q = NULL;
}
