/*
 * The NIC program (nic/fw/) driven through libsnownic, on two test HALs
 * joined by an in-memory wire: fragmenting and reassembly for every size
 * class, the pipeline overlap, bypass, credits, overflow without flow
 * control, loss detection, ordering, bad descriptors, attach/detach.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fw/fw.h"
#include "hal/hal_test.h"
#include "lib/snownic.h"
#include "nic_pair.h"

#define MTU 9000
#define MAXFRAG (MTU - 40)
#define HOSTMEM (16u << 20)

typedef void (*tweak_fn)(struct nicfw_config *c, int idx);

static const struct hal_test_params base_params = {
	.nicmem = 8u << 20,
	.hostmem = HOSTMEM,
	.mtu = MTU,
	.dma_a = 2000,
	.dma_b = 0.1,
	.wire_a = 5000,
	.wire_b = 0.2,
};

/* 1: the test HAL offers wire_send_host (payloads leave from host memory). */
static int fx_gather;
/* 1: the test HAL's engines take jobs up to ~4 KiB cheaper (hal_test_params.small). */
static int small_jobs;

static int gather_on(void **state)
{
	fx_gather = 1;
	return 0;
}

static int gather_off(void **state)
{
	fx_gather = 0;
	return 0;
}

static void attach(struct node *nd)
{
	char err[256];
	size_t barsz;
	void *bar = hal_test_bar(nd->hal, &barsz);

	hal_test_attach(nd->hal);
	nd->host = hal_test_host(nd->hal, &nd->hostsz);
	if (snownic_attach(bar, barsz, nd->host, nd->hostsz, &nd->h, err, sizeof(err)))
		fail_msg("attach: %s", err);
}

static struct fx *fx_new(tweak_fn tweak, size_t rx_nicmem)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];
	int i;

	assert_non_null(f);
	f->w = hal_test_wire_new();
	for (i = 0; i < 2; i++) {
		struct node *nd = &f->n[i];
		struct hal_test_params p = base_params;

		p.mac[0] = 2;
		p.mac[5] = (uint8_t)(i + 1);
		p.tx_gather = fx_gather;
		if (small_jobs) {
			/* Up to a 4096-byte payload with its 54-byte header on the wire. */
			p.small = 4200;
			p.a_small = 100;
		}
		if (i == 1 && rx_nicmem)
			p.nicmem = rx_nicmem;
		nd->hal = hal_test_create(&p, f->w);
		assert_non_null(nd->hal);
		nicfw_config_defaults(&nd->cfg);
		nd->cfg.node_id = (uint16_t)(i + 1);
		nd->cfg.npeers = 1;
		nd->cfg.peers[0].id = (uint16_t)(2 - i);
		nd->cfg.peers[0].mac[0] = 2;
		nd->cfg.peers[0].mac[5] = (uint8_t)(2 - i);
		nd->cfg.epoch = 0x1000u + (uint32_t)i;
		if (tweak)
			tweak(&nd->cfg, i);
		if (nicfw_create(nd->hal, &nd->cfg, &nd->fw, err, sizeof(err)))
			fail_msg("nicfw_create: %s", err);
		attach(nd);
	}
	return f;
}

/* Let virtual time pass (timers: hellos, gauges, stalled messages). */
static void later(struct fx *f, uint64_t ms)
{
	hal_test_advance(f->n[0].hal, ms * 1000000ull);
	hal_test_advance(f->n[1].hal, ms * 1000000ull);
	pump(f);
}

static uint64_t cnt(struct node *nd, const _Atomic uint64_t *c)
{
	(void)nd;
	return atomic_load(c);
}
#define C(nd, name) cnt((nd), &snownic_counters((nd)->h)->name)

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)((i * 131u + seed * 7u + (i >> 8)) ^ seed);
}

static int check_fill(const uint8_t *p, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != (uint8_t)((i * 131u + seed * 7u + (i >> 8)) ^ seed))
			return (int)i;
	return -1;
}

/* Collect completions of a type until want of them arrived (or fail). */
static unsigned collect(struct fx *f, struct node *nd, enum snownic_comp_type type,
			struct snownic_comp *out, unsigned want)
{
	struct snownic_comp c[64];
	unsigned got = 0, tries;
	int n, i;

	for (tries = 0; tries < 50 && got < want; tries++) {
		pump(f);
		while ((n = snownic_poll(nd->h, c, 64)) > 0)
			for (i = 0; i < n; i++)
				if (c[i].type == type && got < want)
					out[got++] = c[i];
	}
	return got;
}

