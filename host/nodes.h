/*
 * The run-time node table: what snowd knows of each node beside its
 * inventory row (state, last report, schema, history, cached overlay), the
 * node state timers, and the JSON the API and the stream show of a node.
 */
#ifndef SNOW_NODES_H
#define SNOW_NODES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "inv.h"
#include "snowd.h"

/* Find a node's run-time entry; create it (named) when create_name is not NULL. */
struct node_rt *nodes_rt(struct snowd *sd, int64_t id, const char *create_name);
void nodes_rt_forget(struct snowd *sd, int64_t id);
/* Drop what a node reported (a new boot starts from nothing). */
void nodes_rt_clear(struct snowd *sd, struct node_rt *rt);
/*
 * Give rt the schema (taken: *schema is left empty, also on error), sharing
 * one copy among the nodes that report the same one.  A copy no node uses
 * any more goes with its last node.  @ret 0 or -ENOMEM (rt keeps its old one).
 */
int nodes_set_schema(struct snowd *sd, struct node_rt *rt, struct report_schema *schema);
/*
 * Set in o the parts (REPORT_* bits) of what rt reported, as the agent sent
 * them: values, watermarks, thresholds, devices, schema; a part never
 * reported is left out.
 */
void nodes_report_json(json_t *o, const struct node_rt *rt, unsigned parts);
/*
 * A command was queued for the node: its next report asks the inventory for
 * commands.  A report of a node with none open asks nothing (most reports).
 */
void nodes_cmd_queued(struct snowd *sd, int64_t node_id);
void nodes_rt_free(struct snowd *sd);
/*
 * The timers: the dnsmasq hosts file, the offline timer (held
 * while the inventory cannot be written: the host's failure is not the
 * nodes'), and one small retention step.
 */
void nodes_tick(struct snowd *sd);
/* Apply the limits of sd->cfg to the inventory (at start and SIGHUP). */
void nodes_limits(struct snowd *sd);
const char *node_state_name(enum node_state s);
/*
 * @ret a new JSON object describing n and its run-time state; with full, also
 * its profile, own settings and effective settings with their origins.
 */
json_t *nodes_json(struct snowd *sd, const struct inv_node *n, int full);
/*
 * A node's effective settings (settings.h); origins (may be NULL) receives
 * where each came from.  @ret a new object, or NULL on an inventory error.
 */
json_t *nodes_effective(struct snowd *sd, const struct inv_node *n, json_t **origins);
/*
 * The node's overlay, from the cache while no setting changed since it was
 * rendered.  @ret 0 with *data and *len pointing into the cache (valid until the
 * next call), or -errno.
 */
int nodes_overlay(struct snowd *sd, const struct inv_node *n, const char **data, size_t *len);
/*
 * Note that a node reached a boot stage: dhcp, first, script, kernel, initrd,
 * overlay (from its requests), or online (its agent registered: the boot is
 * then written to the boot history).
 */
void nodes_stage(struct snowd *sd, const struct inv_node *n, const char *stage);
/* Tell stream clients a node's state or stage changed. */
void nodes_publish_state(struct snowd *sd, const struct node_rt *rt);
/*
 * The node's power as best known: what a power driver said last, unless the
 * node reported since (then "on" while online); "on" while online;
 * "unknown" otherwise.
 */
const char *nodes_power_state(const struct node_rt *rt);
/*
 * A power driver finished op for the node (result borrowed: its "status" is
 * the driver's word, QEMU's run state or Redfish's/IPMI's PowerState): keep
 * what it says of the power and tell the stream when that changed.
 */
void nodes_power_result(struct snowd *sd, const char *node, const char *op, json_t *result);
/*
 * The address a new node gets: ip when given (checked: inside the boot
 * network, not the host's, network, broadcast or discovery address), else
 * the first free one of the pool.  @ret 0 with out filled; -EINVAL (err
 * names the field); -ENOSPC when the pool is full; -EIO.
 */
int nodes_pick_ip(struct snowd *sd, const char *ip, char out[16], char *err, size_t errlen);

#endif
