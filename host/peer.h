/*
 * Several snowd on one PostgreSQL (docs/scale-out.md): each one shows every
 * node, whichever snowd the node reports to.
 *
 * Each snowd writes the live state of the nodes that report to it (state,
 * values, watermarks, thresholds, devices) in one statement per tick to the
 * UNLOGGED table live, and NOTIFYs snow_live; the others LISTEN, read the
 * rows newer than the last they read, and show them in the node list, a
 * node's page and the stream.  A command queued on one snowd for a node that
 * reports to another NOTIFYs snow_cmd with the node's id: the other opens the
 * node's command queue and wakes it.  With SQLite (one snowd) all of it is off.
 */
#ifndef SNOW_PEER_H
#define SNOW_PEER_H

#include <jansson.h>
#include <stdint.h>

#include "snowd.h"

#define PEER_STALE_S 15      /* a row of a snowd not yet heard in snowd_nets, this old: stale */
#define PEER_VALUES_MS 1000  /* a node's row is written at most this often for new values */
#define PEER_ROWS_MAX 256    /* rows a tick (0.5 s) writes at most: the statement holds the loop */
#define PEER_NOT_GAUGES "not_gauges" /* in a row: the names of its values that are not gauges */

/*
 * Start sharing live state when the inventory is in PostgreSQL (sd->peer
 * stays NULL otherwise).  @ret 0, or -EIO with err filled.
 */
int peer_start(struct snowd *sd, char *err, size_t errlen);
void peer_free(struct snowd *sd);
/* The descriptor the loop polls for notifications, or -1. */
int peer_fd(struct snowd *sd);
/* Every loop turn: take the notifications in (never blocks), read what changed. */
void peer_poll(struct snowd *sd);
/* The timer: write the rows of this snowd's nodes that changed. */
void peer_tick(struct snowd *sd);
/*
 * o (the node's JSON, nodes_json) gains what another snowd says of node id,
 * unless this snowd holds the node online itself (rt).
 */
void peer_node_json(struct snowd *sd, int64_t id, const struct node_rt *rt, json_t *o);
/*
 * What another snowd says of node id, unless this snowd holds it online (rt):
 * its row ("values", and PEER_NOT_GAUGES: the names of the values that are not
 * gauges), borrowed until the next peer_poll, and its state now in *state
 * ("offline" once the row is stale).  @ret NULL when no other snowd has a row.
 */
const json_t *peer_node_doc(struct snowd *sd, int64_t id, const struct node_rt *rt,
			    const char **state);
/* A command was queued for a node this snowd does not hold online: tell the others. */
void peer_cmd_queued(struct snowd *sd, int64_t node_id, const struct node_rt *rt);

#endif
