/*
 * snow-nic-bench: osu_latency / osu_bw style measurements between two nodes,
 * over snow-nic (pipelined or store-and-forward) or over TCP, and the
 * overload exerciser the integration test uses.  Both ends run the same
 * plan (the same arguments but --role), like an SPMD program.
 *
 *   latency  ping-pong of one message, one-way time = round trip / 2
 *   bw       a window of messages back to back, then a 4-byte ack
 *   verify   every message carries a pattern the receiver checks byte by byte
 *   overload the client fires a burst; the server posts slowly (flow control
 *            off: drops expected), then both report what arrived intact
 *
 * Output (client): one line per size: size, one-way latency in µs, bandwidth
 * in MB/s (10^6 bytes/s), and the fragment size the NIC used.
 */
#include "clock.h"
#include "conf.h"
#include "emu/inproc.h"
#include "lib/snownic.h"
#include "log.h"

#include <arpa/inet.h>
#include <sched.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TAG_DATA 1
#define TAG_ACK 2
#define TAG_END 3
#define TAG_PONG 4
#define ACK_LEN 4u
#define RQ 512u

struct bopts {
	char *transport, *role, *socket, *addr, *test, *out_sizes, *sizes, *engine, *peer_mac;
	long node, peer, port, min_size, max_size, frag, window, sf, verify, count, post_delay_us,
		iters_scale, warm, settle_ms;
};

#define O(f) offsetof(struct bopts, f)
static const struct conf_option bopts_table[] = {
	{ "transport", 't', CONF_STR, O(transport), 0, 0, "snow|tcp", "what to measure (snow)" },
	{ "role", 'r', CONF_STR, O(role), 0, 0, "client|server", "which end (required)" },
	{ "socket", 's', CONF_STR, O(socket), 0, 0, "PATH", "snow-nic socket (/run/snow-nic.sock)" },
	{ "peer", 0, CONF_INT, O(peer), 0, 65535, "ID", "the other node's id (snow)" },
	{ "addr", 0, CONF_STR, O(addr), 0, 0, "IP", "server address (tcp client)" },
	{ "port", 0, CONF_INT, O(port), 1, 65535, "PORT", "tcp port (5201)" },
	{ "test", 0, CONF_STR, O(test), 0, 0, "lat|bw|both|overload", "what to run (both)" },
	{ "min-size", 0, CONF_INT, O(min_size), 0, 1 << 30, "BYTES", "smallest message (4)" },
	{ "max-size", 0, CONF_INT, O(max_size), 0, 1 << 30, "BYTES", "largest message (4 MiB)" },
	{ "frag", 0, CONF_INT, O(frag), 0, 65535, "BYTES", "fixed fragment size per message (0: model)" },
	{ "window", 0, CONF_INT, O(window), 1, 128, "N", "messages in flight for bw (64)" },
	{ "sf", 0, CONF_BOOL, O(sf), 0, 0, NULL, "store-and-forward instead of pipelined" },
	{ "verify", 0, CONF_BOOL, O(verify), 0, 0, NULL, "fill and check every byte" },
	{ "count", 0, CONF_INT, O(count), 1, 1000000, "N", "overload: messages in the burst (2000)" },
	{ "post-delay-us", 0, CONF_INT, O(post_delay_us), 0, 10000000, "US", "overload: server sleeps this long per post (0)" },
	{ "iters-scale", 0, CONF_INT, O(iters_scale), 1, 1000, "PCT", "scale iteration counts (100)" },
	{ "warm", 0, CONF_INT, O(warm), 0, 1000000, "N", "untimed 64 B round trips before measuring (200)" },
	{ "settle-ms", 0, CONF_INT, O(settle_ms), 0, 10000, "MS", "sleep this long after start-up, before the warm-up (0)" },
	{ "engine", 0, CONF_STR, O(engine), 0, 0, "IFACE", "run the NIC in this process on IFACE, run to completion (no snow-nic)" },
	{ "node", 0, CONF_INT, O(node), 0, 65535, "ID", "--engine: this node's id" },
	{ "peer-mac", 0, CONF_STR, O(peer_mac), 0, 0, "MAC", "--engine: the peer's MAC" },
	{ "sizes", 0, CONF_STR, O(sizes), 0, 0, "N,N,..", "these sizes instead of min-size..max-size doubling" },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};
