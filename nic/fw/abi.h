/*
 * The contract between the host and the NIC program: what lives in NIC
 * memory (the control block, the three descriptor rings, the counters) and
 * how the rings are used.  The host maps NIC memory as it would a PCI BAR;
 * everything here is little-endian host order because host and NIC share
 * memory, not a wire.
 *
 * Rings are single-producer/single-consumer.  The producer writes an entry,
 * then publishes it with a release store of prod; the consumer reads prod
 * with acquire, reads the entry, then frees it with a release store of cons.
 * Neither side trusts the other's index: a consumer that sees more entries
 * than the ring holds treats the ring as corrupt and takes nothing.
 *
 *   send ring       host -> NIC   struct snf_send_desc
 *   receive-post    host -> NIC   struct snf_post_desc
 *   completion      NIC -> host   struct snf_comp (+ an inline area per entry)
 */
#ifndef SNOW_NIC_ABI_H
#define SNOW_NIC_ABI_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define SNF_MAGIC 0x534e4f57u /* "SNOW" */
/*
 * 2: nic_idle may ask for the kick eventfd (SNF_IDLE_KICK), passed at attach.
 * 3: a cost-model stage has a second piece for small fragments (snf_stage).
 * 4: host_waiting became irq_arm, a mask of the completions that interrupt.
 */
#define SNF_ABI_VERSION 4u

/* Largest message sent by programmed I/O (inline in the descriptor). */
#define SNF_INLINE_MAX 1024u
/* Largest message the NIC accepts (pipelined); bigger is -EMSGSIZE. */
#define SNF_MSG_MAX (1u << 30)
/* Smallest fragment a descriptor may ask for. */
#define SNF_FRAG_MIN 64u

/*
 * Registers: the first page of NIC memory belongs to the HAL (doorbell and
 * interrupt words, futexes in the emulated NIC); the NIC program never
 * touches it.  The host library rings the doorbell through these.
 */
#define SNF_REGS_SIZE 4096u
struct snf_regs {
	_Atomic uint32_t doorbell;     /* host: ++ after producing descriptors */
	_Atomic uint32_t wake;         /* anyone: ++ to wake the NIC CPU (futex) */
	_Atomic uint32_t nic_idle;     /* NIC CPU: SNF_IDLE_* while it may sleep */
	uint32_t pad0[13];
	_Atomic uint32_t irq;          /* NIC: ++ after producing completions (futex) */
	_Atomic uint32_t irq_arm;      /* host: SNF_IRQ_* it sleeps on irq for; 0 awake */
	uint32_t pad1[14];
};

/*
 * Interrupt arming (irq_arm), as a NIC's interrupt mask: the host sets the
 * causes it waits for just before it sleeps, re-checks the completion ring,
 * then sleeps on irq, and clears irq_arm when it wakes.  The NIC bumps irq
 * after every batch of completions but does the FUTEX_WAKE only for an armed
 * cause: a send completion the host is not waiting for (it sleeps until its
 * reply comes) stays in the ring for its next look and wakes nobody.
 */
#define SNF_IRQ_SEND 0x1u /* SNF_COMP_SEND */
#define SNF_IRQ_RECV 0x2u /* SNF_COMP_RECV and SNF_COMP_LOSS */
#define SNF_IRQ_ALL (SNF_IRQ_SEND | SNF_IRQ_RECV)

/*
 * How a sleeping NIC CPU wants to be woken (nic_idle): a FUTEX_WAKE on wake,
 * or a write to the kick eventfd the NIC gave the host at attach (it sleeps
 * in poll() beside its wire then).  Either way wake is bumped first.
 */
#define SNF_IDLE_FUTEX 1u
#define SNF_IDLE_KICK 2u

/* Send descriptor flags. */
#define SNF_SEND_SF 0x0001u     /* store-and-forward: no pipelining */
#define SNF_SEND_INLINE 0x0002u /* payload is in data[], host_off unused */
#define SNF_SEND_FLAGS 0x0003u

