/*
 * The wire frame: an Ethernet II header with Snow's EtherType, a fixed
 * 40-byte Snow header, then the fragment.  Multi-byte fields are big-endian.
 *
 *   0  dst MAC (6)  src MAC (6)  EtherType 0x88B5 (2)
 *  14  version (1) type (1) flags (1) hdr_len (1)
 *  18  src node (2) dst node (2)
 *  22  epoch (4)          sender's incarnation, random at start-up
 *  26  seq (4)            per (src, dst) data-frame sequence number
 *  30  msg_id (4)         per (src, dst) message number
 *  34  msg_len (4)        whole message length
 *  38  offset (4)         of this fragment in the message
 *  42  frag_len (4)       bytes of payload in this frame
 *  46  tag (4)
 *  50  frag_size (4)      the fragment size the sender chose for this message
 *  54  payload
 *
 * A control frame (type CTRL) carries struct snf_ctrl_wire as its payload and
 * no sequence number: it is the hello and the credit update at once.
 */
#ifndef SNOW_NIC_FRAME_H
#define SNOW_NIC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define SNF_ETHERTYPE 0x88B5u /* IEEE 802 local experimental EtherType 1 */
#define SNF_ETH_HLEN 14u
#define SNF_HDR_LEN 40u
#define SNF_FRAME_HDR (SNF_ETH_HLEN + SNF_HDR_LEN)
#define SNF_WIRE_VERSION 1u

enum snf_frame_type { SNF_T_DATA = 1, SNF_T_CTRL = 2, SNF_T_CAL = 3 };

#define SNF_F_FIRST 0x01u
#define SNF_F_LAST 0x02u
#define SNF_F_SMALL 0x04u /* sent inline (pipeline bypass) */
#define SNF_F_SF 0x08u    /* store-and-forward message */
#define SNF_F_ALL 0x0fu

struct snf_hdr {
	uint8_t dst[6], src[6];
	uint8_t version, type, flags;
	uint16_t src_node, dst_node;
	uint32_t epoch, seq, msg_id, msg_len, offset, frag_len, tag, frag_size;
};

#define SNF_CTRL_LIMIT 0x01u /* limit is valid for your_epoch */
#define SNF_CTRL_REPLY 0x02u /* please answer with your own control frame */
#define SNF_CTRL_LEN 20u

struct snf_ctrl_wire {
	uint32_t your_epoch; /* the receiver incarnation this frame answers */
	uint32_t next_seq;   /* sender's next data seq towards the receiver */
	uint32_t limit;      /* receiver may send data frames with seq < limit */
	uint32_t grant;      /* frames the receiver reserves for this peer */
	uint32_t flags;      /* SNF_CTRL_* */
};

/* Write h into the first SNF_FRAME_HDR bytes of p. */
void snf_hdr_encode(const struct snf_hdr *h, uint8_t *p);

/*
 * Parse and check a received frame of len bytes.  @ret 0, or -EINVAL with
 * why in err (version, type, flags, lengths inconsistent, fragment beyond
 * the message, message larger than SNF_MSG_MAX).  Ethernet padding after the
 * payload is allowed.
 */
int snf_hdr_decode(const uint8_t *p, size_t len, struct snf_hdr *h, char *err, size_t errlen);

void snf_ctrl_encode(const struct snf_ctrl_wire *c, uint8_t *p);
void snf_ctrl_decode(const uint8_t *p, struct snf_ctrl_wire *c);

#endif
