/*
 * Inside the NIC program: the state the sender (fw_tx.c), the receiver
 * (fw_rx.c), the calibration (fw_cal.c) and the event loop (fw.c) share.
 * Nothing outside nic/fw includes this; the program's API is fw.h.
 */
#ifndef SNOW_NIC_FW_PRIV_H
#define SNOW_NIC_FW_PRIV_H

#include "fw.h"
#include "frame.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define NONE UINT32_MAX
#define TICK_NS 20000000ull       /* housekeeping every 20 ms */
#define HELLO_NS 200000000ull     /* repeat hellos every 200 ms */
#define COMP_RESERVE 16u          /* completion entries kept for loss reports */
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
	uint8_t gather;  /* header only: the payload goes from host_off by wire_send_host */
	uint64_t host_off;
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
	bool stalled;      /* a message waits for credits */
	uint64_t stall_ns; /* since then, or since we last asked for them */
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
	unsigned irq;                   /* HAL_IRQ_* causes of completions posted, not yet signalled */

	uint32_t slot_size;
	uint64_t next_tick;
	bool doorbell_seen;
};



#define CNT_ADD(fw, name, v)                                                                       \
	atomic_store_explicit(&(fw)->ctl->counters.name,                                           \
			      atomic_load_explicit(&(fw)->ctl->counters.name,                      \
						   memory_order_relaxed) + (v),                    \
			      memory_order_relaxed)
#define CNT_SET(fw, name, v) atomic_store_explicit(&(fw)->ctl->counters.name, (v), memory_order_relaxed)

void fw_log(struct nicfw *fw, enum hal_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* fw.c: helpers, completions and control frames. */
int fw_peer_index(const struct nicfw *fw, uint16_t id);
int32_t fw_peer_credits(const struct fw_peer *p);
void fw_comp_desc(struct nicfw *fw, uint8_t type, uint64_t cookie, uint16_t peer, uint32_t len,
		  int status, uint32_t tag, uint32_t frag, uint32_t nfrags, uint64_t host_off);
void fw_comp_loss(struct nicfw *fw, uint16_t peer, uint32_t frames, int status);
/* A completion entry to fill, or NULL when the host has not made room; fw_comp_push() posts it. */
struct snf_comp *fw_comp_slot(struct nicfw *fw);
void fw_comp_push(struct nicfw *fw, uint8_t type);
uint32_t fw_comp_used(const struct nicfw *fw);
void fw_rx_reset(struct nicfw *fw, struct fw_peer *p, uint32_t epoch, uint32_t seq);
void fw_ctrl_send(struct nicfw *fw, struct fw_peer *p, uint32_t flags);
void fw_ctrl_recv(struct nicfw *fw, struct fw_peer *p, const struct snf_hdr *h,
		  const uint8_t *payload);
void fw_credit_maybe_return(struct nicfw *fw, struct fw_peer *p);
/* Handle one engine event (also during calibration). */
void fw_event(struct nicfw *fw, const struct hal_event *ev);

/* fw_rx.c: the receiver process. */
void fw_rx_repost(struct nicfw *fw, uint32_t s);
void fw_rx_abort(struct nicfw *fw, uint32_t mi, int status);
void fw_rx_frame(struct nicfw *fw, uint32_t s, uint32_t len);
void fw_rx_dma_done(struct nicfw *fw, uint32_t s, int status);
void fw_rx_take_posts(struct nicfw *fw);
void fw_rx_flush(struct nicfw *fw);

/* fw_tx.c: the sender process. */
void fw_tx_release(struct nicfw *fw, uint32_t s);
void fw_tx_dma_done(struct nicfw *fw, uint32_t s, int status);
void fw_tx_gather_done(struct nicfw *fw, uint32_t s, int status);
void fw_tx_fetch(struct nicfw *fw);
void fw_tx_pump(struct nicfw *fw);
void fw_tx_wire(struct nicfw *fw);

/*
 * fw_cal.c: measure each stage and fill ctl->stages.  @ret 0, -ENOMEM (no
 * scratch window for the largest fragment), -ETIMEDOUT or an engine's error.
 */
int fw_calibrate(struct nicfw *fw);

#endif