struct snf_send_desc {
	uint64_t host_off; /* payload in the host window */
	uint64_t cookie;   /* returned in the completion */
	uint32_t len;
	uint32_t tag;      /* delivered with the message */
	uint32_t frag;     /* fragment size; 0 lets the cost model choose */
	uint16_t peer;     /* destination node id */
	uint16_t flags;    /* SNF_SEND_* */
	uint8_t pad[32];
	uint8_t data[SNF_INLINE_MAX];
};

struct snf_post_desc {
	uint64_t host_off; /* receive buffer in the host window */
	uint64_t cookie;
	uint32_t len;
	uint32_t pad[3];
};

enum snf_comp_type {
	SNF_COMP_SEND = 1, /* a send descriptor is done: its buffer is free */
	SNF_COMP_RECV = 2, /* a posted buffer holds a message (or an error) */
	SNF_COMP_LOSS = 3, /* frames from peer were lost: len = how many */
};
#define SNF_COMP_INLINE 0x01u /* payload is in the entry's inline area */

struct snf_comp {
	uint64_t cookie;
	uint64_t host_off; /* RECV: the posted buffer (for inline copies) */
	uint32_t len;      /* message length (RECV may be longer than buffer) */
	int32_t status;    /* 0 or -errno */
	uint32_t tag;
	uint32_t frag;     /* fragment size used (SEND and RECV) */
	uint32_t nfrags;
	uint16_t peer;
	uint8_t type;      /* enum snf_comp_type */
	uint8_t flags;     /* SNF_COMP_* */
	uint32_t pad[4];
};

/*
 * Counters the NIC program keeps, in NIC memory so that the host library and
 * the snow-nic status interface read the same numbers.  Single writer (the
 * NIC program); readers use relaxed loads.
 */
#define SNF_COUNTERS(X)                                                                           \
	X(msgs_tx) X(msgs_rx) X(bytes_tx) X(bytes_rx) X(frags_tx) X(frags_rx)                     \
	X(small_tx) X(small_rx) X(sf_tx) X(sf_rx) X(stalls_credit) X(stalls_slots)                \
	X(drops_nobuf) X(drops_ring) X(frames_lost) X(msgs_aborted) X(frames_bad)                 \
	X(frames_orphan) X(frames_dup) X(drops_closed) X(bad_desc) X(ctrl_tx) X(ctrl_rx) X(credits_avail)         \
	X(held_frames) X(send_queue) X(post_queue)

struct snf_counters {
#define SNF_COUNTER_FIELD(n) _Atomic uint64_t n;
	SNF_COUNTERS(SNF_COUNTER_FIELD)
#undef SNF_COUNTER_FIELD
};

/*
 * One stage of the cost model: t(ns) = a + b * bytes per fragment, and for
 * fragments up to small_max bytes (when nonzero) a_small + b_small * bytes:
 * an engine may take small jobs another way (the emulated NIC's CPU does
 * them itself, without a thread hand-off), which one line does not fit.
 * A stage with a = b = 0 is not in the pipeline (host DMA when the wire
 * engine gathers the payload from host memory itself).
 */
struct snf_stage {
	char name[16];
	double a_ns;
	double b_ns;     /* per byte */
	double mbps;     /* measured alone at the largest fragment, MB/s */
	double a_small_ns, b_small_ns;
	uint32_t small_max; /* 0: one line for every size */
	uint32_t pad;
};
#define SNF_STAGES 4