#undef O

/* The benchmark's one state struct. */
struct bench {
	struct bopts o;
	bool client;
	/* snow */
	struct snownic *nic;
	uint8_t *mem;
	size_t memsz;
	uint32_t last_frag;
	uint64_t sends_issued, sends_done;
	struct snownic_comp rq[RQ];
	uint32_t rq_head, rq_tail;
	unsigned lost_reports;
	bool overload;
	const char *phase; /* what runs now (lat/bw), for a stall's report */
	size_t phase_size;
	/* tcp */
	int sock;
	uint8_t *tbuf;
	unsigned long bad_bytes, checked;
};

/* Monotonic seconds: microseconds are fine enough, every figure spans many round trips. */
static double now_s(void)
{
	return (double)clock_mono_us() / 1e6;
}

static void pattern(uint8_t *p, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 31u + i * 7u + (i >> 9));
}

static void check(struct bench *b, const uint8_t *p, size_t n, uint32_t seed)
{
	size_t i;

	b->checked++;
	for (i = 0; i < n; i++)
		if (p[i] != (uint8_t)(seed * 31u + i * 7u + (i >> 9))) {
			b->bad_bytes++;
			if (b->bad_bytes < 5)
				log_warnx("message seed %u length %zu: byte %zu is %u, want %u", seed,
					  n, i, p[i], (uint8_t)(seed * 31u + i * 7u + (i >> 9)));
		}
}

/* ---- snow ------------------------------------------------------------------ */

/* Buffers in registered memory: [0, half) to send from, [half, end) to receive into. */
static uint8_t *sbuf(struct bench *b) { return b->mem; }
static uint8_t *rbuf(struct bench *b, unsigned i, size_t size)
{
	size_t slot = (size + 4095) & ~(size_t)4095, half = b->memsz / 2;
	size_t n = half / (slot ? slot : 4096);

	return b->mem + half + (i % (n ? n : 1)) * slot;
}

