/*
 * The NIC program.  See fw.h for the shape and docs/nic.md for the design.
 *
 * Sender: descriptors are copied out of the send ring into a pool of
 * messages.  Each message is cut into fragments; a fragment takes a credit
 * from its peer and a transmit buffer, gets its header written while the host
 * DMA engine fetches its payload, and is queued in sequence order for the
 * wire.  The wire queue is issued strictly in order, so frames leave in seq
 * order whatever the engines do.  Store-and-forward messages take all their
 * buffers at once and only become ready when the last fragment is fetched.
 *
 * Receiver: all receive buffers are posted to the wire receive engine.  A
 * data frame is checked against its peer's expected seq (a gap is a loss),
 * attached to that peer's current message, and DMAed to the message's posted
 * buffer, or held until a buffer is posted.  Freeing a buffer is what returns
 * a credit to the sender.
 */
#include "fw.h"

#include "cost.h"
#include "frame.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX
#define TICK_NS 20000000ull       /* housekeeping every 20 ms */
#define HELLO_NS 200000000ull     /* repeat hellos every 200 ms */
#define COMP_RESERVE 16u          /* completion entries kept for loss reports */
#define CAL_REPS 8u
#define CAL_ROUNDS 3u
#define CTRL_BUF_SIZE 128u

/* Cookies name the buffer an engine hands back. */
enum ck_kind { CK_TXDMA = 1, CK_RXDMA, CK_TXWIRE, CK_CTRL, CK_RXBUF, CK_CAL };
#define CK(kind, idx) ((uint64_t)(kind) << 56 | (uint64_t)(idx))
#define CK_KIND(c) ((unsigned)((c) >> 56))
#define CK_IDX(c) ((uint32_t)((c) & 0xffffffffu))

enum ts_state { TS_FREE, TS_DMA, TS_READY, TS_WIRE };
enum rs_state { RS_POSTED, RS_HELD, RS_DMA };

struct fw_txslot {
	uint32_t off;    /* in NIC memory */
	uint32_t len;    /* frame bytes */
	uint32_t msg;    /* pool index while its DMA is outstanding */
	uint32_t next;   /* free list */
	uint16_t peer;   /* peer index */
	uint8_t state;
	uint8_t skip;    /* fetch failed: free it instead of sending */
};

struct fw_txmsg {
	struct snf_send_desc d;
	uint32_t peer;        /* index */
	uint32_t frag, nfrags;
	uint32_t issued;      /* bytes given to fragments */
	uint32_t frags_issued, dma_done;
	uint32_t msg_id;
	uint32_t wq_first;    /* store-and-forward: first wire-queue position */
	int status;
	bool sf, small, done, aborted;
};

struct fw_rxslot {
	uint32_t off;
	uint32_t msg;    /* rx message while held or in DMA */
	uint32_t next;   /* held list */
	uint32_t plen;   /* payload bytes */
	uint32_t poff;   /* offset in the message */
	uint16_t peer;
	uint8_t state;
	uint8_t counted; /* a sequenced data frame: freeing it returns a credit */
};

struct fw_rxmsg {
	bool used, has_post, complete_rx, aborted, sf, small, ready;
	uint16_t peer;
	uint32_t msg_id, len, tag, frag, nfrags;
	uint32_t received;  /* bytes arrived */
	uint32_t accounted; /* bytes delivered or discarded (truncation) */
	uint32_t inflight;  /* DMAs to the host outstanding */
	uint32_t held_head, held_tail;
	uint32_t wait_next;
	int status;
	uint64_t last_ns;
	struct snf_post_desc post;
};

struct fw_peer {
	uint16_t id;
	uint8_t mac[6];
	bool self;
	/* towards the peer */
	uint32_t tx_seq, tx_msg_id;
	uint32_t limit;    /* may send seq < limit */
	bool limit_valid;
	bool stalled;
	/* from the peer */
	bool rx_known;
	uint32_t rx_epoch, rx_expect, rx_base, rx_consumed, rx_adv;
	uint32_t cur;      /* message being received, or NONE */
	uint32_t ctrl_pending; /* SNF_CTRL_* flags to send when a buffer frees, +0x100 */
	uint64_t hello_ns;
};

struct nicfw {
	struct nic_hal *hal;
	struct nicfw_config cfg;
	uint8_t *mem;
	size_t memsize;
	struct snf_ctl *ctl;
	struct hal_link link;
	struct snf_ring send, post, comp;
	uint8_t *inline_area;

	struct fw_peer peers[NICFW_PEERS_MAX + 1];
	unsigned npeers;
	uint32_t grant;

	/* sender */
	struct fw_txslot *tx;
	uint32_t ntx, tx_free, tx_nfree;
	struct fw_txmsg *txm;           /* pool, a FIFO of send_ring entries */
	uint32_t txm_head, txm_issue, txm_tail; /* free-running */
	uint32_t *wq;                   /* wire queue of tx slots, seq order */
	uint32_t wq_head, wq_tail;      /* free-running, mod ntx */
	uint32_t ctrl_off;
	uint32_t ctrl_free;             /* bitmap of free control buffers */
	bool slot_stalled;

	/* receiver */
	struct fw_rxslot *rx;
	uint32_t nrx;
	struct fw_rxmsg *rxm;
	uint32_t nrxm;
	uint32_t wait_head, wait_tail;
	struct snf_post_desc *posts;
	uint32_t post_head, post_tail;  /* free-running, mod post_ring */
	uint32_t *rxorder;              /* messages with buffers, in assignment order */
	uint32_t ro_head, ro_tail, nro;

	/* host */
	bool host_up, detaching, ring_bad;
	uint64_t host_win;
	uint32_t host_dma;              /* DMAs to or from the host outstanding */
	uint32_t outstanding;           /* accepted descriptors not yet completed */
	bool irq;

	uint32_t slot_size;
	uint64_t next_tick;
	bool doorbell_seen;
};

