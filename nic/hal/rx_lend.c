/* Receive ring slots lent to NIC buffers (see rx_lend.h). */
#include "rx_lend.h"

#include "wire_packet.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

struct lent {
	const uint8_t *src; /* the frame in its ring slot; NULL: slot not lent */
	uint32_t nic_off, len;
	int busy; /* a DMA is copying from it (without the lock) */
};

struct rx_lend {
	pthread_mutex_t mu;
	struct wire_packet *w;
	uint8_t *mem;
	struct lent *slot; /* by ring slot */
	uint32_t nslots, nlent;
	uint32_t newest; /* slot of the newest frame the reader took (valid with seen) */
	int seen;
	uint64_t lent_total, evicted;
};

struct rx_lend *rx_lend_new(struct wire_packet *w, uint8_t *mem)
{
	uint32_t n = wire_packet_slots(w);
	struct rx_lend *l;

	if (n < 4)
		return NULL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->slot = calloc(n, sizeof(*l->slot));
	if (!l->slot) {
		free(l);
		return NULL;
	}
	pthread_mutex_init(&l->mu, NULL);
	l->w = w;
	l->mem = mem;
	l->nslots = n;
	return l;
}

void rx_lend_free(struct rx_lend *l)
{
	if (!l)
		return;
	pthread_mutex_destroy(&l->mu);
	free(l->slot);
	free(l);
}

static void give_back(struct rx_lend *l, uint32_t i)
{
	l->slot[i].src = NULL;
	l->nlent--;
	wire_packet_release(l->w, i);
}

/*
 * Slot i's frame copied into its NIC buffer and the slot given back to the
 * kernel, once no DMA reads it (l->mu held; nothing when the slot is not lent).
 */
static void evict(struct rx_lend *l, uint32_t i)
{
	struct lent *o = &l->slot[i];

	while (o->src && o->busy) {
		/* A DMA is copying from it: microseconds. */
		pthread_mutex_unlock(&l->mu);
		sched_yield();
		pthread_mutex_lock(&l->mu);
	}
	if (o->src) {
		memcpy(l->mem + o->nic_off + RX_LEND_HDR, o->src + RX_LEND_HDR,
		       o->len - RX_LEND_HDR);
		give_back(l, i);
		l->evicted++;
	}
}

void rx_lend_seen(struct rx_lend *l, const uint8_t *frame)
{
	uint32_t old;

	if (!l)
		return;
	old = (wire_packet_slot(l->w, frame) + l->nslots / 2) % l->nslots;
	pthread_mutex_lock(&l->mu);
	l->newest = wire_packet_slot(l->w, frame);
	l->seen = 1;
	/* Half a ring old (a frame held for a buffer not posted yet): copy it now. */
	evict(l, old);
	pthread_mutex_unlock(&l->mu);
}

void rx_lend_settle(struct rx_lend *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->mu);
	if (l->seen && l->nlent)
		evict(l, l->newest);
	pthread_mutex_unlock(&l->mu);
}

int rx_lend_keep(struct rx_lend *l, const uint8_t *frame, uint32_t len, uint32_t nic_off)
{
	uint32_t i;

	if (!l || len < RX_LEND_MIN)
		return 0;
	i = wire_packet_slot(l->w, frame);
	memcpy(l->mem + nic_off, frame, RX_LEND_HDR);
	pthread_mutex_lock(&l->mu);
	l->slot[i] = (struct lent){ frame, nic_off, len, 0 };
	l->nlent++;
	l->lent_total++;
	pthread_mutex_unlock(&l->mu);
	return 1;
}

int rx_lend_dma(struct rx_lend *l, uint8_t *dst, uint32_t nic_off, uint32_t len)
{
	uint32_t i, head, at;
	struct lent *o;

	if (!l)
		return 0;
	pthread_mutex_lock(&l->mu);
	for (i = 0; l->nlent && i < l->nslots; i++) {
		o = &l->slot[i];
		if (!o->src || nic_off < o->nic_off || nic_off - o->nic_off >= o->len)
			continue;
		at = nic_off - o->nic_off;
		if (len > o->len - at || o->busy)
			break; /* past the frame (or a second DMA at once): copy it into NIC memory */
		/*
		 * The head from NIC memory (the program may have read it), the rest
		 * from the slot; the copy runs without the lock, so the NIC CPU's
		 * receive path does not wait behind it.
		 */
		o->busy = 1;
		pthread_mutex_unlock(&l->mu);
		head = at < RX_LEND_HDR ? RX_LEND_HDR - at : 0;
		if (head > len)
			head = len;
		memcpy(dst, l->mem + nic_off, head);
		memcpy(dst + head, o->src + at + head, len - head);
		pthread_mutex_lock(&l->mu);
		o->busy = 0;
		if (at + len == o->len)
			give_back(l, i);
		pthread_mutex_unlock(&l->mu);
		return 1;
	}
	if (i < l->nslots)
		evict(l, i);
	pthread_mutex_unlock(&l->mu);
	return 0;
}

void rx_lend_drop(struct rx_lend *l, uint32_t nic_off)
{
	uint32_t i;

	if (!l)
		return;
	pthread_mutex_lock(&l->mu);
	for (i = 0; l->nlent && i < l->nslots; i++)
		if (l->slot[i].src && !l->slot[i].busy && l->slot[i].nic_off == nic_off)
			give_back(l, i);
	pthread_mutex_unlock(&l->mu);
}

uint64_t rx_lend_count(const struct rx_lend *l, uint64_t *evicted)
{
	*evicted = l ? l->evicted : 0;
	return l ? l->lent_total : 0;
}
