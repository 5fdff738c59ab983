#include "hal_test.h"

#include "fw/abi.h"
#include "fw/frame.h"
#include "fw/sync.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_NICS 8
#define EVQ 32768u
#define RXQ 16384u
#define INQ 8192u
#define LOGS 64
#define TRACE 8192

struct test_frame {
	uint32_t len;
	uint8_t *data;
};

struct hal_test_wire {
	struct hal_test *nics[TEST_NICS];
	unsigned every, nth, count;
	unsigned ctrl_drop;   /* control frames still to drop */
	unsigned long dropped;
};

struct rx_buf {
	uint32_t off, len;
	uint64_t cookie;
};

/* A queued engine operation: it runs at a later event_wait(), one per engine per call. */
struct op {
	enum hal_window win;
	enum hal_dma_dir dir;
	uint64_t host_off;
	uint32_t nic_off, len;
	unsigned flags;
	uint64_t cookie;
	uint32_t hdr_len; /* wire_send_host: header at nic_off, len payload bytes from the host */
};

struct hal_test {
	struct nic_hal hal;
	struct nic_hal_operations ops;
	struct hal_test_params p;
	struct hal_test_wire *wire;
	uint8_t *bar, *mem, *host, *scratch;
	uint8_t *gather; /* one frame assembled by wire_send_host */
	struct snf_regs *regs;
	uint64_t now;
	uint32_t last_doorbell;
	struct hal_event *evq;
	uint32_t ev_head, ev_tail;
	struct rx_buf *rxq;
	uint32_t rx_head, rx_tail;
	struct test_frame *inq;
	uint32_t in_head, in_tail;
	struct op *dmaq, *wireq;
	uint32_t dma_head, dma_tail, wire_head, wire_tail;
	char trace[TRACE + 1];
	unsigned ntrace;
	struct hal_stats stats;
	int host_attached, released;
	unsigned interrupts;
	char logs[LOGS][256];
	unsigned nlogs;
};

#define SCRATCH (1u << 20)

static struct hal_test *ht(struct nic_hal *hal) { return (struct hal_test *)hal; }

static void ev_push(struct hal_test *t, enum hal_ev_type type, uint64_t cookie, int status,
		    uint32_t len)
{
	struct hal_event *e;

	if (t->ev_tail - t->ev_head >= EVQ) {
		fprintf(stderr, "hal_test: event queue overflow\n");
		abort();
	}
	e = &t->evq[t->ev_tail++ % EVQ];
	e->type = type;
	e->cookie = cookie;
	e->status = status;
	e->len = len;
}

static void *t_mem(struct nic_hal *hal, size_t *size)
{
	*size = ht(hal)->p.nicmem;
	return ht(hal)->mem;
}

static void t_link(struct nic_hal *hal, struct hal_link *out)
{
	memcpy(out->mac, ht(hal)->p.mac, 6);
	out->mtu = ht(hal)->p.mtu;
}

static uint64_t t_window(struct nic_hal *hal, enum hal_window win)
{
	if (win == HAL_WIN_SCRATCH)
		return SCRATCH;
	return ht(hal)->host_attached ? ht(hal)->p.hostmem : 0;
}

static void trace(struct hal_test *t, char c)
{
	if (t->ntrace < TRACE)
		t->trace[t->ntrace++] = c;
	t->trace[t->ntrace] = '\0';
}

static int t_dma(struct nic_hal *hal, enum hal_window win, enum hal_dma_dir dir,
		 uint64_t host_off, uint32_t nic_off, uint32_t len, uint64_t cookie)
{
	struct hal_test *t = ht(hal);
	uint64_t wsize = t_window(hal, win);
	struct op *o;

	if (host_off > wsize || len > wsize - host_off || nic_off > t->p.nicmem ||
	    len > t->p.nicmem - nic_off)
		return -EFAULT;
	if (t->dma_tail - t->dma_head >= EVQ)
		return -ENOSPC;
	o = &t->dmaq[t->dma_tail++ % EVQ];
	*o = (struct op){ win, dir, host_off, nic_off, len, 0, cookie, 0 };
	return 0;
}

/* The host DMA engine: one transfer.  @ret its cost in ns. */
static uint64_t dma_run(struct hal_test *t)
{
	struct op *o = &t->dmaq[t->dma_head++ % EVQ];
	uint8_t *h = o->win == HAL_WIN_SCRATCH ? t->scratch : t->host;

	if (o->win == HAL_WIN_HOST && !t->host_attached) {
		ev_push(t, HAL_EV_DMA_DONE, o->cookie, -EFAULT, 0);
		return 0;
	}
	if (o->dir == HAL_DMA_TO_NIC)
		memcpy(t->mem + o->nic_off, h + o->host_off, o->len);
	else
		memcpy(h + o->host_off, t->mem + o->nic_off, o->len);
	trace(t, o->dir == HAL_DMA_TO_NIC ? 'D' : 'H');
	ev_push(t, HAL_EV_DMA_DONE, o->cookie, 0, 0);
	return (uint64_t)((o->len <= t->p.small ? t->p.a_small : t->p.dma_a) + t->p.dma_b * o->len);
}

