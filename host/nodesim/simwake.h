/*
 * snow-nodesim's wake-ups, as snow-agent's (node-os/agent/wake.h, lib/wakeup.h):
 * one UDP socket for every simulated node (bound to any address: snowd
 * sends each node's to the node's own 127/8 address, the port they all
 * registered), datagrams sorted out by the node name they carry.  A node
 * accepts one as the agent does (MAC with its wake key, fresh time, nonce
 * above its last, the same budget) and reports now, at most one report per
 * WAKEUP_GAP_MS; a node with a request in flight reports again once it
 * ends.  Called by main.c (open, input, close) and step.c (register,
 * after a report).
 */
#ifndef SNOW_NODESIM_SIMWAKE_H
#define SNOW_NODESIM_SIMWAKE_H

#include <jansson.h>
#include <stdint.h>

#include "nodesim.h"

/*
 * Open the socket (after the nodes are set up) and add it to the epoll set
 * with data.ptr ns->wake.  @ret 0 or -errno with err filled (nodesim runs on
 * without: commands come with the reports).
 */
int ns_wake_open(struct nodesim *ns, char *err, size_t errlen);
/* Read the datagrams waiting; wake the nodes they are for. */
void ns_wake_input(struct nodesim *ns, int64_t now);
/* Log what came, free it. */
void ns_wake_close(struct nodesim *ns);
/* A registration body gets "wake_port"; n's wake key is made from its secret.  @ret 0 or -ENOMEM. */
int ns_wake_register(struct nodesim *ns, struct ns_node *n, json_t *body);
/* A report of n ended: one woken during it reports again now. */
void ns_wake_after_report(struct nodesim *ns, struct ns_node *n, int64_t now);

#endif
