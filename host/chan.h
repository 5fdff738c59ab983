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

#endif