/* The control block at the start of the NIC program's memory. */
struct snf_ctl {
	uint32_t magic;
	uint32_t version;
	uint32_t node_id;
	uint32_t mtu;          /* link MTU */
	uint32_t max_frag;     /* largest fragment (frame payload) */
	uint32_t threshold;    /* messages up to this many bytes are sent inline */
	uint32_t flow_control; /* 1: credits on */
	uint32_t credits;      /* frames granted to each peer */
	uint32_t tx_slots, rx_slots;
	uint32_t send_off, send_size; /* ring header offset, entries (2^n) */
	uint32_t post_off, post_size;
	uint32_t comp_off, comp_size;
	uint32_t inline_off;   /* comp_size * SNF_INLINE_MAX bytes */
	uint32_t fixed_frag;   /* nonzero: every message uses this fragment */
	/*
	 * How much the sending stages fail to overlap, per mille, measured by
	 * calibration: 0 a perfect pipeline (the bottleneck hides the others),
	 * 1000 the stages take turns (each fragment costs all of them).
	 */
	uint32_t serial_pm;
	uint32_t pad[1];
	struct snf_stage stages[SNF_STAGES];
	struct snf_counters counters;
};

struct snf_ring_hdr {
	_Atomic uint32_t prod;
	uint32_t pad0[15];
	_Atomic uint32_t cons;
	uint32_t pad1[15];
};

/* A view of one ring from one side; local indexes avoid re-reading shared ones. */
struct snf_ring {
	struct snf_ring_hdr *h;
	uint8_t *ent;
	uint32_t size;  /* entries, a power of two */
	uint32_t esize; /* bytes per entry */
};

static inline void snf_ring_init(struct snf_ring *r, void *base, uint32_t off, uint32_t size,
				 uint32_t esize)
{
	r->h = (struct snf_ring_hdr *)((uint8_t *)base + off);
	r->ent = (uint8_t *)r->h + sizeof(struct snf_ring_hdr);
	r->size = size;
	r->esize = esize;
}

static inline size_t snf_ring_bytes(uint32_t size, uint32_t esize)
{
	return sizeof(struct snf_ring_hdr) + (size_t)size * esize;
}

/* Producer: the next free entry, or NULL when the ring is full (or corrupt). */
static inline void *snf_ring_slot(const struct snf_ring *r)
{
	uint32_t prod = atomic_load_explicit(&r->h->prod, memory_order_relaxed);
	uint32_t cons = atomic_load_explicit(&r->h->cons, memory_order_acquire);

	if (prod - cons >= r->size)
		return NULL;
	return r->ent + (size_t)(prod & (r->size - 1)) * r->esize;
}

/* Producer: publish the entry snf_ring_slot() returned. */
static inline void snf_ring_push(const struct snf_ring *r)
{
	uint32_t prod = atomic_load_explicit(&r->h->prod, memory_order_relaxed);

	atomic_store_explicit(&r->h->prod, prod + 1, memory_order_release);
}

/*
 * Consumer: entries waiting.  @ret the count, or -1 when the producer's
 * index is impossible (more than the ring holds).
 */
static inline int64_t snf_ring_avail(const struct snf_ring *r)
{
	uint32_t prod = atomic_load_explicit(&r->h->prod, memory_order_acquire);
	uint32_t cons = atomic_load_explicit(&r->h->cons, memory_order_relaxed);

	if (prod - cons > r->size)
		return -1;
	return prod - cons;
}

/* Consumer: the oldest entry; only valid when snf_ring_avail() > 0. */
static inline void *snf_ring_head(const struct snf_ring *r)
{
	uint32_t cons = atomic_load_explicit(&r->h->cons, memory_order_relaxed);

	return r->ent + (size_t)(cons & (r->size - 1)) * r->esize;
}

/* Consumer: free the head entry for the producer. */
static inline void snf_ring_pop(const struct snf_ring *r)
{
	uint32_t cons = atomic_load_explicit(&r->h->cons, memory_order_relaxed);

	atomic_store_explicit(&r->h->cons, cons + 1, memory_order_release);
}

static inline uint32_t snf_ring_index(const struct snf_ring *r, const void *entry)
{
	return (uint32_t)(((const uint8_t *)entry - r->ent) / r->esize);
}

#endif
