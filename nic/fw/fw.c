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
#include "fw_priv.h"

#include "cost.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
void fw_log(struct nicfw *fw, enum hal_log_level lvl, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fw->hal->ops->log(fw->hal, lvl, msg);
}

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
	if (!c->calibrate) {
		unsigned in = 0;

		for (i = 0; i < SNF_STAGES; i++) {
			const struct snf_stage *st = &c->stages[i];

			/* a = b = 0: a stage not in the pipeline (cost.h). */
			if ((st->b_ns <= 0 && (st->a_ns || st->b_ns)) || st->a_ns < 0 ||
			    st->a_small_ns < 0 || st->b_small_ns < 0) {
				snprintf(err, errlen, "stage %u: a %.1f b %.4f, want a >= 0, b > 0 "
					 "(or both 0)", i, st->a_ns, st->b_ns);
				return -EINVAL;
			}
			in += st->b_ns > 0;
		}
		if (!in) {
			snprintf(err, errlen, "stages: none in the pipeline (every a and b is 0)");
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- helpers ---------------------------------------------------------- */

int fw_peer_index(const struct nicfw *fw, uint16_t id)
{
	unsigned i;

	for (i = 0; i < fw->npeers; i++)
		if (fw->peers[i].id == id)
			return (int)i;
	return -1;
}

int32_t fw_peer_credits(const struct fw_peer *p)
{
	return p->limit_valid ? (int32_t)(p->limit - p->tx_seq) : 0;
}

uint32_t nicfw_frag_for(const struct nicfw *fw, uint64_t n)
{
	uint32_t f;

	if (fw->cfg.fixed_frag)
		f = fw->cfg.fixed_frag < fw->ctl->max_frag ? fw->cfg.fixed_frag : fw->ctl->max_frag;
	else
		f = cost_frag_s(fw->ctl->stages, SNF_STAGES, n, fw->cfg.min_frag, fw->ctl->max_frag,
				fw->ctl->serial_pm / 1000.0);
	if (!f)
		f = n < fw->ctl->max_frag ? (uint32_t)n : fw->ctl->max_frag;
	return f ? f : 1;
}

const struct snf_ctl *nicfw_ctl(const struct nicfw *fw) { return fw->ctl; }

/* A completion entry to fill, or NULL when the host has not made room. */
struct snf_comp *fw_comp_slot(struct nicfw *fw)
{
	struct snf_comp *c = snf_ring_slot(&fw->comp);

	if (c)
		memset(c, 0, sizeof(*c));
	return c;
}

/* Post the entry fw_comp_slot() gave; its type says which interrupt cause it raises. */
void fw_comp_push(struct nicfw *fw, uint8_t type)
{
	snf_ring_push(&fw->comp);
	fw->irq |= type == SNF_COMP_SEND ? HAL_IRQ_SEND : HAL_IRQ_RECV;
}

uint32_t fw_comp_used(const struct nicfw *fw)
{
	return atomic_load_explicit(&fw->comp.h->prod, memory_order_relaxed) -
	       atomic_load_explicit(&fw->comp.h->cons, memory_order_acquire);
}

/* Completion for a descriptor the NIC accepted (or refused) from the host. */
void fw_comp_desc(struct nicfw *fw, uint8_t type, uint64_t cookie, uint16_t peer,
		  uint32_t len, int status, uint32_t tag, uint32_t frag, uint32_t nfrags,
		  uint64_t host_off)
{
	struct snf_comp *c;

	if (!fw->host_up)
		return;
	c = fw_comp_slot(fw);
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
	fw_comp_push(fw, type);
	if (fw->outstanding)
		fw->outstanding--;
}

void fw_comp_loss(struct nicfw *fw, uint16_t peer, uint32_t frames, int status)
{
	struct snf_comp *c;

	/* Only into room no accepted descriptor's completion needs. */
	if (!fw->host_up || fw_comp_used(fw) + fw->outstanding + 1 >= fw->comp.size ||
	    !(c = fw_comp_slot(fw)))
		return; /* counted anyway: frames_lost */
	c->type = SNF_COMP_LOSS;
	c->peer = peer;
	c->len = frames;
	c->status = status;
	fw_comp_push(fw, SNF_COMP_LOSS);
}

/* ---- control frames (hello and credits) ------------------------------- */

void fw_ctrl_send(struct nicfw *fw, struct fw_peer *p, uint32_t flags)
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
void fw_credit_maybe_return(struct nicfw *fw, struct fw_peer *p)
{
	uint32_t step = fw->grant / 4 ? fw->grant / 4 : 1;

	if (fw->cfg.flow_control && p->rx_known && p->rx_consumed - p->rx_adv >= step)
		fw_ctrl_send(fw, p, 0);
}

/* A new incarnation of peer p is sending to us: start its receive state afresh. */
void fw_rx_reset(struct nicfw *fw, struct fw_peer *p, uint32_t epoch, uint32_t seq)
{
	if (p->cur != NONE)
		fw_rx_abort(fw, p->cur, -ECONNRESET);
	p->rx_known = true;
	p->rx_epoch = epoch;
	p->rx_expect = seq;
	p->rx_base = seq;
	p->rx_consumed = 0;
	p->rx_adv = 0;
}

void fw_ctrl_recv(struct nicfw *fw, struct fw_peer *p, const struct snf_hdr *h,
		  const uint8_t *payload)
{
	struct snf_ctrl_wire c;
	bool reply = false;

	snf_ctrl_decode(payload, &c);
	CNT_ADD(fw, ctrl_rx, 1);
	if (!p->rx_known || p->rx_epoch != h->epoch) {
		fw_rx_reset(fw, p, h->epoch, c.next_seq);
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
		fw_ctrl_send(fw, p, p->limit_valid ? 0 : SNF_CTRL_REPLY);
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
			fw_rx_abort(fw, i, -ECONNRESET);
	for (i = 0; i < fw->npeers; i++)
		fw->peers[i].stalled = false; /* nothing of that host waits for credits now */
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

void fw_event(struct nicfw *fw, const struct hal_event *ev)
{
	uint32_t i = CK_IDX(ev->cookie);

	switch (ev->type) {
	case HAL_EV_DOORBELL:
		break;
	case HAL_EV_DMA_DONE:
		if (CK_KIND(ev->cookie) == CK_TXDMA && i < fw->ntx)
			fw_tx_dma_done(fw, i, ev->status);
		else if (CK_KIND(ev->cookie) == CK_RXDMA && i < fw->nrx)
			fw_rx_dma_done(fw, i, ev->status);
		break;
	case HAL_EV_TX_DONE:
		if (CK_KIND(ev->cookie) == CK_TXWIRE && i < fw->ntx) {
			if (!ev->status)
				CNT_ADD(fw, frags_tx, 1);
			else
				fw_log(fw, HAL_LOG_WARN, "frame of %u bytes lost on the wire: %s",
				       fw->tx[i].len, strerror(-ev->status));
			if (fw->tx[i].gather)
				fw_tx_gather_done(fw, i, ev->status);
			fw_tx_release(fw, i);
		} else if (CK_KIND(ev->cookie) == CK_CTRL && i < NICFW_CTRL_BUFS) {
			if (ev->status) /* a lost credit update can stall a sender */
				fw_log(fw, HAL_LOG_WARN, "control frame lost on the wire: %s",
				       strerror(-ev->status));
			fw->ctrl_free |= 1u << i;
		}
		break;
	case HAL_EV_RX:
		if (CK_KIND(ev->cookie) == CK_RXBUF && i < fw->nrx)
			fw_rx_frame(fw, i, ev->len);
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
			fw_ctrl_send(fw, p, SNF_CTRL_REPLY);
		}
		if (p->ctrl_pending && fw->ctrl_free)
			fw_ctrl_send(fw, p, p->ctrl_pending & 0xff);
		/*
		 * Out of credits for a while: ask for them.  The update that would
		 * free us may have been lost, and the receiver sends the next one
		 * only when it frees more, which it cannot when we sent it all we
		 * were allowed and it has given every buffer back.
		 */
		if (fw->cfg.flow_control && p->stalled && p->limit_valid &&
		    now - p->stall_ns >= HELLO_NS) {
			p->stall_ns = now;
			fw_log(fw, HAL_LOG_DEBUG, "node %u: out of credits for %llu ms, asking",
			       p->id, (unsigned long long)(HELLO_NS / 1000000));
			fw_ctrl_send(fw, p, SNF_CTRL_REPLY);
		}
		if (p->cur != NONE && tmo && now - fw->rxm[p->cur].last_ns > tmo) {
			/* With credits on, a sender that may send but does not is gone. */
			int32_t room = (int32_t)(p->rx_base + p->rx_consumed + fw->grant - p->rx_expect);
			if (!fw->cfg.flow_control || room > 0) {
				fw_log(fw, HAL_LOG_WARN,
				       "message from node %u stalled at %u of %u bytes: aborted",
				       p->id, fw->rxm[p->cur].received, fw->rxm[p->cur].len);
				fw_comp_loss(fw, p->id, 0, -ETIMEDOUT);
				fw_rx_abort(fw, p->cur, -ETIMEDOUT);
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
		if (fw_peer_credits(&fw->peers[i]) > 0)
			credits += (uint64_t)fw_peer_credits(&fw->peers[i]);
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
		fw_rx_take_posts(fw);
		for (i = 0; i < n; i++)
			fw_event(fw, &ev[i]);
		total += n;
		fw_rx_take_posts(fw);
		fw_rx_flush(fw);
		fw_tx_fetch(fw);
		fw_tx_pump(fw);
		fw_tx_wire(fw);
		host_maybe_released(fw);
		/* Keep going while the engines have more for us: one wakeup, many events. */
		n = total < 4096 ? fw->hal->ops->event_wait(fw->hal, ev, 64, 0) : 0;
	} while (n > 0);
	now = fw->hal->ops->now_ns(fw->hal);
	if (now >= fw->next_tick) {
		fw->next_tick = now + TICK_NS;
		fw_tick(fw, now);
		fw_gauges(fw);
		fw_tx_wire(fw);
	}
	if (fw->irq) {
		fw->hal->ops->host_interrupt(fw->hal, fw->irq);
		fw->irq = 0;
	}
	return total;
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
		fw_rx_repost(fw, i);

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