static void send_ok(struct node *nd, uint16_t peer, const void *buf, uint32_t len, uint32_t tag,
		    unsigned flags, uint32_t frag)
{
	struct snownic_send s = { buf, len, peer, tag, tag, flags, frag };
	int rc = snownic_send(nd->h, &s);

	if (rc)
		fail_msg("snownic_send(len %u): %s", len, strerror(-rc));
}

/* ---- tests ---------------------------------------------------------------- */

static void test_calibration(void **state)
{
	struct fx *f = fx_new(NULL, 0);
	struct snownic_info info;

	snownic_info(f->n[0].h, &info);
	/* The test HAL's engines run beside each other: the stages overlap. */
	print_message("serial_pm %u\n", info.serial_pm);
	assert_true(info.serial_pm < 200);
	/* Host DMA measured alone: exactly the test engine's cost. */
	if (info.stages[0].a_ns < 1990 || info.stages[0].a_ns > 2010 ||
	    info.stages[0].b_ns < 0.0999 || info.stages[0].b_ns > 0.1001)
		fail_msg("host DMA fit a=%.1f b=%.4f, want 2000 0.1", info.stages[0].a_ns,
			 info.stages[0].b_ns);
	/* The wire sends the 54-byte header too: a = 5000 + 54 * 0.2. */
	if (info.stages[1].a_ns < 5000 || info.stages[1].a_ns > 5020 ||
	    info.stages[1].b_ns < 0.1999 || info.stages[1].b_ns > 0.2001)
		fail_msg("wire fit a=%.1f b=%.4f, want 5010.8 0.2", info.stages[1].a_ns,
			 info.stages[1].b_ns);
	assert_string_equal(info.stages[1].name, "wire");
	assert_int_equal(info.max_frag, MAXFRAG);
	assert_int_equal(info.threshold, 256);
	/*
	 * The pick for 1 MiB: sqrt(n a_wire / (3 b_dma)) = 132 KB, clamped to the
	 * 8960-byte frame, evened out over 118 fragments: 8887, rounded to 8896.
	 */
	assert_int_equal(nicfw_frag_for(f->n[0].fw, 1u << 20), 8896);
	/* 20000 B: f* = 18277 is clamped to 8960, three even fragments of 6720. */
	assert_int_equal(nicfw_frag_for(f->n[0].fw, 20000), 6720);
	/* Under the 1 KiB floor a message is one fragment. */
	assert_int_equal(nicfw_frag_for(f->n[0].fw, 1000), 1000);
	fx_free(f);
}

static void roundtrip(struct fx *f, uint32_t len, unsigned flags, uint32_t seed);

/* Gathering: the sender's host DMA leaves the model; the other stages are as before. */
static void test_calibration_gather(void **state)
{
	struct fx *f = fx_new(NULL, 0);
	struct snownic_info info;
	unsigned i;

	snownic_info(f->n[0].h, &info);
	assert_string_equal(info.stages[0].name, "host-dma-tx");
	assert_true(info.stages[0].a_ns == 0 && info.stages[0].b_ns == 0);
	if (info.stages[1].a_ns < 5000 || info.stages[1].a_ns > 5020)
		fail_msg("wire fit a=%.1f, want 5010.8", info.stages[1].a_ns);
	for (i = 0; i < SNF_STAGES; i++)
		assert_int_equal(info.stages[i].small_max, 0); /* straight lines: no step */
	/* The wire is the bottleneck: the fewest fragments, evened out, as before. */
	assert_int_equal(nicfw_frag_for(f->n[0].fw, 1u << 20), 8896);
	fx_free(f);
}

/* Engines that take small jobs cheaper: calibration finds the step, the model uses it. */

static void test_calibration_steps(void **state)
{
	struct fx *f;
	struct snownic_info info;
	unsigned i;

	small_jobs = 1;
	f = fx_new(NULL, 0);
	small_jobs = 0;
	snownic_info(f->n[0].h, &info);
	for (i = 0; i < 2; i++)
		if (info.stages[i].small_max != 4096 || info.stages[i].a_small_ns > 200 ||
		    info.stages[i].a_ns < 1900)
			fail_msg("%s: small_max %u a_small %.1f a %.1f, want 4096, ~100, >= 2000",
				 info.stages[i].name, info.stages[i].small_max,
				 info.stages[i].a_small_ns, info.stages[i].a_ns);
	/*
	 * 20000 B: 5 fragments of 4032 that each cost ~100 ns a piece beat 3 of
	 * 6720 at ~5000 (the small line), and 1 MiB goes in 4096-byte ones.
	 */
	assert_int_equal(nicfw_frag_for(f->n[0].fw, 20000), 4032);
	assert_int_equal(nicfw_frag_for(f->n[0].fw, 1u << 20), 4096);
	roundtrip(f, 20000, 0, 7);
	fx_free(f);
}

