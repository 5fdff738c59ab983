/*
 * libsnownic: what an application uses to talk to its node's NIC offload
 * engine (snow-nic).
 *
 * snownic_open() creates the application's registered memory (a memfd the
 * NIC may DMA to and from, like pinned memory on a real NIC), hands it to
 * snow-nic over its unix socket and maps the NIC memory it gets back.  From
 * then on nothing goes through the socket: descriptors are written into
 * rings in NIC memory and a doorbell word is bumped; completions come back in
 * a ring, with a futex word as the interrupt.  Closing the handle (or dying)
 * detaches the application; one application is attached at a time.
 *
 * Buffers for pipelined sends and for receives must lie in the registered
 * memory (snownic_mem()).  Messages up to the NIC's threshold are copied into
 * the descriptor (programmed I/O) and may live anywhere.
 *
 * Not thread-safe: one thread per handle, as with a NIC queue pair.
 */
#ifndef SNOW_NIC_SNOWNIC_H
#define SNOW_NIC_SNOWNIC_H

#include "fw/abi.h"

#include <stddef.h>
#include <stdint.h>

struct snownic;

#define SNOWNIC_SF 0x1u       /* store-and-forward: no pipelining */
#define SNOWNIC_NOINLINE 0x2u /* DMA even under the threshold */

struct snownic_send {
	const void *buf;
	uint32_t len;
	uint16_t peer;   /* node id */
	uint32_t tag;
	uint64_t cookie; /* comes back in the completion */
	unsigned flags;  /* SNOWNIC_* */
	uint32_t frag;   /* fragment size; 0: the NIC's cost model */
};

enum snownic_comp_type {
	SNOWNIC_SENT = SNF_COMP_SEND,
	SNOWNIC_RECEIVED = SNF_COMP_RECV,
	SNOWNIC_LOST = SNF_COMP_LOSS, /* len frames from peer were lost */
};

struct snownic_comp {
	enum snownic_comp_type type;
	int status;      /* 0, or -errno: -EMSGSIZE truncated, -EIO lost part, ... */
	uint64_t cookie;
	uint16_t peer;
	uint32_t len;    /* message length */
	uint32_t tag;
	uint32_t frag;   /* fragment size used */
	uint32_t nfrags;
};

struct snownic_info {
	uint16_t node_id;
	uint32_t mtu, max_frag, threshold, credits, tx_slots, rx_slots, fixed_frag;
	int flow_control;
	struct snf_stage stages[SNF_STAGES];
	uint32_t serial_pm; /* how much the sending stages take turns, per mille (abi.h) */
};

/*
 * Attach to the snow-nic listening on socket_path with mem_size bytes of
 * registered memory.  *out is freed with snownic_close().  @ret 0, or
 * -errno with err filled (-ECONNREFUSED no daemon, -EBUSY another
 * application is attached, -EPROTO a reply that makes no sense).
 */
int snownic_open(const char *socket_path, size_t mem_size, struct snownic **out, char *err,
		 size_t errlen);

/*
 * Attach to NIC memory already mapped in this process (the unit tests' HAL).
 * bar is all of NIC memory, register page included; host is the registered
 * memory.  Neither is owned by the handle.  @ret 0 or -errno with err.
 */
int snownic_attach(void *bar, size_t bar_size, void *host, size_t host_size,
		   struct snownic **out, char *err, size_t errlen);

void snownic_close(struct snownic *h);

/* The registered memory: base and size.  Owned by the handle. */
void *snownic_mem(struct snownic *h, size_t *size);

void snownic_info(const struct snownic *h, struct snownic_info *out);

/* The NIC's counters, live in NIC memory (read them with atomic loads). */
const struct snf_counters *snownic_counters(const struct snownic *h);

/*
 * Queue a send.  The buffer (unless inline) belongs to the NIC until its
 * SNOWNIC_SENT completion.  @ret 0, -EAGAIN (send ring full: poll),
 * -EFAULT (buffer outside registered memory), -EINVAL (bad flags).
 */
int snownic_send(struct snownic *h, const struct snownic_send *s);

/*
 * Post a receive buffer; it belongs to the NIC until its SNOWNIC_RECEIVED
 * completion.  @ret 0, -EAGAIN, -EFAULT.
 */
int snownic_post_recv(struct snownic *h, void *buf, uint32_t len, uint64_t cookie);

/*
 * The same, but more descriptors follow at once (libfabric's FI_MORE): the
 * doorbell waits for them, so a post followed by a send rings once, and a
 * sleeping NIC CPU is woken once.  The next snownic_send, snownic_post_recv,
 * snownic_poll or snownic_wait* on this handle rings it; until then a
 * sleeping NIC CPU is not woken for the buffer (a running one may take it).
 * @ret as snownic_post_recv.
 */
int snownic_post_recv_more(struct snownic *h, void *buf, uint32_t len, uint64_t cookie);

/* Take up to max completions without waiting.  @ret how many, or -EPROTO. */
int snownic_poll(struct snownic *h, struct snownic_comp *c, unsigned max);

/*
 * Take up to max completions, waiting up to timeout_ms (-1: forever) for the
 * first.  @ret how many (0 on timeout), or -EPROTO when the NIC wrote
 * nonsense, -ESHUTDOWN when snow-nic went away.
 */
int snownic_wait(struct snownic *h, struct snownic_comp *c, unsigned max, int timeout_ms);

/* What may wake a sleeping snownic_wait_for(). */
#define SNOWNIC_WAKE_SENT SNF_IRQ_SEND     /* SNOWNIC_SENT */
#define SNOWNIC_WAKE_RECEIVED SNF_IRQ_RECV /* SNOWNIC_RECEIVED and SNOWNIC_LOST */
#define SNOWNIC_WAKE_ANY SNF_IRQ_ALL

/*
 * snownic_wait, but asleep it is woken (interrupted, arming the NIC's
 * interrupt for these causes) only by completions of the kinds in wake
 * (SNOWNIC_WAKE_*): an application waiting for a message does not wake for
 * the completion of its own send.  Completions of every kind already in the
 * ring, or found after any wake-up, are returned as by snownic_wait.
 * @ret as snownic_wait, or -EINVAL when wake names no kind.
 */
int snownic_wait_for(struct snownic *h, struct snownic_comp *c, unsigned max, int timeout_ms,
		     unsigned wake);

/*
 * Run to completion (snownic_inproc_open() sets it): the NIC runs in this
 * process and the application's calls drive it.  drive(ctx, ms) runs the
 * NIC for at most ms (0: what is pending); send, post and poll call it with
 * 0, wait with the time left.  release(ctx) is called by snownic_close().
 */
void snownic_set_driver(struct snownic *h, int (*drive)(void *ctx, int timeout_ms),
			void (*release)(void *ctx), void *ctx);

#endif
