/*
 * The NIC program: the sender and receiver processes of EPOS's Myrinet
 * abstraction, written against nic/hal/hal.h only.  One NIC CPU runs both
 * as an event loop: host DMA, wire send and wire receive are engines that
 * work in parallel and report completions as HAL events, which is what lets
 * fragment k+1 be fetched from the host while fragment k is on the wire.
 *
 * Lifecycle: nicfw_create() lays out NIC memory (control block, rings,
 * buffers), calibrates the cost model unless told the stage costs, and posts
 * its receive buffers; nicfw_run() is called in a loop; nicfw_destroy().
 */
#ifndef SNOW_NIC_FW_H
#define SNOW_NIC_FW_H

#include "abi.h"
#include "hal/hal.h"

#include <stddef.h>
#include <stdint.h>

#define NICFW_PEERS_MAX 64
/* Buffers per kind; with the control buffers this bounds HAL queue depth. */
#define NICFW_SLOTS_MAX 4096
#define NICFW_CTRL_BUFS 32
#define NICFW_QUEUE_DEPTH (2 * NICFW_SLOTS_MAX + NICFW_CTRL_BUFS)
_Static_assert(NICFW_QUEUE_DEPTH <= HAL_QUEUE_DEPTH, "HAL queues must hold every buffer");

struct nicfw_peer_cfg {
	uint16_t id;
	uint8_t mac[6];
};

struct nicfw_config {
	uint16_t node_id;
	unsigned npeers; /* other nodes; this node is added as a loopback peer */
	struct nicfw_peer_cfg peers[NICFW_PEERS_MAX];
	uint32_t threshold;     /* inline (bypass) limit, <= SNF_INLINE_MAX */
	int flow_control;       /* 1: credits; 0: overflow drops and counts */
	uint32_t credits;       /* frames granted to each peer; 0: rx buffers / peers */
	uint32_t fixed_frag;    /* 0: cost model */
	uint32_t min_frag;      /* smallest fragment the model may pick */
	uint32_t max_frag;      /* 0: as large as the link allows */
	uint32_t send_ring;     /* entries, power of two */
	uint32_t post_ring;
	uint32_t rx_timeout_ms; /* abort a message that stops making progress */
	uint32_t epoch;         /* this incarnation, nonzero */
	int calibrate;          /* 1: measure stages at start-up; 0: use stages[] */
	struct snf_stage stages[SNF_STAGES];
};

struct nicfw;

/* Defaults: threshold 256, credits on, rings of 256, model fragments >= 1 KiB. */
void nicfw_config_defaults(struct nicfw_config *c);

/* @ret 0, or -EINVAL with err naming the field and what is wrong. */
int nicfw_config_check(const struct nicfw_config *c, char *err, size_t errlen);

/*
 * Start the NIC program on hal.  *out is freed with nicfw_destroy(); the
 * HAL stays the caller's and must outlive it.  @ret 0, -EINVAL (config, err
 * filled), -ENOMEM (NIC memory too small for rings and two buffers of each
 * kind, err filled), -ETIMEDOUT (an engine did not answer the calibration).
 */
int nicfw_create(struct nic_hal *hal, const struct nicfw_config *cfg, struct nicfw **out,
		 char *err, size_t errlen);

/*
 * Handle events for at most timeout_ms (0: only what is pending), then move
 * the pipeline forward.  @ret events handled (>= 0).
 */
int nicfw_run(struct nicfw *fw, int timeout_ms);

/* The control block in NIC memory (counters, layout, cost model). */
const struct snf_ctl *nicfw_ctl(const struct nicfw *fw);

/* The fragment size the NIC uses for an n-byte message (descriptor frag 0). */
uint32_t nicfw_frag_for(const struct nicfw *fw, uint64_t n);

void nicfw_destroy(struct nicfw *fw);

#endif
