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
 *   values   {NAME: {values, watermarks, thresholds?, devices?, schema?, last_seen}, ...}
 *   event    {id?, node, seq, time, type, attrs}   an event a node reported
 *   command  {id, node, op, state, ...}      a command was queued or finished
 *   cut      {reason}                        the last message to a client that fell
 *                                            too far behind: it reconnects and catches up
 * At most STREAM_MAX_CLIENTS clients (more get 503 with Retry-After).
 *
 * A client may narrow its "values" messages (GET /api/v1/stream?values=A,B.*
 * &full=NODE): every node's values and watermarks are cut to the names listed
 * (a trailing '*' matches a prefix), except the nodes named in full, which
 * come whole.  An overview needs a handful of gauges of every node and all of
 * one node's: that is a few percent of the bytes.
 */
#ifndef SNOW_STREAM_H
#define SNOW_STREAM_H

#include <jansson.h>
#include <microhttpd.h>

struct stream_client;

#define STREAM_FILTER_MAX_VALUES 64
#define STREAM_FILTER_MAX_FULL 16

/* Which values a client wants; on == 0: everything. */
struct stream_filter {
	int on;
	unsigned nvalues, nfull;
	char *values[STREAM_FILTER_MAX_VALUES]; /* names; "x.*" a prefix */
	char *full[STREAM_FILTER_MAX_FULL];     /* nodes whose updates come whole */
	char *key;                              /* the two lists as given: equal keys share a message */
};

/*
 * Read a filter from the query's values= and full= (either may be NULL:
 * absent).  values= given but empty keeps no values at all.
 * @ret 0, or -EINVAL with err saying what is wrong (f is left empty).
 */
int stream_filter_parse(struct stream_filter *f, const char *values, const char *full, char *err,
			size_t errlen);
void stream_filter_free(struct stream_filter *f);
/* The part of one node's update (not consumed) the filter lets through: a new reference. */
json_t *stream_filter_update(const struct stream_filter *f, const char *node, json_t *upd);
/*
 * The same cut of a node object of GET /api/v1/nodes (o, changed in place):
 * its values, watermarks and schema keep the names asked, and its devices go,
 * unless the node is one of full.
 */
void stream_filter_node(const struct stream_filter *f, json_t *o);

struct stream {
	struct stream_client *clients;
	json_t *pending_values; /* {node: update} gathered until the next flush */
	unsigned nclients;
	uint64_t sent_messages;
	uint64_t cut;           /* clients cut off for falling too far behind */
	int closing;
};

/* Answer a GET /api/v1/stream; f (may be NULL) is taken over.  @ret MHD's result. */
enum MHD_Result stream_open(struct stream *st, struct MHD_Connection *conn, struct stream_filter *f);
/* Queue one message (data: a reference this call takes) to every client. */
void stream_publish(struct stream *st, const char *event, json_t *data);
/* Gather a node's value update (a reference taken) for the next flush. */
void stream_values(struct stream *st, const char *node, json_t *update);
/*
 * What the clients of the moment want of a node's update, so that a report
 * builds no more than that (a console asks a few gauges of 10 000 nodes):
 * stream_node_whole() is 1 when some client takes node's values whole (no
 * filter, or node in its full=); else stream_value_wanted(st, name) is 1
 * when some client's values= takes name (a report_want_fn).  A client that
 * connects before the next flush may miss a value of that one message.
 */
int stream_node_whole(const struct stream *st, const char *node);
int stream_value_wanted(void *st, const char *name);
/* Send what was gathered, and a keep-alive comment when it is due. */
void stream_flush(struct stream *st);
/* End every stream (before the HTTP daemon stops). */
void stream_close_all(struct stream *st);

#endif
