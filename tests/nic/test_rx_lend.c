/*
 * Ring slots lent to NIC buffers (nic/hal/rx_lend.c), on a fake ring: the
 * three wire_packet functions the lender uses are defined here, so no packet
 * socket is needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hal/rx_lend.h"
#include "hal/wire_packet.h"

#define NSLOTS 8u
#define SLOT 8192u

static uint8_t ring[NSLOTS][SLOT];
static int released[NSLOTS];
static uint8_t nicmem[4 * SLOT];

uint32_t wire_packet_slots(const struct wire_packet *w)
{
	(void)w;
	return NSLOTS;
}

uint32_t wire_packet_slot(const struct wire_packet *w, const uint8_t *frame)
{
	(void)w;
	return (uint32_t)((frame - &ring[0][0]) / SLOT);
}

void wire_packet_release(struct wire_packet *w, uint32_t slot)
{
	(void)w;
	released[slot]++;
}

/* A frame of len bytes in slot i, filled with a pattern, taken by the reader for the NIC buffer at off. */
static int take(struct rx_lend *l, uint32_t i, uint32_t len, uint32_t off)
{
	uint32_t k;

	for (k = 0; k < len; k++)
		ring[i][k] = (uint8_t)(i * 31 + k * 7);
	rx_lend_seen(l, ring[i]);
	return rx_lend_keep(l, ring[i], len, off);
}

static struct rx_lend *fresh(void)
{
	struct rx_lend *l;

	memset(released, 0, sizeof(released));
	memset(nicmem, 0, sizeof(nicmem));
	l = rx_lend_new((struct wire_packet *)ring, nicmem);
	assert_non_null(l);
	return l;
}

/* Going to sleep with the newest frame lent: it is copied into its buffer and its slot goes back. */
static void test_settle_gives_back_the_newest(void **state)
{
	struct rx_lend *l = fresh();
	uint8_t dst[6000];

	(void)state;
	assert_int_equal(take(l, 3, 6000, SLOT), 1);
	assert_int_equal(released[3], 0);
	assert_memory_equal(nicmem + SLOT, ring[3], RX_LEND_HDR); /* only the head copied */
	assert_int_equal(nicmem[SLOT + RX_LEND_HDR + 1], 0);
	rx_lend_settle(l);
	assert_int_equal(released[3], 1);
	assert_memory_equal(nicmem + SLOT, ring[3], 6000);
	/* The DMA then finds no lent slot: the HAL copies from NIC memory, the same bytes. */
	assert_int_equal(rx_lend_dma(l, dst, SLOT, sizeof(dst)), 0);
	rx_lend_settle(l); /* nothing lent: nothing more given back */
	assert_int_equal(released[3], 1);
	rx_lend_free(l);
}

/* Only the newest slot: an older lent one stays lent, and its DMA still reads the slot. */
static void test_settle_keeps_older_slots(void **state)
{
	struct rx_lend *l = fresh();
	uint8_t dst[5000];

	(void)state;
	assert_int_equal(take(l, 1, 5000, 0), 1);
	assert_int_equal(take(l, 2, 100, SLOT), 0); /* small: copied by the caller, not lent */
	rx_lend_settle(l);
	assert_int_equal(released[1], 0);
	assert_int_equal(released[2], 0);
	assert_int_equal(rx_lend_dma(l, dst, 0, sizeof(dst)), 1);
	assert_memory_equal(dst, ring[1], sizeof(dst));
	assert_int_equal(released[1], 1); /* the DMA reached the frame's end */
	rx_lend_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_settle_gives_back_the_newest),
		cmocka_unit_test(test_settle_keeps_older_slots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
