/*
 * The emulated NIC (see hal_emu.h).  Engine threads, each with its own
 * queue, report to one event queue the NIC CPU (the program's thread)
 * drains.  Waking the NIC CPU: a futex on the wake word in the register page
 * (the same word the host's doorbell bumps, so one sleep covers both), or,
 * when the NIC CPU reads the receive ring itself and sleeps in poll() beside
 * it, a write to the kick eventfd; nic_idle says which.
 */
#include "hal_emu.h"

#include "fw/abi.h"
#include "fw/sync.h"
#include "fw/frame.h"
#include "log.h"
#include "reqq.h"
#include "rx_lend.h"
#include "wire_packet.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SCRATCH_SIZE (1u << 20)

struct rxbuf {
	uint32_t off, len;
	uint64_t cookie;
};

struct hal_emu {
	struct nic_hal hal;
	struct nic_hal_operations ops;
	struct hal_emu_params p;
	int memfd;
	uint8_t *bar, *mem;
	size_t bar_size, memsize;
	struct snf_regs *regs;
	struct wire_packet *wire;
	struct rx_lend *lend; /* NULL: every frame copied into its NIC buffer */
	uint8_t mac[6];
	uint32_t mtu;
	uint8_t *scratch;

	pthread_mutex_t host_mu;
	pthread_cond_t host_cv;
	uint8_t *host;
	size_t host_size;
	int host_attached, released;

	struct reqq dmaq, txq;

	pthread_mutex_t rx_mu;
	struct rxbuf *rxb;
	uint32_t rx_head, rx_tail;

	pthread_mutex_t ev_mu;
	struct hal_event *evq;
	uint32_t ev_head, ev_tail;
	uint32_t last_doorbell;

	_Atomic int stop;
	int stopfd;
	int kickfd;         /* wakes the NIC CPU sleeping in poll() (rx_cpu) */
	int rx_thread;      /* the receive engine thread runs */
	pthread_t dma_thr, tx_thr, rx_thr;
	int threads;
	_Atomic uint64_t rx_nobuf, rx_filtered, tx_errors;
	_Atomic int rx_enabled; /* the program posted its first receive buffer */
	/* spin_adapt: waits left without spinning, and the next back-off after a failed spin */
	uint32_t spin_skip, spin_backoff;
	uint64_t spins_won, spins_lost;
	uint8_t *rx_sink; /* rx_direct: where a frame goes when no buffer is posted */
	uint32_t rx_sink_len;
};

static struct hal_emu *he(struct nic_hal *hal) { return (struct hal_emu *)hal; }

static void kick(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("waking the NIC CPU");
}

static void wake_nic(struct hal_emu *e)
{
	uint32_t idle;

	atomic_fetch_add(&e->regs->wake, 1);
	idle = atomic_load(&e->regs->nic_idle);
	if (idle == SNF_IDLE_KICK)
		kick(e->kickfd);
	else if (idle)
		nic_futex(&e->regs->wake, FUTEX_WAKE, 1, NULL);
}

static void ev_push(struct hal_emu *e, enum hal_ev_type type, uint64_t cookie, int status,
		    uint32_t len)
{
	struct hal_event *ev;

	pthread_mutex_lock(&e->ev_mu);
	if (e->ev_tail - e->ev_head >= 2 * HAL_QUEUE_DEPTH) {
		/* Cannot happen while the program respects HAL_QUEUE_DEPTH. */
		pthread_mutex_unlock(&e->ev_mu);
		log_warnx("event queue overflow: event %d lost", type);
		return;
	}
	ev = &e->evq[e->ev_tail++ % (2 * HAL_QUEUE_DEPTH)];
	ev->type = type;
	ev->cookie = cookie;
	ev->status = status;
	ev->len = len;
	pthread_mutex_unlock(&e->ev_mu);
	wake_nic(e);
}

/* ---- engines ------------------------------------------------------------ */