static void fw_log(struct nicfw *fw, enum hal_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fw_log(struct nicfw *fw, enum hal_log_level lvl, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fw->hal->ops->log(fw->hal, lvl, msg);
}

#define CNT_ADD(fw, name, v)                                                                       \
	atomic_store_explicit(&(fw)->ctl->counters.name,                                           \
			      atomic_load_explicit(&(fw)->ctl->counters.name,                      \
						   memory_order_relaxed) + (v),                    \
			      memory_order_relaxed)
#define CNT_SET(fw, name, v) atomic_store_explicit(&(fw)->ctl->counters.name, (v), memory_order_relaxed)

void nicfw_config_defaults(struct nicfw_config *c)
{
	memset(c, 0, sizeof(*c));
	c->threshold = 256;
	c->flow_control = 1;
	c->min_frag = 1024;
	c->send_ring = 256;
	c->post_ring = 256;
	c->rx_timeout_ms = 2000;
	c->epoch = 1;
	c->calibrate = 1;
}

static bool is_pow2(uint32_t v) { return v && !(v & (v - 1)); }

int nicfw_config_check(const struct nicfw_config *c, char *err, size_t errlen)
{
	unsigned i, j;

	if (c->threshold > SNF_INLINE_MAX) {
		snprintf(err, errlen, "threshold: %u is above the inline limit %u", c->threshold,
			 SNF_INLINE_MAX);
		return -EINVAL;
	}
	if (c->npeers > NICFW_PEERS_MAX) {
		snprintf(err, errlen, "peers: %u is more than %u", c->npeers, NICFW_PEERS_MAX);
		return -EINVAL;
	}
	for (i = 0; i < c->npeers; i++) {
		if (c->peers[i].id == c->node_id) {
			snprintf(err, errlen, "peers: %u is this node's own id", c->peers[i].id);
			return -EINVAL;
		}
		for (j = 0; j < i; j++)
			if (c->peers[j].id == c->peers[i].id) {
				snprintf(err, errlen, "peers: node %u is listed twice",
					 c->peers[i].id);
				return -EINVAL;
			}
		if (c->peers[i].mac[0] & 1) {
			snprintf(err, errlen, "peers: node %u has a multicast MAC", c->peers[i].id);
			return -EINVAL;
		}
	}
	if (!is_pow2(c->send_ring) || c->send_ring > 4096 || !is_pow2(c->post_ring) ||
	    c->post_ring > 4096) {
		snprintf(err, errlen, "rings: %u and %u entries, want powers of two up to 4096",
			 c->send_ring, c->post_ring);
		return -EINVAL;
	}
	if (c->min_frag < SNF_FRAG_MIN || (c->max_frag && c->max_frag < c->min_frag)) {
		snprintf(err, errlen, "min-frag: %u, want at least %u and at most max-frag %u",
			 c->min_frag, SNF_FRAG_MIN, c->max_frag);
		return -EINVAL;
	}
	if (c->fixed_frag && c->fixed_frag < SNF_FRAG_MIN) {
		snprintf(err, errlen, "frag: %u is below %u", c->fixed_frag, SNF_FRAG_MIN);
		return -EINVAL;
	}
	if (!c->epoch) {
		snprintf(err, errlen, "epoch: must not be 0");
		return -EINVAL;
	}
	if (!c->calibrate)
		for (i = 0; i < SNF_STAGES; i++)
			if (c->stages[i].b_ns <= 0 || c->stages[i].a_ns < 0) {
				snprintf(err, errlen, "stage %u: a %.1f b %.4f, want a >= 0, b > 0",
					 i, c->stages[i].a_ns, c->stages[i].b_ns);
				return -EINVAL;
			}
	return 0;
}

/* ---- helpers ---------------------------------------------------------- */

static int peer_index(const struct nicfw *fw, uint16_t id)
{
	unsigned i;

	for (i = 0; i < fw->npeers; i++)
		if (fw->peers[i].id == id)
			return (int)i;
	return -1;
}

static int32_t peer_credits(const struct fw_peer *p)
{
	return p->limit_valid ? (int32_t)(p->limit - p->tx_seq) : 0;
}

uint32_t nicfw_frag_for(const struct nicfw *fw, uint64_t n)
{
	uint32_t f;

	if (fw->cfg.fixed_frag)
		f = fw->cfg.fixed_frag < fw->ctl->max_frag ? fw->cfg.fixed_frag : fw->ctl->max_frag;
	else
		f = cost_frag(fw->ctl->stages, SNF_STAGES, n, fw->cfg.min_frag, fw->ctl->max_frag);
	if (!f)
		f = n < fw->ctl->max_frag ? (uint32_t)n : fw->ctl->max_frag;
	return f ? f : 1;
}

const struct snf_ctl *nicfw_ctl(const struct nicfw *fw) { return fw->ctl; }

/* A completion entry to fill, or NULL when the host has not made room. */
static struct snf_comp *comp_slot(struct nicfw *fw)
{
	struct snf_comp *c = snf_ring_slot(&fw->comp);

	if (c)
		memset(c, 0, sizeof(*c));
	return c;
}

static void comp_push(struct nicfw *fw)
{
	snf_ring_push(&fw->comp);
	fw->irq = true;
}

static uint32_t comp_used(const struct nicfw *fw)
{
	return atomic_load_explicit(&fw->comp.h->prod, memory_order_relaxed) -
	       atomic_load_explicit(&fw->comp.h->cons, memory_order_acquire);
}

/* Completion for a descriptor the NIC accepted (or refused) from the host. */
static void comp_desc(struct nicfw *fw, uint8_t type, uint64_t cookie, uint16_t peer,
		      uint32_t len, int status, uint32_t tag, uint32_t frag, uint32_t nfrags,
		      uint64_t host_off)
{
	struct snf_comp *c;

	if (!fw->host_up)
		return;
	c = comp_slot(fw);
	if (!c) {
		/* The acceptance check keeps room; only a host that lies gets here. */
		fw_log(fw, HAL_LOG_ERR, "completion ring full: completion for cookie %llu lost",
		       (unsigned long long)cookie);
		return;
	}
	c->type = type;
	c->cookie = cookie;
	c->peer = peer;
	c->len = len;
	c->status = status;
	c->tag = tag;
	c->frag = frag;
	c->nfrags = nfrags;
	c->host_off = host_off;
	comp_push(fw);
	if (fw->outstanding)
		fw->outstanding--;
}

static void comp_loss(struct nicfw *fw, uint16_t peer, uint32_t frames, int status)
{
	struct snf_comp *c;

	/* Only into room no accepted descriptor's completion needs. */
	if (!fw->host_up || comp_used(fw) + fw->outstanding + 1 >= fw->comp.size ||
	    !(c = comp_slot(fw)))
		return; /* counted anyway: frames_lost */
	c->type = SNF_COMP_LOSS;
	c->peer = peer;
	c->len = frames;
	c->status = status;
	comp_push(fw);
}

/* ---- control frames (hello and credits) ------------------------------- */

static void ctrl_send(struct nicfw *fw, struct fw_peer *p, uint32_t flags)
{
	struct snf_hdr h = { 0 };
	struct snf_ctrl_wire c = { 0 };
	uint32_t i, off;
	uint8_t *f;
	int rc;

	if (!fw->ctrl_free) {
		p->ctrl_pending |= flags | 0x100;
		return;
	}
	i = (uint32_t)__builtin_ctz(fw->ctrl_free);
	fw->ctrl_free &= ~(1u << i);
	off = fw->ctrl_off + i * CTRL_BUF_SIZE;
	f = fw->mem + off;
	memcpy(h.dst, p->mac, 6);
	memcpy(h.src, fw->link.mac, 6);
	h.type = SNF_T_CTRL;
	h.src_node = fw->cfg.node_id;
	h.dst_node = p->id;
	h.epoch = fw->cfg.epoch;
	h.frag_len = SNF_CTRL_LEN;
	c.your_epoch = p->rx_epoch;
	c.next_seq = p->tx_seq;
	c.grant = fw->grant;
	c.flags = flags;
	if (p->rx_known) {
		c.limit = p->rx_base + p->rx_consumed + fw->grant;
		c.flags |= SNF_CTRL_LIMIT;
		p->rx_adv = p->rx_consumed;
	}
	snf_hdr_encode(&h, f);
	snf_ctrl_encode(&c, f + SNF_FRAME_HDR);
	p->ctrl_pending = 0;
	rc = fw->hal->ops->wire_send(fw->hal, off, SNF_FRAME_HDR + SNF_CTRL_LEN,
				     p->self ? HAL_TX_LOOPBACK : 0, CK(CK_CTRL, i));
	if (rc) {
		fw_log(fw, HAL_LOG_WARN, "control frame to node %u not queued: %s", p->id,
		       strerror(-rc));
		fw->ctrl_free |= 1u << i;
		return;
	}
	CNT_ADD(fw, ctrl_tx, 1);
}

/* After freeing receive buffers: tell the sender when a quarter of its grant is back. */
static void credit_maybe_return(struct nicfw *fw, struct fw_peer *p)
{
	uint32_t step = fw->grant / 4 ? fw->grant / 4 : 1;

	if (fw->cfg.flow_control && p->rx_known && p->rx_consumed - p->rx_adv >= step)
		ctrl_send(fw, p, 0);
}

/* A new incarnation of peer p is sending to us: start its receive state afresh. */
static void rx_abort(struct nicfw *fw, uint32_t mi, int status);

static void rx_reset(struct nicfw *fw, struct fw_peer *p, uint32_t epoch, uint32_t seq)
{
	if (p->cur != NONE)
		rx_abort(fw, p->cur, -ECONNRESET);
	p->rx_known = true;
	p->rx_epoch = epoch;
	p->rx_expect = seq;
	p->rx_base = seq;
	p->rx_consumed = 0;
	p->rx_adv = 0;
}

static void ctrl_recv(struct nicfw *fw, struct fw_peer *p, const struct snf_hdr *h,
		      const uint8_t *payload)
{
	struct snf_ctrl_wire c;
	bool reply = false;

	snf_ctrl_decode(payload, &c);
	CNT_ADD(fw, ctrl_rx, 1);
	if (!p->rx_known || p->rx_epoch != h->epoch) {
		rx_reset(fw, p, h->epoch, c.next_seq);
		reply = true;
	}
	if ((c.flags & SNF_CTRL_LIMIT) && c.your_epoch == fw->cfg.epoch) {
		/* Ignore limits that would go backwards (a stale, reordered frame). */
		if (!p->limit_valid || (int32_t)(c.limit - p->limit) > 0)
			p->limit = c.limit;
		p->limit_valid = true;
	} else if (c.your_epoch != fw->cfg.epoch) {
		/* The peer knows an older us (or none): it must learn our seq first. */
		p->limit_valid = false;
		reply = true;
	}
	if (c.flags & SNF_CTRL_REPLY)
		reply = true;
	if (reply)
		ctrl_send(fw, p, p->limit_valid ? 0 : SNF_CTRL_REPLY);
}

/* ---- receiver ---------------------------------------------------------- */

static void rx_repost(struct nicfw *fw, uint32_t s)
{
	struct fw_rxslot *r = &fw->rx[s];
	int rc;

	if (r->counted) {
		struct fw_peer *p = &fw->peers[r->peer];
		p->rx_consumed++;
		r->counted = 0;
		credit_maybe_return(fw, p);
	}
	r->state = RS_POSTED;
	r->msg = NONE;
	rc = fw->hal->ops->wire_post_rx(fw->hal, r->off, fw->slot_size, CK(CK_RXBUF, s));
	if (rc)
		fw_log(fw, HAL_LOG_ERR, "receive buffer %u not posted: %s", s, strerror(-rc));
}

static uint32_t rxm_alloc(struct nicfw *fw)
{
	uint32_t i;

	for (i = 0; i < fw->nrxm; i++)
		if (!fw->rxm[i].used) {
			memset(&fw->rxm[i], 0, sizeof(fw->rxm[i]));
			fw->rxm[i].used = true;
			fw->rxm[i].held_head = fw->rxm[i].held_tail = NONE;
			fw->rxm[i].wait_next = NONE;
			return i;
		}
	return NONE;
}

static void wait_remove(struct nicfw *fw, uint32_t mi)
{
	uint32_t *pp = &fw->wait_head, prev = NONE;

	while (*pp != NONE && *pp != mi) {
		prev = *pp;
		pp = &fw->rxm[*pp].wait_next;
	}
	if (*pp == NONE)
		return;
	*pp = fw->rxm[mi].wait_next;
	if (fw->wait_tail == mi)
		fw->wait_tail = prev;
	fw->rxm[mi].wait_next = NONE;
}

static void rx_free_held(struct nicfw *fw, struct fw_rxmsg *m)
{
	uint32_t s, n;

	for (s = m->held_head; s != NONE; s = n) {
		n = fw->rx[s].next;
		m->accounted += fw->rx[s].plen;
		rx_repost(fw, s);
	}
	m->held_head = m->held_tail = NONE;
}

/*
 * Complete one message to the host.  Small ones are copied into the
 * completion's inline area, where the host reads them (programmed I/O).
 * @ret false when the completion ring has no room yet.
 */
static bool rx_emit(struct nicfw *fw, uint32_t mi)
{
	struct fw_rxmsg *m = &fw->rxm[mi];
	uint16_t id = fw->peers[m->peer].id;
	int status = m->aborted ? m->status : m->len > m->post.len ? -EMSGSIZE : 0;
	struct snf_comp *c = comp_slot(fw);
	uint32_t n;

	if (!c)
		return false;
	c->type = SNF_COMP_RECV;
	c->cookie = m->post.cookie;
	c->host_off = m->post.host_off;
	c->peer = id;
	c->len = m->len;
	c->status = status;
	c->tag = m->tag;
	c->frag = m->frag;
	c->nfrags = m->nfrags;
	if (m->small && !m->aborted && m->held_head != NONE) {
		n = m->len < m->post.len ? m->len : m->post.len;
		memcpy(fw->inline_area + (size_t)snf_ring_index(&fw->comp, c) * SNF_INLINE_MAX,
		       fw->mem + fw->rx[m->held_head].off + SNF_FRAME_HDR, n);
		c->flags = SNF_COMP_INLINE;
		c->frag = n; /* bytes in the inline area */
		rx_free_held(fw, m);
		CNT_ADD(fw, small_rx, 1);
	}
	comp_push(fw);
	if (fw->outstanding)
		fw->outstanding--;
	if (!m->aborted) {
		CNT_ADD(fw, msgs_rx, 1);
		CNT_ADD(fw, bytes_rx, m->len);
		if (m->sf)
			CNT_ADD(fw, sf_rx, 1);
	}
	return true;
}

/* Complete finished messages in the order they got their buffers: per-peer order holds. */
static void rx_flush(struct nicfw *fw)
{
	while (fw->ro_head != fw->ro_tail) {
		uint32_t mi = fw->rxorder[fw->ro_head % fw->nro];
		struct fw_rxmsg *m = &fw->rxm[mi];

		if (!m->ready)
			break;
		if (fw->host_up && !rx_emit(fw, mi))
			break; /* the host must read completions first */
		rx_free_held(fw, m);
		m->used = false;
		fw->ro_head++;
	}
}

/* Mark a message finished once nothing is in flight for it. */
static void rx_check_done(struct nicfw *fw, uint32_t mi)
{
	struct fw_rxmsg *m = &fw->rxm[mi];

	if (m->inflight || m->ready)
		return;
	if (m->aborted) {
		if (m->held_head != NONE)
			return;
		if (!m->has_post) {
			m->used = false;
			return;
		}
	} else if (m->small) {
		if (!m->complete_rx || !m->has_post)
			return;
	} else if (m->held_head != NONE || !m->complete_rx || !m->has_post ||
		   m->accounted != m->len) {
		return;
	}
	m->ready = true;
	rx_flush(fw);
}

static void rx_abort(struct nicfw *fw, uint32_t mi, int status)
{
	struct fw_rxmsg *m = &fw->rxm[mi];
	struct fw_peer *p = &fw->peers[m->peer];

	if (p->cur == mi)
		p->cur = NONE;
	if (m->aborted || m->ready)
		return;
	m->aborted = true;
	m->status = status;
	CNT_ADD(fw, msgs_aborted, 1);
	rx_free_held(fw, m);
	if (!m->has_post)
		wait_remove(fw, mi);
	rx_check_done(fw, mi);
}

/* Move what can move: DMA held fragments to the posted buffer. */
static void rx_progress(struct nicfw *fw, uint32_t mi)
{
	struct fw_rxmsg *m = &fw->rxm[mi];
	uint32_t s, next, n;
	int rc;

	if (!m->used || !m->has_post || m->aborted || m->ready)
		return; /* rx_match() may have finished it already */
	if (m->small) {
		rx_check_done(fw, mi);
		return;
	}
	if (m->sf && !m->complete_rx)
		return; /* store-and-forward: all of it first */
	for (s = m->held_head; s != NONE; s = next) {
		struct fw_rxslot *r = &fw->rx[s];

		next = r->next;
		m->held_head = next;
		if (r->poff >= m->post.len) {
			/* Beyond a short buffer: truncated, reported as -EMSGSIZE. */
			m->accounted += r->plen;
			rx_repost(fw, s);
			continue;
		}
		n = m->post.len - r->poff < r->plen ? m->post.len - r->poff : r->plen;
		rc = fw->hal->ops->dma(fw->hal, HAL_WIN_HOST, HAL_DMA_TO_HOST,
				       m->post.host_off + r->poff, r->off + SNF_FRAME_HDR, n,
				       CK(CK_RXDMA, s));
		if (rc) {
			fw_log(fw, HAL_LOG_ERR, "DMA to host buffer 0x%llx+%u refused: %s",
			       (unsigned long long)(m->post.host_off + r->poff), n, strerror(-rc));
			m->accounted += r->plen;
			m->status = rc;
			m->aborted = true;
			rx_repost(fw, s);
			continue;
		}
		r->state = RS_DMA;
		m->inflight++;
		fw->host_dma++;
	}
	m->held_tail = NONE;
	rx_check_done(fw, mi);
}

/* Give posted buffers to waiting messages, oldest first. */
static void rx_match(struct nicfw *fw)
{
	uint32_t mi;

	while (fw->wait_head != NONE && fw->post_head != fw->post_tail &&
	       fw->ro_tail - fw->ro_head < fw->nro) {
		mi = fw->wait_head;
		fw->wait_head = fw->rxm[mi].wait_next;
		if (fw->wait_head == NONE)
			fw->wait_tail = NONE;
		fw->rxm[mi].wait_next = NONE;
		fw->rxm[mi].post = fw->posts[fw->post_head++ & (fw->cfg.post_ring - 1)];
		fw->rxm[mi].has_post = true;
		fw->rxorder[fw->ro_tail++ % fw->nro] = mi;
		rx_progress(fw, mi);
	}
}

static void rx_data(struct nicfw *fw, uint32_t s, struct fw_peer *p, const struct snf_hdr *h)
{
	struct fw_rxslot *r = &fw->rx[s];
	uint32_t pi = (uint32_t)(p - fw->peers), mi;
	int32_t d;
	struct fw_rxmsg *m;

	if (!p->rx_known || p->rx_epoch != h->epoch) {
		/* Data before (or without) a hello: adopt the sender's numbering. */
		rx_reset(fw, p, h->epoch, h->seq);
		ctrl_send(fw, p, SNF_CTRL_REPLY);
	}
	d = (int32_t)(h->seq - p->rx_expect);
	if (d < 0) {
		CNT_ADD(fw, frames_dup, 1);
		rx_repost(fw, s);
		return;
	}
	if (d > 0) {
		/* Frames went missing (no buffer, kernel ring, wire): report them. */
		CNT_ADD(fw, frames_lost, (uint64_t)d);
		p->rx_consumed += (uint32_t)d;
		if (p->cur != NONE)
			rx_abort(fw, p->cur, -EIO);
		comp_loss(fw, p->id, (uint32_t)d, -EIO);
		fw_log(fw, HAL_LOG_DEBUG, "node %u: %d frame(s) lost before seq %u", p->id, d,
		       h->seq);
	}
	p->rx_expect = h->seq + 1;
	r->counted = 1;
	if (!fw->host_up) {
		/* No application: the port is closed, as on GM; holding would serve a stranger. */
		CNT_ADD(fw, drops_closed, 1);
		if (h->flags & SNF_F_FIRST && p->cur != NONE)
			rx_abort(fw, p->cur, -ECONNRESET);
		rx_repost(fw, s);
		return;
	}
	r->peer = (uint16_t)pi;
	r->plen = h->frag_len;
	r->poff = h->offset;
	r->next = NONE;
	CNT_ADD(fw, frags_rx, 1);

	if (h->flags & SNF_F_FIRST) {
		if (p->cur != NONE)
			rx_abort(fw, p->cur, -EIO); /* its tail never came */
		mi = rxm_alloc(fw);
		if (mi == NONE) {
			fw_log(fw, HAL_LOG_ERR, "no message state left: frame from node %u dropped",
			       p->id);
			rx_repost(fw, s);
			return;
		}
		m = &fw->rxm[mi];
		m->peer = (uint16_t)pi;
		m->msg_id = h->msg_id;
		m->len = h->msg_len;
		m->tag = h->tag;
		m->frag = h->frag_size;
		m->sf = h->flags & SNF_F_SF;
		m->small = h->flags & SNF_F_SMALL;
		p->cur = mi;
		if (fw->wait_tail == NONE)
			fw->wait_head = mi;
		else
			fw->rxm[fw->wait_tail].wait_next = mi;
		fw->wait_tail = mi;
	} else {
		mi = p->cur;
		if (mi == NONE || fw->rxm[mi].msg_id != h->msg_id ||
		    fw->rxm[mi].received != h->offset) {
			/* The rest of a message whose start was lost. */
			CNT_ADD(fw, frames_orphan, 1);
			rx_repost(fw, s);
			return;
		}
		m = &fw->rxm[mi];
	}
	m->received += h->frag_len;
	m->nfrags++;
	m->last_ns = fw->hal->ops->now_ns(fw->hal);
	r->state = RS_HELD;
	r->msg = mi;
	if (m->held_tail == NONE)
		m->held_head = s;
	else
		fw->rx[m->held_tail].next = s;
	m->held_tail = s;
	if (h->flags & SNF_F_LAST) {
		m->complete_rx = true;
		p->cur = NONE;
	}
	rx_match(fw);
	rx_progress(fw, mi);
}

static void rx_frame(struct nicfw *fw, uint32_t s, uint32_t len)
{
	struct fw_rxslot *r = &fw->rx[s];
	const uint8_t *f = fw->mem + r->off;
	struct snf_hdr h;
	char err[160];
	int pi;

	r->counted = 0;
	if (snf_hdr_decode(f, len, &h, err, sizeof(err))) {
		CNT_ADD(fw, frames_bad, 1);
		fw_log(fw, HAL_LOG_DEBUG, "bad frame: %s", err);
		rx_repost(fw, s);
		return;
	}
	if (h.type == SNF_T_CAL) {
		rx_repost(fw, s);
		return;
	}
	pi = peer_index(fw, h.src_node);
	if (pi < 0 || memcmp(fw->peers[pi].mac, h.src, 6) || h.dst_node != fw->cfg.node_id) {
		CNT_ADD(fw, frames_bad, 1);
		fw_log(fw, HAL_LOG_DEBUG, "frame from node %u (%02x:..:%02x) to %u not for us",
		       h.src_node, h.src[0], h.src[5], h.dst_node);
		rx_repost(fw, s);
		return;
	}
	if (h.type == SNF_T_CTRL) {
		ctrl_recv(fw, &fw->peers[pi], &h, f + SNF_FRAME_HDR);
		rx_repost(fw, s);
		return;
	}
	rx_data(fw, s, &fw->peers[pi], &h);
}

static void rx_dma_done(struct nicfw *fw, uint32_t s, int status)
{
	struct fw_rxslot *r = &fw->rx[s];
	uint32_t mi = r->msg;
	struct fw_rxmsg *m = &fw->rxm[mi];

	m->inflight--;
	fw->host_dma--;
	m->accounted += r->plen;
	if (status && !m->aborted) {
		m->status = status;
		m->aborted = true;
		CNT_ADD(fw, msgs_aborted, 1);
	}
	rx_repost(fw, s);
	rx_check_done(fw, mi);
}

/* Pull posted receive descriptors from the host into the NIC's own queue. */
static void rx_take_posts(struct nicfw *fw)
{
	int64_t avail;

	if (!fw->host_up || fw->ring_bad)
		return;
	avail = snf_ring_avail(&fw->post);
	if (avail < 0) {
		fw_log(fw, HAL_LOG_ERR, "receive-post ring indices are corrupt: ignoring the host");
		fw->ring_bad = true;
		CNT_ADD(fw, bad_desc, 1);
		return;
	}
	while (avail-- > 0 && fw->post_tail - fw->post_head < fw->cfg.post_ring) {
		const struct snf_post_desc *d = snf_ring_head(&fw->post);
		struct snf_post_desc copy = *d;

		if (comp_used(fw) + fw->outstanding + COMP_RESERVE >= fw->comp.size)
			break; /* the host must read completions first */
		snf_ring_pop(&fw->post);
		fw->outstanding++;
		if (copy.host_off > fw->host_win || copy.len > fw->host_win - copy.host_off) {
			fw_log(fw, HAL_LOG_WARN,
			       "receive descriptor refused: buffer 0x%llx+%u is outside the %llu-byte host window",
			       (unsigned long long)copy.host_off, copy.len,
			       (unsigned long long)fw->host_win);
			CNT_ADD(fw, bad_desc, 1);
			comp_desc(fw, SNF_COMP_RECV, copy.cookie, 0, 0, -EFAULT, 0, 0, 0,
				  copy.host_off);
			continue;
		}
		fw->posts[fw->post_tail++ & (fw->cfg.post_ring - 1)] = copy;
	}
	rx_match(fw);
}

/* ---- sender ------------------------------------------------------------ */

static uint32_t tx_alloc(struct nicfw *fw)
{
	uint32_t s = fw->tx_free;

	fw->tx_free = fw->tx[s].next;
	fw->tx_nfree--;
	return s;
}

static void tx_release(struct nicfw *fw, uint32_t s)
{
	fw->tx[s].state = TS_FREE;
	fw->tx[s].next = fw->tx_free;
	fw->tx_free = s;
	fw->tx_nfree++;
}

/* Validate a send descriptor.  @ret 0 or -errno with the reason logged. */
static int tx_check(struct nicfw *fw, const struct snf_send_desc *d, int *pi)
{
	uint32_t nfrags, frag;

	*pi = peer_index(fw, d->peer);
	if (*pi < 0) {
		fw_log(fw, HAL_LOG_WARN, "send descriptor refused: node %u is not a peer", d->peer);
		return -EHOSTUNREACH;
	}
	if (d->flags & ~SNF_SEND_FLAGS) {
		fw_log(fw, HAL_LOG_WARN, "send descriptor refused: unknown flags 0x%x", d->flags);
		return -EINVAL;
	}
	if (d->len > SNF_MSG_MAX) {
		fw_log(fw, HAL_LOG_WARN, "send descriptor refused: length %u is over %u", d->len,
		       SNF_MSG_MAX);
		return -EMSGSIZE;
	}
	if (d->flags & SNF_SEND_INLINE) {
		if (d->len > SNF_INLINE_MAX || d->len > fw->ctl->max_frag) {
			fw_log(fw, HAL_LOG_WARN,
			       "send descriptor refused: inline length %u is over %u", d->len,
			       SNF_INLINE_MAX);
			return -EINVAL;
		}
		return 0;
	}
	if (d->host_off > fw->host_win || d->len > fw->host_win - d->host_off) {
		fw_log(fw, HAL_LOG_WARN,
		       "send descriptor refused: buffer 0x%llx+%u is outside the %llu-byte host window",
		       (unsigned long long)d->host_off, d->len, (unsigned long long)fw->host_win);
		return -EFAULT;
	}
	if (d->frag && (d->frag < SNF_FRAG_MIN || d->frag > fw->ctl->max_frag)) {
		fw_log(fw, HAL_LOG_WARN,
		       "send descriptor refused: fragment size %u is outside %u..%u", d->frag,
		       SNF_FRAG_MIN, fw->ctl->max_frag);
		return -EINVAL;
	}
	if (d->flags & SNF_SEND_SF) {
		frag = d->frag ? d->frag : fw->ctl->max_frag;
		nfrags = d->len ? (d->len + frag - 1) / frag : 1;
		if (nfrags > fw->ntx || (fw->cfg.flow_control && nfrags > fw->grant)) {
			fw_log(fw, HAL_LOG_WARN,
			       "send descriptor refused: store-and-forward message of %u frames exceeds %u buffers / %u credits",
			       nfrags, fw->ntx, fw->grant);
			return -EMSGSIZE;
		}
	}
	return 0;
}

/* Copy descriptors from the send ring into the message pool. */
static void tx_fetch(struct nicfw *fw)
{
	int64_t avail;
	int pi, rc;

	if (!fw->host_up || fw->ring_bad)
		return;
	avail = snf_ring_avail(&fw->send);
	if (avail < 0) {
		fw_log(fw, HAL_LOG_ERR, "send ring indices are corrupt: ignoring the host");
		fw->ring_bad = true;
		CNT_ADD(fw, bad_desc, 1);
		return;
	}
	while (avail-- > 0 && fw->txm_tail - fw->txm_head < fw->cfg.send_ring) {
		const struct snf_send_desc *d = snf_ring_head(&fw->send);
		struct fw_txmsg *m = &fw->txm[fw->txm_tail & (fw->cfg.send_ring - 1)];

		if (comp_used(fw) + fw->outstanding + COMP_RESERVE >= fw->comp.size)
			break; /* the host must read completions first */
		memcpy(&m->d, d, offsetof(struct snf_send_desc, data));
		if ((d->flags & SNF_SEND_INLINE) && d->len <= SNF_INLINE_MAX)
			memcpy(m->d.data, d->data, d->len);
		snf_ring_pop(&fw->send);
		fw->outstanding++;
		rc = tx_check(fw, &m->d, &pi);
		if (rc) {
			CNT_ADD(fw, bad_desc, 1);
			comp_desc(fw, SNF_COMP_SEND, m->d.cookie, m->d.peer, m->d.len, rc,
				  m->d.tag, 0, 0, 0);
			continue;
		}
		m->peer = (uint32_t)pi;
		m->small = (m->d.flags & SNF_SEND_INLINE) || m->d.len == 0;
		m->sf = !m->small && (m->d.flags & SNF_SEND_SF);
		if (m->small)
			m->frag = m->d.len;
		else if (m->d.frag)
			m->frag = m->d.frag;
		else if (m->sf)
			m->frag = fw->ctl->max_frag;
		else
			m->frag = nicfw_frag_for(fw, m->d.len);
		m->nfrags = m->small ? 1 : (m->d.len + m->frag - 1) / m->frag;
		m->issued = m->frags_issued = m->dma_done = 0;
		m->status = 0;
		m->done = m->aborted = false;
		m->msg_id = fw->peers[pi].tx_msg_id++;
		fw->txm_tail++;
	}
}

static void tx_build_hdr(struct nicfw *fw, struct fw_txmsg *m, uint32_t s, uint32_t fl)
{
	struct fw_peer *p = &fw->peers[m->peer];
	struct snf_hdr h = { 0 };

	memcpy(h.dst, p->mac, 6);
	memcpy(h.src, fw->link.mac, 6);
	h.type = SNF_T_DATA;
	h.flags = (m->issued == 0 ? SNF_F_FIRST : 0) |
		  (m->issued + fl == m->d.len ? SNF_F_LAST : 0) | (m->small ? SNF_F_SMALL : 0) |
		  (m->sf ? SNF_F_SF : 0);
	h.src_node = fw->cfg.node_id;
	h.dst_node = p->id;
	h.epoch = fw->cfg.epoch;
	h.seq = p->tx_seq++;
	h.msg_id = m->msg_id;
	h.msg_len = m->d.len;
	h.offset = m->issued;
	h.frag_len = fl;
	h.tag = m->d.tag;
	h.frag_size = m->frag;
	snf_hdr_encode(&h, fw->mem + fw->tx[s].off);
	fw->tx[s].len = SNF_FRAME_HDR + fl < 60 ? 60 : SNF_FRAME_HDR + fl;
	fw->tx[s].peer = (uint16_t)m->peer;
	fw->tx[s].skip = 0;
	fw->wq[fw->wq_tail++ % fw->ntx] = s;
}

static void tx_msg_fetched(struct nicfw *fw, struct fw_txmsg *m)
{
	m->done = true;
	if (!m->aborted) {
		comp_desc(fw, SNF_COMP_SEND, m->d.cookie, m->d.peer, m->d.len, m->status, m->d.tag,
			  m->frag, m->nfrags, m->d.host_off);
		if (!m->status) {
			CNT_ADD(fw, msgs_tx, 1);
			CNT_ADD(fw, bytes_tx, m->d.len);
			if (m->small)
				CNT_ADD(fw, small_tx, 1);
			if (m->sf)
				CNT_ADD(fw, sf_tx, 1);
		}
	}
	while (fw->txm_head != fw->txm_issue &&
	       fw->txm[fw->txm_head & (fw->cfg.send_ring - 1)].done)
		fw->txm_head++;
}

/* Issue one fragment (or, store-and-forward, the whole message). @ret 1 when it issued. */
static int tx_issue(struct nicfw *fw, struct fw_txmsg *m)
{
	struct fw_peer *p = &fw->peers[m->peer];
	uint32_t need = m->sf ? m->nfrags : 1, s, fl, mi;
	int rc;

	if (fw->cfg.flow_control && peer_credits(p) < (int32_t)need) {
		if (!p->stalled) {
			p->stalled = true;
			CNT_ADD(fw, stalls_credit, 1);
		}
		return 0;
	}
	p->stalled = false;
	if (fw->tx_nfree < need) {
		if (!fw->slot_stalled) {
			fw->slot_stalled = true;
			CNT_ADD(fw, stalls_slots, 1);
		}
		return 0;
	}
	fw->slot_stalled = false;
	mi = (uint32_t)(m - fw->txm);
	if (m->small) {
		s = tx_alloc(fw);
		tx_build_hdr(fw, m, s, m->d.len);
		memcpy(fw->mem + fw->tx[s].off + SNF_FRAME_HDR, m->d.data, m->d.len);
		if (fw->tx[s].len > SNF_FRAME_HDR + m->d.len)
			memset(fw->mem + fw->tx[s].off + SNF_FRAME_HDR + m->d.len, 0,
			       fw->tx[s].len - SNF_FRAME_HDR - m->d.len);
		fw->tx[s].state = TS_READY;
		m->issued = m->d.len;
		m->frags_issued = m->dma_done = 1;
		return 1;
	}
	if (m->sf)
		m->wq_first = fw->wq_tail;
	do {
		s = tx_alloc(fw);
		fl = m->d.len - m->issued < m->frag ? m->d.len - m->issued : m->frag;
		/* The header is written while the engine fetches the payload. */
		rc = fw->hal->ops->dma(fw->hal, HAL_WIN_HOST, HAL_DMA_TO_NIC,
				       m->d.host_off + m->issued, fw->tx[s].off + SNF_FRAME_HDR, fl,
				       CK(CK_TXDMA, s));
		tx_build_hdr(fw, m, s, fl);
		fw->tx[s].msg = mi;
		if (rc) {
			fw_log(fw, HAL_LOG_ERR, "host DMA of 0x%llx+%u refused: %s",
			       (unsigned long long)(m->d.host_off + m->issued), fl, strerror(-rc));
			m->status = rc;
			fw->tx[s].state = TS_READY;
			fw->tx[s].skip = 1;
			m->dma_done++;
		} else {
			fw->tx[s].state = TS_DMA;
			fw->host_dma++;
		}
		m->issued += fl;
		m->frags_issued++;
	} while (m->issued < m->d.len && m->sf);
	return 1;
}

static void tx_pump(struct nicfw *fw)
{
	struct fw_txmsg *m;

	while (fw->txm_issue != fw->txm_tail) {
		m = &fw->txm[fw->txm_issue & (fw->cfg.send_ring - 1)];
		if (m->aborted) {
			m->done = true;
			fw->txm_issue++;
			continue;
		}
		if (!tx_issue(fw, m))
			break;
		if (m->frags_issued == m->nfrags) {
			fw->txm_issue++;
			if (m->dma_done == m->nfrags)
				tx_msg_fetched(fw, m);
		}
	}
	while (fw->txm_head != fw->txm_issue &&
	       fw->txm[fw->txm_head & (fw->cfg.send_ring - 1)].done)
		fw->txm_head++;
}

/* Hand ready frames to the wire, strictly in sequence order. */
static void tx_wire(struct nicfw *fw)
{
	uint32_t s;
	int rc;

	while (fw->wq_head != fw->wq_tail) {
		s = fw->wq[fw->wq_head % fw->ntx];
		if (fw->tx[s].state != TS_READY)
			break;
		fw->wq_head++;
		if (fw->tx[s].skip) {
			tx_release(fw, s);
			continue;
		}
		rc = fw->hal->ops->wire_send(fw->hal, fw->tx[s].off, fw->tx[s].len,
					     fw->peers[fw->tx[s].peer].self ? HAL_TX_LOOPBACK : 0,
					     CK(CK_TXWIRE, s));
		if (rc) {
			fw_log(fw, HAL_LOG_ERR, "frame of %u bytes not queued: %s", fw->tx[s].len,
			       strerror(-rc));
			tx_release(fw, s);
			continue;
		}
		fw->tx[s].state = TS_WIRE;
	}
}

static void tx_dma_done(struct nicfw *fw, uint32_t s, int status)
{
	struct fw_txslot *t = &fw->tx[s];
	struct fw_txmsg *m = &fw->txm[t->msg];
	uint32_t i;

	fw->host_dma--;
	if (status) {
		m->status = status;
		t->skip = 1;
	}
	m->dma_done++;
	if (!m->sf)
		t->state = TS_READY;
	else if (m->dma_done == m->nfrags)
		for (i = 0; i < m->nfrags; i++)
			fw->tx[fw->wq[(m->wq_first + i) % fw->ntx]].state = TS_READY;
	else
		t->state = TS_DMA;
	if (m->dma_done == m->nfrags && m->frags_issued == m->nfrags)
		tx_msg_fetched(fw, m);
}

/* ---- host attach / detach ---------------------------------------------- */

static void rings_reset(struct nicfw *fw)
{
	atomic_store(&fw->send.h->prod, 0);
	atomic_store(&fw->send.h->cons, 0);
	atomic_store(&fw->post.h->prod, 0);
	atomic_store(&fw->post.h->cons, 0);
	atomic_store(&fw->comp.h->prod, 0);
	atomic_store(&fw->comp.h->cons, 0);
}

static void host_down(struct nicfw *fw)
{
	uint32_t i;

	fw->host_up = false;
	fw->detaching = true;
	/* Messages not started yet go; started ones finish their fetches. */
	for (i = fw->txm_issue; i != fw->txm_tail; i++) {
		struct fw_txmsg *m = &fw->txm[i & (fw->cfg.send_ring - 1)];
		if (m->frags_issued == 0 || m->issued < m->d.len)
			m->aborted = true;
	}
	for (i = 0; i < fw->nrxm; i++)
		if (fw->rxm[i].used && !fw->rxm[i].aborted)
			rx_abort(fw, i, -ECONNRESET);
	fw->post_head = fw->post_tail = 0;
}

static void host_maybe_released(struct nicfw *fw)
{
	if (!fw->detaching || fw->host_dma)
		return;
	fw->detaching = false;
	fw->ring_bad = false;
	fw->outstanding = 0;
	rings_reset(fw);
	fw->host_win = 0;
	fw->hal->ops->host_released(fw->hal);
	fw_log(fw, HAL_LOG_INFO, "host detached");
}

/* ---- events and housekeeping ------------------------------------------- */

static void fw_event(struct nicfw *fw, const struct hal_event *ev)
{
	uint32_t i = CK_IDX(ev->cookie);

	switch (ev->type) {
	case HAL_EV_DOORBELL:
		break;
	case HAL_EV_DMA_DONE:
		if (CK_KIND(ev->cookie) == CK_TXDMA && i < fw->ntx)
			tx_dma_done(fw, i, ev->status);
		else if (CK_KIND(ev->cookie) == CK_RXDMA && i < fw->nrx)
			rx_dma_done(fw, i, ev->status);
		break;
	case HAL_EV_TX_DONE:
		if (CK_KIND(ev->cookie) == CK_TXWIRE && i < fw->ntx) {
			if (!ev->status)
				CNT_ADD(fw, frags_tx, 1);
			tx_release(fw, i);
		} else if (CK_KIND(ev->cookie) == CK_CTRL && i < NICFW_CTRL_BUFS) {
			fw->ctrl_free |= 1u << i;
		}
		break;
	case HAL_EV_RX:
		if (CK_KIND(ev->cookie) == CK_RXBUF && i < fw->nrx)
			rx_frame(fw, i, ev->len);
		break;
	case HAL_EV_HOST_UP:
		fw->host_up = true;
		fw->detaching = false;
		fw->host_win = fw->hal->ops->window(fw->hal, HAL_WIN_HOST);
		fw_log(fw, HAL_LOG_INFO, "host attached with a %llu-byte window",
		       (unsigned long long)fw->host_win);
		break;
	case HAL_EV_HOST_DOWN:
		host_down(fw);
		break;
	}
}

static void fw_tick(struct nicfw *fw, uint64_t now)
{
	uint64_t tmo = (uint64_t)fw->cfg.rx_timeout_ms * 1000000ull;
	unsigned i;

	for (i = 0; i < fw->npeers; i++) {
		struct fw_peer *p = &fw->peers[i];

		if ((!p->rx_known || (fw->cfg.flow_control && !p->limit_valid)) &&
		    now - p->hello_ns >= HELLO_NS) {
			p->hello_ns = now;
			ctrl_send(fw, p, SNF_CTRL_REPLY);
		}
		if (p->ctrl_pending && fw->ctrl_free)
			ctrl_send(fw, p, p->ctrl_pending & 0xff);
		if (p->cur != NONE && tmo && now - fw->rxm[p->cur].last_ns > tmo) {
			/* With credits on, a sender that may send but does not is gone. */
			int32_t room = (int32_t)(p->rx_base + p->rx_consumed + fw->grant - p->rx_expect);
			if (!fw->cfg.flow_control || room > 0) {
				fw_log(fw, HAL_LOG_WARN,
				       "message from node %u stalled at %u of %u bytes: aborted",
				       p->id, fw->rxm[p->cur].received, fw->rxm[p->cur].len);
				comp_loss(fw, p->id, 0, -ETIMEDOUT);
				rx_abort(fw, p->cur, -ETIMEDOUT);
			}
		}
	}
}

static void fw_gauges(struct nicfw *fw)
{
	struct hal_stats st;
	uint64_t credits = 0, held = 0;
	unsigned i;

	for (i = 0; i < fw->npeers; i++)
		if (peer_credits(&fw->peers[i]) > 0)
			credits += (uint64_t)peer_credits(&fw->peers[i]);
	for (i = 0; i < fw->nrx; i++)
		if (fw->rx[i].state == RS_HELD)
			held++;
	fw->hal->ops->stats(fw->hal, &st);
	CNT_SET(fw, credits_avail, credits);
	CNT_SET(fw, held_frames, held);
	CNT_SET(fw, send_queue, fw->txm_tail - fw->txm_head);
	CNT_SET(fw, post_queue, fw->post_tail - fw->post_head);
	CNT_SET(fw, drops_nobuf, st.rx_nobuf);
	CNT_SET(fw, drops_ring, st.rx_ring);
}

int nicfw_run(struct nicfw *fw, int timeout_ms)
{
	struct hal_event ev[64];
	uint64_t now;
	int n, i, total = 0;

	now = fw->hal->ops->now_ns(fw->hal);
	if (timeout_ms > 0 && fw->next_tick > now && (fw->next_tick - now) / 1000000 < (uint64_t)timeout_ms)
		timeout_ms = (int)((fw->next_tick - now) / 1000000) + 1;
	n = fw->hal->ops->event_wait(fw->hal, ev, 64, timeout_ms);
	do {
		/* Buffers the host posted before these frames arrived are theirs. */
		rx_take_posts(fw);
		for (i = 0; i < n; i++)
			fw_event(fw, &ev[i]);
		total += n;
		rx_take_posts(fw);
		rx_flush(fw);
		tx_fetch(fw);
		tx_pump(fw);
		tx_wire(fw);
		host_maybe_released(fw);
		/* Keep going while the engines have more for us: one wakeup, many events. */
		n = total < 4096 ? fw->hal->ops->event_wait(fw->hal, ev, 64, 0) : 0;
	} while (n > 0);
	now = fw->hal->ops->now_ns(fw->hal);
	if (now >= fw->next_tick) {
		fw->next_tick = now + TICK_NS;
		fw_tick(fw, now);
		fw_gauges(fw);
		tx_wire(fw);
	}
	if (fw->irq) {
		fw->irq = false;
		fw->hal->ops->host_interrupt(fw->hal);
	}
	return total;
}

/* ---- start-up ----------------------------------------------------------- */

/* Wait for count completions of cookie kind CK_CAL.  @ret 0 or -ETIMEDOUT. */
static int cal_wait(struct nicfw *fw, enum hal_ev_type type, unsigned count)
{
	struct hal_event ev[16];
	int n, i, idle = 0;

	while (count) {
		n = fw->hal->ops->event_wait(fw->hal, ev, 16, 100);
		if (n <= 0 && ++idle > 50)
			return -ETIMEDOUT;
		for (i = 0; i < n; i++) {
			if (ev[i].type == type && CK_KIND(ev[i].cookie) == CK_CAL) {
				/* A frame the link would not take (no carrier): no figure to fit. */
				if (ev[i].status)
					return ev[i].status;
				count--;
			}
			else if (CK_KIND(ev[i].cookie) != CK_CAL)
				/*
				 * Not lost: the host may come early, and a peer that
				 * started first sends hellos while we calibrate.  Its
				 * frames land in the receive buffers posted before
				 * calibration and are answered now.
				 */
				fw_event(fw, &ev[i]);
		}
	}
	return 0;
}

/*
 * Each stage's bandwidth alone: a longer stream of the largest fragment
 * (up to 64 in flight, best of four rounds), in MB/s.  These are the numbers
 * the pipeline is compared with.
 */
static int cal_stream(struct nicfw *fw, double *bw_host, double *bw_wire)
{
	uint32_t max = fw->ctl->max_frag, reps = fw->ntx < 64 ? fw->ntx : 64, r, round;
	struct snf_hdr h = { 0 };
	uint64_t t0;
	double t;
	int rc;

	memcpy(h.dst, fw->link.mac, 6);
	memcpy(h.src, fw->link.mac, 6);
	h.type = SNF_T_CAL;
	h.src_node = h.dst_node = fw->cfg.node_id;
	h.frag_len = max;
	*bw_host = *bw_wire = 0;
	for (round = 0; round < 4; round++) {
		t0 = fw->hal->ops->now_ns(fw->hal);
		for (r = 0; r < reps; r++)
			if ((rc = fw->hal->ops->dma(fw->hal, HAL_WIN_SCRATCH, HAL_DMA_TO_NIC, 0,
						    fw->tx[r].off + SNF_FRAME_HDR, max, CK(CK_CAL, r))))
				return rc;
		if ((rc = cal_wait(fw, HAL_EV_DMA_DONE, reps)))
			return rc;
		t = (double)(fw->hal->ops->now_ns(fw->hal) - t0);
		if (t > 0 && (double)reps * max / t * 1e3 > *bw_host)
			*bw_host = (double)reps * max / t * 1e3;
		t0 = fw->hal->ops->now_ns(fw->hal);
		for (r = 0; r < reps; r++) {
			snf_hdr_encode(&h, fw->mem + fw->tx[r].off);
			if ((rc = fw->hal->ops->wire_send(fw->hal, fw->tx[r].off, SNF_FRAME_HDR + max, 0,
							  CK(CK_CAL, r))))
				return rc;
		}
		if ((rc = cal_wait(fw, HAL_EV_TX_DONE, reps)))
			return rc;
		t = (double)(fw->hal->ops->now_ns(fw->hal) - t0);
		if (t > 0 && (double)reps * max / t * 1e3 > *bw_wire)
			*bw_wire = (double)reps * max / t * 1e3;
	}
	return 0;
}

/* Fit stage i from n timings t at sizes x; its bandwidth alone is the fit's at x[n-1]. */
static void cal_stage(struct nicfw *fw, unsigned i, const char *name, const double *x,
		      const double *t, uint32_t n)
{
	double a, b, tmax;

	if (cost_fit(x, t, n, &a, &b)) {
		a = 0;
		b = t[n - 1] / x[n - 1];
	}
	tmax = a + b * x[n - 1];
	fw->ctl->stages[i] = (struct snf_stage){ "", a, b, tmax > 0 ? x[n - 1] / tmax * 1e3 : 0 };
	snprintf(fw->ctl->stages[i].name, sizeof(fw->ctl->stages[i].name), "%s", name);
}

/*
 * Measure host DMA and the wire alone, streaming CAL_REPS fragments of each
 * size, and fit t = a + b * size.  Calibration frames go to our own MAC, so
 * a peer's NIC filters them out and nothing else on the segment sees them.
 */
static int fw_calibrate(struct nicfw *fw)
{
	static const uint32_t sizes_all[] = { 256, 1024, 4096, 16384, 65536 };
	double x[8], th[8], tw[8], thr[8], tl[8], a, b;
	uint32_t sizes[8], nsz = 0, i, r, round, reps, max = fw->ctl->max_frag;
	double bw_host, bw_wire;
	uint64_t t0, scratch = fw->hal->ops->window(fw->hal, HAL_WIN_SCRATCH);
	struct snf_hdr h = { 0 };
	int rc;

	for (i = 0; i < sizeof(sizes_all) / sizeof(sizes_all[0]); i++)
		if (sizes_all[i] < max)
			sizes[nsz++] = sizes_all[i];
	sizes[nsz++] = max;
	if (scratch < max)
		return -ENOMEM;
	reps = fw->ntx < CAL_REPS ? fw->ntx : CAL_REPS;
	memcpy(h.dst, fw->link.mac, 6);
	memcpy(h.src, fw->link.mac, 6);
	h.type = SNF_T_CAL;
	h.src_node = h.dst_node = fw->cfg.node_id;
	/* Three rounds, keeping each size's best: the first round also warms caches and threads. */
	for (round = 0; round < CAL_ROUNDS; round++) {
		for (i = 0; i < nsz; i++) {
			double t;

			x[i] = sizes[i];
			t0 = fw->hal->ops->now_ns(fw->hal);
			for (r = 0; r < reps; r++) {
				rc = fw->hal->ops->dma(fw->hal, HAL_WIN_SCRATCH, HAL_DMA_TO_NIC, 0,
						       fw->tx[r].off + SNF_FRAME_HDR, sizes[i],
						       CK(CK_CAL, r));
				if (rc)
					return rc;
			}
			rc = cal_wait(fw, HAL_EV_DMA_DONE, reps);
			if (rc)
				return rc;
			t = (double)(fw->hal->ops->now_ns(fw->hal) - t0) / reps;
			if (!round || t < th[i])
				th[i] = t;

			h.frag_len = sizes[i];
			t0 = fw->hal->ops->now_ns(fw->hal);
			for (r = 0; r < reps; r++) {
				snf_hdr_encode(&h, fw->mem + fw->tx[r].off);
				rc = fw->hal->ops->wire_send(fw->hal, fw->tx[r].off,
							     SNF_FRAME_HDR + sizes[i], 0,
							     CK(CK_CAL, r));
				if (rc)
					return rc;
			}
			rc = cal_wait(fw, HAL_EV_TX_DONE, reps);
			if (rc)
				return rc;
			t = (double)(fw->hal->ops->now_ns(fw->hal) - t0) / reps;
			if (!round || t < tw[i])
				tw[i] = t;

			/* The receiving stages: DMA to the host, and the receive engine (MAC loopback). */
			t0 = fw->hal->ops->now_ns(fw->hal);
			for (r = 0; r < reps; r++) {
				rc = fw->hal->ops->dma(fw->hal, HAL_WIN_SCRATCH, HAL_DMA_TO_HOST, 0,
						       fw->tx[r].off + SNF_FRAME_HDR, sizes[i],
						       CK(CK_CAL, r));
				if (rc)
					return rc;
			}
			rc = cal_wait(fw, HAL_EV_DMA_DONE, reps);
			if (rc)
				return rc;
			t = (double)(fw->hal->ops->now_ns(fw->hal) - t0) / reps;
			if (!round || t < thr[i])
				thr[i] = t;
			t0 = fw->hal->ops->now_ns(fw->hal);
			for (r = 0; r < reps; r++) {
				rc = fw->hal->ops->wire_send(fw->hal, fw->tx[r].off,
							     SNF_FRAME_HDR + sizes[i], HAL_TX_LOOPBACK,
							     CK(CK_CAL, r));
				if (rc)
					return rc;
			}
			rc = cal_wait(fw, HAL_EV_TX_DONE, reps);
			if (rc)
				return rc;
			t = (double)(fw->hal->ops->now_ns(fw->hal) - t0) / reps;
			if (!round || t < tl[i])
				tl[i] = t;
		}
	}
	rc = cal_stream(fw, &bw_host, &bw_wire);
	if (rc)
		return rc;
	if (cost_fit(x, th, nsz, &a, &b)) {
		a = 0;
		b = th[nsz - 1] / x[nsz - 1];
	}
	fw->ctl->stages[0] = (struct snf_stage){ "host-dma-tx", a, b, bw_host };
	/*
	 * The receiving NIC's stages, measured here because the nodes are
	 * identical (SPMD): the receive engine is timed through MAC loopback
	 * (the frame is copied into one of our posted receive buffers, no wire),
	 * the DMA to the host into the scratch window.  "alone" is the fit's
	 * figure for the largest fragment.
	 */
	cal_stage(fw, 2, "wire-rx", x, tl, nsz);
	cal_stage(fw, 3, "host-dma-rx", x, thr, nsz);
	if (cost_fit(x, tw, nsz, &a, &b)) {
		a = 0;
		b = tw[nsz - 1] / x[nsz - 1];
	}
	fw->ctl->stages[1] = (struct snf_stage){ "wire", a, b, bw_wire };
	return 0;
}

/* The next 64-byte aligned piece of bytes at *off. */
static size_t take(size_t *off, size_t bytes)
{
	size_t at = (*off + 63) & ~(size_t)63;

	*off = at + bytes;
	return at;
}

/* Carve NIC memory.  @ret 0 or -ENOMEM with err filled. */
static int fw_layout(struct nicfw *fw, char *err, size_t errlen)
{
	const struct nicfw_config *c = &fw->cfg;
	size_t off = 0, rest, per, hdr_end;
	uint32_t ctl_size = (sizeof(struct snf_ctl) + 63) & ~63u, n, i;

#define TAKE(bytes) take(&off, (bytes))
	TAKE(ctl_size);
	fw->ctl->send_off = (uint32_t)TAKE(snf_ring_bytes(c->send_ring, sizeof(struct snf_send_desc)));
	fw->ctl->send_size = c->send_ring;
	fw->ctl->post_off = (uint32_t)TAKE(snf_ring_bytes(c->post_ring, sizeof(struct snf_post_desc)));
	fw->ctl->post_size = c->post_ring;
	n = 1;
	while (n < c->send_ring + c->post_ring + 2 * COMP_RESERVE)
		n <<= 1;
	fw->ctl->comp_off = (uint32_t)TAKE(snf_ring_bytes(n, sizeof(struct snf_comp)));
	fw->ctl->comp_size = n;
	fw->ctl->inline_off = (uint32_t)TAKE((size_t)n * SNF_INLINE_MAX);
	fw->ctrl_off = (uint32_t)TAKE(NICFW_CTRL_BUFS * CTRL_BUF_SIZE);
	hdr_end = (off + 4095) & ~(size_t)4095;
	if (hdr_end >= fw->memsize) {
		snprintf(err, errlen, "nic memory: %zu bytes do not hold the %zu-byte rings",
			 fw->memsize, hdr_end);
		return -ENOMEM;
	}
	rest = fw->memsize - hdr_end;
	per = fw->slot_size;
	/* A third for sending, the rest for receiving: received frames wait for posts. */
	fw->ntx = (uint32_t)(rest / 3 / per);
	fw->nrx = (uint32_t)((rest - (size_t)fw->ntx * per) / per);
	if (fw->ntx > NICFW_SLOTS_MAX)
		fw->ntx = NICFW_SLOTS_MAX;
	if (fw->nrx > NICFW_SLOTS_MAX)
		fw->nrx = NICFW_SLOTS_MAX;
	if (fw->ntx < 2 || fw->nrx < 2) {
		snprintf(err, errlen,
			 "nic memory: %zu bytes leave %u send and %u receive buffers of %u bytes, want 2 each",
			 fw->memsize, fw->ntx, fw->nrx, fw->slot_size);
		return -ENOMEM;
	}
	fw->ctl->tx_slots = fw->ntx;
	fw->ctl->rx_slots = fw->nrx;
	snf_ring_init(&fw->send, fw->mem, fw->ctl->send_off, c->send_ring, sizeof(struct snf_send_desc));
	snf_ring_init(&fw->post, fw->mem, fw->ctl->post_off, c->post_ring, sizeof(struct snf_post_desc));
	snf_ring_init(&fw->comp, fw->mem, fw->ctl->comp_off, n, sizeof(struct snf_comp));
	fw->inline_area = fw->mem + fw->ctl->inline_off;
	fw->tx = calloc(fw->ntx, sizeof(*fw->tx));
	fw->rx = calloc(fw->nrx, sizeof(*fw->rx));
	fw->wq = calloc(fw->ntx, sizeof(*fw->wq));
	if (!fw->tx || !fw->rx || !fw->wq) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < fw->ntx; i++) {
		fw->tx[i].off = (uint32_t)(hdr_end + (size_t)i * per);
		fw->tx[i].next = i + 1 < fw->ntx ? i + 1 : NONE;
	}
	fw->tx_free = 0;
	fw->tx_nfree = fw->ntx;
	for (i = 0; i < fw->nrx; i++) {
		fw->rx[i].off = (uint32_t)(hdr_end + ((size_t)fw->ntx + i) * per);
		fw->rx[i].msg = NONE;
	}
	return 0;
#undef TAKE
}