/* Where a stalled run stood, and the NIC's nonzero counters, on stderr. */
static void stall_report(const struct bench *b)
{
	const struct snf_counters *k = snownic_counters(b->nic);

	log_warnx("stalled in %s of %zu bytes: sends %llu issued %llu done, receives %u queued",
		  b->phase ? b->phase : "start-up", b->phase_size,
		  (unsigned long long)b->sends_issued, (unsigned long long)b->sends_done,
		  b->rq_tail - b->rq_head);
#define STALL_COUNTER(n)                                                                    \
	if (atomic_load(&k->n))                                                             \
		log_warnx("  NIC counter %s %llu", #n, (unsigned long long)atomic_load(&k->n));
	SNF_COUNTERS(STALL_COUNTER)
#undef STALL_COUNTER
}

/*
 * Take one completion: count sends, queue receives.  Asleep, only the kinds in
 * wake (SNOWNIC_WAKE_*) wake it: what the caller waits for.  Dies after 10 s
 * of nothing.
 */
static void snow_pump(struct bench *b, unsigned wake)
{
	struct snownic_comp c;
	int n = snownic_wait_for(b->nic, &c, 1, 10000, wake);

	if (n < 0)
		fatalx("completion: %s", strerror(-n));
	if (n == 0) {
		stall_report(b);
		fatalx("no completion for 10 s: is the peer's benchmark running?");
	}
	switch (c.type) {
	case SNOWNIC_LOST:
		b->lost_reports++;
		if (!b->overload)
			log_warnx("%u frame(s) from node %u lost", c.len, c.peer);
		break;
	case SNOWNIC_SENT:
		if (c.status)
			fatalx("send completion: %s", strerror(-c.status));
		b->last_frag = c.frag;
		b->sends_done++;
		break;
	case SNOWNIC_RECEIVED:
		if (c.status && !b->overload)
			fatalx("receive completion: %s", strerror(-c.status));
		if (b->rq_tail - b->rq_head >= RQ)
			fatalx("more receive completions than posted buffers");
		b->rq[b->rq_tail++ % RQ] = c;
		break;
	}
}

/* The next message; asleep, woken by the kinds in wake (at least SNOWNIC_WAKE_RECEIVED). */
static struct snownic_comp snow_recv(struct bench *b, unsigned wake)
{
	while (b->rq_head == b->rq_tail)
		snow_pump(b, wake);
	return b->rq[b->rq_head++ % RQ];
}

/* Wait until at most max sends are outstanding. */
static void snow_sync(struct bench *b, uint64_t max)
{
	while (b->sends_issued - b->sends_done > max)
		snow_pump(b, SNOWNIC_WAKE_SENT);
}

static void snow_send(struct bench *b, const void *buf, uint32_t len, uint32_t tag)
{
	struct snownic_send s = { buf, len, (uint16_t)b->o.peer, tag, tag, 0, (uint32_t)b->o.frag };
	int rc;

	if (b->o.sf)
		s.flags |= SNOWNIC_SF;
	while ((rc = snownic_send(b->nic, &s)) == -EAGAIN)
		snow_pump(b, SNOWNIC_WAKE_SENT);
	if (rc)
		fatalx("send of %u bytes: %s", len, strerror(-rc));
	b->sends_issued++;
}

/* more: a send or another post follows at once, which rings the doorbell for both. */
static void snow_post(struct bench *b, void *buf, uint32_t len, uint64_t cookie, bool more)
{
	int rc;

	while ((rc = (more ? snownic_post_recv_more : snownic_post_recv)(b->nic, buf, len, cookie)) ==
	       -EAGAIN)
		snow_pump(b, SNOWNIC_WAKE_RECEIVED);
	if (rc)
		fatalx("post of %u bytes: %s", len, strerror(-rc));
}

/*
 * Ping-pong.  Each end posts the buffer for the next message just before its
 * send (one doorbell for both), sleeps only for messages (its send's
 * completion does not wake it), and waits for its last send to complete only
 * when it rewrites the buffer.
 */
static void snow_lat(struct bench *b, size_t size, unsigned iters, double *lat)
{
	unsigned i, warm = iters / 10 + 2;
	double t0 = 0;
	struct snownic_comp c;

	if (!b->client)
		snow_post(b, rbuf(b, 0, size), (uint32_t)size, 0, false);
	for (i = 0; i < warm + iters; i++) {
		if (i == warm)
			t0 = now_s();
		if (b->client) {
			snow_sync(b, 0);
			snow_post(b, rbuf(b, 0, size), (uint32_t)size, i, true);
			if (b->o.verify)
				pattern(sbuf(b), size, i);
			snow_send(b, sbuf(b), (uint32_t)size, TAG_DATA);
			c = snow_recv(b, SNOWNIC_WAKE_RECEIVED);
			if (b->o.verify)
				check(b, rbuf(b, 0, size), c.len, i + 1000000);
		} else {
			c = snow_recv(b, SNOWNIC_WAKE_RECEIVED);
			if (b->o.verify)
				check(b, rbuf(b, 0, size), c.len, i);
			snow_sync(b, 0);
			/* The next ping's buffer, unless this is the last (the next run's sizes differ). */
			if (i + 1 < warm + iters)
				snow_post(b, rbuf(b, 0, size), (uint32_t)size, i + 1, true);
			if (b->o.verify)
				pattern(sbuf(b), size, i + 1000000);
			snow_send(b, sbuf(b), (uint32_t)size, TAG_PONG);
		}
	}
	snow_sync(b, 0);
	*lat = (now_s() - t0) / iters / 2 * 1e6;
}

static void snow_bw(struct bench *b, size_t size, unsigned window, unsigned loops, double *bw)
{
	unsigned l, i, warm = 1;
	double t0 = 0;
	struct snownic_comp c;
	uint8_t *ackb = sbuf(b) + b->memsz / 2 - 4096;

	for (l = 0; l < warm + loops; l++) {
		if (l == warm)
			t0 = now_s();
		if (b->client) {
			snow_post(b, rbuf(b, 0, ACK_LEN), ACK_LEN, 0, true);
			for (i = 0; i < window; i++) {
				/* verify: two buffers in turn, rewritten only after their send completed */
				uint8_t *p = sbuf(b) + (b->o.verify ? (i % 2) * (b->memsz / 4) : 0);
				if (b->o.verify) {
					snow_sync(b, 1);
					pattern(p, size, l * window + i);
				}
				snow_send(b, p, (uint32_t)size, TAG_DATA);
			}
			/*
			 * Woken by the window's send completions too: on this VM that streamed
			 * 64 KiB 14-20 % faster than sleeping until the ack (docs/nic.md).
			 */
			snow_recv(b, SNOWNIC_WAKE_ANY);
			snow_sync(b, 0);
		} else {
			/* Each post rings: the NIC may fill the first buffers while we post the rest. */
			for (i = 0; i < window; i++)
				snow_post(b, rbuf(b, b->o.verify ? i : 0, size), (uint32_t)size, i, false);
			for (i = 0; i < window; i++) {
				c = snow_recv(b, SNOWNIC_WAKE_RECEIVED);
				if (b->o.verify)
					check(b, rbuf(b, (unsigned)c.cookie, size), c.len,
					      l * window + (unsigned)c.cookie);
			}
			snow_send(b, ackb, ACK_LEN, TAG_ACK);
			snow_sync(b, 0);
		}
	}
	*bw = (double)size * window * loops / (now_s() - t0) / 1e6;
}

/* ---- tcp ------------------------------------------------------------------- */

static void tcp_full(int fd, void *p, size_t n, bool rx)
{
	uint8_t *q = p;

	while (n) {
		ssize_t k = rx ? recv(fd, q, n, MSG_WAITALL) : send(fd, q, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			fatal("tcp %s", rx ? "recv" : "send");
		q += k;
		n -= (size_t)k;
	}
}

static void tcp_open(struct bench *b)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)b->o.port) };
	int one = 1, fd;

	if (b->client) {
		if (!b->o.addr || inet_pton(AF_INET, b->o.addr, &sa.sin_addr) != 1)
			fatalx("addr: '%s' is not an IPv4 address", b->o.addr ? b->o.addr : "");
		for (int tries = 0;; tries++) {
			fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
				break;
			close(fd);
			if (tries > 100)
				fatal("connect %s:%ld", b->o.addr, b->o.port);
			usleep(100000);
		}
	} else {
		int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0)
			fatal("listen on port %ld", b->o.port);
		fd = accept(l, NULL, NULL);
		if (fd < 0)
			fatal("accept");
		close(l);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	b->sock = fd;
}