static void roundtrip(struct fx *f, uint32_t len, unsigned flags, uint32_t seed)
{
	struct node *a = &f->n[0], *b = &f->n[1];
	uint8_t *src = a->host + 4096, *dst = b->host + 8192;
	struct snownic_comp rc, sc;
	uint32_t want_frag;

	fill(src, len, seed);
	memset(dst, 0xee, len + 64);
	assert_int_equal(snownic_post_recv(b->h, dst, len, 500 + seed), 0);
	send_ok(a, 2, src, len, seed, flags, 0);
	if (collect(f, b, SNOWNIC_RECEIVED, &rc, 1) != 1)
		fail_msg("len %u flags %u: nothing received", len, flags);
	if (collect(f, a, SNOWNIC_SENT, &sc, 1) != 1)
		fail_msg("len %u: no send completion", len);
	if (rc.status || sc.status)
		fail_msg("len %u flags %u: recv status %d send status %d", len, flags, rc.status,
			 sc.status);
	assert_int_equal(rc.len, len);
	assert_int_equal(rc.tag, seed);
	assert_int_equal(rc.peer, 1);
	assert_int_equal(rc.cookie, 500 + seed);
	assert_int_equal(sc.cookie, seed);
	if (check_fill(dst, len, seed) >= 0)
		fail_msg("len %u flags %u: byte %d differs", len, flags, check_fill(dst, len, seed));
	assert_int_equal(dst[len], 0xee); /* nothing written past the message */
	if (len > 256) {
		want_frag = (flags & SNOWNIC_SF) ? MAXFRAG : nicfw_frag_for(a->fw, len);
		assert_int_equal(sc.frag, want_frag);
		assert_int_equal(sc.nfrags, (len + want_frag - 1) / want_frag);
		assert_int_equal(rc.nfrags, sc.nfrags);
	} else {
		assert_int_equal(sc.nfrags, 1);
	}
}

static void test_every_size(void **state)
{
	static const uint32_t sizes[] = { 0,    1,    4,     100,   255,    256,     257,
					  1000, 4096, 8959,  8960,  8961,   50000,   65536,
					  300000, 1u << 20, 4u << 20 };
	struct fx *f = fx_new(NULL, 0);
	unsigned i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		roundtrip(f, sizes[i], 0, i + 1);
		if (sizes[i] <= (1u << 20))
			roundtrip(f, sizes[i], SNOWNIC_SF, i + 100);
	}
	assert_int_equal(C(&f->n[1], frames_lost), 0);
	assert_int_equal(C(&f->n[1], msgs_aborted), 0);
	fx_free(f);
}

static void test_bypass(void **state)
{
	struct fx *f = fx_new(NULL, 0);
	struct node *a = &f->n[0];

	roundtrip(f, 256, 0, 1);
	assert_int_equal(C(a, small_tx), 1);
	assert_int_equal(C(&f->n[1], small_rx), 1);
	hal_test_trace_reset(a->hal);
	roundtrip(f, 257, 0, 2);
	assert_int_equal(C(a, small_tx), 1); /* 257 B is pipelined */
	assert_non_null(strchr(hal_test_trace(a->hal), 'D'));
	/* The bypass moves no data with the DMA engine on either side. */
	hal_test_trace_reset(a->hal);
	hal_test_trace_reset(f->n[1].hal);
	roundtrip(f, 200, 0, 3);
	assert_null(strchr(hal_test_trace(a->hal), 'D'));
	assert_null(strchr(hal_test_trace(f->n[1].hal), 'H'));
	fx_free(f);
}

static void low_threshold(struct nicfw_config *c, int idx) { c->threshold = 64; }

static void test_bypass_threshold(void **state)
{
	struct fx *f = fx_new(low_threshold, 0);
	struct snownic_info info;

	snownic_info(f->n[0].h, &info);
	assert_int_equal(info.threshold, 64);
	roundtrip(f, 64, 0, 1);
	roundtrip(f, 100, 0, 2);
	assert_int_equal(C(&f->n[0], small_tx), 1);
	fx_free(f);
}

