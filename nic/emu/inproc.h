/*
 * The emulated NIC inside the application's process, run to completion: the
 * same NIC program (nic/fw) on the same emulated HAL (nic/hal/hal_emu), but
 * no NIC CPU thread.  The application's thread is the NIC CPU while it is in
 * libsnownic: a send puts its frames on the wire before it returns, and a
 * wait sleeps in poll() beside the wire's receive ring, so a message costs
 * one wake-up at the receiver, as a socket does.  Used by snow-nic-bench
 * (--engine) to measure that mode; snow-nic (the daemon) is the same NIC
 * with its own threads.  Needs CAP_NET_RAW; one per interface.
 */
#ifndef SNOW_NIC_INPROC_H
#define SNOW_NIC_INPROC_H

#include "fw/fw.h"
#include "lib/snownic.h"

#include <stddef.h>
#include <stdint.h>

struct snownic_inproc_params {
	const char *ifname;
	struct nicfw_config cfg; /* node, peers, ...: as snow-nic's */
	size_t nicmem;           /* NIC memory after the register page */
	size_t ring_bytes;       /* kernel receive ring */
	uint32_t spin_ns;        /* the waiting thread polls the ring this long before sleeping */
	uint32_t inline_bytes;   /* DMA jobs up to this size run on the caller's thread */
	int spin_adapt;          /* spin only while spinning pays (hal_emu_params) */
	int rx_direct;           /* no receive ring: frames copied into posted buffers */
	int rx_copy;             /* frames copied into NIC buffers (no ring slots lent) */
	int tx_copy;             /* payloads staged in NIC memory (no gather send) */
};

/*
 * Start the NIC (calibration included) and attach a host of mem_size bytes
 * to it.  *out is closed with snownic_close(), which stops the NIC.
 * @ret 0 or -errno with err filled.
 */
int snownic_inproc_open(const struct snownic_inproc_params *p, size_t mem_size,
			struct snownic **out, char *err, size_t errlen);

#endif
