/*
 * The receiver process of the NIC program (see fw.c): data frames checked
 * against their peer's sequence, attached to messages, DMAed to posted host
 * buffers or held until one is posted; freeing a buffer returns a credit.
 */
#include "fw_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fw_rx_repost(struct nicfw *fw, uint32_t s)
{
	struct fw_rxslot *r = &fw->rx[s];
	int rc;

	if (r->counted) {
		struct fw_peer *p = &fw->peers[r->peer];
		p->rx_consumed++;
		r->counted = 0;
		fw_credit_maybe_return(fw, p);
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
		fw_rx_repost(fw, s);
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
	struct snf_comp *c = fw_comp_slot(fw);
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
	fw_comp_push(fw, SNF_COMP_RECV);
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
void fw_rx_flush(struct nicfw *fw)
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
	fw_rx_flush(fw);
}

void fw_rx_abort(struct nicfw *fw, uint32_t mi, int status)
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
			fw_rx_repost(fw, s);
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
			fw_rx_repost(fw, s);
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
		fw_rx_reset(fw, p, h->epoch, h->seq);
		fw_ctrl_send(fw, p, SNF_CTRL_REPLY);
	}
	d = (int32_t)(h->seq - p->rx_expect);
	if (d < 0) {
		CNT_ADD(fw, frames_dup, 1);
		fw_rx_repost(fw, s);
		return;
	}
	if (d > 0) {
		/* Frames went missing (no buffer, kernel ring, wire): report them. */
		CNT_ADD(fw, frames_lost, (uint64_t)d);
		p->rx_consumed += (uint32_t)d;
		if (p->cur != NONE)
			fw_rx_abort(fw, p->cur, -EIO);
		fw_comp_loss(fw, p->id, (uint32_t)d, -EIO);
		fw_log(fw, HAL_LOG_DEBUG, "node %u: %d frame(s) lost before seq %u", p->id, d,
		       h->seq);
	}
	p->rx_expect = h->seq + 1;
	r->counted = 1;
	if (!fw->host_up) {
		/* No application: the port is closed, as on GM; holding would serve a stranger. */
		CNT_ADD(fw, drops_closed, 1);
		if (h->flags & SNF_F_FIRST && p->cur != NONE)
			fw_rx_abort(fw, p->cur, -ECONNRESET);
		fw_rx_repost(fw, s);
		return;
	}
	r->peer = (uint16_t)pi;
	r->plen = h->frag_len;
	r->poff = h->offset;
	r->next = NONE;
	CNT_ADD(fw, frags_rx, 1);

	if (h->flags & SNF_F_FIRST) {
		if (p->cur != NONE)
			fw_rx_abort(fw, p->cur, -EIO); /* its tail never came */
		mi = rxm_alloc(fw);
		if (mi == NONE) {
			fw_log(fw, HAL_LOG_ERR, "no message state left: frame from node %u dropped",
			       p->id);
			fw_rx_repost(fw, s);
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
			fw_rx_repost(fw, s);
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

void fw_rx_frame(struct nicfw *fw, uint32_t s, uint32_t len)
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
		fw_rx_repost(fw, s);
		return;
	}
	if (h.type == SNF_T_CAL) {
		fw_rx_repost(fw, s);
		return;
	}
	pi = fw_peer_index(fw, h.src_node);
	if (pi < 0 || memcmp(fw->peers[pi].mac, h.src, 6) || h.dst_node != fw->cfg.node_id) {
		CNT_ADD(fw, frames_bad, 1);
		fw_log(fw, HAL_LOG_DEBUG, "frame from node %u (%02x:..:%02x) to %u not for us",
		       h.src_node, h.src[0], h.src[5], h.dst_node);
		fw_rx_repost(fw, s);
		return;
	}
	if (h.type == SNF_T_CTRL) {
		fw_ctrl_recv(fw, &fw->peers[pi], &h, f + SNF_FRAME_HDR);
		fw_rx_repost(fw, s);
		return;
	}
	rx_data(fw, s, &fw->peers[pi], &h);
}

void fw_rx_dma_done(struct nicfw *fw, uint32_t s, int status)
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
	fw_rx_repost(fw, s);
	rx_check_done(fw, mi);
}

/* Pull posted receive descriptors from the host into the NIC's own queue. */
void fw_rx_take_posts(struct nicfw *fw)
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

		if (fw_comp_used(fw) + fw->outstanding + COMP_RESERVE >= fw->comp.size)
			break; /* the host must read completions first */
		snf_ring_pop(&fw->post);
		fw->outstanding++;
		if (copy.host_off > fw->host_win || copy.len > fw->host_win - copy.host_off) {
			fw_log(fw, HAL_LOG_WARN,
			       "receive descriptor refused: buffer 0x%llx+%u is outside the %llu-byte host window",
			       (unsigned long long)copy.host_off, copy.len,
			       (unsigned long long)fw->host_win);
			CNT_ADD(fw, bad_desc, 1);
			fw_comp_desc(fw, SNF_COMP_RECV, copy.cookie, 0, 0, -EFAULT, 0, 0, 0,
				  copy.host_off);
			continue;
		}
		fw->posts[fw->post_tail++ & (fw->cfg.post_ring - 1)] = copy;
	}
	rx_match(fw);
}

