/*
 * Wake-ups (lib/wakeup.h, docs/protocol.md "Wake-up"): when a command is
 * queued for a node, snowd sends its agent one small UDP datagram, "report
 * now", so the command goes out in the answer to that report at once
 * rather than an interval later.  The datagram carries no command; it is
 * MACed with the node's wake key.  The agent says at registration where it
 * listens ("wake_port"); one that does not gets its commands with its next
 * report, as before.  Runs on the loop thread; one socket, never blocking:
 * a datagram that cannot go is counted and forgotten (the next report
 * brings the command anyway).
 */
#ifndef SNOW_WAKE_H
#define SNOW_WAKE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "sign.h"

struct snowd;
struct node_rt;

/* Where a node's agent hears wake-ups, from its registration (in struct node_rt). */
struct wake_dest {
	uint32_t ip;                    /* host order; 0: the agent does not listen */
	uint16_t port;
	char key[SIGN_HEX_LEN + 1];     /* wakeup_key() of the secret it registered with */
};

/* snowd's sending side (in struct snowd). */
struct wake_tx {
	int fd;                         /* -1 until wake_open */
	uint64_t last_nonce;            /* realtime us, bumped past the last one sent */
	uint64_t sent, failed;
};

/* Open the sending socket.  @ret 0 or -errno (snowd runs on without wake-ups). */
int wake_open(struct wake_tx *w);
void wake_close(struct wake_tx *w);

/*
 * Read a registration's "wake_port" (absent: none; else 1..65535) into d,
 * with the address the registration came from (client_ip; IPv4 only, else
 * none) and the wake key of secret (the one the request was signed with).
 * @ret 0, or -EINVAL with err naming the field (nothing to change then).
 */
int wake_dest_parse(json_t *body, const char *client_ip, const char *secret,
		    struct wake_dest *d, char *err, size_t errlen);

/* A command was queued for rt's node: send its agent a wake-up, if it listens. */
void wake_node(struct snowd *sd, const struct node_rt *rt);

#endif
