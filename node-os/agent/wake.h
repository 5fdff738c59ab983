/*
 * The agent's side of wake-ups (lib/wakeup.h, docs/protocol.md "Wake-up"):
 * a UDP socket where snowd says "report now" when it queued a command for
 * this node.  The agent tells snowd the port when it registers; a datagram
 * counts only with a good MAC (the wake key of the secret it registered
 * with), a fresh time and a nonce above the last one, and within a budget
 * (the rest are dropped before their MAC is computed).  An accepted one
 * only makes the next report come early (the loop keeps WAKEUP_GAP_MS
 * between such reports): it carries nothing the agent applies.
 */
#ifndef SNOW_NODE_WAKE_H
#define SNOW_NODE_WAKE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "wakeup.h"

#define WAKE_PORT_OFF (-1)   /* wake_port = -1: do not listen */

struct agent_wake {
	int fd;                         /* -1: not listening */
	uint16_t port;
	char key[SIGN_HEX_LEN + 1];     /* "": not registered yet, nothing accepted */
	struct wakeup_guard guard;
	int bad_logged;                 /* why the last one logged was refused (0: none since one accepted) */
};

/*
 * Listen on UDP port (0: any free one; WAKE_PORT_OFF: not at all) on every
 * address.  @ret 0 or -errno with err filled (the agent runs on without:
 * commands come with its reports).
 */
int wake_listen(struct agent_wake *w, long port, char *err, size_t errlen);
void wake_stop(struct agent_wake *w);

/* The agent registers signed with secret: wake-ups are MACed with its wake key from now on. */
void wake_keyed(struct agent_wake *w, const char *secret);

/* Add "wake_port" to a registration body when listening.  @ret 0 or -ENOMEM. */
int wake_register_field(const struct agent_wake *w, json_t *body);

/*
 * Read every datagram waiting (name: this node's), logging the first
 * refused one of a run.  @ret 1 when one was accepted (report now), else 0.
 */
int wake_drain(struct agent_wake *w, const char *name);

#endif
