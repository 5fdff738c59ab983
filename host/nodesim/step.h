/*
 * What a simulated node does next and what it does with the answer: the
 * request for its state (add, overlay, register, report, config.reload's
 * overlay), built and signed as snow-agent does, and the handling of
 * snowd's answer (sim.c's agent logic, then the next step scheduled).
 */
#ifndef SNOW_NODESIM_STEP_H
#define SNOW_NODESIM_STEP_H

#include <stddef.h>
#include <stdint.h>

#include "nodesim.h"

/*
 * Start node's next exchange (now: monotonic ms).  @ret 0 (sent, or nothing
 * to do in its state), or -EBUSY / -ENOMEM / -errno of the connection: the
 * caller counts the error and schedules a retry.
 */
int ns_step_start(struct nodesim *ns, struct ns_node *n, int64_t now);
/*
 * The exchange ns_step_start() tried could not start (rc: its error, e.g.
 * a refused connect): the node moves to the next snowd when the agent's
 * rule says so, else retries after its back-off.
 */
void ns_step_failed(struct nodesim *ns, struct ns_node *n, int rc, int64_t now);
/*
 * An exchange ended (the loop sets ns->conn_done to this): rc 0 with the
 * HTTP status and body (borrowed), or a transport -errno.  Counts it,
 * updates the node and schedules its next step.
 */
void ns_step_done(struct nodesim *ns, struct ns_conn *c, int rc, int status, const char *body,
		  size_t bodylen);

#endif