static void tcp_lat(struct bench *b, size_t size, unsigned iters, double *lat)
{
	unsigned i, warm = iters / 10 + 2;
	double t0 = 0;

	for (i = 0; i < warm + iters; i++) {
		if (i == warm)
			t0 = now_s();
		if (b->client) {
			tcp_full(b->sock, b->tbuf, size, false);
			tcp_full(b->sock, b->tbuf, size, true);
		} else {
			tcp_full(b->sock, b->tbuf, size, true);
			tcp_full(b->sock, b->tbuf, size, false);
		}
	}
	*lat = (now_s() - t0) / iters / 2 * 1e6;
}

static void tcp_bw(struct bench *b, size_t size, unsigned window, unsigned loops, double *bw)
{
	unsigned l, i;
	double t0 = 0;
	uint8_t ack[ACK_LEN] = { 0 };

	for (l = 0; l < 1 + loops; l++) {
		if (l == 1)
			t0 = now_s();
		for (i = 0; i < window; i++)
			tcp_full(b->sock, b->tbuf, size, !b->client);
		tcp_full(b->sock, ack, ACK_LEN, b->client);
	}
	*bw = (double)size * window * loops / (now_s() - t0) / 1e6;
}

/* ---- overload (integration test) --------------------------------------------- */

/* The client's burst: count messages of max-size, then END until acknowledged. */
static int overload(struct bench *b)
{
	size_t size = (size_t)b->o.max_size;
	unsigned i, ok = 0, eio = 0, ends = 0;
	struct snownic_comp c;
	uint32_t counts[4];

	b->overload = true;
	if (b->client) {
		snow_post(b, rbuf(b, 0, sizeof(counts)), sizeof(counts), 0, false);
		for (i = 0; i < b->o.count; i++) {
			uint8_t *p = sbuf(b) + (i % 4) * (b->memsz / 8);
			/* A buffer is rewritten only after its earlier send completed. */
			snow_sync(b, 3);
			pattern(p, size, i);
			snow_send(b, p, (uint32_t)size, i);
		}
		snow_sync(b, 0);
		/* END every 200 ms until the server's counts come back: END may be dropped too. */
		while (b->rq_head == b->rq_tail) {
			struct snownic_send s = { "END", 3, (uint16_t)b->o.peer, TAG_END, 0, 0, 0 };
			double until = now_s() + 0.2;
			struct snownic_comp k;

			if (snownic_send(b->nic, &s) == 0)
				ends++;
			if (ends > 300)
				fatalx("the server never answered END");
			while (b->rq_head == b->rq_tail && now_s() < until)
				if (snownic_wait(b->nic, &k, 1, 50) > 0 && k.type == SNOWNIC_RECEIVED)
					b->rq[b->rq_tail++ % RQ] = k;
		}
		c = snow_recv(b, SNOWNIC_WAKE_RECEIVED);
		memcpy(counts, rbuf(b, 0, sizeof(counts)), sizeof(counts));
		printf("overload: sent %ld, server got %u intact, %u damaged, %u loss reports, %u corrupt bytes\n",
		       b->o.count, counts[0], counts[1], counts[2], counts[3]);
		return counts[3] ? 1 : 0;
	}
	/* Server: post one buffer at a time, slowly; check everything that arrives. */
	for (;;) {
		snow_post(b, rbuf(b, 0, size), (uint32_t)size, 0, false);
		c = snow_recv(b, SNOWNIC_WAKE_RECEIVED);
		if (c.tag == TAG_END && c.status == 0 && c.len == 3)
			break;
		if (c.status == 0) {
			check(b, rbuf(b, 0, size), c.len, c.tag);
			if (c.len != size) {
				log_warnx("message %u: %u bytes, want %zu", c.tag, c.len, size);
				b->bad_bytes++;
			}
			ok++;
		} else {
			eio++;
		}
		if (b->o.post_delay_us)
			usleep((useconds_t)b->o.post_delay_us);
	}
	counts[0] = ok;
	counts[1] = eio;
	counts[2] = b->lost_reports;
	counts[3] = (uint32_t)b->bad_bytes;
	snow_send(b, counts, sizeof(counts), TAG_ACK);
	snow_sync(b, 0);
	{
		const struct snf_counters *k = snownic_counters(b->nic);
		printf("overload server: %u intact, %u damaged, %u loss reports, %lu corrupt bytes; "
		       "NIC: drops_nobuf %llu frames_lost %llu msgs_aborted %llu\n",
		       ok, eio, b->lost_reports, b->bad_bytes,
		       (unsigned long long)atomic_load(&k->drops_nobuf),
		       (unsigned long long)atomic_load(&k->frames_lost),
		       (unsigned long long)atomic_load(&k->msgs_aborted));
	}
	return b->bad_bytes ? 1 : 0;
}

