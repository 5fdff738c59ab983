/*
 * The emulated NIC's engine request queues (hal_emu): the NIC CPU pushes,
 * one engine thread pops, HAL_QUEUE_DEPTH deep.
 */
#ifndef SNOW_NIC_REQQ_H
#define SNOW_NIC_REQQ_H

#include "hal.h"

#include <pthread.h>
#include <stdint.h>

struct req {
	enum hal_window win;
	enum hal_dma_dir dir;
	uint64_t host_off;
	uint32_t nic_off, len;
	unsigned flags;
	uint64_t cookie;
	uint32_t hdr_len; /* wire_send_host: header at nic_off, len payload bytes from the host */
};

struct reqq {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct req *q;
	uint32_t head, tail; /* free-running, mod HAL_QUEUE_DEPTH */
	int busy;            /* the engine is working on a request it popped */
};

/* @ret 0 or -ENOMEM; the queue is freed with reqq_fini(). */
int reqq_init(struct reqq *q);
void reqq_fini(struct reqq *q);
/* @ret 0 or -ENOSPC (full). */
int reqq_push(struct reqq *q, const struct req *r);
/*
 * Wait for a request, spinning spin_ns first.  @ret 0, or -1 once *stop is
 * set (reqq_wake() wakes a waiting engine).
 */
int reqq_pop(struct reqq *q, _Atomic int *stop, uint32_t spin_ns, struct req *r);
/* The engine finished the request it popped. */
void reqq_done(struct reqq *q);
/*
 * May the caller do a small request itself?  Only when the engine has
 * nothing queued and nothing in hand, so completions stay in order (the
 * NIC CPU is the only producer).  Saves two thread handoffs per message.
 */
int reqq_idle(struct reqq *q);
void reqq_wake(struct reqq *q);

#endif
