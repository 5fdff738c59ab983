#include "frame.h"

#include "abi.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void snf_hdr_encode(const struct snf_hdr *h, uint8_t *p)
{
	memcpy(p, h->dst, 6);
	memcpy(p + 6, h->src, 6);
	put16(p + 12, SNF_ETHERTYPE);
	p[14] = SNF_WIRE_VERSION;
	p[15] = h->type;
	p[16] = h->flags;
	p[17] = SNF_HDR_LEN;
	put16(p + 18, h->src_node);
	put16(p + 20, h->dst_node);
	put32(p + 22, h->epoch);
	put32(p + 26, h->seq);
	put32(p + 30, h->msg_id);
	put32(p + 34, h->msg_len);
	put32(p + 38, h->offset);
	put32(p + 42, h->frag_len);
	put32(p + 46, h->tag);
	put32(p + 50, h->frag_size);
}

int snf_hdr_decode(const uint8_t *p, size_t len, struct snf_hdr *h, char *err, size_t errlen)
{
	if (len < SNF_FRAME_HDR) {
		snprintf(err, errlen, "frame of %zu bytes is shorter than the %u-byte header", len,
			 SNF_FRAME_HDR);
		return -EINVAL;
	}
	if (get16(p + 12) != SNF_ETHERTYPE) {
		snprintf(err, errlen, "EtherType 0x%04x is not 0x%04x", get16(p + 12), SNF_ETHERTYPE);
		return -EINVAL;
	}
	memcpy(h->dst, p, 6);
	memcpy(h->src, p + 6, 6);
	h->version = p[14];
	h->type = p[15];
	h->flags = p[16];
	if (h->version != SNF_WIRE_VERSION || p[17] != SNF_HDR_LEN) {
		snprintf(err, errlen, "version %u header length %u, want %u and %u", h->version, p[17],
			 SNF_WIRE_VERSION, SNF_HDR_LEN);
		return -EINVAL;
	}
	h->src_node = get16(p + 18);
	h->dst_node = get16(p + 20);
	h->epoch = get32(p + 22);
	h->seq = get32(p + 26);
	h->msg_id = get32(p + 30);
	h->msg_len = get32(p + 34);
	h->offset = get32(p + 38);
	h->frag_len = get32(p + 42);
	h->tag = get32(p + 46);
	h->frag_size = get32(p + 50);
	if (h->flags & ~SNF_F_ALL) {
		snprintf(err, errlen, "unknown flags 0x%02x", h->flags);
		return -EINVAL;
	}
	if (h->frag_len > len - SNF_FRAME_HDR) {
		snprintf(err, errlen, "fragment length %u exceeds the %zu bytes in the frame",
			 h->frag_len, len - SNF_FRAME_HDR);
		return -EINVAL;
	}
	switch (h->type) {
	case SNF_T_DATA:
		if (h->msg_len > SNF_MSG_MAX) {
			snprintf(err, errlen, "message length %u exceeds %u", h->msg_len,
				 SNF_MSG_MAX);
			return -EINVAL;
		}
		if (h->offset > h->msg_len || h->frag_len > h->msg_len - h->offset) {
			snprintf(err, errlen, "fragment %u+%u lies beyond the %u-byte message",
				 h->offset, h->frag_len, h->msg_len);
			return -EINVAL;
		}
		if ((h->flags & SNF_F_FIRST) != (h->offset == 0 ? SNF_F_FIRST : 0) ||
		    (h->flags & SNF_F_LAST) !=
			    (h->offset + h->frag_len == h->msg_len ? SNF_F_LAST : 0)) {
			snprintf(err, errlen, "first/last flags 0x%02x disagree with %u+%u of %u",
				 h->flags, h->offset, h->frag_len, h->msg_len);
			return -EINVAL;
		}
		if (h->frag_len == 0 && h->msg_len != 0) {
			snprintf(err, errlen, "empty fragment in a %u-byte message", h->msg_len);
			return -EINVAL;
		}
		return 0;
	case SNF_T_CTRL:
		if (h->frag_len < SNF_CTRL_LEN) {
			snprintf(err, errlen, "control frame payload %u < %u", h->frag_len,
				 SNF_CTRL_LEN);
			return -EINVAL;
		}
		return 0;
	case SNF_T_CAL:
		return 0;
	default:
		snprintf(err, errlen, "unknown frame type %u", h->type);
		return -EINVAL;
	}
}

void snf_ctrl_encode(const struct snf_ctrl_wire *c, uint8_t *p)
{
	put32(p, c->your_epoch);
	put32(p + 4, c->next_seq);
	put32(p + 8, c->limit);
	put32(p + 12, c->grant);
	put32(p + 16, c->flags);
}

void snf_ctrl_decode(const uint8_t *p, struct snf_ctrl_wire *c)
{
	c->your_epoch = get32(p);
	c->next_seq = get32(p + 4);
	c->limit = get32(p + 8);
	c->grant = get32(p + 12);
	c->flags = get32(p + 16);
}
