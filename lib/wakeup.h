/*
 * The wake-up datagram (docs/protocol.md, "Wake-up"): snowd tells a node's
 * agent "report now" when it queues a command for it, so the command goes
 * out in the answer to that report instead of an interval later.  One UDP
 * datagram of one line of ASCII:
 *
 *     snow-wake/1 NAME TIME NONCE MAC
 *
 * TIME is Unix seconds, NONCE realtime microseconds strictly increasing,
 * MAC lowercase hex HMAC-SHA256 (sign.h's sign_request) with the method
 * "WAKE", the path NAME and no body, keyed with the wake key: itself an
 * HMAC of the node's secret (wakeup_key), so snowd keeps no secret in
 * memory to send them.  A wake-up carries no command and nothing the node
 * applies: the worst a forged or replayed one could do is one report more,
 * and the receiver (wakeup_accept) refuses those.  Two limits bound the
 * work a flood can cause: datagrams beyond a budget (WAKEUP_BURST, then
 * WAKEUP_PER_S) are dropped before their MAC is computed, and the reports
 * wake-ups trigger come at most one per WAKEUP_GAP_MS (the receiver's loop
 * coalesces the rest into that one).
 * The snowd side is host/wake.c; the agent's node-os/agent/wake.c;
 * snow-nodesim's host/nodesim/simwake.c.  Pure code: no I/O, times passed in.
 */
#ifndef SNOW_WAKEUP_H
#define SNOW_WAKEUP_H

#include <stddef.h>
#include <stdint.h>

#include "sign.h"
#include "valid.h"

#define WAKEUP_MAGIC "snow-wake/1"
#define WAKEUP_MAX 200          /* bytes in a datagram at most (a longer one is refused) */
#define WAKEUP_GAP_MS 250       /* a woken node reports at most this often */
#define WAKEUP_MAX_SKEW 60      /* seconds TIME may differ from the receiver's clock */
#define WAKEUP_BURST 64         /* datagrams checked back to back ... */
#define WAKEUP_PER_S 32         /* ... then this many a second; the rest are dropped unchecked */

/* A datagram as parsed. */
struct wakeup_msg {
	char name[SNOW_NAME_MAX + 1];
	int64_t time;
	uint64_t nonce;
	char mac[SIGN_HEX_LEN + 1];
};

/* What a receiver keeps per node to refuse replays and floods (zeroed: fresh). */
struct wakeup_guard {
	uint64_t last_nonce;  /* of the last one accepted */
	int64_t tokens_ms;    /* the budget, in milliseconds of credit (1000 a datagram) */
	int64_t last_ms;      /* monotonic, of the last refill */
	uint64_t accepted, refused, limited;
};

/*
 * The wake key of a node, from its secret (hex): HMAC-SHA256 keyed with the
 * secret over "WAKEKEY\n\n0\n0\n" (no request has that method), in hex.
 */
void wakeup_key(const char *secret, char out[SIGN_HEX_LEN + 1]);

/*
 * Write the datagram for node name into out (WAKEUP_MAX + 1 bytes).
 * @ret its length, or -EINVAL when name is not a node name.
 */
int wakeup_build(const char *key, const char *name, int64_t time, uint64_t nonce,
		 char out[WAKEUP_MAX + 1]);

/*
 * Parse a datagram (len bytes, not NUL-terminated; a final "\n" is allowed).
 * @ret 0, or -EINVAL with err naming the field that was wrong (never
 * echoing the datagram).
 */
int wakeup_parse(const void *data, size_t len, struct wakeup_msg *m, char *err, size_t errlen);

/*
 * Check a parsed wake-up for node name (key: its wake key) at realtime now_s
 * and monotonic now_ms, and account for it in g.  @ret 0: report now;
 * -ENOENT another node's; -EBUSY over the budget (not checked); -EBADMSG
 * wrong MAC; -ETIME TIME too far from now_s or NONCE not within it;
 * -EALREADY a replay (NONCE not above the last one accepted).  Only an
 * accepted one moves last_nonce.
 */
int wakeup_accept(struct wakeup_guard *g, const struct wakeup_msg *m, const char *name,
		  const char *key, int64_t now_s, int64_t now_ms);

#endif
