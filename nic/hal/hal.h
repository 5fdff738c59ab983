/*
 * The hardware-abstraction layer the NIC program sees: NIC memory, the
 * host<->NIC DMA engine, the wire send and receive DMA engines, completion
 * events (which include the host's doorbell) and the host interrupt.  The
 * program in nic/fw/ calls nothing else; two backends implement it:
 *
 *   hal_emu   the emulated NIC of snow-nic: NIC memory is a memfd shared
 *             with the host process, DMA engines are threads, the wire is
 *             AF_PACKET on a Linux interface;
 *   hal_test  in-process, synchronous and deterministic, the wire an
 *             in-memory queue with injectable loss, a virtual clock.
 *
 * Addresses: NIC memory is addressed by byte offset from the base mem()
 * returns; host memory by byte offset in a host window (the memory the host
 * registered with the NIC, or the HAL's own scratch window used for the
 * start-up calibration).  Every asynchronous operation takes a cookie that
 * comes back in its completion event.  Queues are at least as deep as the
 * queue_depth the HAL was created with; the program never has more than one
 * operation outstanding per buffer, so it sizes queue_depth from its buffers.
 */
#ifndef SNOW_NIC_HAL_H
#define SNOW_NIC_HAL_H

#include <stddef.h>
#include <stdint.h>

/* Every engine queue holds at least this many operations. */
#define HAL_QUEUE_DEPTH 16384u

enum hal_ev_type {
	HAL_EV_DOORBELL = 1, /* the host produced descriptors (rings to look at) */
	HAL_EV_DMA_DONE,     /* host DMA finished: cookie, status */
	HAL_EV_TX_DONE,      /* a frame left: its NIC buffer is free again */
	HAL_EV_RX,           /* a frame is in a posted receive buffer: cookie, len */
	HAL_EV_HOST_UP,      /* a host attached: its window is valid */
	HAL_EV_HOST_DOWN,    /* the host is going: finish DMA, then host_released() */
};

struct hal_event {
	enum hal_ev_type type;
	int32_t status; /* 0 or -errno */
	uint32_t len;   /* HAL_EV_RX: frame length */
	uint64_t cookie;
};

enum hal_dma_dir { HAL_DMA_TO_NIC, HAL_DMA_TO_HOST };
enum hal_window { HAL_WIN_HOST, HAL_WIN_SCRATCH };

/* host_interrupt causes */
#define HAL_IRQ_SEND 0x1u /* a send completion */
#define HAL_IRQ_RECV 0x2u /* a receive or loss completion */

/* wire_send flags */
#define HAL_TX_LOOPBACK 0x1u /* MAC loopback: the frame comes back to this NIC */

struct hal_link {
	uint8_t mac[6];
	uint32_t mtu; /* largest frame payload after the Ethernet header */
};

struct hal_stats {
	uint64_t rx_nobuf;    /* frames dropped: no receive buffer posted */
	uint64_t rx_ring;     /* frames the kernel (or wire) dropped before us */
	uint64_t rx_filtered; /* frames for another MAC */
	uint64_t tx_errors;
};

enum hal_log_level { HAL_LOG_ERR, HAL_LOG_WARN, HAL_LOG_INFO, HAL_LOG_DEBUG };

struct nic_hal;

struct nic_hal_operations {
	/*
	 * The NIC memory the program owns (registers excluded).  Valid for the
	 * HAL's whole life; the HAL owns it.  *size gets its length.
	 */
	void *(*mem)(struct nic_hal *hal, size_t *size);
	void (*link)(struct nic_hal *hal, struct hal_link *out);
	/* Bytes in a host window; 0 when that window is absent (no host). */
	uint64_t (*window)(struct nic_hal *hal, enum hal_window win);
	/*
	 * Queue a DMA of len bytes between NIC memory at nic_off and host
	 * window win at host_off.  The NIC buffer and the host range belong to
	 * the engine until HAL_EV_DMA_DONE with this cookie.
	 * @ret 0, -EFAULT when a range is outside its memory, -ENOSPC when the
	 * queue is full.
	 */
	int (*dma)(struct nic_hal *hal, enum hal_window win, enum hal_dma_dir dir, uint64_t host_off,
		   uint32_t nic_off, uint32_t len, uint64_t cookie);
	/*
	 * Queue the complete Ethernet frame at nic_off for the wire.  The buffer
	 * belongs to the engine until HAL_EV_TX_DONE with this cookie (whose
	 * status says whether it went out).  @ret 0, -EFAULT, -EMSGSIZE (over
	 * the MTU), -ENOSPC.
	 */
	int (*wire_send)(struct nic_hal *hal, uint32_t nic_off, uint32_t len, unsigned flags,
			 uint64_t cookie);
	/*
	 * Optional (NULL when the NIC cannot gather): queue a frame whose first
	 * hdr_len bytes are in NIC memory at nic_off and whose len-byte payload
	 * is read from the host window at host_off while it is sent (a
	 * gather DMA: the payload is not staged in NIC memory).  Both ranges
	 * belong to the engine until HAL_EV_TX_DONE with this cookie.  No
	 * loopback flag; hdr_len + len is at least the minimum frame.
	 * @ret 0, -EFAULT, -EMSGSIZE, -ENOSPC.
	 */
	int (*wire_send_host)(struct nic_hal *hal, uint32_t nic_off, uint32_t hdr_len,
			      uint64_t host_off, uint32_t len, uint64_t cookie);
	/*
	 * Give the receive engine a buffer of len bytes at nic_off.  It belongs
	 * to the engine until a HAL_EV_RX with this cookie.  Frames arriving
	 * while no buffer is posted are dropped and counted (rx_nobuf).
	 * @ret 0, -EFAULT, -ENOSPC.
	 */
	int (*wire_post_rx)(struct nic_hal *hal, uint32_t nic_off, uint32_t len, uint64_t cookie);
	/*
	 * Take up to max events, waiting up to timeout_ms (0: do not wait) for
	 * the first.  @ret how many were stored in ev (0 on timeout).
	 */
	int (*event_wait)(struct nic_hal *hal, struct hal_event *ev, unsigned max, int timeout_ms);
	/*
	 * Completions of these causes (HAL_IRQ_*) are in the host's ring:
	 * interrupt the host if it armed one of them (a NIC's interrupt mask).
	 */
	void (*host_interrupt)(struct nic_hal *hal, unsigned causes);
	/* Answer to HAL_EV_HOST_DOWN: no DMA to the host is outstanding any more. */
	void (*host_released)(struct nic_hal *hal);
	/* A monotonic clock in nanoseconds. */
	uint64_t (*now_ns)(struct nic_hal *hal);
	void (*stats)(struct nic_hal *hal, struct hal_stats *out);
	/* A one-line message for the operator (the NIC's debug channel). */
	void (*log)(struct nic_hal *hal, enum hal_log_level level, const char *msg);
};

struct nic_hal {
	const struct nic_hal_operations *ops;
};

#endif
