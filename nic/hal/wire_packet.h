/*
 * The emulated NIC's wire: raw Ethernet frames with Snow's EtherType on a
 * Linux interface, through an AF_PACKET socket.  Frames are received from a
 * memory-mapped ring (TPACKET_V2: one slot per frame, handed over as soon as
 * it is written; or TPACKET_V3: blocks handed over when full or after a 1 ms
 * timeout, fewer wakeups but up to 1 ms more latency) and sent with send().
 */
#ifndef SNOW_NIC_WIRE_PACKET_H
#define SNOW_NIC_WIRE_PACKET_H

#include <stddef.h>
#include <stdint.h>

struct wire_packet;

/*
 * PACKET_* pkttype of a received frame is passed to the callback.  It returns
 * 1 to keep the frame's ring slot (TPACKET_V2 only; give it back with
 * wire_packet_release()), else 0.
 */
typedef int (*wire_rx_fn)(void *ctx, const uint8_t *frame, uint32_t len, int pkttype);

/*
 * Open ifname.  ring_bytes is the kernel receive ring; v3 picks TPACKET_V3.
 * ring_bytes 0: no ring; frames wait in the socket's queue (up to 16 MiB)
 * and wire_packet_recv_into() copies one into a buffer of the caller's.
 * *out is freed with wire_packet_close().  @ret 0 or -errno with err filled
 * (no such interface, not root, interface down is fine).
 */
int wire_packet_open(const char *ifname, int v3, size_t ring_bytes, struct wire_packet **out,
		     char *err, size_t errlen);
void wire_packet_close(struct wire_packet *w);

void wire_packet_link(const struct wire_packet *w, uint8_t mac[6], uint32_t *mtu);
int wire_packet_fd(const struct wire_packet *w);

/* Send one frame.  @ret 0 or -errno (-EMSGSIZE over the MTU). */
int wire_packet_send(struct wire_packet *w, const void *frame, size_t len);
/* The same, the frame in two pieces (sendmsg with two iovecs: no staging copy). */
int wire_packet_sendv(struct wire_packet *w, const void *hdr, size_t hlen, const void *payload,
		      size_t plen);

/*
 * Hand every frame the kernel has finished to fn and give the ring slots
 * back.  Frames the ring had to truncate are counted, not passed.
 * @ret frames passed.
 */
int wire_packet_recv(struct wire_packet *w, wire_rx_fn fn, void *ctx);
/* The same for at most max frames (TPACKET_V2; V3 hands whole blocks). */
int wire_packet_recv_max(struct wire_packet *w, wire_rx_fn fn, void *ctx, int max);

/*
 * Without a ring: the next frame into buf (at most len bytes, longer frames
 * truncated), without waiting.  @ret the frame's length (may exceed len),
 * 0 when none is queued, or -errno; *pkttype its PACKET_* type.
 */
/*
 * Frames in the V2 receive ring (0: no ring or V3), the slot of a frame the
 * callback got, and giving a kept slot back to the kernel.
 */
uint32_t wire_packet_slots(const struct wire_packet *w);
uint32_t wire_packet_slot(const struct wire_packet *w, const uint8_t *frame);
void wire_packet_release(struct wire_packet *w, uint32_t slot);
long wire_packet_recv_into(struct wire_packet *w, void *buf, size_t len, int *pkttype);

/* Frames dropped by the kernel (ring full) or truncated, since opening. */
uint64_t wire_packet_drops(struct wire_packet *w);

#endif
