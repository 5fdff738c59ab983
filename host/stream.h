/*
 * The server-sent-events stream (GET /api/v1/stream) for live consoles.
 * Each client is a chunked response whose reader suspends its connection
 * when there is nothing to send; stream_publish() queues a message to every
 * client and resumes the suspended ones.  Value updates are gathered per node
 * and sent once per flush as one "values" message, so a thousand reporting
 * nodes make one message a tick, not a thousand.
 *
 * Messages (event: NAME / data: JSON):
 *   node     {name, state, stage, ...}       a node's state or boot stage changed
 *   values   {NAME: {values, watermarks, thresholds?, devices?, last_seen}, ...}
 *   event    {id?, node, seq, time, type, attrs}   an event a node reported
 *   command  {id, node, op, state, ...}      a command was queued or finished
 */
#ifndef SNOW_STREAM_H
#define SNOW_STREAM_H

#include <jansson.h>
#include <microhttpd.h>

struct snowd;
struct stream_client;

struct stream {
	struct stream_client *clients;
	json_t *pending_values; /* {node: update} gathered until the next flush */
	unsigned nclients;
	uint64_t sent_messages;
	int closing;
};

/* Answer a GET /api/v1/stream.  @ret MHD's result. */
enum MHD_Result stream_open(struct snowd *sd, struct MHD_Connection *conn);
/* Queue one message (data: a reference this call takes) to every client. */
void stream_publish(struct snowd *sd, const char *event, json_t *data);
/* Gather a node's value update (a reference taken) for the next flush. */
void stream_values(struct snowd *sd, const char *node, json_t *update);
/* Send what was gathered, and a keep-alive comment when it is due. */
void stream_flush(struct snowd *sd);
/* End every stream (before the HTTP daemon stops). */
void stream_close_all(struct snowd *sd);

#endif
