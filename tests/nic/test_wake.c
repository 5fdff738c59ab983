/*
 * Wake-ups between the application and the NIC, on two test HALs joined by
 * an in-memory wire: interrupt arming (irq_arm: a completion interrupts the
 * host only for a cause it armed, and stays in the ring for a later poll),
 * the library's wait arming only what it waits for, with a real futex sleep
 * on another thread, and one doorbell for a receive post followed by a send.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "fw/fw.h"
#include "hal/hal_test.h"
#include "lib/snownic.h"
#include "nic_pair.h"

#define MTU 9000

static const struct hal_test_params base_params = {
	.nicmem = 8u << 20,
	.hostmem = 1u << 20,
	.mtu = MTU,
	.dma_a = 2000,
	.dma_b = 0.1,
	.wire_a = 5000,
	.wire_b = 0.2,
};

static struct fx *fx_new(void)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];
	size_t barsz;
	uint8_t *bar;
	int i;

	assert_non_null(f);
	f->w = hal_test_wire_new();
	assert_non_null(f->w);
	for (i = 0; i < 2; i++) {
		struct node *nd = &f->n[i];
		struct hal_test_params p = base_params;
		struct nicfw_config cfg;

		p.mac[0] = 2;
		p.mac[5] = (uint8_t)(i + 1);
		nd->hal = hal_test_create(&p, f->w);
		assert_non_null(nd->hal);
		nicfw_config_defaults(&cfg);
		cfg.node_id = (uint16_t)(i + 1);
		cfg.npeers = 1;
		cfg.peers[0].id = (uint16_t)(2 - i);
		cfg.peers[0].mac[0] = 2;
		cfg.peers[0].mac[5] = (uint8_t)(2 - i);
		cfg.epoch = 0x2000u + (uint32_t)i;
		if (nicfw_create(nd->hal, &cfg, &nd->fw, err, sizeof(err)))
			fail_msg("nicfw_create: %s", err);
		hal_test_attach(nd->hal);
		bar = hal_test_bar(nd->hal, &barsz);
		nd->host = hal_test_host(nd->hal, &nd->hostsz);
		if (snownic_attach(bar, barsz, nd->host, nd->hostsz, &nd->h, err, sizeof(err)))
			fail_msg("attach: %s", err);
		nd->regs = (struct snf_regs *)bar;
		nd->ctl = (struct snf_ctl *)(bar + SNF_REGS_SIZE);
	}
	return f;
}

static void send_small(struct node *nd, uint16_t peer, uint32_t tag)
{
	static const char msg[64] = "ping";
	struct snownic_send s = { msg, sizeof(msg), peer, tag, tag, 0, 0 };
	int rc = snownic_send(nd->h, &s);

	if (rc)
		fail_msg("snownic_send: %s", strerror(-rc));
}

/* The one completion in nd's ring, of this type (or fail with what was there). */
static void poll_one(struct node *nd, enum snownic_comp_type type, int status)
{
	struct snownic_comp c[4];
	int n = snownic_poll(nd->h, c, 4);

	if (n != 1 || c[0].type != type || c[0].status != status)
		fail_msg("poll: %d completions, the first of type %d status %d; want one of type %d "
			 "status %d", n, n > 0 ? (int)c[0].type : 0, n > 0 ? c[0].status : 0,
			 (int)type, status);
}

static uint32_t ring_pending(const struct snf_ctl *ctl, uint32_t off)
{
	const struct snf_ring_hdr *r = (const struct snf_ring_hdr *)((const uint8_t *)ctl + off);

	return atomic_load(&r->prod) - atomic_load(&r->cons);
}

