/*
 * The node <-> host channel (see docs/protocol.md).  A node POSTs JSON to
 * snowd with four headers (sign.h): its name, the time, a nonce and an
 * HMAC-SHA256 signature.
 *
 *   POST /api/v1/node/register  {name, mac, boot_id, version, kernel,
 *                                hostname, schema: [{name, kind, unit, desc}]}
 *       -> {interval_ms}
 *   POST /api/v1/node/report    {name, boot_id, seq, uptime_s,
 *                                values: {NAME: number, ...}, events: [...]}
 *       -> {ack_events, commands: [...]}
 *   POST /api/v1/node/overlay   {name}
 *       -> the node's overlay (newc cpio), as at boot: config.reload
 *   POST /api/v1/node/pstore    {boot_id, records: [{name, time, data}]}
 *       -> {boot_id, stored}: after a warm reset, the last boot's pstore
 *          dump (host/pstorep.h, docs/crash.md)
 *
 * Every answer is signed too (sign.h), and wire_post() refuses a 2xx one
 * that is not.
 *
 * This file holds the node side (a client that signs and sends) and the
 * constants both sides use.
 */
#ifndef SNOW_WIRE_H
#define SNOW_WIRE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "hostlist.h"
#include "httpc.h"
#include "sign.h"
#include "valid.h"

#define WIRE_PATH_REGISTER "/api/v1/node/register"
#define WIRE_PATH_REPORT   "/api/v1/node/report"
#define WIRE_PATH_OVERLAY  "/api/v1/node/overlay"
#define WIRE_PATH_PSTORE   "/api/v1/node/pstore"
#define WIRE_MAX_BODY      (1u << 20) /* largest request body snowd takes from a node */
#define WIRE_DEFAULT_INTERVAL_MS 2000

struct wire_client {
	struct hostlist hosts;   /* host_url: the snowd that may serve the node, one in use */
	struct http_conn conn;   /* kept open to the one in use (keep_alive) */
	int keep_alive;          /* 1: one connection for every request; 0: one per request */
	unsigned moves;          /* switches since a snowd last answered (logged once) */
	char name[SNOW_NAME_MAX + 1];
	char secret[SIGN_SECRET_HEX_LEN + 1];
	uint64_t last_nonce;
	int timeout_ms;
	int bad_sig;             /* the last -EBADMSG answer: 1 unsigned, 2 wrongly signed */
};

/*
 * Set up a client for host_url: one URL ("http://HOST:PORT") or several
 * (hostlist.h), with keep-alive on.  Opens nothing yet.
 * @ret 0 or -EINVAL with err naming the bad field (host_url, name or secret).
 */
int wire_client_init(struct wire_client *c, const char *host_url, const char *name,
		     const char *secret, char *err, size_t errlen);

/* Close the kept connection, if any. */
void wire_client_fini(struct wire_client *c);

/* The snowd in use. */
const struct http_url *wire_url(const struct wire_client *c);

/* The next nonce: realtime microseconds, strictly above the last one. */
uint64_t wire_next_nonce(struct wire_client *c);

/*
 * Sign and POST body (borrowed) to path, to the snowd in use.  When it
 * stopped answering (hostlist_should_move()), the client moves to the next
 * one of host_url for the next request (the switch logged once per
 * outage); this one is not sent again: its caller keeps what it carried
 * (events, results) and sends it in its next request.  *status gets the HTTP status;
 * *reply (may be NULL) gets the parsed JSON answer, a new reference the
 * caller json_decref()s, or NULL when the answer was not JSON.
 * A 2xx answer must carry snowd's signature over this request's nonce
 * (sign.h's sign_answer); one unsigned or wrongly signed is dropped whole:
 * -EBADMSG, *status 0 and *reply NULL, like a transport error.
 * @ret 0 when the host answered 2xx (signed), -EACCES on 401/403, -EPROTO
 * on another status, -EBADMSG (above), or the transport error from
 * http_request(); err says why.
 */
/*
 * The node's verdict on an answer (resp borrowed) to its request to base
 * path signed with nonce: a 2xx one must carry snowd's signature over
 * that path, nonce, status and body (sign.h's sign_answer), else nothing
 * of it may be applied.  wire_post_raw() decides by it once the bytes are
 * in; apart, so that the decision can be fuzzed without a socket.
 * @ret 0 (2xx, signed), -EBADMSG (2xx, unsigned or wrongly signed: drop it
 * whole), -EACCES (401/403) or -EPROTO (another status), with err filled.
 */
int wire_answer_check(const char *secret, const char *base, const char *path, uint64_t nonce,
		      const struct http_response *resp, char *err, size_t errlen);

/*
 * The JSON object of an answer that was taken (status, as wire_post_raw()
 * set it: 0 when dropped).  @ret a new reference, or NULL when status is
 * 0, the answer empty or not a JSON object.
 */
json_t *wire_answer_json(int status, const struct buf *answer);

/*
 * As wire_post, but the answer's bytes (any status; a 2xx one only when
 * signed) go to answer, emptied first, which the caller buf_free()s.
 */
int wire_post_raw(struct wire_client *c, const char *path, json_t *body, struct buf *answer,
		  int *status, char *err, size_t errlen);

int wire_post(struct wire_client *c, const char *path, json_t *body, json_t **reply, int *status,
	      char *err, size_t errlen);

#endif