static void dma_do(struct hal_emu *e, const struct req *r)
{
	uint8_t *h;
	size_t hsize;
	int status = 0;

	if (r->win == HAL_WIN_SCRATCH) {
		h = e->scratch;
		hsize = SCRATCH_SIZE;
	} else {
		pthread_mutex_lock(&e->host_mu);
		h = e->host;
		hsize = e->host_size;
		pthread_mutex_unlock(&e->host_mu);
	}
	if (!h || r->host_off > hsize || r->len > hsize - r->host_off)
		status = -EFAULT;
	else if (r->dir == HAL_DMA_TO_HOST && rx_lend_dma(e->lend, h + r->host_off, r->nic_off, r->len))
		; /* from the lent ring slot */
	else if (r->dir == HAL_DMA_TO_NIC)
		memcpy(e->mem + r->nic_off, h + r->host_off, r->len);
	else
		memcpy(h + r->host_off, e->mem + r->nic_off, r->len);
	ev_push(e, HAL_EV_DMA_DONE, r->cookie, status, 0);
}

static void *dma_engine(void *arg)
{
	struct hal_emu *e = arg;
	struct req r;

	while (reqq_pop(&e->dmaq, &e->stop, e->p.spin_ns, &r) == 0) {
		dma_do(e, &r);
		reqq_done(&e->dmaq);
	}
	return NULL;
}

/*
 * The receive DMA: a frame into the next posted NIC buffer.  A large frame
 * from the ring (lend) stays in its ring slot instead (rx_lend.h).
 * @ret 1 when the ring slot was kept.
 */
static int rx_deliver(struct hal_emu *e, const uint8_t *frame, uint32_t len, int lend)
{
	struct rxbuf b;
	int kept = 0;

	pthread_mutex_lock(&e->rx_mu);
	if (e->rx_head == e->rx_tail) {
		pthread_mutex_unlock(&e->rx_mu);
		atomic_fetch_add(&e->rx_nobuf, 1);
		return 0;
	}
	b = e->rxb[e->rx_head++ % HAL_QUEUE_DEPTH];
	pthread_mutex_unlock(&e->rx_mu);
	if (len > b.len)
		len = b.len;
	if (!lend || !(kept = rx_lend_keep(e->lend, frame, len, b.off)))
		memcpy(e->mem + b.off, frame, len);
	ev_push(e, HAL_EV_RX, b.cookie, 0, len);
	return kept;
}

static int rx_frame(void *ctx, const uint8_t *frame, uint32_t len, int pkttype)
{
	struct hal_emu *e = ctx;

	rx_lend_seen(e->lend, frame);
	if (pkttype == PACKET_OUTGOING)
		return 0;
	/* The MAC filter: calibration frames to a peer's own MAC end here. */
	if (len < SNF_ETH_HLEN || memcmp(frame, e->mac, 6)) {
		atomic_fetch_add(&e->rx_filtered, 1);
		return 0;
	}
	return rx_deliver(e, frame, len, 1);
}

static void *rx_engine(void *arg)
{
	struct hal_emu *e = arg;
	struct pollfd pfd[2] = { { wire_packet_fd(e->wire), POLLIN, 0 }, { e->stopfd, POLLIN, 0 } };
	uint64_t idle_since = 0;

	while (!atomic_load(&e->stop)) {
		/*
		 * Like a real NIC's receive DMA, the engine starts when the
		 * program gives it buffers; until then frames wait in the kernel
		 * ring instead of counting as overflow drops.
		 */
		if (!atomic_load(&e->rx_enabled)) {
			poll(&pfd[1], 1, 1);
			continue;
		}
		if (wire_packet_recv(e->wire, rx_frame, e) > 0) {
			idle_since = 0;
			continue;
		}
		if (e->p.spin_ns) {
			uint64_t now = nic_mono_ns();
			if (!idle_since)
				idle_since = now;
			if (now - idle_since < e->p.spin_ns) {
				__builtin_ia32_pause();
				continue;
			}
		}
		poll(pfd, 2, 100);
		idle_since = 0;
	}
	return NULL;
}

static void tx_do(struct hal_emu *e, const struct req *r)
{
	int rc = 0;

	if (r->hdr_len) {
		uint8_t *h;
		size_t hsize;

		pthread_mutex_lock(&e->host_mu);
		h = e->host;
		hsize = e->host_size;
		pthread_mutex_unlock(&e->host_mu);
		if (!h || r->host_off > hsize || r->len > hsize - r->host_off)
			rc = -EFAULT;
		else
			rc = wire_packet_sendv(e->wire, e->mem + r->nic_off, r->hdr_len,
					       h + r->host_off, r->len);
		if (rc)
			atomic_fetch_add(&e->tx_errors, 1);
	} else if (r->flags & HAL_TX_LOOPBACK) {
		rx_deliver(e, e->mem + r->nic_off, r->len, 0);
	} else {
		rc = wire_packet_send(e->wire, e->mem + r->nic_off, r->len);
		if (rc)
			atomic_fetch_add(&e->tx_errors, 1);
	}
	ev_push(e, HAL_EV_TX_DONE, r->cookie, rc, 0);
}

