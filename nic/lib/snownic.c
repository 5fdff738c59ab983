#include "snownic.h"
#include "fw/sync.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/*
 * How long snownic_wait() spins before it sleeps (SNOWNIC_SPIN_US).  0: on a
 * 2-core machine a spinning application steals the CPU the NIC's threads need.
 */
#define SPIN_NS_DEFAULT 0

struct snownic {
	int sock;          /* -1 when attached in-process */
	int memfd;
	int kickfd;        /* wakes a NIC CPU sleeping with SNF_IDLE_KICK, or -1 */
	uint8_t *bar;
	size_t bar_size;
	uint8_t *host;
	size_t host_size;
	bool own_maps;
	struct snf_regs *regs;
	struct snf_ctl *ctl;
	struct snf_ring send, post, comp;
	uint8_t *inline_area;
	uint32_t sends, posts; /* outstanding */
	uint64_t spin_ns;
	bool db_pending; /* descriptors published without a doorbell (snownic_post_recv_more) */
	/* For comparison (docs/nic.md): SNOWNIC_IRQ_ALL=1 arms every cause in every wait,
	 * SNOWNIC_DOORBELL_EACH=1 makes snownic_post_recv_more ring at once. */
	bool irq_all, db_each;
	/* Run to completion: the NIC runs in this process, driven by our calls. */
	int (*drive)(void *ctx, int timeout_ms);
	void (*release)(void *ctx);
	void *drive_ctx;
};

static void doorbell(struct snownic *h)
{
	uint32_t idle;
	uint64_t one = 1;

	h->db_pending = false;
	atomic_fetch_add(&h->regs->doorbell, 1);
	atomic_fetch_add(&h->regs->wake, 1);
	/* seq_cst above and here: either the NIC sees our wake, or we see it idle. */
	idle = atomic_load(&h->regs->nic_idle);
	if (idle == SNF_IDLE_KICK && h->kickfd >= 0) {
		if (write(h->kickfd, &one, sizeof(one)) < 0)
			(void)0; /* full (it is awake anyway) or gone (the socket says so) */
	} else if (idle) {
		nic_futex(&h->regs->wake, FUTEX_WAKE, INT_MAX, NULL);
	}
}

/* Check the control block the NIC published.  @ret 0 or -EPROTO with err. */
static int snownic_map_rings(struct snownic *h, char *err, size_t errlen)
{
	struct snf_ctl *c;
	size_t fwsize;

	if (h->bar_size < SNF_REGS_SIZE + sizeof(struct snf_ctl)) {
		snprintf(err, errlen, "NIC memory of %zu bytes is too small", h->bar_size);
		return -EPROTO;
	}
	h->regs = (struct snf_regs *)h->bar;
	c = h->ctl = (struct snf_ctl *)(h->bar + SNF_REGS_SIZE);
	fwsize = h->bar_size - SNF_REGS_SIZE;
	if (c->magic != SNF_MAGIC || c->version != SNF_ABI_VERSION) {
		snprintf(err, errlen, "NIC memory has magic 0x%08x version %u, want 0x%08x %u",
			 c->magic, c->version, SNF_MAGIC, SNF_ABI_VERSION);
		return -EPROTO;
	}
#define RING_OK(off, n, esz) ((n) && !((n) & ((n) - 1)) && (off) < fwsize && \
			      snf_ring_bytes(n, esz) <= fwsize - (off))
	if (!RING_OK(c->send_off, c->send_size, sizeof(struct snf_send_desc)) ||
	    !RING_OK(c->post_off, c->post_size, sizeof(struct snf_post_desc)) ||
	    !RING_OK(c->comp_off, c->comp_size, sizeof(struct snf_comp)) ||
	    c->inline_off > fwsize ||
	    (size_t)c->comp_size * SNF_INLINE_MAX > fwsize - c->inline_off ||
	    c->threshold > SNF_INLINE_MAX) {
		snprintf(err, errlen, "NIC control block describes rings outside NIC memory");
		return -EPROTO;
	}