/* Fragment k goes on the wire before fragment k+n is fetched; not so store-and-forward. */
static void test_pipeline_overlap(void **state)
{
	struct fx *f = fx_new(NULL, 0);
	struct node *a = &f->n[0];
	const char *t;
	uint64_t t0, tpipe, tsf;

	pump(f);
	hal_test_trace_reset(a->hal);
	t0 = a->hal->ops->now_ns(a->hal);
	roundtrip(f, 1u << 20, 0, 1);
	tpipe = a->hal->ops->now_ns(a->hal) - t0;
	t = hal_test_trace(a->hal);
	if (!(strchr(t, 'W') < strrchr(t, 'D')))
		fail_msg("pipelined: no wire send before the last fetch: %.80s", t);

	hal_test_trace_reset(a->hal);
	t0 = a->hal->ops->now_ns(a->hal);
	roundtrip(f, 1u << 20, SNOWNIC_SF, 2);
	tsf = a->hal->ops->now_ns(a->hal) - t0;
	t = hal_test_trace(a->hal);
	if (strchr(t, 'W') < strrchr(t, 'D'))
		fail_msg("store-and-forward: a frame left before the message was in: %.80s", t);
	/* Overlap shows in time: the two stages' sum vs. their max per fragment. */
	if (!(tpipe * 10 < tsf * 8))
		fail_msg("pipelined %llu ns is not clearly faster than store-and-forward %llu ns",
			 (unsigned long long)tpipe, (unsigned long long)tsf);
	fx_free(f);
}

/* With a gathering wire engine the payload is never staged in NIC memory by a host DMA. */
static void test_gather_no_staging(void **state)
{
	struct fx *f = fx_new(NULL, 0);
	struct node *a = &f->n[0];

	pump(f);
	hal_test_trace_reset(a->hal);
	roundtrip(f, 1u << 20, 0, 1);
	assert_null(strchr(hal_test_trace(a->hal), 'D'));
	assert_non_null(strchr(hal_test_trace(a->hal), 'W'));
	/* Store-and-forward still fetches the whole message first. */
	hal_test_trace_reset(a->hal);
	roundtrip(f, 200000, SNOWNIC_SF, 2);
	assert_non_null(strchr(hal_test_trace(a->hal), 'D'));
	fx_free(f);
}