static void *tx_engine(void *arg)
{
	struct hal_emu *e = arg;
	struct req r;

	while (reqq_pop(&e->txq, &e->stop, e->p.spin_ns, &r) == 0) {
		tx_do(e, &r);
		reqq_done(&e->txq);
	}
	return NULL;
}

/* ---- operations ---------------------------------------------------------- */

static void *e_mem(struct nic_hal *hal, size_t *size)
{
	*size = he(hal)->memsize;
	return he(hal)->mem;
}

static void e_link(struct nic_hal *hal, struct hal_link *out)
{
	memcpy(out->mac, he(hal)->mac, 6);
	out->mtu = he(hal)->mtu;
}

static uint64_t e_window(struct nic_hal *hal, enum hal_window win)
{
	struct hal_emu *e = he(hal);
	uint64_t n;

	if (win == HAL_WIN_SCRATCH)
		return SCRATCH_SIZE;
	pthread_mutex_lock(&e->host_mu);
	n = e->host ? e->host_size : 0;
	pthread_mutex_unlock(&e->host_mu);
	return n;
}

static int e_dma(struct nic_hal *hal, enum hal_window win, enum hal_dma_dir dir,
		 uint64_t host_off, uint32_t nic_off, uint32_t len, uint64_t cookie)
{
	struct hal_emu *e = he(hal);
	struct req r = { win, dir, host_off, nic_off, len, 0, cookie, 0 };

	if (nic_off > e->memsize || len > e->memsize - nic_off)
		return -EFAULT;
	if (win == HAL_WIN_SCRATCH && (host_off > SCRATCH_SIZE || len > SCRATCH_SIZE - host_off))
		return -EFAULT;
	/*
	 * The scratch window stands for host memory in the calibration: its
	 * small jobs take the same inline path as the host's, so the model
	 * sees the step the pipeline has.
	 */
	if (len <= e->p.inline_bytes && reqq_idle(&e->dmaq)) {
		dma_do(e, &r);
		return 0;
	}
	return reqq_push(&e->dmaq, &r); /* host range checked by the engine */
}

static int e_wire_send(struct nic_hal *hal, uint32_t nic_off, uint32_t len, unsigned flags,
		       uint64_t cookie)
{
	struct hal_emu *e = he(hal);
	struct req r = { 0, 0, 0, nic_off, len, flags, cookie, 0 };

	if (nic_off > e->memsize || len > e->memsize - nic_off || len < SNF_ETH_HLEN)
		return -EFAULT;
	if (len > e->mtu + SNF_ETH_HLEN)
		return -EMSGSIZE;
	/*
	 * MAC loopback is a copy inside the NIC, not wire transmission: done
	 * here at any size while nothing is queued before it.  Through the
	 * transmit thread, the calibration's loopback timing of the receive
	 * stage gained a thread hand-off above the inline size only, which the
	 * linear fit read as ~2 ns per byte.
	 */
	if ((len <= e->p.inline_bytes || (flags & HAL_TX_LOOPBACK)) && reqq_idle(&e->txq)) {
		tx_do(e, &r);
		return 0;
	}
	return reqq_push(&e->txq, &r);
}

static int e_wire_send_host(struct nic_hal *hal, uint32_t nic_off, uint32_t hdr_len,
			    uint64_t host_off, uint32_t len, uint64_t cookie)
{
	struct hal_emu *e = he(hal);
	struct req r = { HAL_WIN_HOST, 0, host_off, nic_off, len, 0, cookie, hdr_len };

	if (!hdr_len || nic_off > e->memsize || hdr_len > e->memsize - nic_off ||
	    hdr_len + (uint64_t)len < SNF_ETH_HLEN)
		return -EFAULT;
	if (hdr_len + (uint64_t)len > e->mtu + SNF_ETH_HLEN)
		return -EMSGSIZE;
	if (hdr_len + len <= e->p.inline_bytes && reqq_idle(&e->txq)) {
		tx_do(e, &r);
		return 0;
	}
	return reqq_push(&e->txq, &r); /* host range checked by the engine */
}

