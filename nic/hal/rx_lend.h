/*
 * Receive ring slots lent to NIC buffers (hal_emu): a large frame is not
 * copied from the kernel's receive ring into its NIC buffer; only its first
 * RX_LEND_HDR bytes are, the rest stays in the ring slot, which the HAL keeps,
 * and the host DMA that takes the payload to the host reads it from there.
 * One copy per received byte instead of two.
 *
 * The NIC program reads a data frame's payload only through dma() (and the
 * small messages it reads itself are copied whole: under RX_LEND_MIN), so
 * it cannot tell.  A slot goes back to the kernel when the DMA reached the
 * frame's end, when its NIC buffer is posted again, or (copied into the NIC
 * buffer first) when it is half a ring old, so the reader never meets a slot
 * it still holds.
 */
#ifndef SNOW_NIC_RX_LEND_H
#define SNOW_NIC_RX_LEND_H

#include <stddef.h>
#include <stdint.h>

#define RX_LEND_HDR 128u   /* copied at once: the frame header and then some */
#define RX_LEND_MIN 4096u  /* smaller frames are copied whole */

struct wire_packet;
struct rx_lend;

/*
 * @ret a lender the caller frees with rx_lend_free(), or NULL when the wire has
 * no V2 ring (nothing to lend) or memory is short.
 */
struct rx_lend *rx_lend_new(struct wire_packet *w, uint8_t *mem);
void rx_lend_free(struct rx_lend *l);
/*
 * The reader took the ring frame at frame (every one it sees): a slot still
 * lent half a ring behind it is copied into its NIC buffer and given back.
 */
void rx_lend_seen(struct rx_lend *l, const uint8_t *frame);
/*
 * A frame of len bytes at frame (in the ring) for the NIC buffer at nic_off:
 * copy its head, keep the slot.  @ret 1 (slot kept), 0 (copy it yourself).
 */
int rx_lend_keep(struct rx_lend *l, const uint8_t *frame, uint32_t len, uint32_t nic_off);
/*
 * A DMA of len bytes from NIC memory at nic_off to dst: done here (and
 * @ret 1) when the range is in a lent buffer, else @ret 0.
 */
int rx_lend_dma(struct rx_lend *l, uint8_t *dst, uint32_t nic_off, uint32_t len);
/*
 * The NIC CPU is about to sleep in poll() beside the ring: the slot of the
 * newest frame the reader took, if lent, is copied into its NIC buffer and
 * given back.  A packet ring polls readable while its newest slot belongs to
 * the user (packet_poll), so a sleep with that slot lent returned at once,
 * over and over, until the host DMA had read it: a spin.
 */
void rx_lend_settle(struct rx_lend *l);
/* The NIC buffer at nic_off is posted again: its slot, if any, goes back. */
void rx_lend_drop(struct rx_lend *l, uint32_t nic_off);
/* Slots lent since creation and copied back because they grew old. */
uint64_t rx_lend_count(const struct rx_lend *l, uint64_t *evicted);

#endif