/* ---- plan -------------------------------------------------------------------- */

static unsigned lat_iters(const struct bench *b, size_t size)
{
	unsigned n = size <= 65536 ? 400 : (unsigned)(64.0 * (1 << 20) / (double)size);

	n = n * (unsigned)b->o.iters_scale / 100;
	return n < 10 ? 10 : n;
}

static void bw_plan(const struct bench *b, size_t size, unsigned *window, unsigned *loops)
{
	double total = 256.0 * (1 << 20) * b->o.iters_scale / 100;

	*window = (unsigned)b->o.window;
	if ((double)size * *window > 64.0 * (1 << 20))
		*window = (unsigned)(64.0 * (1 << 20) / (double)size);
	if (*window < 4)
		*window = 4;
	*loops = (unsigned)(total / ((double)size * *window));
	if (*loops < 3)
		*loops = 3;
	if (*loops > 200)
		*loops = 200;
}

/*
 * --engine: the NIC in this process (same program, same emulated HAL), run to
 * completion by this thread.  SNOWNIC_SPIN_US: how long a wait polls the ring
 * before sleeping; SNOWNIC_INLINE_DMA: engine jobs up to this size run on this
 * thread (1 MiB: all of them).  @ret 0 or -errno with err filled.
 */
static int engine_open(struct bench *b, size_t want, char *err, size_t errlen)
{
	struct snownic_inproc_params p = { 0 };
	const char *spin = getenv("SNOWNIC_SPIN_US"), *inl = getenv("SNOWNIC_INLINE_DMA");
	unsigned m[6];
	int i;

	if (!b->o.peer_mac || sscanf(b->o.peer_mac, "%2x:%2x:%2x:%2x:%2x:%2x", &m[0], &m[1], &m[2],
				     &m[3], &m[4], &m[5]) != 6) {
		snprintf(err, errlen, "peer-mac: '%s' is not xx:xx:xx:xx:xx:xx",
			 b->o.peer_mac ? b->o.peer_mac : "");
		return -EINVAL;
	}
	nicfw_config_defaults(&p.cfg);
	p.cfg.node_id = (uint16_t)b->o.node;
	p.cfg.npeers = 1;
	p.cfg.peers[0].id = (uint16_t)b->o.peer;
	for (i = 0; i < 6; i++)
		p.cfg.peers[0].mac[i] = (uint8_t)m[i];
	p.cfg.epoch = (uint32_t)getpid() * 2654435761u | 1u;
	p.ifname = b->o.engine;
	p.nicmem = 32u << 20;
	p.ring_bytes = 16u << 20;
	p.spin_ns = spin ? (uint32_t)strtoul(spin, NULL, 10) * 1000u : 0;
	p.spin_adapt = getenv("SNOWNIC_SPIN_ADAPT") && atoi(getenv("SNOWNIC_SPIN_ADAPT"));
	p.rx_direct = getenv("SNOWNIC_RX_DIRECT") && atoi(getenv("SNOWNIC_RX_DIRECT"));
	p.tx_copy = getenv("SNOWNIC_TX_COPY") && atoi(getenv("SNOWNIC_TX_COPY"));
	p.rx_copy = getenv("SNOWNIC_RX_COPY") && atoi(getenv("SNOWNIC_RX_COPY"));
	/* Every engine job on this thread: no hand-offs at all (SNOWNIC_INLINE_DMA to compare). */
	p.inline_bytes = inl ? (uint32_t)strtoul(inl, NULL, 10) : 1u << 20;
	return snownic_inproc_open(&p, want, &b->nic, err, errlen);
}