static int e_post_rx(struct nic_hal *hal, uint32_t nic_off, uint32_t len, uint64_t cookie)
{
	struct hal_emu *e = he(hal);

	if (nic_off > e->memsize || len > e->memsize - nic_off)
		return -EFAULT;
	rx_lend_drop(e->lend, nic_off); /* a frame left in it unread gives its slot back */
	pthread_mutex_lock(&e->rx_mu);
	if (e->rx_tail - e->rx_head >= HAL_QUEUE_DEPTH) {
		pthread_mutex_unlock(&e->rx_mu);
		return -ENOSPC;
	}
	e->rxb[e->rx_tail++ % HAL_QUEUE_DEPTH] = (struct rxbuf){ nic_off, len, cookie };
	pthread_mutex_unlock(&e->rx_mu);
	atomic_store(&e->rx_enabled, 1);
	return 0;
}

static unsigned ev_take(struct hal_emu *e, struct hal_event *ev, unsigned max)
{
	unsigned n = 0;
	uint32_t db;

	pthread_mutex_lock(&e->ev_mu);
	while (n < max && e->ev_head != e->ev_tail)
		ev[n++] = e->evq[e->ev_head++ % (2 * HAL_QUEUE_DEPTH)];
	pthread_mutex_unlock(&e->ev_mu);
	db = atomic_load(&e->regs->doorbell);
	if (n < max && db != e->last_doorbell) {
		e->last_doorbell = db;
		ev[n].type = HAL_EV_DOORBELL;
		ev[n].cookie = 0;
		ev[n].status = 0;
		ev[n++].len = 0;
	}
	return n;
}

/*
 * rx_direct: up to max frames from the socket, each straight into the next
 * posted buffer (the kernel's copy, done here on the receiving CPU, is the
 * receive DMA); the same filter and accounting as rx_frame()/rx_deliver().
 * rx_mu is held across the copy: a loopback frame from the TX engine takes
 * buffers too.
 */
static int rx_poll_direct(struct hal_emu *e, int max)
{
	int n = 0, pkttype = 0, have;
	struct rxbuf b = { 0 };
	long len;

	while (n < max) {
		pthread_mutex_lock(&e->rx_mu);
		have = e->rx_head != e->rx_tail;
		if (have)
			b = e->rxb[e->rx_head % HAL_QUEUE_DEPTH];
		len = wire_packet_recv_into(e->wire, have ? e->mem + b.off : e->rx_sink,
					    have ? b.len : e->rx_sink_len, &pkttype);
		if (len <= 0) {
			pthread_mutex_unlock(&e->rx_mu);
			break;
		}
		n++;
		if (pkttype == PACKET_OUTGOING) {
			pthread_mutex_unlock(&e->rx_mu);
			continue;
		}
		if (len < SNF_ETH_HLEN || (have && b.len < SNF_ETH_HLEN) ||
		    memcmp(have ? e->mem + b.off : e->rx_sink, e->mac, 6)) {
			pthread_mutex_unlock(&e->rx_mu);
			atomic_fetch_add(&e->rx_filtered, 1);
			continue;
		}
		if (!have) {
			pthread_mutex_unlock(&e->rx_mu);
			atomic_fetch_add(&e->rx_nobuf, 1);
			continue;
		}
		e->rx_head++;
		pthread_mutex_unlock(&e->rx_mu);
		ev_push(e, HAL_EV_RX, b.cookie, 0, (uint32_t)len < b.len ? (uint32_t)len : b.len);
	}
	return n;
}

/* rx_cpu: the NIC CPU is the receive engine; a batch per call keeps events flowing. */
static int rx_poll_ring(struct hal_emu *e)
{
	if (!e->p.rx_cpu || !atomic_load(&e->rx_enabled))
		return 0;
	if (e->p.rx_direct)
		return rx_poll_direct(e, 64);
	return wire_packet_recv_max(e->wire, rx_frame, e, 64);
}

