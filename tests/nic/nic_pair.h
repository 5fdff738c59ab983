/*
 * Two NICs on test HALs joined by an in-memory wire, each with its NIC
 * program and libsnownic attached: the fixture the firmware's unit tests
 * share (test_fw.c, test_wake.c).  Each file builds its pair (fx_new: its
 * own HAL parameters and firmware configuration); tearing down and running
 * both NICs until nothing moves are the same everywhere.  Include after
 * <cmocka.h>.
 */
#ifndef SNOW_TESTS_NIC_PAIR_H
#define SNOW_TESTS_NIC_PAIR_H

#include <stdint.h>
#include <stdlib.h>

#include "fw/fw.h"
#include "hal/hal_test.h"
#include "lib/snownic.h"

struct node {
	struct nic_hal *hal;
	struct nicfw *fw;
	struct snownic *h;
	uint8_t *host;
	size_t hostsz;
	struct nicfw_config cfg;  /* as created (test_fw.c) */
	struct snf_regs *regs;    /* the BAR's registers and control block (test_wake.c) */
	struct snf_ctl *ctl;
};

struct fx {
	struct hal_test_wire *w;
	struct node n[2];
};

static inline void fx_free(struct fx *f)
{
	int i;

	for (i = 0; i < 2; i++) {
		snownic_close(f->n[i].h);
		nicfw_destroy(f->n[i].fw);
		hal_test_destroy(f->n[i].hal);
	}
	hal_test_wire_free(f->w);
	free(f);
}

/* Run both NICs until nothing moves. */
static inline void pump(struct fx *f)
{
	int quiet = 0, i;

	for (i = 0; i < 2000000 && quiet < 3; i++) {
		int n = nicfw_run(f->n[0].fw, 0) + nicfw_run(f->n[1].fw, 0);
		if (n || hal_test_busy(f->n[0].hal) || hal_test_busy(f->n[1].hal))
			quiet = 0;
		else
			quiet++;
	}
}

#endif