/* A send completion interrupts only a host armed for it; the ring has it either way. */
static void test_send_completion_armed(void **state)
{
	struct fx *f = fx_new();
	struct node *a = &f->n[0], *b = &f->n[1];
	uint32_t irq0;

	pump(f); /* hellos and credits */
	assert_int_equal(snownic_post_recv(b->h, b->host, 4096, 1), 0);
	/* a's application sleeps waiting for a reply: it armed receives only. */
	atomic_store(&a->regs->irq_arm, SNF_IRQ_RECV);
	irq0 = atomic_load(&a->regs->irq);
	send_small(a, 2, 1);
	pump(f);
	assert_int_equal(hal_test_interrupts(a->hal), 0);
	assert_int_not_equal(atomic_load(&a->regs->irq), irq0); /* a wait about to sleep sees it */
	poll_one(a, SNOWNIC_SENT, 0);
	/* b's application was not asleep at all: nothing armed, nothing raised. */
	assert_int_equal(hal_test_interrupts(b->hal), 0);
	poll_one(b, SNOWNIC_RECEIVED, 0);

	/* Waiting for its send to complete (to reuse the buffer), it armed sends. */
	atomic_store(&a->regs->irq_arm, SNF_IRQ_SEND);
	assert_int_equal(snownic_post_recv(b->h, b->host, 4096, 2), 0);
	send_small(a, 2, 2);
	pump(f);
	assert_int_equal(hal_test_interrupts(a->hal), 1);
	poll_one(a, SNOWNIC_SENT, 0);

	/* A message interrupts a host armed for receives. */
	atomic_store(&b->regs->irq_arm, SNF_IRQ_RECV);
	poll_one(b, SNOWNIC_RECEIVED, 0);
	assert_int_equal(hal_test_interrupts(b->hal), 0);
	assert_int_equal(snownic_post_recv(b->h, b->host, 4096, 3), 0);
	atomic_store(&a->regs->irq_arm, SNF_IRQ_RECV);
	send_small(a, 2, 3);
	pump(f);
	assert_int_equal(hal_test_interrupts(b->hal), 1);
	assert_int_equal(hal_test_interrupts(a->hal), 1);
	poll_one(b, SNOWNIC_RECEIVED, 0);
	poll_one(a, SNOWNIC_SENT, 0);
	fx_free(f);
}

/* A loss report is a receive cause: it interrupts a host waiting for messages. */
static void test_loss_interrupts(void **state)
{
	struct fx *f = fx_new();
	struct node *a = &f->n[0], *b = &f->n[1];
	struct snownic_comp c[8];
	unsigned i, lost = 0;
	int n;

	pump(f);
	atomic_store(&b->regs->irq_arm, SNF_IRQ_RECV);
	hal_test_wire_drop_nth(f->w, 1);
	send_small(a, 2, 1); /* lost */
	send_small(a, 2, 2); /* its gap is the loss; held: no buffer posted */
	pump(f);
	assert_int_equal(hal_test_wire_dropped(f->w), 1);
	assert_int_equal(hal_test_interrupts(b->hal), 1);
	n = snownic_poll(b->h, c, 8);
	for (i = 0; i < (unsigned)(n > 0 ? n : 0); i++)
		lost += c[i].type == SNOWNIC_LOST;
	assert_int_equal(lost, 1);
	fx_free(f);
}

struct waiter {
	struct node *nd;
	unsigned wake;
	struct snownic_comp got[8];
	int ngot;
	int rc;
};

/* The application's thread: wait (asleep on the futex) until a message came. */
static void *wait_thread(void *arg)
{
	struct waiter *w = arg;
	int n, i, received = 0;

	while (!received && w->ngot < 8) {
		n = snownic_wait_for(w->nd->h, w->got + w->ngot, (unsigned)(8 - w->ngot), -1,
				     w->wake);
		if (n <= 0) {
			w->rc = n ? n : -ETIMEDOUT;
			return NULL;
		}
		for (i = 0; i < n; i++)
			received |= w->got[w->ngot + i].type == SNOWNIC_RECEIVED;
		w->ngot += n;
	}
	return NULL;
}

/* Until the waiting thread armed its interrupt (it sleeps, or is about to). */
static void until_armed(struct node *nd, uint32_t want)
{
	time_t t0 = time(NULL);

	while (atomic_load(&nd->regs->irq_arm) != want) {
		if (time(NULL) - t0 > 60)
			fail_msg("the waiting thread never armed %u (irq_arm %u)", want,
				 atomic_load(&nd->regs->irq_arm));
		sched_yield();
	}
}

/*
 * The library's wait arms only what it waits for: asleep for a message, its
 * own send's completion raises no interrupt; the message does, and the wait
 * returns both (the send's first, from the ring).
 */