/* Sleep until woken or deadline (ns): on the wake futex, or in poll() beside the wire. */
static void nic_sleep(struct hal_emu *e, uint32_t w, uint64_t now, uint64_t deadline)
{
	struct timespec ts;

	if (e->p.rx_cpu) {
		struct pollfd pfd[2] = { { e->kickfd, POLLIN, 0 },
					 { wire_packet_fd(e->wire), POLLIN, 0 } };
		uint64_t left = deadline - now;
		int ms = (int)((left + 999999) / 1000000);
		uint64_t v;

		if (!e->p.sleep_lent)
			rx_lend_settle(e->lend); /* a lent newest slot keeps the ring readable */
		if (poll(pfd, atomic_load(&e->rx_enabled) ? 2 : 1, ms) > 0 && (pfd[0].revents & POLLIN))
			if (read(e->kickfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				log_warn("kick eventfd");
		return;
	}
	ts.tv_sec = (time_t)((deadline - now) / 1000000000ull);
	ts.tv_nsec = (long)((deadline - now) % 1000000000ull);
	nic_futex(&e->regs->wake, FUTEX_WAIT, w, &ts);
}

/*
 * spin_adapt: spin only while spinning pays.  A spin that ends with an event
 * resets the back-off; one that runs out skips the next 1, 2, 4 .. 256 waits.
 * A spinner on the CPU its peer needs fails every time and soon stops; a
 * spinner whose peer runs on the other CPU takes each frame without sleeping,
 * so neither side pays a wake-up (~200 µs across vCPUs on this VM).
 */
static int spin_now(struct hal_emu *e)
{
	if (!e->p.spin_adapt)
		return 1;
	if (e->spin_skip) {
		e->spin_skip--;
		return 0;
	}
	return 1;
}

/* Poll the ring and the event queue until something comes or until (ns).  @ret events taken. */
static unsigned spin(struct hal_emu *e, struct hal_event *ev, unsigned max, uint64_t until)
{
	unsigned n;

	do {
		__builtin_ia32_pause();
		rx_poll_ring(e);
		n = ev_take(e, ev, max);
		if (n) {
			e->spins_won++;
			e->spin_backoff = 0;
			return n;
		}
	} while (nic_mono_ns() < until && !atomic_load(&e->stop));
	e->spins_lost++;
	e->spin_skip = e->spin_backoff;
	e->spin_backoff = e->spin_backoff ? (e->spin_backoff < 256 ? e->spin_backoff * 2 : 256) : 1;
	return 0;
}

static int e_event_wait(struct nic_hal *hal, struct hal_event *ev, unsigned max, int timeout_ms)
{
	struct hal_emu *e = he(hal);
	uint64_t start = nic_mono_ns(), deadline = start + (uint64_t)timeout_ms * 1000000ull, now;
	unsigned n;
	uint32_t w;

	for (;;) {
		rx_poll_ring(e);
		n = ev_take(e, ev, max);
		if (n || timeout_ms <= 0)
			return (int)n;
		now = nic_mono_ns();
		if (now >= deadline || atomic_load(&e->stop))
			return 0;
		if (now - start < e->p.spin_ns && spin_now(e)) {
			n = spin(e, ev, max, start + e->p.spin_ns < deadline ? start + e->p.spin_ns : deadline);
			if (n)
				return (int)n;
		}
		atomic_store(&e->regs->nic_idle, e->p.rx_cpu ? SNF_IDLE_KICK : SNF_IDLE_FUTEX);
		w = atomic_load(&e->regs->wake);
		rx_poll_ring(e);
		n = ev_take(e, ev, max);
		if (n) {
			atomic_store(&e->regs->nic_idle, 0);
			return (int)n;
		}
		nic_sleep(e, w, now, deadline);
		atomic_store(&e->regs->nic_idle, 0);
	}
}

/*
 * irq moves for every batch: a host that read it before this and is about to
 * sleep returns at once and finds the completions.  The fetch_add is also the
 * full barrier between the completions' release and the load of irq_arm
 * (the host stores irq_arm, then reads the ring: one of us sees the other).
 */
static void e_host_interrupt(struct nic_hal *hal, unsigned causes)
{
	struct hal_emu *e = he(hal);
	uint32_t want = (causes & HAL_IRQ_SEND ? SNF_IRQ_SEND : 0) |
			(causes & HAL_IRQ_RECV ? SNF_IRQ_RECV : 0);

	atomic_fetch_add(&e->regs->irq, 1);
	if (atomic_load(&e->regs->irq_arm) & want)
		nic_futex(&e->regs->irq, FUTEX_WAKE, INT_MAX, NULL);
}

static void e_host_released(struct nic_hal *hal)
{
	struct hal_emu *e = he(hal);

	pthread_mutex_lock(&e->host_mu);
	e->released = 1;
	pthread_cond_broadcast(&e->host_cv);
	pthread_mutex_unlock(&e->host_mu);
}

static uint64_t e_now(struct nic_hal *hal) { return nic_mono_ns(); }

static void e_stats(struct nic_hal *hal, struct hal_stats *out)
{
	struct hal_emu *e = he(hal);

	out->rx_nobuf = atomic_load(&e->rx_nobuf);
	out->rx_ring = wire_packet_drops(e->wire);
	out->rx_filtered = atomic_load(&e->rx_filtered);
	out->tx_errors = atomic_load(&e->tx_errors);
}

static void e_log(struct nic_hal *hal, enum hal_log_level level, const char *msg)
{
	switch (level) {
	case HAL_LOG_ERR:
	case HAL_LOG_WARN:
		log_warnx("nic: %s", msg);
		break;
	case HAL_LOG_INFO:
		log_info("nic: %s", msg);
		break;
	case HAL_LOG_DEBUG:
		log_debug("nic: %s", msg);
		break;
	}
}

static const struct nic_hal_operations hal_emu_ops = {
	.mem = e_mem,
	.link = e_link,
	.window = e_window,
	.dma = e_dma,
	.wire_send = e_wire_send,
	.wire_send_host = e_wire_send_host,
	.wire_post_rx = e_post_rx,
	.event_wait = e_event_wait,
	.host_interrupt = e_host_interrupt,
	.host_released = e_host_released,
	.now_ns = e_now,
	.stats = e_stats,
	.log = e_log,
};

/* ---- life cycle ------------------------------------------------------------ */

int hal_emu_memfd(struct nic_hal *hal, size_t *size)
{
	*size = he(hal)->bar_size;
	return he(hal)->memfd;
}

int hal_emu_kickfd(struct nic_hal *hal) { return he(hal)->kickfd; }

int hal_emu_host_attach(struct nic_hal *hal, int memfd, size_t size)
{
	struct hal_emu *e = he(hal);
	void *p;

	pthread_mutex_lock(&e->host_mu);
	if (e->host_attached) {
		pthread_mutex_unlock(&e->host_mu);
		return -EBUSY;
	}
	pthread_mutex_unlock(&e->host_mu);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, memfd, 0);
	if (p == MAP_FAILED)
		return -errno;
	nic_prefault(p, size, 0); /* the host's memory: read only */
	pthread_mutex_lock(&e->host_mu);
	e->host = p;
	e->host_size = size;
	e->host_attached = 1;
	e->released = 0;
	pthread_mutex_unlock(&e->host_mu);
	ev_push(e, HAL_EV_HOST_UP, 0, 0, 0);
	return 0;
}

int hal_emu_host_detach(struct nic_hal *hal, int timeout_ms)
{
	struct hal_emu *e = he(hal);
	struct timespec ts;
	int rc = 0;

	pthread_mutex_lock(&e->host_mu);
	if (!e->host_attached) {
		pthread_mutex_unlock(&e->host_mu);
		return 0;
	}
	pthread_mutex_unlock(&e->host_mu);
	ev_push(e, HAL_EV_HOST_DOWN, 0, 0, 0);
	/* An absolute deadline in pthread_cond_timedwait()'s clock, not a time read: not lib/clock's job. */
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&e->host_mu);
	while (!e->released && rc == 0)
		rc = pthread_cond_timedwait(&e->host_cv, &e->host_mu, &ts);
	if (e->released) {
		munmap(e->host, e->host_size);
		e->host = NULL;
		e->host_size = 0;
		e->host_attached = 0;
		rc = 0;
	} else {
		rc = -ETIMEDOUT;
	}
	pthread_mutex_unlock(&e->host_mu);
	return rc;
}