int nicfw_create(struct nic_hal *hal, const struct nicfw_config *cfg, struct nicfw **out,
		 char *err, size_t errlen)
{
	struct nicfw *fw;
	uint32_t i, linkmax;
	int rc;

	rc = nicfw_config_check(cfg, err, errlen);
	if (rc)
		return rc;
	fw = calloc(1, sizeof(*fw));
	if (!fw) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	fw->hal = hal;
	fw->cfg = *cfg;
	fw->mem = hal->ops->mem(hal, &fw->memsize);
	hal->ops->link(hal, &fw->link);
	if (fw->memsize < 65536 || fw->link.mtu < SNF_HDR_LEN + SNF_FRAG_MIN) {
		snprintf(err, errlen, "nic memory %zu bytes / MTU %u too small", fw->memsize,
			 fw->link.mtu);
		rc = -ENOMEM;
		goto err_free;
	}
	fw->ctl = (struct snf_ctl *)fw->mem;
	memset(fw->ctl, 0, sizeof(*fw->ctl));
	linkmax = fw->link.mtu - SNF_HDR_LEN;
	fw->ctl->max_frag = cfg->max_frag && cfg->max_frag < linkmax ? cfg->max_frag : linkmax;
	if (fw->cfg.min_frag > fw->ctl->max_frag)
		fw->cfg.min_frag = fw->ctl->max_frag;
	if (fw->cfg.fixed_frag > fw->ctl->max_frag) {
		snprintf(err, errlen, "frag: %u is above the largest fragment %u the link allows",
			 cfg->fixed_frag, fw->ctl->max_frag);
		rc = -EINVAL;
		goto err_free;
	}
	fw->slot_size = (SNF_FRAME_HDR + fw->ctl->max_frag + 63) & ~63u;
	rc = fw_layout(fw, err, errlen);
	if (rc)
		goto err_free;
	fw->txm = calloc(cfg->send_ring, sizeof(*fw->txm));
	fw->posts = calloc(cfg->post_ring, sizeof(*fw->posts));
	fw->nrxm = fw->nrx + NICFW_PEERS_MAX + 2;
	fw->rxm = calloc(fw->nrxm, sizeof(*fw->rxm));
	fw->nro = 2 * cfg->post_ring;
	fw->rxorder = calloc(fw->nro, sizeof(*fw->rxorder));
	if (!fw->txm || !fw->posts || !fw->rxm || !fw->rxorder) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto err_free;
	}
	fw->wait_head = fw->wait_tail = NONE;
	fw->ctrl_free = NICFW_CTRL_BUFS >= 32 ? 0xffffffffu : (1u << NICFW_CTRL_BUFS) - 1;

	/* Peer 0 is this node itself, reached through MAC loopback. */
	fw->peers[0].id = cfg->node_id;
	memcpy(fw->peers[0].mac, fw->link.mac, 6);
	fw->peers[0].self = true;
	for (i = 0; i < cfg->npeers; i++) {
		fw->peers[i + 1].id = cfg->peers[i].id;
		memcpy(fw->peers[i + 1].mac, cfg->peers[i].mac, 6);
	}
	fw->npeers = cfg->npeers + 1;
	for (i = 0; i < fw->npeers; i++)
		fw->peers[i].cur = NONE;
	fw->grant = cfg->credits ? cfg->credits : fw->nrx / fw->npeers;
	if (fw->grant < 1)
		fw->grant = 1;
	if ((uint64_t)fw->grant * fw->npeers > fw->nrx)
		fw_log(fw, HAL_LOG_WARN,
		       "credits: %u per peer for %u peers exceed %u receive buffers: overflow drops possible",
		       fw->grant, fw->npeers, fw->nrx);

	fw->ctl->magic = SNF_MAGIC;
	fw->ctl->version = SNF_ABI_VERSION;
	fw->ctl->node_id = cfg->node_id;
	fw->ctl->mtu = fw->link.mtu;
	fw->ctl->threshold = cfg->threshold;
	fw->ctl->flow_control = cfg->flow_control ? 1 : 0;
	fw->ctl->credits = fw->grant;
	fw->ctl->fixed_frag = cfg->fixed_frag;
	rings_reset(fw);
	/*
	 * Receive buffers go to the engine before calibration: a peer that
	 * started first says hello while we measure, and a frame with no buffer
	 * would be an overflow drop (drops_nobuf) with credits on.
	 */
	for (i = 0; i < fw->nrx; i++)
		rx_repost(fw, i);

	if (cfg->calibrate) {
		rc = fw_calibrate(fw);
		if (rc) {
			snprintf(err, errlen, "calibration failed: %s", rc == -ENOBUFS ?
				 "the link takes no frames (no carrier on the interface?)" : strerror(-rc));
			goto err_free;
		}
	} else {
		memcpy(fw->ctl->stages, cfg->stages, sizeof(cfg->stages));
	}
	fw->next_tick = 0;
	*out = fw;
	return 0;

err_free:
	nicfw_destroy(fw);
	return rc;
}

void nicfw_destroy(struct nicfw *fw)
{
	if (!fw)
		return;
	free(fw->tx);
	free(fw->rx);
	free(fw->wq);
	free(fw->txm);
	free(fw->posts);
	free(fw->rxm);
	free(fw->rxorder);
	free(fw);
}
