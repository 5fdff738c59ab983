/*
 * The sender process of the NIC program (see fw.c): descriptors into the
 * message pool, fragments fetched by host DMA as credits and buffers allow,
 * the wire queue issued strictly in sequence order.
 */
#include "fw_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t tx_alloc(struct nicfw *fw)
{
	uint32_t s = fw->tx_free;

	fw->tx_free = fw->tx[s].next;
	fw->tx_nfree--;
	return s;
}

void fw_tx_release(struct nicfw *fw, uint32_t s)
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

	*pi = fw_peer_index(fw, d->peer);
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
void fw_tx_fetch(struct nicfw *fw)
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

		if (fw_comp_used(fw) + fw->outstanding + COMP_RESERVE >= fw->comp.size)
			break; /* the host must read completions first */
		memcpy(&m->d, d, offsetof(struct snf_send_desc, data));
		if ((d->flags & SNF_SEND_INLINE) && d->len <= SNF_INLINE_MAX)
			memcpy(m->d.data, d->data, d->len);
		snf_ring_pop(&fw->send);
		fw->outstanding++;
		rc = tx_check(fw, &m->d, &pi);
		if (rc) {
			CNT_ADD(fw, bad_desc, 1);
			fw_comp_desc(fw, SNF_COMP_SEND, m->d.cookie, m->d.peer, m->d.len, rc,
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
		fw_comp_desc(fw, SNF_COMP_SEND, m->d.cookie, m->d.peer, m->d.len, m->status, m->d.tag,
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

	if (fw->cfg.flow_control && fw_peer_credits(p) < (int32_t)need) {
		if (!p->stalled) {
			p->stalled = true;
			p->stall_ns = fw->hal->ops->now_ns(fw->hal);
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
		if (!m->sf && fw->hal->ops->wire_send_host && !fw->peers[m->peer].self &&
		    SNF_FRAME_HDR + fl >= 60) {
			/*
			 * Gather: the payload leaves from the host buffer, read
			 * while the frame is sent; it counts as fetched (and the
			 * send completes) once the frame is out.
			 */
			tx_build_hdr(fw, m, s, fl);
			fw->tx[s].msg = mi;
			fw->tx[s].gather = 1;
			fw->tx[s].host_off = m->d.host_off + m->issued;
			fw->tx[s].state = TS_READY;
			fw->host_dma++;
			m->issued += fl;
			m->frags_issued++;
			break;
		}
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

void fw_tx_pump(struct nicfw *fw)
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
void fw_tx_wire(struct nicfw *fw)
{
	uint32_t s;
	int rc;

	while (fw->wq_head != fw->wq_tail) {
		s = fw->wq[fw->wq_head % fw->ntx];
		if (fw->tx[s].state != TS_READY)
			break;
		fw->wq_head++;
		if (fw->tx[s].skip) {
			fw_tx_release(fw, s);
			continue;
		}
		if (fw->tx[s].gather)
			rc = fw->hal->ops->wire_send_host(fw->hal, fw->tx[s].off, SNF_FRAME_HDR,
							  fw->tx[s].host_off,
							  fw->tx[s].len - SNF_FRAME_HDR,
							  CK(CK_TXWIRE, s));
		else
			rc = fw->hal->ops->wire_send(fw->hal, fw->tx[s].off, fw->tx[s].len,
						     fw->peers[fw->tx[s].peer].self ? HAL_TX_LOOPBACK
										    : 0,
						     CK(CK_TXWIRE, s));
		if (rc) {
			fw_log(fw, HAL_LOG_ERR, "frame of %u bytes not queued: %s", fw->tx[s].len,
			       strerror(-rc));
			if (fw->tx[s].gather)
				fw_tx_gather_done(fw, s, rc);
			fw_tx_release(fw, s);
			continue;
		}
		fw->tx[s].state = TS_WIRE;
	}
}

void fw_tx_dma_done(struct nicfw *fw, uint32_t s, int status)
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


/* A gathered frame left (or failed): its payload's host range is free again. */
void fw_tx_gather_done(struct nicfw *fw, uint32_t s, int status)
{
	struct fw_txslot *t = &fw->tx[s];
	struct fw_txmsg *m = &fw->txm[t->msg];

	(void)status; /* a wire error is counted, not the message's, as for staged frames */
	t->gather = 0;
	fw->host_dma--;
	m->dma_done++;
	if (m->dma_done == m->nfrags && m->frags_issued == m->nfrags)
		tx_msg_fetched(fw, m);
}