static void deliver(struct hal_test *to, const uint8_t *frame, uint32_t len)
{
	struct test_frame *f;

	if (to->in_tail - to->in_head >= INQ) {
		to->stats.rx_ring++;
		return;
	}
	f = &to->inq[to->in_tail++ % INQ];
	f->data = malloc(len);
	if (!f->data) {
		to->in_tail--;
		to->stats.rx_ring++;
		return;
	}
	memcpy(f->data, frame, len);
	f->len = len;
}

static int t_wire_send(struct nic_hal *hal, uint32_t nic_off, uint32_t len, unsigned flags,
		       uint64_t cookie)
{
	struct hal_test *t = ht(hal);
	struct op *o;

	if (nic_off > t->p.nicmem || len > t->p.nicmem - nic_off || len < SNF_ETH_HLEN)
		return -EFAULT;
	if (len > t->p.mtu + SNF_ETH_HLEN)
		return -EMSGSIZE;
	if (t->wire_tail - t->wire_head >= EVQ)
		return -ENOSPC;
	o = &t->wireq[t->wire_tail++ % EVQ];
	*o = (struct op){ 0, 0, 0, nic_off, len, flags, cookie, 0 };
	return 0;
}

static int t_wire_send_host(struct nic_hal *hal, uint32_t nic_off, uint32_t hdr_len,
			    uint64_t host_off, uint32_t len, uint64_t cookie)
{
	struct hal_test *t = ht(hal);
	struct op *o;

	if (!hdr_len || nic_off > t->p.nicmem || hdr_len > t->p.nicmem - nic_off ||
	    hdr_len + (uint64_t)len < SNF_ETH_HLEN)
		return -EFAULT;
	if (hdr_len + (uint64_t)len > t->p.mtu + SNF_ETH_HLEN)
		return -EMSGSIZE;
	if (t->wire_tail - t->wire_head >= EVQ)
		return -ENOSPC;
	o = &t->wireq[t->wire_tail++ % EVQ];
	*o = (struct op){ HAL_WIN_HOST, 0, host_off, nic_off, hdr_len + len, 0, cookie, hdr_len };
	return 0;
}

/* The wire send engine: one frame.  @ret its cost in ns. */
static uint64_t wire_run(struct hal_test *t)
{
	struct op *o = &t->wireq[t->wire_head++ % EVQ];
	const uint8_t *f = t->mem + o->nic_off;
	struct hal_test *to = NULL;
	uint64_t cost = (uint64_t)((o->len <= t->p.small ? t->p.a_small : t->p.wire_a) +
				   t->p.wire_b * o->len);
	int data = o->len > SNF_ETH_HLEN + 1 && f[SNF_ETH_HLEN + 1] == SNF_T_DATA;
	unsigned i;

	if (o->hdr_len) {
		/* The gather: header from NIC memory, payload read from the host as it goes. */
		uint32_t plen = o->len - o->hdr_len;
		if (!t->host_attached || o->host_off > t->p.hostmem ||
		    plen > t->p.hostmem - o->host_off) {
			ev_push(t, HAL_EV_TX_DONE, o->cookie, -EFAULT, 0);
			return 0;
		}
		memcpy(t->gather, f, o->hdr_len);
		memcpy(t->gather + o->hdr_len, t->host + o->host_off, plen);
		f = t->gather;
	}

	trace(t, data ? 'W' : 'c');
	ev_push(t, HAL_EV_TX_DONE, o->cookie, 0, 0);
	if (o->flags & HAL_TX_LOOPBACK) {
		deliver(t, f, o->len);
		return cost;
	}
	if (!data && t->wire && t->wire->ctrl_drop && o->len > SNF_ETH_HLEN + 1 &&
	    f[SNF_ETH_HLEN + 1] == SNF_T_CTRL) {
		t->wire->ctrl_drop--;
		t->wire->dropped++;
		return cost;
	}
	if (data && t->wire) {
		struct hal_test_wire *w = t->wire;
		w->count++;
		if ((w->every && w->count % w->every == 0) || (w->nth && w->count == w->nth)) {
			w->dropped++;
			return cost;
		}
	}
	for (i = 0; t->wire && i < TEST_NICS; i++)
		if (t->wire->nics[i] && t->wire->nics[i] != t &&
		    !memcmp(t->wire->nics[i]->p.mac, f, 6))
			to = t->wire->nics[i];
	if (to)
		deliver(to, f, o->len);
	return cost;
}