static void test_wait_for_receive(void **state)
{
	struct fx *f = fx_new();
	struct node *a = &f->n[0], *b = &f->n[1];
	struct waiter w = { .nd = b, .wake = SNOWNIC_WAKE_RECEIVED };
	const struct snf_counters *k = snownic_counters(b->h);
	uint32_t irq0;
	pthread_t t;
	int i;

	pump(f);
	assert_int_equal(snownic_post_recv(b->h, b->host, 4096, 7), 0);
	send_small(b, 1, 9); /* b's NIC does not run before its application sleeps */
	irq0 = atomic_load(&b->regs->irq);
	assert_int_equal(pthread_create(&t, NULL, wait_thread, &w), 0);
	until_armed(b, SNF_IRQ_RECV);
	/* Only b's NIC runs: its send completes, the frame waits on the wire. */
	for (i = 0; i < 100 && !atomic_load(&k->msgs_tx); i++)
		nicfw_run(b->fw, 0);
	assert_int_equal(atomic_load(&k->msgs_tx), 1);
	assert_int_not_equal(atomic_load(&b->regs->irq), irq0);
	assert_int_equal(hal_test_interrupts(b->hal), 0);
	send_small(a, 2, 8);
	pump(f);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(w.rc, 0);
	assert_int_equal(w.ngot, 2);
	assert_int_equal(w.got[0].type, SNOWNIC_SENT);
	assert_int_equal(w.got[0].cookie, 9);
	assert_int_equal(w.got[1].type, SNOWNIC_RECEIVED);
	assert_int_equal(w.got[1].cookie, 7);
	assert_int_equal(w.got[1].tag, 8);
	assert_true(hal_test_interrupts(b->hal) <= 1); /* 0 if it woke between two sleeps */
	fx_free(f);
}

/* A wait that names nothing to wake for is refused. */
static void test_wait_for_nothing(void **state)
{
	struct fx *f = fx_new();
	struct snownic_comp c;

	assert_int_equal(snownic_wait_for(f->n[0].h, &c, 1, 0, 0), -EINVAL);
	assert_int_equal(snownic_wait_for(f->n[0].h, &c, 1, 0, 0x100), -EINVAL);
	assert_int_equal(snownic_wait_for(f->n[0].h, &c, 1, 0, SNOWNIC_WAKE_ANY | 0x100), -EINVAL);
	fx_free(f);
}

/*
 * A receive post followed by a send rings once: the post waits for the send's
 * doorbell, and the NIC takes both rings on it.  A post followed by a poll or
 * a wait is rung by that.
 */
static void test_one_doorbell(void **state)
{
	struct fx *f = fx_new();
	struct node *a = &f->n[0], *b = &f->n[1];
	struct snownic_comp c;
	uint32_t db, wk;
	int i;

	pump(f);
	db = atomic_load(&a->regs->doorbell);
	wk = atomic_load(&a->regs->wake);
	assert_int_equal(snownic_post_recv_more(a->h, a->host, 4096, 11), 0);
	assert_int_equal(atomic_load(&a->regs->doorbell), db);
	assert_int_equal(ring_pending(a->ctl, a->ctl->post_off), 1);
	send_small(a, 2, 12);
	assert_int_equal(atomic_load(&a->regs->doorbell), db + 1);
	assert_int_equal(atomic_load(&a->regs->wake), wk + 1);
	/* One run of a's NIC on that doorbell takes the post and the send. */
	nicfw_run(a->fw, 0);
	assert_int_equal(ring_pending(a->ctl, a->ctl->post_off), 0);
	assert_int_equal(ring_pending(a->ctl, a->ctl->send_off), 0);
	/* The reply lands in the buffer posted with the send. */
	assert_int_equal(snownic_post_recv(b->h, b->host, 4096, 13), 0);
	pump(f);
	poll_one(b, SNOWNIC_RECEIVED, 0);
	send_small(b, 1, 14);
	pump(f);
	poll_one(b, SNOWNIC_SENT, 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(snownic_poll(a->h, &c, 1), 1);
		if (c.type == SNOWNIC_RECEIVED) {
			assert_int_equal(c.cookie, 11);
			assert_int_equal(c.tag, 14);
		} else {
			assert_int_equal(c.type, SNOWNIC_SENT);
			assert_int_equal(c.cookie, 12);
		}
	}

	/* Nothing follows: the poll rings for the post, and so does a wait. */
	db = atomic_load(&a->regs->doorbell);
	assert_int_equal(snownic_post_recv_more(a->h, a->host, 4096, 15), 0);
	assert_int_equal(snownic_poll(a->h, &c, 1), 0);
	assert_int_equal(atomic_load(&a->regs->doorbell), db + 1);
	assert_int_equal(snownic_post_recv_more(a->h, a->host + 4096, 4096, 16), 0);
	assert_int_equal(snownic_wait_for(a->h, &c, 1, 0, SNOWNIC_WAKE_RECEIVED), 0);
	assert_int_equal(atomic_load(&a->regs->doorbell), db + 2);
	/* A plain post rings at once, as before. */
	assert_int_equal(snownic_post_recv(a->h, a->host + 8192, 4096, 17), 0);
	assert_int_equal(atomic_load(&a->regs->doorbell), db + 3);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_send_completion_armed),
		cmocka_unit_test(test_loss_interrupts),
		cmocka_unit_test(test_wait_for_receive),
		cmocka_unit_test(test_wait_for_nothing),
		cmocka_unit_test(test_one_doorbell),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