int hal_emu_create(const struct hal_emu_params *p, struct nic_hal **out, char *err,
		   size_t errlen)
{
	struct hal_emu *e;
	int rc;

	e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	e->ops = hal_emu_ops;
	if (p->tx_copy)
		e->ops.wire_send_host = NULL; /* payloads staged in NIC memory, as before */
	e->hal.ops = &e->ops;
	e->p = *p;
	e->memfd = -1;
	e->stopfd = -1;
	e->kickfd = -1;
	pthread_mutex_init(&e->host_mu, NULL);
	pthread_cond_init(&e->host_cv, NULL);
	pthread_mutex_init(&e->rx_mu, NULL);
	pthread_mutex_init(&e->ev_mu, NULL);
	e->bar_size = SNF_REGS_SIZE + ((p->nicmem + 4095) & ~(size_t)4095);
	e->memsize = e->bar_size - SNF_REGS_SIZE;
	e->memfd = memfd_create("snow-nic-memory", MFD_CLOEXEC);
	if (e->memfd < 0 || ftruncate(e->memfd, (off_t)e->bar_size) < 0) {
		rc = -errno;
		snprintf(err, errlen, "NIC memory: %s", strerror(errno));
		goto err;
	}
	e->bar = mmap(NULL, e->bar_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		      e->memfd, 0);
	if (e->bar == MAP_FAILED) {
		rc = -errno;
		e->bar = NULL;
		snprintf(err, errlen, "NIC memory: mmap: %s", strerror(errno));
		goto err;
	}
	nic_prefault(e->bar, e->bar_size, 1); /* fresh: nothing to keep */
	e->regs = (struct snf_regs *)e->bar;
	e->mem = e->bar + SNF_REGS_SIZE;
	e->scratch = calloc(1, SCRATCH_SIZE);
	e->evq = calloc(2 * HAL_QUEUE_DEPTH, sizeof(*e->evq));
	e->rxb = calloc(HAL_QUEUE_DEPTH, sizeof(*e->rxb));
	if (!e->scratch || !e->evq || !e->rxb || reqq_init(&e->dmaq) || reqq_init(&e->txq)) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto err;
	}
	if (p->rx_direct)
		e->p.rx_cpu = 1;
	rc = wire_packet_open(p->ifname, p->rx_v3, p->rx_direct ? 0 : p->ring_bytes, &e->wire, err,
			      errlen);
	if (rc)
		goto err;
	wire_packet_link(e->wire, e->mac, &e->mtu);
	if (!p->rx_copy && !p->rx_direct)
		e->lend = rx_lend_new(e->wire, e->mem); /* NULL without a V2 ring: copies */
	if (p->rx_direct) {
		e->rx_sink_len = e->mtu + SNF_ETH_HLEN;
		e->rx_sink = malloc(e->rx_sink_len);
		if (!e->rx_sink) {
			rc = -ENOMEM;
			snprintf(err, errlen, "out of memory");
			goto err;
		}
	}
	e->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	e->kickfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (e->stopfd < 0 || e->kickfd < 0) {
		rc = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto err;
	}
	if (pthread_create(&e->dma_thr, NULL, dma_engine, e))
		goto err_thr;
	e->threads = 1;
	if (pthread_create(&e->tx_thr, NULL, tx_engine, e))
		goto err_thr;
	e->threads = 2;
	pthread_setname_np(e->dma_thr, "nic-hostdma");
	pthread_setname_np(e->tx_thr, "nic-wiretx");
	if (!e->p.rx_cpu) {
		if (pthread_create(&e->rx_thr, NULL, rx_engine, e))
			goto err_thr;
		e->rx_thread = 1;
		pthread_setname_np(e->rx_thr, "nic-wirerx");
	}
	*out = &e->hal;
	return 0;

