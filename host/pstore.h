/*
 * pstore dumps from nodes (docs/crash.md).  A node with ramoops in a RAM
 * range that a warm reset keeps finds its last oops or panic in
 * /sys/fs/pstore at the next boot; its agent sends the files
 * (POST /api/v1/node/pstore, signed; body: pstorep.h) and clears them once
 * snowd answered.  snowd ties them to the boot that crashed:
 *
 *   1. the crash event of this node whose time is within PSTORE_MATCH_S of
 *      a dump's time (netconsole or pvpanic recorded it as it happened);
 *   2. else the boot before the one under way, as netconsole saw them
 *      (klog_prev_boot: it names boots that never reached the agent too);
 *   3. else the newest boot in the boot history that is not the current one.
 *
 * and keeps them in STATE/klog/NODE/BOOT.pstore.json (0600, pruned with the
 * boot's log).  A dump ("dmesg-*" records) makes that boot's crash event say
 * so: "pstore" joins its sources and "pstore" lists the records; when there
 * was none (the network was down at the panic), a crash event of source
 * pstore is made from the dump: its panic line and the end of its text.
 * Served at GET /api/v1/nodes/NAME/boots/BOOT/pstore and by
 * `snowctl node log NAME --boot BOOT --pstore`.
 */
#ifndef SNOW_PSTORE_H
#define SNOW_PSTORE_H

#include <jansson.h>
#include <microhttpd.h>

struct http_ctx;
struct inv_node;

/* A dump and a crash event this close in time (s) are the same crash. */
#define PSTORE_MATCH_S 300

/* The node channel's handler (chan.c authenticates and parses the body first). */
enum MHD_Result pstore_chan_post(struct http_ctx *h, struct inv_node *n, json_t *body);
/* GET /api/v1/nodes/{node}/boots/{boot}/pstore */
enum MHD_Result pstore_api_get(struct http_ctx *h);

#endif