/*
 * The next message size: from the --sizes list when given (already checked),
 * else min-size, doubling up to max-size.  @ret SIZE_MAX after the last.
 */
static size_t next_size(const struct bench *b, const char **list, size_t prev, bool first)
{
	char *end;
	unsigned long v;

	if (*list) {
		if (!**list)
			return SIZE_MAX;
		v = strtoul(*list, &end, 10);
		*list = *end == ',' ? end + 1 : end;
		return v;
	}
	if (first)
		return (size_t)b->o.min_size;
	prev = prev ? prev * 2 : 1; /* 0 * 2 stays 0 */
	return prev <= (size_t)b->o.max_size ? prev : SIZE_MAX;
}

/* Check --sizes: numbers up to max-size, comma-separated.  @ret 0 or -EINVAL with err. */
static int sizes_check(struct bench *b, char *err, size_t errlen)
{
	const char *p = b->o.sizes;
	char *end;
	unsigned long v;

	if (!p)
		return 0;
	do {
		errno = 0;
		v = strtoul(p, &end, 10);
		if (end == p || errno || (*end && *end != ',') || v > (unsigned long)b->o.max_size) {
			snprintf(err, errlen, "sizes: '%s' is not a list of sizes up to max-size %ld",
				 b->o.sizes, b->o.max_size);
			return -EINVAL;
		}
		p = end + 1;
	} while (*end);
	return 0;
}