#undef RING_OK
	snf_ring_init(&h->send, h->ctl, c->send_off, c->send_size, sizeof(struct snf_send_desc));
	snf_ring_init(&h->post, h->ctl, c->post_off, c->post_size, sizeof(struct snf_post_desc));
	snf_ring_init(&h->comp, h->ctl, c->comp_off, c->comp_size, sizeof(struct snf_comp));
	h->inline_area = (uint8_t *)h->ctl + c->inline_off;
	return 0;
}

static bool env_on(const char *name)
{
	const char *v = getenv(name);

	return v && *v && strcmp(v, "0");
}

static struct snownic *snownic_new(void)
{
	struct snownic *h = calloc(1, sizeof(*h));
	const char *spin = getenv("SNOWNIC_SPIN_US");

	if (!h)
		return NULL;
	h->sock = -1;
	h->memfd = -1;
	h->kickfd = -1;
	h->spin_ns = spin ? strtoull(spin, NULL, 10) * 1000 : SPIN_NS_DEFAULT;
	h->irq_all = env_on("SNOWNIC_IRQ_ALL");
	h->db_each = env_on("SNOWNIC_DOORBELL_EACH");
	return h;
}

int snownic_attach(void *bar, size_t bar_size, void *host, size_t host_size,
		   struct snownic **out, char *err, size_t errlen)
{
	struct snownic *h = snownic_new();
	int rc;

	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	h->bar = bar;
	h->bar_size = bar_size;
	h->host = host;
	h->host_size = host_size;
	rc = snownic_map_rings(h, err, errlen);
	if (rc) {
		free(h);
		return rc;
	}
	*out = h;
	return 0;
}

/* Send one JSON request with an optional fd; read one reply with an optional fd. */
static int snownic_rpc(int sock, const char *req, int fd_out, char *reply, size_t replylen,
		       int *fd_in, int *fd_in2)
{
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { (void *)req, strlen(req) };
	struct msghdr msg = { 0 };
	struct cmsghdr *cm;
	ssize_t n;

	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (fd_out >= 0) {
		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd_out, sizeof(int));
		msg.msg_controllen = CMSG_SPACE(sizeof(int));
	}
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		return -errno;
	memset(&msg, 0, sizeof(msg));
	memset(&u, 0, sizeof(u));
	iov.iov_base = reply;
	iov.iov_len = replylen - 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET;
	reply[n] = '\0';
	if (fd_in) {
		*fd_in = *fd_in2 = -1;
		/* The NIC memory, then (from a NIC whose CPU may sleep in poll()) its kick eventfd. */
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
			    (cm->cmsg_len == CMSG_LEN(sizeof(int)) ||
			     cm->cmsg_len == CMSG_LEN(2 * sizeof(int)))) {
				memcpy(fd_in, CMSG_DATA(cm), sizeof(int));
				if (cm->cmsg_len == CMSG_LEN(2 * sizeof(int)))
					memcpy(fd_in2, CMSG_DATA(cm) + sizeof(int), sizeof(int));
			}
	}
	return 0;
}

