/* The node channel: signed registrations and reports from agents (docs/protocol.md). */
#ifndef SNOW_CHAN_H
#define SNOW_CHAN_H

#include "http.h"

/* POST /api/v1/node/register {name, boot_id, schema, ...} -> {interval_ms} */
enum MHD_Result chan_register(struct http_ctx *h);
/* POST /api/v1/node/report {values, events, results, ...} -> {ack_events, commands} */
enum MHD_Result chan_report(struct http_ctx *h);
/* POST /api/v1/node/overlay {name} -> the node's overlay (cpio), signed: config.reload */
enum MHD_Result chan_overlay(struct http_ctx *h);

/* POST /api/v1/node/pstore {boot_id, records} -> {boot_id, stored}: pstore.h */
enum MHD_Result chan_pstore(struct http_ctx *h);
/*
 * The group commit (docs/host.md): a node request's writes (its nonce, events,
 * command results) join one transaction per loop turn, and its 2xx answer
 * waits, the connection suspended, until that transaction commits.  Commit
 * it and resume those answers (a 503 each if the commit failed): snowd's
 * loop calls this after each MHD pass, never inside one.  @ret 0, or -EIO
 * when the commit failed.
 */
int chan_commit(struct snowd *sd);
/*
 * Commit the group only, from inside an MHD pass (the router, before a
 * handler that is not the node channel's): the held answers learn the
 * outcome and wait for chan_commit() to resume them.  @ret 0 or -EIO.
 */
int chan_commit_early(struct snowd *sd);

#endif