err_thr:
	rc = -EAGAIN;
	snprintf(err, errlen, "cannot start engine threads");
err:
	hal_emu_destroy(&e->hal);
	return rc;
}

void hal_emu_destroy(struct nic_hal *hal)
{
	struct hal_emu *e = he(hal);
	uint64_t one = 1;

	if (!e)
		return;
	atomic_store(&e->stop, 1);
	if (e->threads) {
		reqq_wake(&e->dmaq);
		reqq_wake(&e->txq);
		if (write(e->stopfd, &one, sizeof(one)) < 0)
			log_warn("stopping the receive engine");
	}
	if (e->threads >= 1)
		pthread_join(e->dma_thr, NULL);
	if (e->threads >= 2)
		pthread_join(e->tx_thr, NULL);
	if (e->rx_thread)
		pthread_join(e->rx_thr, NULL);
	rx_lend_free(e->lend);
	wire_packet_close(e->wire);
	if (e->stopfd >= 0)
		close(e->stopfd);
	if (e->kickfd >= 0)
		close(e->kickfd);
	if (e->host)
		munmap(e->host, e->host_size);
	if (e->bar)
		munmap(e->bar, e->bar_size);
	if (e->memfd >= 0)
		close(e->memfd);
	free(e->scratch);
	free(e->rx_sink);
	free(e->evq);
	free(e->rxb);
	reqq_fini(&e->dmaq);
	reqq_fini(&e->txq);
	free(e);
}
