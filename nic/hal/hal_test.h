/*
 * The HAL test backend: one NIC in-process, single-threaded and
 * deterministic.  DMA and wire sends are queued; each event_wait() runs one
 * operation of each engine (they work in parallel) and advances the virtual
 * clock by the longer of the two costs a + b * bytes, so the calibration
 * measures exactly the a and b given here and pipelining shows in the
 * clock.  The wire is an in-memory medium shared by several test NICs, with
 * injectable loss.
 */
#ifndef SNOW_NIC_HAL_TEST_H
#define SNOW_NIC_HAL_TEST_H

#include "hal.h"

#include <stddef.h>
#include <stdint.h>

struct hal_test_wire;

struct hal_test_params {
	size_t nicmem;  /* NIC memory after the register page */
	size_t hostmem; /* host window (the host's registered memory) */
	uint8_t mac[6];
	uint32_t mtu;
	double dma_a, dma_b;   /* ns, ns per byte */
	double wire_a, wire_b;
	/*
	 * Jobs (DMA, or a whole frame on the wire) up to small bytes cost
	 * a_small instead of dma_a / wire_a (0: no such step), as the emulated
	 * NIC's CPU takes small jobs itself without a thread hand-off.
	 */
	uint32_t small;
	double a_small;
	int tx_gather; /* 1: offer wire_send_host (payload read from the host while sent) */
};

/* A medium; free it after every NIC on it.  @ret NULL when out of memory. */
struct hal_test_wire *hal_test_wire_new(void);
void hal_test_wire_free(struct hal_test_wire *w);
/* Drop every k-th data frame from now on (0: none). */
void hal_test_wire_loss_every(struct hal_test_wire *w, unsigned k);
/* Drop the n-th data frame from now on (1: the next one). */
void hal_test_wire_drop_nth(struct hal_test_wire *w, unsigned n);
/* Drop the next n control frames (hello, credits) sent on the medium. */
void hal_test_wire_drop_ctrl(struct hal_test_wire *w, unsigned n);
/* Frames the medium dropped on purpose. */
unsigned long hal_test_wire_dropped(const struct hal_test_wire *w);

/* @ret a HAL the caller frees with hal_test_destroy(), or NULL. */
struct nic_hal *hal_test_create(const struct hal_test_params *p, struct hal_test_wire *w);
void hal_test_destroy(struct nic_hal *hal);

/* All of NIC memory, register page included (what the host maps). */
void *hal_test_bar(struct nic_hal *hal, size_t *size);
void *hal_test_host(struct nic_hal *hal, size_t *size);
/* Attach or detach the host (HAL_EV_HOST_UP / HAL_EV_HOST_DOWN). */
void hal_test_attach(struct nic_hal *hal);
void hal_test_detach(struct nic_hal *hal);
/* 1 once the program answered the last detach. */
int hal_test_released(struct nic_hal *hal);
void hal_test_advance(struct nic_hal *hal, uint64_t ns);
/* How many log lines contained needle (NULL: all of them). */
unsigned hal_test_logged(struct nic_hal *hal, const char *needle);
/* Host interrupts raised so far: completions of a cause the host had armed (irq_arm). */
unsigned hal_test_interrupts(struct nic_hal *hal);
/*
 * What the engines did, in order: D host->NIC DMA, H NIC->host DMA,
 * W data frame sent, c control or calibration frame.
 */
const char *hal_test_trace(struct nic_hal *hal);
void hal_test_trace_reset(struct nic_hal *hal);
/* 1 while an engine, the event queue or the inbound wire has work. */
int hal_test_busy(struct nic_hal *hal);

#endif
