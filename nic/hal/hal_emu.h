/*
 * The emulated NIC's HAL: NIC memory is a memfd the host process maps too
 * (its first page holds the doorbell and interrupt words, used as futexes);
 * the host DMA engine and the wire send engine are threads; the wire's
 * receive ring is read by the NIC CPU itself inside event_wait() (rx_cpu,
 * sleeping in poll() on the ring and a kick eventfd) or by a receive engine
 * thread; the wire is AF_PACKET on a Linux interface (wire_packet.h).
 *
 * The receive engine filters on destination MAC like a NIC would; frames a
 * NIC sends to its own MAC with HAL_TX_LOOPBACK never reach the wire.
 */
#ifndef SNOW_NIC_HAL_EMU_H
#define SNOW_NIC_HAL_EMU_H

#include "hal.h"

#include <stddef.h>
#include <stdint.h>

struct hal_emu_params {
	const char *ifname;
	size_t nicmem;      /* NIC memory after the register page */
	int rx_v3;          /* 1: TPACKET_V3 receive ring, 0: TPACKET_V2 */
	size_t ring_bytes;  /* kernel receive ring */
	uint32_t spin_ns;   /* how long an idle engine spins before sleeping */
	int spin_adapt;     /* 1: the NIC CPU's spin backs off while spins keep failing */
	uint32_t inline_bytes; /* an idle engine's job up to this size is done by the caller */
	int rx_cpu;         /* 1: the NIC CPU reads the wire ring itself (no receive thread) */
	int rx_direct;      /* 1: no ring: the NIC CPU copies each frame from the socket straight
			     * into the posted NIC buffer (recvfrom, on the receiver's CPU); implies rx_cpu */
	int rx_copy;        /* 1: no ring slots lent: each frame copied into its NIC buffer */
	int tx_copy;        /* 1: no wire_send_host: payloads are copied into NIC memory first */
	int sleep_lent;     /* 1: sleep with the ring's newest slot still lent (run to completion:
			     * the caller's own DMA frees it after the wait, which polls until
			     * then); 0: copy that frame out first, so poll() sleeps (rx_lend_settle) */
};

/*
 * Create the NIC and start its engines.  *out is freed with
 * hal_emu_destroy().  @ret 0 or -errno with err filled.
 */
int hal_emu_create(const struct hal_emu_params *p, struct nic_hal **out, char *err,
		   size_t errlen);
/* Stop the engines and free everything.  The NIC program must be gone. */
void hal_emu_destroy(struct nic_hal *hal);

/* The NIC memory memfd (still owned by the HAL) and its size, registers included. */
int hal_emu_memfd(struct nic_hal *hal, size_t *size);
/*
 * The eventfd that wakes the NIC CPU when it sleeps with SNF_IDLE_KICK
 * (still owned by the HAL): the host gets a copy at attach.
 */
int hal_emu_kickfd(struct nic_hal *hal);

/*
 * Map the host's registered memory (memfd, size bytes) as the host window
 * and raise HAL_EV_HOST_UP.  The HAL keeps its own mapping, not the fd.
 * @ret 0, -EBUSY (a host is attached), -errno from mmap.
 */
int hal_emu_host_attach(struct nic_hal *hal, int memfd, size_t size);

/*
 * Raise HAL_EV_HOST_DOWN, wait (up to timeout_ms) for the program to stop
 * DMA to the host, then unmap the window.  @ret 0 or -ETIMEDOUT (the window
 * stays mapped: safer than yanking it from under the engine).
 */
int hal_emu_host_detach(struct nic_hal *hal, int timeout_ms);

#endif