int snownic_open(const char *socket_path, size_t mem_size, struct snownic **out, char *err,
		 size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char req[128], reply[1024];
	struct snownic *h;
	json_t *j = NULL;
	json_error_t jerr;
	int rc, nicfd = -1;
	json_int_t barsz;

	if (strlen(socket_path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path '%s' is too long", socket_path);
		return -ENAMETOOLONG;
	}
	if (mem_size < 4096 || mem_size > ((size_t)1 << 40)) {
		snprintf(err, errlen, "registered memory of %zu bytes: want 4 KiB .. 1 TiB",
			 mem_size);
		return -EINVAL;
	}
	h = snownic_new();
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	h->own_maps = true;
	h->host_size = (mem_size + 4095) & ~(size_t)4095;
	h->memfd = memfd_create("snownic-host", MFD_CLOEXEC);
	if (h->memfd < 0 || ftruncate(h->memfd, (off_t)h->host_size) < 0) {
		rc = -errno;
		snprintf(err, errlen, "registered memory: %s", strerror(errno));
		goto err_free;
	}
	h->host = mmap(NULL, h->host_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		       h->memfd, 0);
	if (h->host == MAP_FAILED) {
		rc = -errno;
		h->host = NULL;
		snprintf(err, errlen, "registered memory: mmap: %s", strerror(errno));
		goto err_free;
	}
	nic_prefault(h->host, h->host_size, 1); /* fresh memfd */
	h->sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (h->sock < 0) {
		rc = -errno;
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto err_free;
	}
	strcpy(sa.sun_path, socket_path);
	if (connect(h->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s (is snow-nic running?)", socket_path,
			 strerror(errno));
		goto err_free;
	}
	snprintf(req, sizeof(req), "{\"op\":\"attach\",\"mem\":%zu,\"pid\":%ld}", h->host_size,
		 (long)getpid());
	rc = snownic_rpc(h->sock, req, h->memfd, reply, sizeof(reply), &nicfd, &h->kickfd);
	if (rc) {
		snprintf(err, errlen, "%s: %s", socket_path, strerror(-rc));
		goto err_free;
	}
	j = json_loads(reply, 0, &jerr);
	if (!j || !json_is_object(j)) {
		rc = -EPROTO;
		snprintf(err, errlen, "snow-nic answered something that is not JSON");
		goto err_free;
	}
	if (!json_is_true(json_object_get(j, "ok"))) {
		const char *e = json_string_value(json_object_get(j, "error"));
		json_int_t code = json_integer_value(json_object_get(j, "errno"));
		rc = code > 0 ? -(int)code : -EPROTO;
		snprintf(err, errlen, "snow-nic refused: %s", e ? e : "no reason given");
		goto err_free;
	}
	barsz = json_integer_value(json_object_get(j, "nic_mem"));
	if (nicfd < 0 || barsz < (json_int_t)SNF_REGS_SIZE + 4096 || barsz > ((json_int_t)1 << 34)) {
		rc = -EPROTO;
		snprintf(err, errlen, "snow-nic sent no NIC memory (fd %d, %lld bytes)", nicfd,
			 (long long)barsz);
		goto err_free;
	}
	h->bar_size = (size_t)barsz;
	h->bar = mmap(NULL, h->bar_size, PROT_READ | PROT_WRITE, MAP_SHARED, nicfd, 0);
	if (h->bar == MAP_FAILED) {
		rc = -errno;
		h->bar = NULL;
		snprintf(err, errlen, "NIC memory: mmap: %s", strerror(errno));
		goto err_free;
	}
	nic_prefault(h->bar, h->bar_size, 0); /* the NIC is running: read only */
	close(nicfd);
	nicfd = -1;
	rc = snownic_map_rings(h, err, errlen);
	if (rc)
		goto err_free;
	json_decref(j);
	*out = h;
	return 0;

err_free:
	if (nicfd >= 0)
		close(nicfd);
	json_decref(j);
	snownic_close(h);
	return rc;
}

void snownic_close(struct snownic *h)
{
	if (!h)
		return;
	if (h->sock >= 0)
		close(h->sock); /* snow-nic detaches us */
	if (h->own_maps) {
		if (h->bar)
			munmap(h->bar, h->bar_size);
		if (h->host)
			munmap(h->host, h->host_size);
	}
	if (h->memfd >= 0)
		close(h->memfd);
	if (h->kickfd >= 0)
		close(h->kickfd);
	if (h->release)
		h->release(h->drive_ctx);
	free(h);
}

void *snownic_mem(struct snownic *h, size_t *size)
{
	*size = h->host_size;
	return h->host;
}

void snownic_info(const struct snownic *h, struct snownic_info *o)
{
	const struct snf_ctl *c = h->ctl;

	o->node_id = (uint16_t)c->node_id;
	o->mtu = c->mtu;
	o->max_frag = c->max_frag;
	o->threshold = c->threshold;
	o->credits = c->credits;
	o->tx_slots = c->tx_slots;
	o->rx_slots = c->rx_slots;
	o->fixed_frag = c->fixed_frag;
	o->flow_control = (int)c->flow_control;
	memcpy(o->stages, c->stages, sizeof(o->stages));
	o->serial_pm = c->serial_pm;
}

const struct snf_counters *snownic_counters(const struct snownic *h) { return &h->ctl->counters; }

/* Offset of [p, p+len) in registered memory, or -1. */
static int64_t host_offset(const struct snownic *h, const void *p, uint32_t len)
{
	uintptr_t a = (uintptr_t)p, base = (uintptr_t)h->host;

	if (a < base || a - base > h->host_size || len > h->host_size - (a - base))
		return -1;
	return (int64_t)(a - base);
}

int snownic_send(struct snownic *h, const struct snownic_send *s)
{
	struct snf_send_desc *d;
	int64_t off = 0;
	bool inl;

	if (s->flags & ~(SNOWNIC_SF | SNOWNIC_NOINLINE))
		return -EINVAL;
	inl = s->len <= h->ctl->threshold && !(s->flags & SNOWNIC_NOINLINE);
	if (!inl && (off = host_offset(h, s->buf, s->len)) < 0)
		return -EFAULT;
	if (h->sends >= h->send.size)
		return -EAGAIN;
	d = snf_ring_slot(&h->send);
	if (!d)
		return -EAGAIN;
	d->host_off = (uint64_t)off;
	d->cookie = s->cookie;
	d->len = s->len;
	d->tag = s->tag;
	d->frag = s->frag;
	d->peer = s->peer;
	d->flags = (uint16_t)((s->flags & SNOWNIC_SF ? SNF_SEND_SF : 0) | (inl ? SNF_SEND_INLINE : 0));
	if (inl && s->len)
		memcpy(d->data, s->buf, s->len);
	snf_ring_push(&h->send);
	h->sends++;
	doorbell(h);
	if (h->drive)
		h->drive(h->drive_ctx, 0); /* the frame leaves from this call */
	return 0;
}

static int post_recv(struct snownic *h, void *buf, uint32_t len, uint64_t cookie, bool more)
{
	struct snf_post_desc *d;
	int64_t off = host_offset(h, buf, len);

	if (off < 0)
		return -EFAULT;
	if (h->posts >= h->post.size)
		return -EAGAIN;
	d = snf_ring_slot(&h->post);
	if (!d)
		return -EAGAIN;
	d->host_off = (uint64_t)off;
	d->len = len;
	d->cookie = cookie;
	snf_ring_push(&h->post);
	h->posts++;
	if (more && !h->db_each) {
		h->db_pending = true; /* the next send, post, poll or wait rings for it */
		return 0;
	}
	doorbell(h);
	if (h->drive)
		h->drive(h->drive_ctx, 0); /* held frames may go to the buffer now */
	return 0;
}

int snownic_post_recv(struct snownic *h, void *buf, uint32_t len, uint64_t cookie)
{
	return post_recv(h, buf, len, cookie, false);
}

int snownic_post_recv_more(struct snownic *h, void *buf, uint32_t len, uint64_t cookie)
{
	return post_recv(h, buf, len, cookie, true);
}

/* Ring for descriptors published without a doorbell (snownic_post_recv_more). */
static void doorbell_flush(struct snownic *h)
{
	if (h->db_pending) {
		doorbell(h);
		if (h->drive)
			h->drive(h->drive_ctx, 0);
	}
}

void snownic_set_driver(struct snownic *h, int (*drive)(void *ctx, int timeout_ms),
			void (*release)(void *ctx), void *ctx)
{
	h->drive = drive;
	h->release = release;
	h->drive_ctx = ctx;
}

static int comp_take(struct snownic *h, struct snownic_comp *out, unsigned max);

int snownic_poll(struct snownic *h, struct snownic_comp *out, unsigned max)
{
	if (h->db_pending)
		doorbell(h); /* and the drive below takes the posts */
	if (h->drive)
		h->drive(h->drive_ctx, 0);
	return comp_take(h, out, max);
}

/* Take up to max completions from the ring.  @ret how many, or -EPROTO (corrupt ring). */
static int comp_take(struct snownic *h, struct snownic_comp *out, unsigned max)
{
	int64_t avail = snf_ring_avail(&h->comp);
	unsigned n = 0;

	if (avail < 0)
		return -EPROTO;
	while (n < max && avail-- > 0) {
		const struct snf_comp *c = snf_ring_head(&h->comp);
		struct snownic_comp *o = &out[n++];

		o->type = (enum snownic_comp_type)c->type;
		o->status = c->status;
		o->cookie = c->cookie;
		o->peer = c->peer;
		o->len = c->len;
		o->tag = c->tag;
		o->frag = c->frag;
		o->nfrags = c->nfrags;
		if (c->type == SNF_COMP_RECV && (c->flags & SNF_COMP_INLINE)) {
			/* Programmed I/O: the small message waits in NIC memory. */
			if (c->frag <= SNF_INLINE_MAX && c->host_off <= h->host_size &&
			    c->frag <= h->host_size - c->host_off)
				memcpy(h->host + c->host_off,
				       h->inline_area +
					       (size_t)snf_ring_index(&h->comp, c) * SNF_INLINE_MAX,
				       c->frag);
			else
				o->status = -EPROTO;
		}
		if (c->type == SNF_COMP_SEND && h->sends)
			h->sends--;
		else if (c->type == SNF_COMP_RECV && h->posts)
			h->posts--;
		snf_ring_pop(&h->comp);
	}
	/* The NIC holds descriptors back while completions wait: tell it there is room. */
	if (n && (snf_ring_avail(&h->send) > 0 || snf_ring_avail(&h->post) > 0))
		doorbell(h);
	return (int)n;
}

int snownic_wait(struct snownic *h, struct snownic_comp *c, unsigned max, int timeout_ms)
{
	return snownic_wait_for(h, c, max, timeout_ms, SNOWNIC_WAKE_ANY);
}

int snownic_wait_for(struct snownic *h, struct snownic_comp *c, unsigned max, int timeout_ms,
		     unsigned wake)
{
	uint64_t start = nic_mono_ns(), deadline, now;
	struct timespec ts;
	uint32_t irq, arm;
	int n;

	if (!(wake & SNF_IRQ_ALL) || (wake & ~SNF_IRQ_ALL))
		return -EINVAL;
	arm = h->irq_all ? SNF_IRQ_ALL : wake;
	doorbell_flush(h);
	deadline = timeout_ms < 0 ? UINT64_MAX : start + (uint64_t)timeout_ms * 1000000ull;
	for (;;) {
		n = comp_take(h, c, max);
		if (n)
			return n;
		now = nic_mono_ns();
		if (h->drive) {
			/* Run to completion: we are the NIC CPU; it sleeps beside its wire. */
			if (now >= deadline)
				return 0;
			h->drive(h->drive_ctx, deadline - now < 100000000ull ?
						       (int)((deadline - now + 999999) / 1000000) : 100);
			continue;
		}
		if (now - start < h->spin_ns && now < deadline) {
			__builtin_ia32_pause();
			continue;
		}
		if (now >= deadline)
			return 0;
		/* Arm, then look again: a completion posted before the NIC saw the arm is found here. */
		atomic_store(&h->regs->irq_arm, arm);
		irq = atomic_load(&h->regs->irq);
		n = comp_take(h, c, max);
		if (n) {
			atomic_store(&h->regs->irq_arm, 0);
			return n;
		}
		/* Sleep in slices so a vanished daemon is noticed. */
		ts.tv_sec = 0;
		ts.tv_nsec = deadline - now < 100000000ull ? (long)(deadline - now) : 100000000L;
		nic_futex(&h->regs->irq, FUTEX_WAIT, irq, &ts);
		atomic_store(&h->regs->irq_arm, 0);
		if (h->sock >= 0) {
			struct pollfd pfd = { h->sock, POLLIN, 0 };
			if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLERR | POLLIN))) {
				char b;
				if (recv(h->sock, &b, 1, MSG_DONTWAIT | MSG_PEEK) == 0)
					return -ESHUTDOWN;
			}
		}
	}
}