int main(int argc, char **argv)
{
	struct bench b = { 0 };
	const char *list;
	char err[512];
	int rc, next;
	size_t size;

	log_init("snow-nic-bench", LOG_LVL_INFO);
	b.o.port = 5201;
	b.o.min_size = 4;
	b.o.max_size = 4 << 20;
	b.o.window = 64;
	b.o.count = 2000;
	b.o.iters_scale = 100;
	b.o.warm = 200;
	rc = conf_parse_args(bopts_table, &b.o, argc, argv, &next, err, sizeof(err));
	if (rc == -ECANCELED) {
		printf("usage: snow-nic-bench --role client|server [options]\n");
		conf_usage(stdout, bopts_table);
		return 0;
	}
	if (!rc && (!b.o.role || (strcmp(b.o.role, "client") && strcmp(b.o.role, "server")))) {
		snprintf(err, sizeof(err), "role: want client or server");
		rc = -EINVAL;
	}
	if (!rc && b.o.transport && strcmp(b.o.transport, "snow") && strcmp(b.o.transport, "tcp")) {
		snprintf(err, sizeof(err), "transport: '%s' is not snow or tcp", b.o.transport);
		rc = -EINVAL;
	}
	if (!rc && b.o.test && strcmp(b.o.test, "lat") && strcmp(b.o.test, "bw") &&
	    strcmp(b.o.test, "both") && strcmp(b.o.test, "overload")) {
		snprintf(err, sizeof(err), "test: '%s' is not lat, bw, both or overload", b.o.test);
		rc = -EINVAL;
	}
	if (!rc && b.o.min_size > b.o.max_size) {
		snprintf(err, sizeof(err), "min-size: %ld is above max-size %ld", b.o.min_size,
			 b.o.max_size);
		rc = -EINVAL;
	}
	if (!rc)
		rc = sizes_check(&b, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "snow-nic-bench: %s\n", err);
		return 2;
	}
	if (!b.o.test)
		b.o.test = strdup("both");
	b.client = !strcmp(b.o.role, "client");

	if (b.o.transport && !strcmp(b.o.transport, "tcp")) {
		b.tbuf = malloc((size_t)b.o.max_size);
		if (!b.tbuf)
			fatalx("out of memory");
		memset(b.tbuf, 1, (size_t)b.o.max_size);
		tcp_open(&b);
	} else {
		size_t want = (size_t)b.o.max_size * 8 + (16u << 20);
		if (b.o.verify) {
			/*
			 * Checked messages need a receive buffer each for a whole
			 * window: a buffer posted twice is overwritten by the later
			 * message before the earlier one is checked.
			 */
			unsigned w, l;
			size_t slot = ((size_t)b.o.max_size + 4095) & ~(size_t)4095;
			bw_plan(&b, (size_t)b.o.max_size, &w, &l);
			if (2 * (w + 1) * slot + (16u << 20) > want)
				want = 2 * (w + 1) * slot + (16u << 20);
		}
		if (b.o.engine)
			rc = engine_open(&b, want, err, sizeof(err));
		else
			rc = snownic_open(b.o.socket ? b.o.socket : "/run/snow-nic.sock", want, &b.nic,
					  err, sizeof(err));
		if (rc)
			fatalx("%s", err);
		b.mem = snownic_mem(b.nic, &b.memsz);
		memset(b.mem, 1, b.memsz);
	}
	if (!strcmp(b.o.test, "overload")) {
		if (!b.nic)
			fatalx("test: overload needs transport snow");
		rc = overload(&b);
		snownic_close(b.nic);
		return rc;
	}
	if (b.client)
		printf("# %-8s %12s %12s %8s\n", "size", "lat_us", "bw_MBps", "frag");
	/*
	 * Warm up, untimed: the first exchanges also wait for the peers' hello and
	 * credits, fault in buffers and wake caches; without this the first size
	 * measured is several times slower than the same size measured again.
	 */
	if (b.o.settle_ms) {
		struct timespec ts = { b.o.settle_ms / 1000, b.o.settle_ms % 1000 * 1000000L };
		nanosleep(&ts, NULL);
	}
	if (strcmp(b.o.test, "bw") && b.o.warm) {
		double lat;
		if (b.nic)
			snow_lat(&b, 64, (unsigned)b.o.warm, &lat);
		else
			tcp_lat(&b, 64, (unsigned)b.o.warm, &lat);
	}
	if (getenv("SNOWNIC_UNPIN") && atoi(getenv("SNOWNIC_UNPIN"))) {
		/* Started on a CPU of its own (taskset), free to move from here on. */
		cpu_set_t all;
		long i, n = sysconf(_SC_NPROCESSORS_ONLN);
		CPU_ZERO(&all);
		for (i = 0; i < n && i < CPU_SETSIZE; i++)
			CPU_SET((int)i, &all);
		if (sched_setaffinity(0, sizeof(all), &all))
			log_warn("SNOWNIC_UNPIN");
	}
	list = b.o.sizes;
	for (size = next_size(&b, &list, 0, true); size != SIZE_MAX; size = next_size(&b, &list, size, false)) {
		double lat = 0, bw = 0;
		unsigned w, l;
		uint32_t frag = 0;

		b.phase_size = size;
		if (strcmp(b.o.test, "bw")) {
			b.phase = "lat";
			if (b.nic)
				snow_lat(&b, size, lat_iters(&b, size), &lat);
			else
				tcp_lat(&b, size, lat_iters(&b, size), &lat);
			frag = b.last_frag;
		}
		if (strcmp(b.o.test, "lat")) {
			bw_plan(&b, size, &w, &l);
			b.phase = "bw";
			if (b.nic)
				snow_bw(&b, size, w, l, &bw);
			else
				tcp_bw(&b, size, w, l, &bw);
			frag = b.last_frag;
		}
		if (b.client) {
			printf("%-10zu %12.2f %12.1f %8u\n", size, lat, bw, frag);
			fflush(stdout);
		}
	}
	if (b.o.verify)
		printf("# verify: %lu messages checked, %lu bad bytes\n", b.checked, b.bad_bytes);
	if (b.nic) {
		/* Frames this NIC dropped or missed, when any (a hint when a run stalls). */
		const struct snf_counters *k = snownic_counters(b.nic);
		uint64_t v[] = { atomic_load(&k->drops_nobuf), atomic_load(&k->drops_ring),
				 atomic_load(&k->frames_lost), atomic_load(&k->frames_dup),
				 atomic_load(&k->frames_orphan), atomic_load(&k->msgs_aborted) };
		if (v[0] | v[1] | v[2] | v[3] | v[4] | v[5])
			printf("# NIC losses: drops_nobuf %llu drops_ring %llu frames_lost %llu "
			       "frames_dup %llu frames_orphan %llu msgs_aborted %llu\n",
			       (unsigned long long)v[0], (unsigned long long)v[1],
			       (unsigned long long)v[2], (unsigned long long)v[3],
			       (unsigned long long)v[4], (unsigned long long)v[5]);
	}
	snownic_close(b.nic);
	if (b.sock > 0)
		close(b.sock);
	free(b.tbuf);
	return b.bad_bytes ? 1 : 0;
}