static void test_held_until_posted(void **state)
{
	struct fx *f = fx_new(NULL, 0);
	struct node *a = &f->n[0], *b = &f->n[1];
	static const uint32_t lens[] = { 10, 50000, 3000 };
	struct snownic_comp rc[3];
	unsigned i;

	for (i = 0; i < 3; i++) {
		fill(a->host + (i + 1) * 65536, lens[i], i + 1);
		send_ok(a, 2, a->host + (i + 1) * 65536, lens[i], i + 1, 0, 0);
	}
	pump(f);
	later(f, 30);
	assert_true(C(b, held_frames) > 0);
	assert_int_equal(snownic_poll(b->h, rc, 3), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(snownic_post_recv(b->h, b->host + (i + 1) * 65536, 65536, i), 0);
	assert_int_equal(collect(f, b, SNOWNIC_RECEIVED, rc, 3), 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(rc[i].status, 0);
		assert_int_equal(rc[i].tag, i + 1); /* in order, into the buffers in post order */
		assert_int_equal(rc[i].cookie, i);
		assert_int_equal(check_fill(b->host + (i + 1) * 65536, lens[i], i + 1), -1);
	}
	later(f, 30);
	assert_int_equal(C(b, held_frames), 0);
	fx_free(f);
}

static void few_credits(struct nicfw_config *c, int idx) { c->credits = 8; }

static void test_credits(void **state)
{
	struct fx *f = fx_new(few_credits, 0);
	struct node *a = &f->n[0], *b = &f->n[1];
	struct snownic_comp rc;

	fill(a->host, 100000, 9);
	send_ok(a, 2, a->host, 100000, 9, 0, 4096); /* 25 fragments */
	pump(f);
	later(f, 30);
	/* The receiver holds exactly its grant; the sender waits instead of overrunning. */
	assert_int_equal(C(b, frags_rx), 8);
	assert_int_equal(C(b, held_frames), 8);
	assert_true(C(a, stalls_credit) >= 1);
	assert_int_equal(C(b, drops_nobuf), 0);
	assert_int_equal(snownic_post_recv(b->h, b->host, 100000, 1), 0);
	assert_int_equal(collect(f, b, SNOWNIC_RECEIVED, &rc, 1), 1);
	assert_int_equal(rc.status, 0);
	assert_int_equal(rc.nfrags, 25);
	assert_int_equal(check_fill(b->host, 100000, 9), -1);
	assert_int_equal(C(b, frags_rx), 25);
	assert_int_equal(C(b, frames_lost), 0);
	fx_free(f);
}

/*
 * Every credit update lost while the sender waits with all it may send at
 * the receiver: nothing is left for the receiver to free, so no later update
 * repairs it.  The sender asks again after HELLO_NS (200 ms), well before the
 * receiver's 2-s stall timer aborts the message (-ETIMEDOUT, the bug).
 */
static void test_credit_update_lost(void **state)
{
	struct fx *f = fx_new(few_credits, 0);
	struct node *a = &f->n[0], *b = &f->n[1];
	struct snownic_comp rc;

	fill(a->host, 100000, 5);
	send_ok(a, 2, a->host, 100000, 5, 0, 4096); /* 25 fragments, grant 8 */
	pump(f);
	later(f, 30);
	assert_int_equal(C(b, held_frames), 8);
	/* Freeing the 8 sends 4 updates (a quarter of the grant each): all lost. */
	hal_test_wire_drop_ctrl(f->w, 4);
	assert_int_equal(snownic_post_recv(b->h, b->host, 100000, 1), 0);
	pump(f);
	later(f, 50);
	assert_int_equal(hal_test_wire_dropped(f->w), 4);
	assert_int_equal(C(b, frags_rx), 8); /* the sender still waits */
	later(f, 250);
	assert_int_equal(collect(f, b, SNOWNIC_RECEIVED, &rc, 1), 1);
	assert_int_equal(rc.status, 0);
	assert_int_equal(rc.nfrags, 25);
	assert_int_equal(check_fill(b->host, 100000, 5), -1);
	assert_int_equal(C(b, frames_lost), 0);
	assert_int_equal(C(b, msgs_aborted), 0);
	fx_free(f);
}

static void no_fc(struct nicfw_config *c, int idx) { c->flow_control = 0; }

/* Flow control off: overflow drops and counts; what arrives is intact or flagged. */
static void test_overflow_without_credits(void **state)
{
	struct fx *f = fx_new(no_fc, 2u << 20);
	struct node *a = &f->n[0], *b = &f->n[1];
	struct snownic_comp c[64];
	unsigned i, ok = 0, eio = 0, lossrep = 0;
	int n, k;

	for (i = 0; i < 20; i++) {
		fill(a->host + i * 20000, 20000, i + 1);
		send_ok(a, 2, a->host + i * 20000, 20000, i + 1, 0, 0);
	}
	pump(f);
	later(f, 30);
	assert_true(C(b, drops_nobuf) > 0);
	for (i = 0; i < 21; i++)
		assert_int_equal(snownic_post_recv(b->h, b->host + i * 32768, 32768, i), 0);
	pump(f);
	later(f, 3000); /* the message cut by the drops times out */
	fill(a->host + 21 * 20000, 777, 99);
	send_ok(a, 2, a->host + 21 * 20000, 777, 99, SNOWNIC_NOINLINE, 0);
	pump(f);
	while ((n = snownic_poll(b->h, c, 64)) > 0)
		for (k = 0; k < n; k++) {
			if (c[k].type == SNOWNIC_LOST) {
				lossrep++;
				continue;
			}
			assert_int_equal(c[k].type, SNOWNIC_RECEIVED);
			if (c[k].status == -EIO || c[k].status == -ETIMEDOUT) {
				eio++;
				continue;
			}
			assert_int_equal(c[k].status, 0);
			if (check_fill(b->host + c[k].cookie * 32768, c[k].len, c[k].tag) >= 0)
				fail_msg("message tag %u corrupted", c[k].tag);
			ok++;
		}
	later(f, 30);
	assert_true(ok >= 2);          /* the held ones and the last one */
	assert_true(C(b, frames_lost) > 0);
	assert_true(lossrep >= 1);
	assert_true(ok + eio < 21);    /* some messages vanished entirely */
	assert_int_equal(C(a, stalls_credit), 0);
	fx_free(f);
}

static void test_loss_detected(void **state)
{
	struct fx *f = fx_new(NULL, 0);
	struct node *a = &f->n[0], *b = &f->n[1];
	struct snownic_comp c[8];
	unsigned i, nrecv = 0, nloss = 0;
	int n;

	pump(f);
	assert_int_equal(snownic_post_recv(b->h, b->host, 100000, 1), 0);
	assert_int_equal(snownic_post_recv(b->h, b->host + 131072, 100000, 2), 0);
	fill(a->host, 40960, 1);
	fill(a->host + 65536, 5000, 2);
	hal_test_wire_drop_nth(f->w, 3);
	send_ok(a, 2, a->host, 40960, 1, 0, 4096);        /* 10 fragments, the 3rd lost */
	send_ok(a, 2, a->host + 65536, 5000, 2, 0, 0);
	pump(f);
	while ((n = snownic_poll(b->h, c, 8)) > 0)
		for (i = 0; i < (unsigned)n; i++) {
			if (c[i].type == SNOWNIC_LOST) {
				assert_int_equal(c[i].len, 1);
				assert_int_equal(c[i].peer, 1);
				nloss++;
			} else if (c[i].tag == 1) {
				assert_int_equal(c[i].status, -EIO);
				nrecv++;
			} else {
				assert_int_equal(c[i].status, 0);
				assert_int_equal(c[i].tag, 2);
				assert_int_equal(c[i].cookie, 2);
				assert_int_equal(check_fill(b->host + 131072, 5000, 2), -1);
				nrecv++;
			}
		}
	assert_int_equal(nloss, 1);
	assert_int_equal(nrecv, 2);
	assert_int_equal(hal_test_wire_dropped(f->w), 1);
	assert_int_equal(C(b, frames_lost), 1);
	assert_int_equal(C(b, msgs_aborted), 1);
	assert_int_equal(C(b, frames_orphan), 7);
	/* Credits stayed consistent: a big message still flows. */
	assert_int_equal(collect(f, a, SNOWNIC_SENT, c, 2), 2);
	roundtrip(f, 1u << 20, 0, 3);
	fx_free(f);
}

static void test_in_order(void **state)
{
	struct fx *f = fx_new(NULL, 0);
	struct node *a = &f->n[0], *b = &f->n[1];
	struct snownic_comp rc[60];
	uint32_t lens[60];
	unsigned i;

	for (i = 0; i < 60; i++) {
		lens[i] = (i % 3 == 0) ? 17 : (i % 3 == 1) ? 30000 : 9000;
		assert_int_equal(snownic_post_recv(b->h, b->host + i * 32768, 32768, i), 0);
	}
	for (i = 0; i < 60; i++) {
		fill(a->host + i * 32768, lens[i], i);
		send_ok(a, 2, a->host + i * 32768, lens[i], i, 0, 0);
		if (i % 7 == 0)
			pump(f);
	}
	assert_int_equal(collect(f, b, SNOWNIC_RECEIVED, rc, 60), 60);
	for (i = 0; i < 60; i++) {
		assert_int_equal(rc[i].tag, i);
		assert_int_equal(rc[i].status, 0);
		assert_int_equal(check_fill(b->host + i * 32768, lens[i], i), -1);
	}
	fx_free(f);
}

/* Write a raw send descriptor, as a buggy or hostile host could. */
static void raw_send(struct node *nd, const struct snf_send_desc *d)
{
	size_t barsz;
	uint8_t *bar = hal_test_bar(nd->hal, &barsz);
	const struct snf_ctl *ctl = (const struct snf_ctl *)(bar + SNF_REGS_SIZE);
	struct snf_ring r;
	struct snf_send_desc *e;

	snf_ring_init(&r, (void *)ctl, ctl->send_off, ctl->send_size, sizeof(*d));
	e = snf_ring_slot(&r);
	assert_non_null(e);
	*e = *d;
	snf_ring_push(&r);
}

static void test_bad_descriptors(void **state)
{
	struct fx *f = fx_new(NULL, 0);
	struct node *a = &f->n[0];
	struct snownic_send s = { a->host, 5000, 9, 0, 1, 0, 0 };
	struct snownic_comp c[8];
	struct snf_send_desc d = { 0 };
	uint8_t outside[300];

	/* Refused by the library before the NIC sees them. */
	s.buf = outside;
	s.len = sizeof(outside);
	assert_int_equal(snownic_send(a->h, &s), -EFAULT);
	assert_int_equal(snownic_post_recv(a->h, outside, 10, 0), -EFAULT);
	s.buf = a->host;
	s.flags = 0x80;
	assert_int_equal(snownic_send(a->h, &s), -EINVAL);

	/* Refused by the NIC with a completion and a message. */
	s.flags = 0;
	s.len = 5000;
	s.peer = 9;
	assert_int_equal(snownic_send(a->h, &s), 0);           /* no such node */
	s.peer = 2;
	s.frag = 10;
	s.cookie = 2;
	assert_int_equal(snownic_send(a->h, &s), 0);           /* fragment too small */
	s.frag = 0;
	s.len = 4u << 20;
	s.flags = SNOWNIC_SF;
	s.cookie = 3;
	assert_int_equal(snownic_send(a->h, &s), 0);           /* S&F larger than NIC buffers */
	assert_int_equal(collect(f, a, SNOWNIC_SENT, c, 3), 3);
	assert_int_equal(c[0].status, -EHOSTUNREACH);
	assert_int_equal(c[1].status, -EINVAL);
	assert_int_equal(c[2].status, -EMSGSIZE);
	assert_true(hal_test_logged(a->hal, "node 9 is not a peer") >= 1);
	assert_true(hal_test_logged(a->hal, "fragment size 10") >= 1);
	assert_true(hal_test_logged(a->hal, "store-and-forward") >= 1);

	/* Raw descriptors that bypass the library's checks. */
	d.host_off = HOSTMEM - 100;
	d.len = 200;
	d.peer = 2;
	d.cookie = 4;
	raw_send(a, &d);
	d.host_off = 0;
	d.len = 10;
	d.flags = 0x40;
	d.cookie = 5;
	raw_send(a, &d);
	assert_int_equal(collect(f, a, SNOWNIC_SENT, c, 2), 2);
	assert_int_equal(c[0].status, -EFAULT);
	assert_int_equal(c[1].status, -EINVAL);
	assert_true(hal_test_logged(a->hal, "outside the") >= 1);
	assert_int_equal(C(a, bad_desc), 5);
	assert_int_equal(C(a, msgs_tx), 0);

	/* Still healthy. */
	roundtrip(f, 5000, 0, 7);
	fx_free(f);
}

static void test_corrupt_ring(void **state)
{
	struct fx *f = fx_new(NULL, 0);
	struct node *a = &f->n[0];
	size_t barsz;
	uint8_t *bar = hal_test_bar(a->hal, &barsz);
	const struct snf_ctl *ctl = (const struct snf_ctl *)(bar + SNF_REGS_SIZE);
	struct snf_ring r;

	snf_ring_init(&r, (void *)ctl, ctl->send_off, ctl->send_size, sizeof(struct snf_send_desc));
	atomic_store(&r.h->prod, 100000);
	atomic_fetch_add(&((struct snf_regs *)bar)->doorbell, 1);
	pump(f);
	assert_true(hal_test_logged(a->hal, "corrupt") >= 1);
	assert_int_equal(C(a, msgs_tx), 0);
	assert_int_equal(C(a, bad_desc), 1);
	fx_free(f);
}

static void test_truncation(void **state)
{
	struct fx *f = fx_new(NULL, 0);
	struct node *a = &f->n[0], *b = &f->n[1];
	struct snownic_comp rc;

	fill(a->host, 50000, 5);
	memset(b->host, 0xee, 60000);
	assert_int_equal(snownic_post_recv(b->h, b->host, 1000, 1), 0);
	send_ok(a, 2, a->host, 50000, 5, 0, 0);
	assert_int_equal(collect(f, b, SNOWNIC_RECEIVED, &rc, 1), 1);
	assert_int_equal(rc.status, -EMSGSIZE);
	assert_int_equal(rc.len, 50000);
	assert_int_equal(check_fill(b->host, 1000, 5), -1);
	assert_int_equal(b->host[1000], 0xee);
	assert_int_equal(b->host[59999], 0xee);
	/* Small messages truncate the same way. */
	memset(b->host, 0xee, 300);
	fill(a->host, 200, 6);
	assert_int_equal(snownic_post_recv(b->h, b->host, 50, 2), 0);
	send_ok(a, 2, a->host, 200, 6, 0, 0);
	assert_int_equal(collect(f, b, SNOWNIC_RECEIVED, &rc, 1), 1);
	assert_int_equal(rc.status, -EMSGSIZE);
	assert_int_equal(check_fill(b->host, 50, 6), -1);
	assert_int_equal(b->host[50], 0xee);
	fx_free(f);
}

static void test_detach_attach(void **state)
{
	struct fx *f = fx_new(NULL, 0);
	struct node *a = &f->n[0], *b = &f->n[1];

	/* The receiver's application goes away with messages held for it. */
	struct snownic_comp sc;

	fill(a->host, 30000, 1);
	send_ok(a, 2, a->host, 30000, 1, 0, 0);
	assert_int_equal(collect(f, a, SNOWNIC_SENT, &sc, 1), 1);
	snownic_close(b->h);
	b->h = NULL;
	hal_test_detach(b->hal);
	pump(f);
	assert_true(hal_test_released(b->hal));
	later(f, 30);
	assert_int_equal(C(a, msgs_tx), 1);
	attach(b);
	assert_int_equal(C(b, held_frames), 0); /* dropped with the old application */
	roundtrip(f, 70000, 0, 2);
	roundtrip(f, 10, 0, 3);

	/* The sender's application goes away; a new one works. */
	snownic_close(a->h);
	a->h = NULL;
	hal_test_detach(a->hal);
	pump(f);
	assert_true(hal_test_released(a->hal));
	attach(a);
	roundtrip(f, 70000, SNOWNIC_SF, 4);
	fx_free(f);
}

static void test_loopback(void **state)
{
	struct fx *f = fx_new(NULL, 0);
	struct node *a = &f->n[0];
	struct snownic_comp rc;

	pump(f);
	fill(a->host, 200000, 3);
	assert_int_equal(snownic_post_recv(a->h, a->host + 262144, 200000, 1), 0);
	send_ok(a, 1, a->host, 200000, 3, 0, 0);
	assert_int_equal(collect(f, a, SNOWNIC_RECEIVED, &rc, 1), 1);
	assert_int_equal(rc.status, 0);
	assert_int_equal(rc.peer, 1);
	assert_int_equal(check_fill(a->host + 262144, 200000, 3), -1);
	assert_int_equal(C(&f->n[1], frags_rx), 0); /* never on the wire */
	fx_free(f);
}

static void test_config_check(void **state)
{
	struct nicfw_config c;
	char err[256];

#define BAD(stmt, needle)                                                                          \
	do {                                                                                       \
		nicfw_config_defaults(&c);                                                         \
		c.node_id = 1;                                                                     \
		c.npeers = 1;                                                                      \
		c.peers[0].id = 2;                                                                 \
		c.peers[0].mac[0] = 2;                                                             \
		stmt;                                                                              \
		err[0] = '\0';                                                                     \
		assert_int_equal(nicfw_config_check(&c, err, sizeof(err)), -EINVAL);               \
		if (!strstr(err, needle))                                                          \
			fail_msg("'%s' does not mention '%s'", err, needle);                       \
	} while (0)

	nicfw_config_defaults(&c);
	assert_int_equal(nicfw_config_check(&c, err, sizeof(err)), 0);
	BAD(c.threshold = 5000, "threshold");
	BAD(c.peers[0].id = 1, "own id");
	BAD((c.npeers = 2, c.peers[1] = c.peers[0]), "twice");
	BAD(c.peers[0].mac[0] = 1, "multicast");
	BAD(c.send_ring = 100, "rings");
	BAD(c.min_frag = 10, "min-frag");
	BAD(c.fixed_frag = 10, "frag");
	BAD(c.epoch = 0, "epoch");
	BAD((c.calibrate = 0, c.stages[1].a_ns = 100, c.stages[1].b_ns = 0), "stage");
	BAD((c.calibrate = 0, memset(c.stages, 0, sizeof(c.stages))), "none in the pipeline");
#undef BAD
}

static void fixed_frag_huge(struct nicfw_config *c, int idx) { c->fixed_frag = 60000; }

static void test_create_refuses(void **state)
{
	struct hal_test_params p = base_params;
	struct nicfw_config c;
	struct nic_hal *hal;
	struct nicfw *fw;
	char err[256];

	p.nicmem = 64u << 10; /* rings fit, buffers do not */
	hal = hal_test_create(&p, NULL);
	nicfw_config_defaults(&c);
	assert_int_equal(nicfw_create(hal, &c, &fw, err, sizeof(err)), -ENOMEM);
	assert_non_null(strstr(err, "nic memory"));
	hal_test_destroy(hal);

	p = base_params;
	hal = hal_test_create(&p, NULL);
	nicfw_config_defaults(&c);
	fixed_frag_huge(&c, 0);
	assert_int_equal(nicfw_create(hal, &c, &fw, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "largest fragment"));
	hal_test_destroy(hal);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calibration),
		cmocka_unit_test(test_every_size),
		cmocka_unit_test(test_bypass),
		cmocka_unit_test(test_bypass_threshold),
		cmocka_unit_test(test_pipeline_overlap),
		cmocka_unit_test(test_held_until_posted),
		cmocka_unit_test(test_credits),
		cmocka_unit_test(test_credit_update_lost),
		cmocka_unit_test(test_overflow_without_credits),
		cmocka_unit_test(test_loss_detected),
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_bad_descriptors),
		cmocka_unit_test(test_corrupt_ring),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_detach_attach),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_config_check),
		cmocka_unit_test(test_create_refuses),
		/* The same with payloads gathered from host memory by the wire engine. */
		cmocka_unit_test_setup_teardown(test_gather_no_staging, gather_on, gather_off),
		cmocka_unit_test_setup_teardown(test_calibration_gather, gather_on, gather_off),
		cmocka_unit_test(test_calibration_steps),
		cmocka_unit_test_setup_teardown(test_every_size, gather_on, gather_off),
		cmocka_unit_test_setup_teardown(test_credits, gather_on, gather_off),
		cmocka_unit_test_setup_teardown(test_overflow_without_credits, gather_on, gather_off),
		cmocka_unit_test_setup_teardown(test_loss_detected, gather_on, gather_off),
		cmocka_unit_test_setup_teardown(test_in_order, gather_on, gather_off),
		cmocka_unit_test_setup_teardown(test_bad_descriptors, gather_on, gather_off),
		cmocka_unit_test_setup_teardown(test_truncation, gather_on, gather_off),
		cmocka_unit_test_setup_teardown(test_detach_attach, gather_on, gather_off),
		cmocka_unit_test_setup_teardown(test_loopback, gather_on, gather_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