static int t_post_rx(struct nic_hal *hal, uint32_t nic_off, uint32_t len, uint64_t cookie)
{
	struct hal_test *t = ht(hal);
	struct rx_buf *b;

	if (nic_off > t->p.nicmem || len > t->p.nicmem - nic_off)
		return -EFAULT;
	if (t->rx_tail - t->rx_head >= RXQ)
		return -ENOSPC;
	b = &t->rxq[t->rx_tail++ % RXQ];
	b->off = nic_off;
	b->len = len;
	b->cookie = cookie;
	return 0;
}

static int t_event_wait(struct nic_hal *hal, struct hal_event *ev, unsigned max, int timeout_ms)
{
	struct hal_test *t = ht(hal);
	uint64_t cd = 0, cw = 0;
	uint32_t db;
	unsigned n = 0;

	/* The two engines work in parallel: one operation each, time moves by the longer. */
	if (t->dma_head != t->dma_tail)
		cd = dma_run(t);
	if (t->wire_head != t->wire_tail)
		cw = wire_run(t);
	t->now += cd > cw ? cd : cw;
	/* The receive engine: frames that arrived go into posted buffers. */
	while (t->in_head != t->in_tail) {
		struct test_frame *f = &t->inq[t->in_head++ % INQ];
		if (t->rx_head == t->rx_tail) {
			t->stats.rx_nobuf++;
		} else {
			struct rx_buf *b = &t->rxq[t->rx_head++ % RXQ];
			uint32_t len = f->len < b->len ? f->len : b->len;
			memcpy(t->mem + b->off, f->data, len);
			ev_push(t, HAL_EV_RX, b->cookie, 0, len);
		}
		free(f->data);
	}
	db = atomic_load(&t->regs->doorbell);
	if (db != t->last_doorbell) {
		t->last_doorbell = db;
		ev_push(t, HAL_EV_DOORBELL, 0, 0, 0);
	}
	while (n < max && t->ev_head != t->ev_tail)
		ev[n++] = t->evq[t->ev_head++ % EVQ];
	return (int)n;
}

/* As the emulated NIC: irq always moves, an interrupt is counted only for an armed cause. */
static void t_host_interrupt(struct nic_hal *hal, unsigned causes)
{
	struct hal_test *t = ht(hal);
	uint32_t want = (causes & HAL_IRQ_SEND ? SNF_IRQ_SEND : 0) |
			(causes & HAL_IRQ_RECV ? SNF_IRQ_RECV : 0);

	atomic_fetch_add(&t->regs->irq, 1);
	if (atomic_load(&t->regs->irq_arm) & want) {
		t->interrupts++;
		nic_futex(&t->regs->irq, FUTEX_WAKE, INT_MAX, NULL);
	}
}

static void t_host_released(struct nic_hal *hal)
{
	ht(hal)->released = 1;
	ht(hal)->host_attached = 0;
}

static uint64_t t_now(struct nic_hal *hal) { return ht(hal)->now; }

static void t_stats(struct nic_hal *hal, struct hal_stats *out) { *out = ht(hal)->stats; }

static void t_log(struct nic_hal *hal, enum hal_log_level level, const char *msg)
{
	struct hal_test *t = ht(hal);

	snprintf(t->logs[t->nlogs % LOGS], sizeof(t->logs[0]), "%s", msg);
	t->nlogs++;
	if (getenv("HAL_TEST_VERBOSE"))
		fprintf(stderr, "hal_test[%02x]: %s\n", t->p.mac[5], msg);
}

static const struct nic_hal_operations hal_test_ops = {
	.mem = t_mem,
	.link = t_link,
	.window = t_window,
	.dma = t_dma,
	.wire_send = t_wire_send,
	.wire_send_host = t_wire_send_host,
	.wire_post_rx = t_post_rx,
	.event_wait = t_event_wait,
	.host_interrupt = t_host_interrupt,
	.host_released = t_host_released,
	.now_ns = t_now,
	.stats = t_stats,
	.log = t_log,
};

struct hal_test_wire *hal_test_wire_new(void) { return calloc(1, sizeof(struct hal_test_wire)); }

void hal_test_wire_free(struct hal_test_wire *w) { free(w); }

void hal_test_wire_loss_every(struct hal_test_wire *w, unsigned k)
{
	w->every = k;
	w->count = 0;
}

void hal_test_wire_drop_nth(struct hal_test_wire *w, unsigned n)
{
	w->nth = n;
	w->count = 0;
}

