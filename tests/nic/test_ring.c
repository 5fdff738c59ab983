/* The SPSC descriptor rings of nic/fw/abi.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fw/abi.h"

struct ent {
	uint64_t v;
};

static void *ring_mem(uint32_t size)
{
	void *m = aligned_alloc(64, (snf_ring_bytes(size, sizeof(struct ent)) + 63) & ~(size_t)63);

	assert_non_null(m);
	memset(m, 0, snf_ring_bytes(size, sizeof(struct ent)));
	return m;
}

static void test_fill_and_drain(void **state)
{
	void *m = ring_mem(8);
	struct snf_ring r;
	struct ent *e;
	unsigned i;

	snf_ring_init(&r, m, 0, 8, sizeof(struct ent));
	assert_int_equal(snf_ring_avail(&r), 0);
	for (i = 0; i < 8; i++) {
		e = snf_ring_slot(&r);
		assert_non_null(e);
		e->v = 100 + i;
		snf_ring_push(&r);
	}
	assert_null(snf_ring_slot(&r)); /* full */
	assert_int_equal(snf_ring_avail(&r), 8);
	for (i = 0; i < 8; i++) {
		e = snf_ring_head(&r);
		assert_int_equal(e->v, 100 + i);
		assert_int_equal(snf_ring_index(&r, e), i);
		snf_ring_pop(&r);
	}
	assert_int_equal(snf_ring_avail(&r), 0);
	free(m);
}

/* Indexes run freely past 2^32 and entries wrap around the ring. */
static void test_wraparound(void **state)
{
	void *m = ring_mem(4);
	struct snf_ring r;
	uint64_t next = 0, want = 0;
	unsigned round;

	snf_ring_init(&r, m, 0, 4, sizeof(struct ent));
	atomic_store(&r.h->prod, UINT32_MAX - 5);
	atomic_store(&r.h->cons, UINT32_MAX - 5);
	for (round = 0; round < 20; round++) {
		struct ent *e;
		while ((e = snf_ring_slot(&r))) {
			e->v = next++;
			snf_ring_push(&r);
		}
		assert_int_equal(snf_ring_avail(&r), 4);
		/* Take a varying number so the consumer lags by different amounts. */
		for (unsigned k = 0; k < 1 + round % 4; k++) {
			e = snf_ring_head(&r);
			assert_int_equal(e->v, want);
			want++;
			snf_ring_pop(&r);
		}
	}
	free(m);
}

/* A producer index further ahead than the ring holds is refused, not consumed. */
static void test_corrupt_index(void **state)
{
	void *m = ring_mem(8);
	struct snf_ring r;

	snf_ring_init(&r, m, 0, 8, sizeof(struct ent));
	atomic_store(&r.h->prod, 9);
	assert_int_equal(snf_ring_avail(&r), -1);
	atomic_store(&r.h->prod, 3);
	atomic_store(&r.h->cons, 5); /* consumer ahead of producer */
	assert_int_equal(snf_ring_avail(&r), -1);
	assert_null(snf_ring_slot(&r)); /* producer will not overwrite either */
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fill_and_drain),
		cmocka_unit_test(test_wraparound),
		cmocka_unit_test(test_corrupt_index),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