void hal_test_wire_drop_ctrl(struct hal_test_wire *w, unsigned n) { w->ctrl_drop = n; }

unsigned long hal_test_wire_dropped(const struct hal_test_wire *w) { return w->dropped; }

struct nic_hal *hal_test_create(const struct hal_test_params *p, struct hal_test_wire *w)
{
	struct hal_test *t;
	unsigned i;

	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->ops = hal_test_ops;
	if (!p->tx_gather)
		t->ops.wire_send_host = NULL;
	t->hal.ops = &t->ops;
	t->p = *p;
	t->now = 1000000000ull;
	t->bar = aligned_alloc(4096, (SNF_REGS_SIZE + p->nicmem + 4095) & ~(size_t)4095);
	t->host = aligned_alloc(4096, (p->hostmem + 4095) & ~(size_t)4095);
	t->scratch = calloc(1, SCRATCH);
	t->gather = malloc(p->mtu + SNF_ETH_HLEN);
	t->evq = calloc(EVQ, sizeof(*t->evq));
	t->rxq = calloc(RXQ, sizeof(*t->rxq));
	t->inq = calloc(INQ, sizeof(*t->inq));
	t->dmaq = calloc(EVQ, sizeof(*t->dmaq));
	t->wireq = calloc(EVQ, sizeof(*t->wireq));
	if (!t->bar || !t->host || !t->scratch || !t->gather || !t->evq || !t->rxq || !t->inq ||
	    !t->dmaq || !t->wireq)
		goto err;
	memset(t->bar, 0, SNF_REGS_SIZE + p->nicmem);
	memset(t->host, 0, p->hostmem);
	t->regs = (struct snf_regs *)t->bar;
	t->mem = t->bar + SNF_REGS_SIZE;
	t->wire = w;
	for (i = 0; w && i < TEST_NICS; i++)
		if (!w->nics[i]) {
			w->nics[i] = t;
			break;
		}
	return &t->hal;
err:
	hal_test_destroy(&t->hal);
	return NULL;
}

void hal_test_destroy(struct nic_hal *hal)
{
	struct hal_test *t = ht(hal);
	unsigned i;

	if (!t)
		return;
	for (i = 0; t->wire && i < TEST_NICS; i++)
		if (t->wire->nics[i] == t)
			t->wire->nics[i] = NULL;
	while (t->inq && t->in_head != t->in_tail)
		free(t->inq[t->in_head++ % INQ].data);
	free(t->bar);
	free(t->host);
	free(t->scratch);
	free(t->gather);
	free(t->evq);
	free(t->rxq);
	free(t->inq);
	free(t->dmaq);
	free(t->wireq);
	free(t);
}

void *hal_test_bar(struct nic_hal *hal, size_t *size)
{
	*size = SNF_REGS_SIZE + ht(hal)->p.nicmem;
	return ht(hal)->bar;
}

void *hal_test_host(struct nic_hal *hal, size_t *size)
{
	*size = ht(hal)->p.hostmem;
	return ht(hal)->host;
}

void hal_test_attach(struct nic_hal *hal)
{
	ht(hal)->host_attached = 1;
	ht(hal)->released = 0;
	ev_push(ht(hal), HAL_EV_HOST_UP, 0, 0, 0);
}

void hal_test_detach(struct nic_hal *hal)
{
	ht(hal)->released = 0;
	ev_push(ht(hal), HAL_EV_HOST_DOWN, 0, 0, 0);
}

int hal_test_released(struct nic_hal *hal) { return ht(hal)->released; }

void hal_test_advance(struct nic_hal *hal, uint64_t ns) { ht(hal)->now += ns; }

unsigned hal_test_logged(struct nic_hal *hal, const char *needle)
{
	struct hal_test *t = ht(hal);
	unsigned i, n = 0, have = t->nlogs < LOGS ? t->nlogs : LOGS;

	for (i = 0; i < have; i++)
		if (!needle || strstr(t->logs[i], needle))
			n++;
	return n;
}

unsigned hal_test_interrupts(struct nic_hal *hal) { return ht(hal)->interrupts; }

const char *hal_test_trace(struct nic_hal *hal) { return ht(hal)->trace; }

void hal_test_trace_reset(struct nic_hal *hal)
{
	ht(hal)->ntrace = 0;
	ht(hal)->trace[0] = '\0';
}

int hal_test_busy(struct nic_hal *hal)
{
	struct hal_test *t = ht(hal);

	return t->dma_head != t->dma_tail || t->wire_head != t->wire_tail ||
	       t->ev_head != t->ev_tail || t->in_head != t->in_tail;
}
